"""autoscale_on: in_flight on Kubernetes: the HPA's Pods metric and behavior, honoured by the
fake API server's HPA controller as kube-controller-manager would; scale to zero refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cortex_tui.config import ConfigError
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.types import ScaleRequest
from tests.helpers.fakekube import FakeKube
from tests.kube.conftest import IRIS, edit_config

IN_FLIGHT = """    min_replicas: 1
    autoscale_on: in_flight
    target_in_flight: 2
    max_upscale_factor: 1.5
    downscale_stabilization: 1s
"""


def test_the_hpa_scales_on_in_flight_requests_within_its_behavior(
    iris: Path, fake: FakeKube, backend: KubernetesBackend
) -> None:
    project = edit_config(iris, "    min_replicas: 1\n", IN_FLIGHT)
    backend.deploy(project)
    hpa = backend.conn.autoscaling.read_namespaced_horizontal_pod_autoscaler(
        IRIS, "cortex")
    [metric] = hpa.spec.metrics
    assert (metric.type, metric.pods.metric.name, metric.pods.target.average_value) == (
        "Pods", "cortex_in_flight_requests", "2")
    up, down = hpa.spec.behavior.scale_up, hpa.spec.behavior.scale_down
    assert (up.stabilization_window_seconds, down.stabilization_window_seconds) == (0, 1)
    assert [(p.type, p.value) for p in up.policies] == [("Percent", 50), ("Pods", 1)]
    assert [(p.type, p.value) for p in down.policies] == [("Percent", 25), ("Pods", 1)]

    def replicas() -> int:
        return backend.conn.apps.read_namespaced_deployment(IRIS, "cortex").spec.replicas

    # 7.8 requests in flight over the API, 2 wanted per replica: 4 replicas, in steps the
    # policies allow (+1 or +50 % per 15 s period: 1 -> 2, then 3 only after the period)
    fake.set_pods_metric(IRIS, "cortex_in_flight_requests", 7.8)
    fake.wait_for(lambda: replicas() == 2, message="one replica added")
    assert replicas() == 2  # the period's allowance is spent: no further step yet
    decisions = backend.decisions(IRIS)
    assert any("New size: 2" in d.summary() and "cortex_in_flight_requests" in d.summary()
               for d in decisions)
    state = backend.get(IRIS)[0]
    assert (state.autoscale_on, state.target_in_flight) == ("in_flight", 2.0)

    # `scale` keeps the metric and the behavior
    backend.scale(IRIS, ScaleRequest(max_replicas=6))
    hpa = backend.conn.autoscaling.read_namespaced_horizontal_pod_autoscaler(
        IRIS, "cortex")
    assert hpa.spec.metrics[0].type == "Pods" and hpa.spec.max_replicas == 6
    assert hpa.spec.behavior.scale_down.stabilization_window_seconds == 1
    with pytest.raises(Exception, match="cannot scale to zero"):
        backend.scale(IRIS, ScaleRequest(min_replicas=0))


def test_scale_to_zero_is_refused_for_kubernetes_with_its_line(iris: Path,
                                                               backend: KubernetesBackend) -> None:
    project = edit_config(iris, "    min_replicas: 1\n", IN_FLIGHT.replace(
        "min_replicas: 1", "min_replicas: 0").replace("    max_upscale", "    init_replicas: 0\n"
                                                      "    max_upscale"))
    with pytest.raises(ConfigError) as caught:
        backend.deploy(project)
    [problem] = caught.value.problems
    assert str(problem).startswith('cortex.yaml:12:19: api "iris-classifier": '
                                   "compute.min_replicas: must be greater than 0 on Kubernetes")
    rendered = subprocess.run([sys.executable, "-m", "cortex_tui", "render", "-p", str(iris)],
                              capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 1 and "cannot scale to zero" in rendered.stderr
    assert "Traceback" not in rendered.stderr


def test_render_writes_what_serves_the_metric(iris: Path, tmp_path: Path) -> None:
    edit_config(iris, "    min_replicas: 1\n", IN_FLIGHT)
    out = tmp_path / "out"
    rendered = subprocess.run([sys.executable, "-m", "cortex_tui", "render", "-p", str(iris),
                               "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    monitor = (out / "in-flight-podmonitor.yaml").read_text()
    assert "kind: PodMonitor" in monitor and "- iris-classifier" in monitor
    rules = (out / "prometheus-adapter-values.yaml").read_text()
    assert "avg_over_time(<<.Series>>{<<.LabelMatchers>>}[1m])" in rules
    assert "as: cortex_in_flight_requests" in rules
