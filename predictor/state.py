"""The state one replica process shares between its handlers, its server and its metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cortex_tui.config import stats_keys as K
from predictor.batcher import BatchStats
from predictor.load import InFlightSampler
from predictor.logs import log
from predictor.runner import Runner
from predictor.tracker import RequestStats, Tracker

# Called on the event loop after each prediction request is answered:
# observer(status, latency_ms, tracked_value) where tracked_value is the class (str) or the
# regression value (float) counted by the tracker, or None (no tracker, value unfit, or an
# error status). It must not block: buffer and publish from another thread
# (see predictor/observers.py).
Observer = Callable[[int, float, Any], None]


class Traced:
    """A sample sent with ?debug=true to a model runtime: its pipeline logs every stage."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Replica:
    def __init__(self, api: str, name: str, tracker: Tracker | None) -> None:
        self.api = api
        self.name = name
        self.stats = RequestStats()
        self.tracker = tracker
        self.runner: Runner | None = None
        self.ready = False
        self.draining = False
        self.observers: list[Observer] = []
        self.signature: dict[str, Any] | None = None  # the model's inputs (model runtimes)
        self.staged = False  # the predict is a model runtime's pipeline (debug logs stages)
        self.sampler = InFlightSampler(self)
        self.init_done_at: float | None = None  # unix time init finished

    @property
    def in_flight(self) -> int:
        return self.runner.in_flight if self.runner else 0

    @property
    def queued(self) -> int:
        return self.runner.queued if self.runner else 0

    def notify(self, status: int, latency_ms: float, tracked: Any) -> None:
        for observer in self.observers:
            try:
                observer(status, latency_ms, tracked)
            except Exception as exc:  # an observer never fails a request
                log.warning("observer %r failed: %s: %s", observer, type(exc).__name__, exc)

    def stats_json(self) -> dict[str, Any]:
        t = self.tracker
        return {
            K.API: self.api,
            K.REPLICA: self.name,
            K.STARTED: self.stats.started,
            K.READY: self.ready,
            K.IN_FLIGHT: self.in_flight,
            K.QUEUED: self.queued,
            K.IN_FLIGHT_SAMPLED: self.sampler.to_json(),
            K.INIT_DONE_AT: self.init_done_at,
            K.FIRST_ANSWER_AT: self.sampler.first_answer_at,
            K.PREDICT_MODE: self.runner.mode if self.runner else None,
            K.NETWORK: self.stats.network_stats(),
            K.CLASSES: t.class_distribution() if t else None,
            K.REGRESSION: t.regression_stats() if t else None,
            K.BATCHING: self.batch_stats.to_json() if self.batch_stats else None,
            K.SIGNATURE: self.signature,
        }

    @property
    def batch_stats(self) -> BatchStats | None:
        batcher = self.runner.batcher if self.runner else None
        return batcher.stats if batcher else None
