"""The one reader of replicas' `/stats` documents, shared by every target: parse one replica's
totals, merge replicas (alive and gone) into an API's totals, and turn two scrapes into a
`MetricsPoint`. Key names come from `cortex_tui.config.stats_keys`, which the predictor writes.

Decisions where the targets' former copies disagreed:
- latency is weighted by the requests of the replicas that report a latency (a replica with
  requests but no latency does not dilute the average);
- a regression tracker without samples gives an empty `RegressionStats` (sample_count 0), as
  one replica's own `/stats` does, not None;
- classes are sorted by name;
- an interval is counted per replica: a replica that restarted (new `started`, or counters
  lower than before) counts from zero, a new replica counts all its requests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cortex_tui.config import stats_keys as K
from cortex_tui.types import (
    BatchingStats,
    MetricsPoint,
    NetworkStats,
    RegressionStats,
    TrackerStats,
)

StatsDoc = Mapping[str, Any]  # one replica's /stats, as decoded from JSON


def network(doc: StatsDoc) -> NetworkStats:
    """One replica's network totals."""
    net = doc.get(K.NETWORK) or {}
    latency = net.get(K.LATENCY_MS)
    return NetworkStats(
        latency_ms=None if latency is None else float(latency),
        code_2xx=int(net.get(K.CODE_2XX) or 0),
        code_4xx=int(net.get(K.CODE_4XX) or 0),
        code_5xx=int(net.get(K.CODE_5XX) or 0),
        total=int(net.get(K.TOTAL) or 0),
    )


def merge_network(docs: Iterable[StatsDoc]) -> NetworkStats:
    parts = [network(doc) for doc in docs]
    timed = [(p.latency_ms, p.total) for p in parts if p.latency_ms is not None and p.total]
    timed_count = sum(n for _, n in timed)
    return NetworkStats(
        latency_ms=sum(ms * n for ms, n in timed) / timed_count if timed_count else None,
        code_2xx=sum(p.code_2xx for p in parts),
        code_4xx=sum(p.code_4xx for p in parts),
        code_5xx=sum(p.code_5xx for p in parts),
        total=sum(p.total for p in parts),
    )


def merge_batching(docs: Iterable[StatsDoc]) -> BatchingStats | None:
    """Batching totals of the replicas that batch; None when none does."""
    parts = [b for b in (doc.get(K.BATCHING) for doc in docs) if b]
    if not parts:
        return None
    samples = sum(int(b.get(K.BATCH_SAMPLES) or 0) for b in parts)
    waited = sum(float(b[K.AVG_BATCH_WAIT_MS]) * int(b.get(K.BATCH_SAMPLES) or 0)
                 for b in parts if b.get(K.AVG_BATCH_WAIT_MS) is not None)
    return BatchingStats(batches=sum(int(b.get(K.BATCHES) or 0) for b in parts),
                         samples=samples, avg_wait_ms=waited / samples if samples else None)


def signature(docs: Iterable[StatsDoc]) -> Mapping[str, Any] | None:
    """The model's inputs as the API's replicas report them (model runtimes; else None)."""
    return next((doc[K.SIGNATURE] for doc in docs if doc.get(K.SIGNATURE)), None)


def merge_tracker(docs: Iterable[StatsDoc], model_type: str | None) -> TrackerStats | None:
    """The API's tracker totals; None when the API has no tracker."""
    docs = list(docs)
    if model_type == "classification":
        return TrackerStats("classification", class_distribution=_merge_classes(docs))
    if model_type == "regression":
        return TrackerStats("regression", regression_stats=_merge_regression(docs))
    return None


def _merge_classes(docs: list[StatsDoc]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in docs:
        for name, n in (doc.get(K.CLASSES) or {}).items():
            counts[str(name)] = counts.get(str(name), 0) + int(n)
    return dict(sorted(counts.items()))


def _merge_regression(docs: list[StatsDoc]) -> RegressionStats:
    parts = [r for r in (doc.get(K.REGRESSION) or {} for doc in docs) if r.get(K.SAMPLE_COUNT)]
    count = sum(int(r[K.SAMPLE_COUNT]) for r in parts)
    lows = [float(r[K.MIN]) for r in parts if r.get(K.MIN) is not None]
    highs = [float(r[K.MAX]) for r in parts if r.get(K.MAX) is not None]
    weighted = sum(float(r.get(K.AVG) or 0.0) * int(r[K.SAMPLE_COUNT]) for r in parts)
    buckets: dict[float, int] = {}
    for r in parts:
        for bound, n in r.get(K.HISTOGRAM) or []:
            key = math.inf if bound is None else float(bound)
            buckets[key] = buckets.get(key, 0) + int(n)
    return RegressionStats(
        min=min(lows, default=None),
        max=max(highs, default=None),
        avg=weighted / count if count else None,
        sample_count=count,
        histogram=tuple(sorted(buckets.items())),
    )


@dataclass(frozen=True)
class _Counters:
    started: Any
    total: int
    codes: tuple[int, int, int]
    latency_sum: float  # ms, over `total` requests


_ZERO = _Counters(None, 0, (0, 0, 0), 0.0)


def _counters(doc: StatsDoc) -> _Counters:
    net = network(doc)
    return _Counters(
        started=doc.get(K.STARTED), total=net.total,
        codes=(net.code_2xx, net.code_4xx, net.code_5xx),
        latency_sum=(net.latency_ms or 0.0) * net.total,
    )


@dataclass(frozen=True)
class Scrape:
    """Every replica's counters at one moment: what the next point is measured against."""

    t: float
    replicas: Mapping[str, _Counters]


def scrape(t: float, docs: Mapping[str, StatsDoc]) -> Scrape:
    """`docs`: replica name -> its /stats (gone replicas may keep their last one)."""
    return Scrape(t, {name: _counters(doc) for name, doc in docs.items()})


def point(before: Scrape | None, now: Scrape, requested: int, ready: int,
          cpu_utilization: float | None) -> MetricsPoint:
    """What happened between two scrapes; the first scrape (no `before`) gives a quiet point."""
    requests, latency_sum, codes = 0, 0.0, [0, 0, 0]
    for name, after in now.replicas.items():
        prior = before.replicas.get(name, _ZERO) if before is not None else after
        if prior.started != after.started or prior.total > after.total:
            prior = _ZERO  # restarted: its counters start again from zero
        requests += after.total - prior.total
        latency_sum += after.latency_sum - prior.latency_sum
        for i in range(3):
            codes[i] += max(after.codes[i] - prior.codes[i], 0)
    elapsed = now.t - before.t if before is not None else 0.0
    return MetricsPoint(
        t=now.t, requested=requested, ready=ready,
        request_rate=requests / elapsed if elapsed > 0 else 0.0,
        latency_ms=max(latency_sum / requests, 0.0) if requests else None,
        code_2xx=codes[0], code_4xx=codes[1], code_5xx=codes[2],
        cpu_utilization=cpu_utilization,
    )
