"""Metrics published in batches by the replica-side publisher, read back with GetMetricData."""

from __future__ import annotations

import logging
import socket

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cortex_tui.aws.cloudwatch_reader import CloudWatchReader, combine
from cortex_tui.types import Metrics, MetricsPoint, NetworkStats
from predictor.cloudwatch import CloudWatchPublisher, from_environ
from tests.aws.conftest import REGION, aws_settings

NOW = 1_790_000_000.0  # a fixed "now" inside moto's accepted range, minute-aligned below


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class ManualPublisher(CloudWatchPublisher):
    """No background thread: each test flushes when it wants, so counts are exact."""

    def start(self) -> None:
        return None


def _publisher(url: str, clock: Clock, model_type: str | None, **kw: object) -> CloudWatchPublisher:
    return ManualPublisher(
        "cortex-test", "iris-classifier", deployment="iris", model_type=model_type,
        region=REGION, endpoint_url=url, flush_seconds=3600, clock=clock, **kw,  # type: ignore[arg-type]
    )


def _reader(url: str, clock: Clock) -> CloudWatchReader:
    return CloudWatchReader(aws_settings(url, cloudwatch_namespace="cortex-test"), clock=clock)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_classification_published_and_read_back_with_dimensions_and_sums(aws_env: str) -> None:
    clock = Clock(NOW)
    publisher = _publisher(aws_env, clock, "classification")
    for label in ["setosa"] * 4 + ["virginica"] * 3:
        publisher.observe(200, 10.0, label)
    publisher.observe(500, 40.0, None)
    publisher.observe(400, 1.0, "ignored: not a success")
    clock.t += 61  # a second minute
    publisher.observe("2xx", 30.0, "setosa")
    assert publisher.flush()
    # one call: (2XX, 4XX, 5XX, Latency, 2 classes) in minute 1 + (2XX, Latency, class) later
    assert (publisher.sent_calls, publisher.sent_items) == (1, 9)

    raw = boto3.client("cloudwatch", region_name=REGION, endpoint_url=aws_env)
    listed = raw.list_metrics(Namespace="cortex-test")["Metrics"]
    dims = {
        (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
        for m in listed
    }
    assert ("StatusCode2XX", (("API", "iris-classifier"), ("Deployment", "iris"))) in dims
    assert (
        "PredictedClass",
        (("API", "iris-classifier"), ("Class", "virginica"), ("Deployment", "iris")),
    ) in dims

    assert len(_reader(aws_env, clock).points("iris-classifier")) == 1  # minute 2 not over
    clock.t += 60
    metrics = _reader(aws_env, clock).metrics("iris-classifier", since=NOW - 600)
    assert metrics.network == NetworkStats(
        latency_ms=pytest.approx((7 * 10 + 40 + 1 + 30) / 10), code_2xx=8, code_4xx=1,
        code_5xx=1, total=10,
    )
    assert metrics.tracker is not None
    assert dict(metrics.tracker.class_distribution or {}) == {"setosa": 5, "virginica": 3}
    assert [(p.code_2xx, p.code_5xx) for p in metrics.points] == [(7, 1), (1, 0)]
    assert metrics.points[1].latency_ms == pytest.approx(30.0)


def test_regression_values_give_min_max_avg_count(aws_env: str) -> None:
    clock = Clock(NOW)
    publisher = ManualPublisher(
        "cortex-test", "housing", model_type="regression", region=REGION,
        endpoint_url=aws_env, flush_seconds=3600, clock=clock,
    )
    for value in (100.0, 250.5, 80.0, 300.0):
        publisher.observe(200, 5.0, value)
    assert publisher.flush()
    _network, tracker = _reader(aws_env, clock).totals("housing")
    assert tracker is not None and tracker.regression_stats is not None
    stats = tracker.regression_stats
    assert (stats.min, stats.max, stats.sample_count) == (80.0, 300.0, 4)
    assert stats.avg == pytest.approx(182.625)


def test_replica_heartbeats_give_the_replica_count_per_minute(aws_env: str) -> None:
    clock = Clock(NOW)
    replicas = [_publisher(aws_env, clock, None) for _ in range(3)]
    for publisher in replicas:
        publisher._heartbeat()
        publisher._heartbeat()  # once per minute, however often the thread wakes
    clock.t += 60
    for publisher in replicas[:2]:  # one replica is gone in the second minute
        publisher.observe(200, 1.0)
        publisher._heartbeat()
    for publisher in replicas:
        assert publisher.flush()
    clock.t += 60
    points = _reader(aws_env, clock).points("iris-classifier")
    assert [(p.requested, p.ready, p.code_2xx) for p in points] == [(3, 3, 0), (2, 2, 2)]


def test_many_items_go_out_in_batches_of_at_most_1000(aws_env: str) -> None:
    clock = Clock(NOW - 400 * 60)
    publisher = _publisher(aws_env, clock, None)
    for _minute in range(300):  # 300 minutes x (2XX count + latency) = 600 items
        publisher.observe(200, 2.0)
        publisher.observe(503, 2.0)  # + 5XX = 900 items
        publisher.observe(404, 2.0)  # + 4XX = 1200 items
        clock.t += 60
    assert publisher.flush()
    assert (publisher.sent_calls, publisher.sent_items) == (2, 1200)
    network, _tracker = _reader(aws_env, clock).totals("iris-classifier")
    assert (network.code_2xx, network.code_4xx, network.code_5xx, network.total) == (
        300, 300, 300, 900
    )


def test_unreachable_cloudwatch_keeps_data_logs_counts_and_loses_nothing_silently(
    aws_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(NOW)
    publisher = _publisher(f"http://127.0.0.1:{closed_port()}", clock, "classification")
    for _ in range(5):
        publisher.observe(200, 3.0, "setosa")  # never raises, whatever CloudWatch does
    with caplog.at_level(logging.WARNING, logger="cortex.predictor.cloudwatch"):
        assert not publisher.flush()
        publisher.close(timeout=10)
    messages = [r.getMessage() for r in caplog.records]
    assert any("failed" in m and "covering 5 requests kept for retry" in m for m in messages)
    assert any("covering 5 requests) were never sent" in m for m in messages)


def test_data_kept_while_cloudwatch_is_down_is_sent_when_it_returns(
    aws_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port()
    clock = Clock(NOW)
    publisher = _publisher(f"http://127.0.0.1:{port}", clock, None)
    publisher.observe(200, 3.0)
    publisher.observe(200, 5.0)
    assert not publisher.flush()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        publisher.observe(500, 7.0)
        with caplog.at_level(logging.WARNING, logger="cortex.predictor.cloudwatch"):
            assert publisher.flush()
        assert any("works again" in r.getMessage() for r in caplog.records)
        network, _ = _reader(f"http://127.0.0.1:{port}", clock).totals("iris-classifier")
        assert (network.code_2xx, network.code_5xx) == (2, 1)
        assert network.latency_ms == pytest.approx(5.0)
    finally:
        server.stop()


def test_publisher_only_when_namespace_is_set() -> None:
    assert from_environ("a", environ={}) is None
    publisher = from_environ(
        "a", environ={"CORTEX_CLOUDWATCH_NAMESPACE": "ns", "AWS_REGION": "eu-west-1",
                      "CORTEX_CLOUDWATCH_FLUSH_SECONDS": "0.5",
                      "CORTEX_CLOUDWATCH_ENDPOINT": f"http://127.0.0.1:{closed_port()}"},
    )
    assert publisher is not None
    publisher.close(timeout=1)
    assert (publisher.namespace, publisher.flush_seconds) == ("ns", 0.5)


def test_combine_puts_history_before_live_points_and_keeps_increments_live() -> None:
    def point(t: float, replicas: int) -> MetricsPoint:
        return MetricsPoint(t=t, requested=replicas, ready=replicas, request_rate=1.0,
                            latency_ms=2.0)

    history = Metrics("a", points=(point(60, 2), point(120, 3), point(180, 3)),
                      network=NetworkStats(total=180), tracker=None)
    live = Metrics("a", points=(point(150, 4), point(155, 4)), network=NetworkStats(total=5),
                   tracker=None)
    first = combine(live, history)
    assert first.network.total == 180
    assert [p.t for p in first.points] == [60, 120, 150, 155]
    later = combine(live, history, since=149)
    assert [p.t for p in later.points] == [150, 155]
    lagging = Metrics("a", points=(), network=NetworkStats(total=2), tracker=None)
    assert combine(live, lagging).network.total == 5  # CloudWatch behind: totals never drop


def test_history_overlays_cloudwatch_totals_and_falls_back_to_live(aws_env: str) -> None:
    from cortex_tui.aws.monitoring import CloudWatchHistory
    from cortex_tui.types import ApiState, Status

    clock = Clock(NOW)
    publisher = _publisher(aws_env, clock, "classification")
    for _ in range(3):
        publisher.observe(200, 4.0, "setosa")
    assert publisher.flush()
    live = ApiState("iris-classifier", Status.LIVE, network=NetworkStats(code_2xx=1, total=1))
    history = CloudWatchHistory(aws_settings(aws_env, cloudwatch_namespace="cortex-test"),
                                clock=clock)
    state = history.state(live)
    assert (state.network.code_2xx, state.network.total) == (3, 3)
    assert state.tracker is not None and dict(state.tracker.class_distribution or {}) == {
        "setosa": 3
    }
    down = CloudWatchHistory(
        aws_settings(f"http://127.0.0.1:{closed_port()}", cloudwatch_namespace="cortex-test")
    )
    assert down.state(live) == live
    assert down.last_error is not None and "cannot reach" in down.last_error


def test_regression_histogram_of_live_replicas_is_kept_with_cloudwatch_totals() -> None:
    from cortex_tui.aws.cloudwatch_reader import best_totals
    from cortex_tui.types import RegressionStats, TrackerStats

    live = (NetworkStats(total=3), TrackerStats("regression", regression_stats=RegressionStats(
        1.0, 9.0, 5.0, 3, histogram=((5.0, 2), (float("inf"), 1)))))
    history = (NetworkStats(total=40), TrackerStats("regression", regression_stats=(
        RegressionStats(0.5, 12.0, 6.0, 40))))
    network, tracker = best_totals(live, history)
    assert network.total == 40 and tracker is not None and tracker.regression_stats is not None
    assert (tracker.regression_stats.sample_count, tracker.regression_stats.max) == (40, 12.0)
    assert tracker.regression_stats.histogram == ((5.0, 2), (float("inf"), 1))


def test_pod_env_only_when_cloudwatch_is_on() -> None:
    from cortex_tui.aws.pod_env import pod_env
    from cortex_tui.settings import AwsSettings

    assert pod_env(None) == [] and pod_env(AwsSettings(region="eu-west-1")) == []
    env = pod_env(AwsSettings(region="eu-west-1", cloudwatch_namespace="cortex"))
    assert env == [
        {"name": "CORTEX_CLOUDWATCH_NAMESPACE", "value": "cortex"},
        {"name": "AWS_REGION", "value": "eu-west-1"},
    ]
    closed = f"http://127.0.0.1:{closed_port()}"
    env += pod_env(AwsSettings(cloudwatch_namespace="cortex", endpoint_url=closed))[1:]
    publisher = from_environ("api", environ={e["name"]: e["value"] for e in env})
    assert publisher is not None and publisher.namespace == "cortex"
    publisher.close(timeout=1)
