"""Merging the `/stats` totals of many replicas (alive and gone) into one API's totals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cortex_tui.types import NetworkStats, RegressionStats, TrackerStats


def merge_network(stats: Iterable[dict[str, Any]]) -> NetworkStats:
    c2 = c4 = c5 = total = 0
    weighted = 0.0
    for s in stats:
        net = s.get("network_stats") or {}
        n = int(net.get("total") or 0)
        c2 += int(net.get("code_2xx") or 0)
        c4 += int(net.get("code_4xx") or 0)
        c5 += int(net.get("code_5xx") or 0)
        total += n
        if net.get("latency_ms") is not None:
            weighted += float(net["latency_ms"]) * n
    latency = weighted / total if total else None
    return NetworkStats(latency, c2, c4, c5, total)


def merge_tracker(model_type: str | None, stats: Iterable[dict[str, Any]]) -> TrackerStats | None:
    if model_type is None:
        return None
    stats = list(stats)
    if model_type == "classification":
        counts: dict[str, int] = {}
        for s in stats:
            for cls, n in (s.get("class_distribution") or {}).items():
                counts[str(cls)] = counts.get(str(cls), 0) + int(n)
        return TrackerStats("classification", class_distribution=dict(sorted(counts.items())))
    return TrackerStats("regression", regression_stats=_merge_regression(stats))


def _merge_regression(stats: list[dict[str, Any]]) -> RegressionStats:
    lo: float | None = None
    hi: float | None = None
    weighted = 0.0
    count = 0
    buckets: dict[float, int] = {}
    for s in stats:
        reg = s.get("regression_stats") or {}
        n = int(reg.get("sample_count") or 0)
        if not n:
            continue
        count += n
        weighted += float(reg.get("avg") or 0.0) * n
        if reg.get("min") is not None:
            lo = float(reg["min"]) if lo is None else min(lo, float(reg["min"]))
        if reg.get("max") is not None:
            hi = float(reg["max"]) if hi is None else max(hi, float(reg["max"]))
        for bound, c in reg.get("histogram") or []:
            key = float("inf") if bound is None else float(bound)
            buckets[key] = buckets.get(key, 0) + int(c)
    return RegressionStats(
        min=lo,
        max=hi,
        avg=weighted / count if count else None,
        sample_count=count,
        histogram=tuple(sorted(buckets.items())),
    )


def interval_latency(before: NetworkStats, after: NetworkStats) -> float | None:
    """Average latency of the requests answered between two totals."""
    n = after.total - before.total
    if n <= 0 or after.latency_ms is None:
        return None
    prev = (before.latency_ms or 0.0) * before.total
    return max((after.latency_ms * after.total - prev) / n, 0.0)
