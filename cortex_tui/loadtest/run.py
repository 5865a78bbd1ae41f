"""One load test of an API through a backend: opens the API's endpoint (`Backend.load_target`),
runs the generator in its worker process, follows the replicas and the autoscaler meanwhile, and
returns a `RunRecord` (saved by the caller with `store.save`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from cortex_tui.errors import BackendError
from cortex_tui.interface import Backend
from cortex_tui.loadtest import histogram
from cortex_tui.loadtest.generator import Outcome, Tick
from cortex_tui.loadtest.spec import LoadSpec
from cortex_tui.loadtest.worker import WorkerProcess

DECISION_KINDS = ("scaled",)  # events that are the autoscaler's decisions
POLL = 0.2  # seconds between two checks for the worker's messages or a stop


@dataclass(frozen=True)
class ReplicaPoint:
    t: float  # seconds since the start
    requested: int
    ready: int


@dataclass(frozen=True)
class Decision:
    t: float  # seconds since the start
    message: str


@dataclass
class RunRecord:
    """A load test, running or finished; what the plots, the summary and the store show."""

    api: str
    target: str  # the environment name
    spec: LoadSpec
    samples: str  # where the samples came from
    started: float  # unix time
    via: str = ""  # how the requests reached the API
    ticks: list[Tick] = field(default_factory=list)
    replicas: list[ReplicaPoint] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    outcome: Outcome | None = None  # None while running
    stopped: bool = False  # ended early by the user
    id: int | None = None  # once saved

    @property
    def elapsed(self) -> float:
        if self.outcome is not None:
            return self.outcome.elapsed
        return self.ticks[-1].t if self.ticks else 0.0

    @property
    def requests(self) -> int:
        return self.outcome.requests if self.outcome else sum(t.requests for t in self.ticks)

    @property
    def errors(self) -> int:
        """Requests without a 2XX answer."""
        if self.outcome is None:
            return sum(t.requests - t.code_2xx for t in self.ticks)
        return self.outcome.requests - self.outcome.codes.get("2xx", 0)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def latency(self) -> dict[str, float | None]:
        return histogram.percentiles_ms(histogram.decode(self.outcome.histogram
                                                         if self.outcome else ""))

    def replicas_reached(self) -> dict[str, int]:
        if not self.replicas:
            return {}
        return {"max_requested": max(p.requested for p in self.replicas),
                "max_ready": max(p.ready for p in self.replicas),
                "final_ready": self.replicas[-1].ready}

    def summary(self) -> dict[str, Any]:
        """What `bench -o json` prints and the store keeps."""
        out = self.outcome
        return {
            "id": self.id, "api": self.api, "target": self.target, "via": self.via,
            "started": self.started, "samples": self.samples, "spec": self.spec.to_json(),
            "stopped": self.stopped, "elapsed_s": round(self.elapsed, 3),
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.elapsed, 2) if self.elapsed else 0.0,
            "latency_ms": self.latency(),
            "codes": {key: (out.codes if out else {}).get(key, 0)
                      for key in ("2xx", "4xx", "5xx", "503+retry-after", "error")},
            "errors": self.errors, "error_rate": round(self.error_rate, 6),
            "messages": [{"message": m, "count": c} for m, c in (out.messages if out else [])],
            "cancelled": out.cancelled if out else 0,
            "replicas": self.replicas_reached(),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "api": self.api, "target": self.target, "spec": self.spec.to_json(),
            "samples": self.samples, "started": self.started, "via": self.via,
            "ticks": [asdict(t) for t in self.ticks],
            "replicas": [asdict(p) for p in self.replicas],
            "decisions": [asdict(d) for d in self.decisions],
            "outcome": None if self.outcome is None else
            {k: v for k, v in asdict(self.outcome).items() if k != "ticks"},
            "stopped": self.stopped,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], run_id: int | None = None) -> RunRecord:
        outcome = data["outcome"]
        ticks = [Tick(**t) for t in data["ticks"]]
        return cls(
            api=data["api"], target=data["target"], spec=LoadSpec(**data["spec"]),
            samples=data["samples"], started=data["started"], via=data["via"], ticks=ticks,
            replicas=[ReplicaPoint(**p) for p in data["replicas"]],
            decisions=[Decision(**d) for d in data["decisions"]],
            outcome=None if outcome is None else Outcome(
                **{**outcome, "messages": [tuple(m) for m in outcome["messages"]]}, ticks=ticks),
            stopped=data["stopped"], id=run_id,
        )


class LoadTest:
    """Run with `run(on_update)` (blocking: a worker thread in the TUI); `stop()` from any
    thread ends it at once and `run` returns what was measured."""

    def __init__(self, backend: Backend, api: str, samples: list[bytes], spec: LoadSpec,
                 *, target: str, sample_source: str,
                 clock: Callable[[], float] = time.time) -> None:
        if not samples:
            raise BackendError("a load test needs at least one sample")
        self.backend = backend
        self.samples = samples
        self.clock = clock
        self.record = RunRecord(api, target, spec, sample_source, clock())
        self._stop = threading.Event()
        self.interrupted = False  # ctrl+c stopped it (the CLI exits 130)

    def stop(self) -> None:
        self._stop.set()

    def run(self, on_update: Callable[[RunRecord], None] = lambda _r: None) -> RunRecord:
        record = self.record
        with self.backend.load_target(record.api) as target:
            record.via = target.via
            record.started = self.clock()
            worker = WorkerProcess(target.url, self.samples, record.spec)
            try:
                self._follow(worker, on_update)
            finally:
                worker.close()
        return record

    def _follow(self, worker: WorkerProcess, on_update: Callable[[RunRecord], None]) -> None:
        record = self.record
        self._observe(0.0)
        while True:
            if self._stop.is_set() and not record.stopped:
                record.stopped = True
                worker.stop()
            try:
                message = worker.receive(POLL)
            except KeyboardInterrupt:  # stop at once; the worker still reports what it measured
                self.interrupted = True
                self._stop.set()
                continue
            if message is None:
                continue
            kind, value = message
            if kind == "tick":
                record.ticks.append(value)
                self._observe(value.t)
                on_update(record)
            elif kind == "done":
                record.outcome = value
                self._observe(value.elapsed)
                on_update(record)
                return
            else:
                raise BackendError(value)

    def _observe(self, t: float) -> None:
        """Replicas requested vs ready, and the autoscaler's decisions recorded since the start."""
        record = self.record
        try:
            state = self.backend.get(record.api)[0]
            events = self.backend.events(record.api, since=record.started)
        except BackendError:
            return  # a missed point; the load test itself goes on
        record.replicas.append(ReplicaPoint(t, state.requested, state.available))
        seen = {(d.t, d.message) for d in record.decisions}
        for event in events:
            if event.kind in DECISION_KINDS:
                decision = Decision(round(event.t - record.started, 3), event.message)
                if (decision.t, decision.message) not in seen:
                    record.decisions.append(decision)
