"""`/metrics` as Prometheus and promtool read it: bounded series, the figures PromQL needs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.helpers.predictor_process import Predictor

ANSWERS = """
def predict(sample, metadata):
    if sample == "long":
        return "x" * 300_000
    return sample
"""


def _samples(replica: Predictor) -> list[Sample]:
    resp = replica.get("/metrics")
    assert resp.status == 200
    return [s for family in text_string_to_metric_families(resp.body.decode())
            for s in family.samples]


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples
             if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def _promtool_check(text: bytes) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus; .ci/run installs it)")
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_regression_histogram_has_sum_and_count_and_80_buckets(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(tracker={"model_type": "regression"})
    replica = start_predictor(root).wait_ready()
    for value in (-2.5, 4.0, 10.5):
        assert replica.post(value).status == 200
    samples = _samples(replica)
    # The average prediction in PromQL: rate(_sum) / rate(_count).
    assert _value(samples, "cortex_prediction_value_count") == 3
    assert _value(samples, "cortex_prediction_value_sum") == pytest.approx(12.0)
    buckets = [s for s in samples if s.name == "cortex_prediction_value_bucket"]
    assert len(buckets) == 80  # the documented series count of one regression tracker
    assert _value(samples, "cortex_prediction_value_bucket", le="-2.0") == 1
    assert _value(samples, "cortex_prediction_value_bucket", le="5.0") == 2
    assert _value(samples, "cortex_prediction_value_bucket", le="+Inf") == 3
    _promtool_check(replica.get("/metrics").body)


def test_long_classes_are_cut_and_counted_and_metrics_stay_small(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(ANSWERS, tracker={"model_type": "classification"})
    replica = start_predictor(root).wait_ready()
    for _ in range(30):
        assert replica.post("long").status == 200
    assert replica.post("cat").status == 200
    metrics = replica.get("/metrics").body
    assert len(metrics) < 20_000  # was 9 MB: 30 answers of 300 KB
    cut = "x" * 63 + "…"
    samples = _samples(replica)
    assert _value(samples, "cortex_prediction_class_total", **{"class": cut}) == 30
    assert _value(samples, "cortex_prediction_class_total", **{"class": "cat"}) == 1
    assert _value(samples, "cortex_tracker_truncated_total") == 30
    stats = replica.get("/stats", replica.admin_port)
    assert len(stats.body) < 2_000
    assert stats.json()["class_distribution"] == {cut: 30, "cat": 1}
    replica.wait_line(r"tracker: class longer than 64 characters, tracked cut")
    _promtool_check(metrics)


def test_process_metrics_replica_info_and_latency_buckets_up_to_the_timeout(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project(), env={"CORTEX_REPLICA": "echo-v1-abc"}).wait_ready()
    assert replica.post({"x": 1}).status == 200
    samples = _samples(replica)
    # mem is a kill limit and CPU drives the autoscaler: both visible per replica.
    assert _value(samples, "process_resident_memory_bytes") > 1 << 20
    assert _value(samples, "process_cpu_seconds_total") > 0
    assert _value(samples, "process_open_fds") > 0
    assert _value(samples, "cortex_replica_info", api="test-api", replica="echo-v1-abc") == 1
    bounds = {s.labels["le"] for s in samples if s.name == "cortex_request_duration_seconds_bucket"}
    # Sanic answers 503 after its 60 s response timeout: a slow model is not all in +Inf.
    assert {"20.0", "30.0", "60.0"} <= bounds
    _promtool_check(replica.get("/metrics").body)
