"""A time series of `/stats` scrapes per API, kept in memory (the local target keeps its own in
SQLite). Parsing and merging the documents is `cortex_tui.replica_stats`'s job."""

from __future__ import annotations

from collections import deque
from typing import Any

from cortex_tui import replica_stats
from cortex_tui.types import MetricsPoint

HISTORY = 720  # points per API (an hour at one scrape per 5 s)


class Series:
    """Per-API points built from successive scrapes; counters restart with their replica."""

    def __init__(self) -> None:
        self._points: dict[str, deque[MetricsPoint]] = {}
        self._last: dict[str, replica_stats.Scrape] = {}

    def observe(self, api: str, t: float, per_pod: dict[str, dict[str, Any]], requested: int,
                ready: int, cpu: float | None) -> MetricsPoint:
        now = replica_stats.scrape(t, per_pod)
        point = replica_stats.point(self._last.get(api), now, requested, ready, cpu)
        self._last[api] = now
        self._points.setdefault(api, deque(maxlen=HISTORY)).append(point)
        return point

    def points(self, api: str, since: float | None = None) -> tuple[MetricsPoint, ...]:
        return tuple(p for p in self._points.get(api, ()) if since is None or p.t >= since)

    def latest(self, api: str) -> MetricsPoint | None:
        points = self._points.get(api)
        return points[-1] if points else None

    def forget(self, api: str) -> None:
        self._points.pop(api, None)
        self._last.pop(api, None)


class Rates:
    """Each API's request rate between successive `get` scrapes (the TUI list's REQ/S)."""

    def __init__(self) -> None:
        self._last: dict[str, replica_stats.Scrape] = {}

    def rate(self, api: str, t: float, per_pod: dict[str, dict[str, Any]]) -> float | None:
        now = replica_stats.scrape(t, per_pod)
        before, self._last[api] = self._last.get(api), now
        if before is None or now.t <= before.t:
            return None
        return replica_stats.point(before, now, 0, 0, None).request_rate

    def forget(self, api: str) -> None:
        self._last.pop(api, None)
