"""Summing the replicas' `/stats` and keeping a time series of scrapes (in memory)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from cortex_tui.types import MetricsPoint, NetworkStats, RegressionStats, TrackerStats

HISTORY = 720  # points per API (an hour at one scrape per 5 s)


def merge_network(stats: list[dict[str, Any]]) -> NetworkStats:
    total = code_2xx = code_4xx = code_5xx = 0
    latency_sum, latency_count = 0.0, 0
    for item in stats:
        net = item.get("network_stats") or {}
        count = int(net.get("total") or 0)
        total += count
        code_2xx += int(net.get("code_2xx") or 0)
        code_4xx += int(net.get("code_4xx") or 0)
        code_5xx += int(net.get("code_5xx") or 0)
        if net.get("latency_ms") is not None and count:
            latency_sum += float(net["latency_ms"]) * count
            latency_count += count
    return NetworkStats(
        latency_ms=latency_sum / latency_count if latency_count else None,
        code_2xx=code_2xx, code_4xx=code_4xx, code_5xx=code_5xx, total=total,
    )


def _merge_regression(items: list[dict[str, Any]]) -> RegressionStats | None:
    items = [i for i in items if i and i.get("sample_count")]
    if not items:
        return None
    count = sum(int(i["sample_count"]) for i in items)
    buckets: dict[float, int] = {}
    for item in items:
        for bound, n in item.get("histogram") or []:
            key = math.inf if bound is None else float(bound)
            buckets[key] = buckets.get(key, 0) + int(n)
    return RegressionStats(
        min=min(float(i["min"]) for i in items if i.get("min") is not None),
        max=max(float(i["max"]) for i in items if i.get("max") is not None),
        avg=sum(float(i["avg"]) * int(i["sample_count"]) for i in items) / count,
        sample_count=count,
        histogram=tuple(sorted(buckets.items())),
    )


def merge_tracker(stats: list[dict[str, Any]], model_type: str | None) -> TrackerStats | None:
    if model_type == "classification":
        classes: dict[str, int] = {}
        for item in stats:
            for name, n in (item.get("class_distribution") or {}).items():
                classes[str(name)] = classes.get(str(name), 0) + int(n)
        return TrackerStats("classification", class_distribution=classes)
    if model_type == "regression":
        merged = _merge_regression([s.get("regression_stats") or {} for s in stats])
        return TrackerStats("regression", regression_stats=merged)
    return None


@dataclass
class _Seen:
    started: Any
    total: int
    codes: tuple[int, int, int]
    latency_sum: float


def _seen(item: dict[str, Any]) -> _Seen:
    net = item.get("network_stats") or {}
    total = int(net.get("total") or 0)
    latency = net.get("latency_ms")
    return _Seen(
        started=item.get("started"), total=total,
        codes=(int(net.get("code_2xx") or 0), int(net.get("code_4xx") or 0),
               int(net.get("code_5xx") or 0)),
        latency_sum=float(latency) * total if latency is not None else 0.0,
    )


class Series:
    """Per-API points built from successive scrapes; counters restart with their replica."""

    def __init__(self) -> None:
        self._points: dict[str, deque[MetricsPoint]] = {}
        self._last: dict[str, tuple[float, dict[str, _Seen]]] = {}

    def observe(self, api: str, t: float, per_pod: dict[str, dict[str, Any]], requested: int,
                ready: int, cpu: float | None) -> MetricsPoint:
        seen = {pod: _seen(item) for pod, item in per_pod.items()}
        last_t, last = self._last.get(api, (None, {}))
        requests = latency_sum = 0.0
        codes = [0, 0, 0]
        for pod, now in seen.items():
            before = last.get(pod)
            if before is None or before.started != now.started or before.total > now.total:
                before = _Seen(now.started, 0, (0, 0, 0), 0.0) if last_t is not None else now
            requests += now.total - before.total
            latency_sum += now.latency_sum - before.latency_sum
            for i in range(3):
                codes[i] += now.codes[i] - before.codes[i]
        elapsed = (t - last_t) if last_t is not None else 0.0
        point = MetricsPoint(
            t=t, requested=requested, ready=ready,
            request_rate=requests / elapsed if elapsed > 0 else 0.0,
            latency_ms=latency_sum / requests if requests else None,
            code_2xx=codes[0], code_4xx=codes[1], code_5xx=codes[2],
            cpu_utilization=cpu,
        )
        self._last[api] = (t, seen)
        self._points.setdefault(api, deque(maxlen=HISTORY)).append(point)
        return point

    def points(self, api: str, since: float | None = None) -> tuple[MetricsPoint, ...]:
        return tuple(p for p in self._points.get(api, ()) if since is None or p.t >= since)

    def forget(self, api: str) -> None:
        self._points.pop(api, None)
        self._last.pop(api, None)
