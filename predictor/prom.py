"""Prometheus exposition of the replica's counters, built at scrape time (no hot-path cost)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from predictor.tracker import LATENCY_BOUNDS, REGRESSION_BOUNDS

if TYPE_CHECKING:
    from predictor.state import Replica

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, int]]:
    out, total = [], 0
    for bound, count in zip([*map(repr, bounds), "+Inf"], counts, strict=False):
        total += count
        out.append((bound, total))
    return out


class ReplicaCollector(Collector):
    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def collect(self) -> Iterator[Metric]:
        r = self.replica
        api = r.api
        stats = r.stats
        requests = CounterMetricFamily(
            "cortex_requests", "Requests answered on the serving port, by status class",
            labels=["api", "status_class"],
        )
        for cls in (1, 2, 3, 4, 5):
            requests.add_metric([api, f"{cls}xx"], stats.codes[cls])
        yield requests
        latency = HistogramMetricFamily(
            "cortex_request_duration_seconds", "Prediction request latency", labels=["api"],
        )
        latency.add_metric([api], _cumulative(LATENCY_BOUNDS, stats.latency_buckets),
                           stats.latency_sum)
        yield latency
        yield _gauge("cortex_in_flight_requests", "Predictions running or waiting", api,
                     r.in_flight)
        yield _gauge("cortex_queued_requests", "Predictions waiting for a free slot", api,
                     r.queued)
        yield _gauge("cortex_ready", "1 once init has finished and the replica serves", api,
                     1 if r.ready else 0)
        yield _gauge("cortex_replica_start_time_seconds", "Unix time the replica started", api,
                     stats.started)
        yield from self._tracker(api)

    def _tracker(self, api: str) -> Iterator[Metric]:
        t = self.replica.tracker
        if t is None:
            return
        rejected = CounterMetricFamily(
            "cortex_tracker_rejected", "Predictions whose tracked value did not fit",
            labels=["api"],
        )
        rejected.add_metric([api], t.rejected)
        yield rejected
        if t.model_type == "classification":
            classes = CounterMetricFamily(
                "cortex_prediction_class", "Predictions per class", labels=["api", "class"],
            )
            for label, count in list(t.classes.items()):
                classes.add_metric([api, label], count)
            yield classes
            return
        values = HistogramMetricFamily(
            "cortex_prediction_value", "Tracked regression values", labels=["api"],
        )
        values.add_metric([api], _cumulative(REGRESSION_BOUNDS, t.reg_buckets), t.reg_sum)
        yield values
        if t.reg_count:
            yield _gauge("cortex_prediction_value_min", "Smallest tracked value", api, t.reg_min)
            yield _gauge("cortex_prediction_value_max", "Largest tracked value", api, t.reg_max)


def _gauge(name: str, doc: str, api: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, doc, labels=["api"])
    gauge.add_metric([api], value)
    return gauge


def make_registry(replica: Replica) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReplicaCollector(replica))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
