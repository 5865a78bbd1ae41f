"""`render --pod-monitor`: per-pod scraping on Kubernetes (the Service reaches one pod)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cortex_tui.cli import main

IRIS = Path(__file__).resolve().parents[2] / "examples" / "iris"


def _render(capsys: pytest.CaptureFixture[str], *flags: str) -> list[dict]:
    assert main(["render", "-p", str(IRIS), *flags]) == 0
    return [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]


def test_pod_monitor_selects_the_api_pods_on_their_metrics_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert not [d for d in _render(capsys) if d["kind"] == "PodMonitor"]  # optional
    objects = _render(capsys, "--pod-monitor")
    (monitor,) = [d for d in objects if d["kind"] == "PodMonitor"]
    (deployment,) = [d for d in objects if d["kind"] == "Deployment"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == deployment["metadata"]["namespace"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector == deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    ports = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert endpoint["port"] in {p["name"] for p in ports}
    assert endpoint["path"] == "/metrics"
    assert endpoint["relabelings"][0]["targetLabel"] == "replica"
