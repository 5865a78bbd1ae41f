"""CloudWatch monitoring for a Kubernetes environment, as the backend reads it.

(What replicas need to publish is `cortex_tui.aws.pod_env`.)

* `CloudWatchHistory`: used by the Kubernetes backend's `metrics()` and `get(api)` when the
  environment has `aws.cloudwatch_namespace`: totals and per-minute points from CloudWatch
  (they survive pods), with a short cache so a TUI refreshing every second does not call
  GetMetricData every second. When CloudWatch cannot be read, the live figures are kept and
  the reason is logged and kept in `last_error`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cortex_tui.aws.clients import AwsError
from cortex_tui.aws.cloudwatch_reader import CloudWatchReader, best_totals, combine
from cortex_tui.settings import AwsSettings
from cortex_tui.types import ApiState, Metrics, MetricsPoint

log = logging.getLogger(__name__)
CACHE_TTL_S = 30.0  # CloudWatch data is per minute: fresher reads show nothing new


def cloudwatch_on(aws: AwsSettings | None) -> bool:
    return bool(aws and aws.cloudwatch_namespace)


class CloudWatchHistory:
    def __init__(
        self,
        aws: AwsSettings,
        *,
        ttl: float = CACHE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._aws = aws
        self._ttl = ttl
        self._clock = clock
        self._reader: CloudWatchReader | None = None
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def metrics(self, live: Metrics, since: float | None = None) -> Metrics:
        """Live metrics with CloudWatch's totals, and on a first fetch (`since` None) its
        per-minute history before the live points; `live` unchanged when CloudWatch cannot
        be read."""
        totals = self._cached(("totals", live.api), lambda reader: reader.totals(live.api))
        if totals is None:
            return live
        network, tracker = totals
        points: tuple[MetricsPoint, ...] = ()
        if since is None:
            points = self._cached(("points", live.api), lambda reader: reader.points(live.api))
            points = points or ()
        history = Metrics(api=live.api, points=points, network=network, tracker=tracker)
        return combine(live, history, since)

    def state(self, state: ApiState) -> ApiState:
        """`get API`: the request and tracker totals from CloudWatch."""
        totals = self._cached(("totals", state.name), lambda reader: reader.totals(state.name))
        if totals is None:
            return state
        network, tracker = best_totals((state.network, state.tracker), totals)
        return replace(state, network=network, tracker=tracker)

    def _cached(self, key: tuple[Any, ...], read: Callable[[CloudWatchReader], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        try:
            if self._reader is None:
                self._reader = CloudWatchReader(self._aws, clock=self._clock)
            value = read(self._reader)
        except AwsError as exc:
            self.last_error = str(exc)
            log.warning("CloudWatch history unavailable, showing live figures: %s", exc)
            return None
        self.last_error = None
        with self._lock:
            self._cache[key] = (now, value)
        return value
