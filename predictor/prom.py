"""Prometheus exposition of the replica's counters, built at scrape time (no hot-path cost)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from predictor.batcher import BATCH_SIZE_BOUNDS
from predictor.tracker import LATENCY_BOUNDS, PROM_REGRESSION_BOUNDS, REGRESSION_BOUNDS

if TYPE_CHECKING:
    from predictor.state import Replica

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _cumulative(bounds: tuple[float, ...], counts: list[int],
                keep: tuple[float, ...] | None = None) -> list[tuple[str, int]]:
    """Cumulative `(le, count)` pairs, at every bound or only at those in `keep` (+Inf too)."""
    wanted = None if keep is None else set(keep)
    out, total = [], 0
    for bound, count in zip([*bounds, None], counts, strict=True):
        total += count
        if bound is None:
            out.append(("+Inf", total))
        elif wanted is None or bound in wanted:
            out.append((repr(bound), total))
    return out


class ReplicaCollector(Collector):
    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def collect(self) -> Iterator[Metric]:
        r = self.replica
        api = r.api
        stats = r.stats
        yield InfoMetricFamily(
            "cortex_replica", "The replica that answered this scrape (1 per process)",
            value={"api": api, "replica": r.name},
        )
        stats.fold()
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
        yield from self._batching(api)

    def _batching(self, api: str) -> Iterator[Metric]:
        b = self.replica.batch_stats
        if b is None:
            return
        sizes = HistogramMetricFamily(
            "cortex_batch_size", "Samples per model call (server-side batching)", labels=["api"],
        )
        sizes.add_metric([api], _cumulative(BATCH_SIZE_BOUNDS, b.size_buckets), b.samples)
        yield sizes
        waits = HistogramMetricFamily(
            "cortex_batch_wait_seconds", "Time a sample waited for its batch to go",
            labels=["api"],
        )
        waits.add_metric([api], _cumulative(LATENCY_BOUNDS, b.wait_buckets), b.wait_sum)
        yield waits

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
            truncated = CounterMetricFamily(
                "cortex_tracker_truncated",
                "Predicted classes longer than the label length cap, tracked cut", labels=["api"],
            )
            truncated.add_metric([api], t.truncated)
            yield truncated
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
        buckets = _cumulative(REGRESSION_BOUNDS, t.reg_buckets, keep=PROM_REGRESSION_BOUNDS)
        values.add_metric([api], buckets, None)
        # prometheus_client leaves _sum and _count out when a bucket bound is negative
        # (OpenMetrics' rule); the text format has no such rule and PromQL needs them for
        # the average: rate(_sum) / rate(_count).
        labels = {"api": api}
        values.samples.append(Sample("cortex_prediction_value_count", labels, t.reg_count))
        values.samples.append(Sample("cortex_prediction_value_sum", labels, t.reg_sum))
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
    # process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds...: `mem`
    # is a kill limit and CPU drives the autoscaler.
    ProcessCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
