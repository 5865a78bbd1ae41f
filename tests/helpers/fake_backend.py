"""A deterministic in-memory `Backend` for TUI tests, screenshots and the TUI benchmark.

Everything derives from a clock (fixed by default) and the API's index, so two runs with the
same clock draw the same screens. With `clock=time.time` the data moves (the benchmark).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cortex_tui.backends import Backend
from cortex_tui.config.model import Compute, Project
from cortex_tui.config.scaling import ScaleError, apply_scale
from cortex_tui.errors import ApiNotFound, BackendError
from cortex_tui.interface import LogStream
from cortex_tui.types import (
    ApiState,
    Decision,
    DeployChange,
    DeployResult,
    Event,
    GpuDevice,
    LoadTarget,
    LogLine,
    Metrics,
    MetricsPoint,
    NetworkStats,
    PredictResult,
    RegressionStats,
    ReplicaEndpoint,
    ScaleRequest,
    Status,
    TargetInfo,
    TrackerStats,
)

if TYPE_CHECKING:
    from cortex_tui.cluster import ClusterService

FIXED_NOW = 1_764_064_800.0  # 2025-11-25 10:00:00 UTC
STATUS_CYCLE = (
    Status.LIVE, Status.LIVE, Status.ERROR, Status.UPDATING, Status.LIVE,
    Status.COMPUTE_UNAVAILABLE,
)
ERROR_MESSAGE = "init failed: ModuleNotFoundError: No module named 'torch'"
PENDING_MESSAGE = "1 replica pending: needs 4 cpu, 2 free"
FOLLOW_LIMIT = 120.0  # seconds a follow iterator lives at most (tests never wait that long)
CLASSES = ("setosa", "versicolor", "virginica")


@dataclass
class Call:
    method: str
    args: tuple[Any, ...] = ()


@dataclass
class _Api:
    name: str
    index: int
    status: Status = Status.LIVE
    message: str = ""
    compute: Compute = field(default_factory=Compute)
    model_type: str = "classification"
    created: float = FIXED_NOW - 3600


def _seeded_api(name: str, index: int) -> _Api:
    status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
    message = {Status.ERROR: ERROR_MESSAGE, Status.COMPUTE_UNAVAILABLE: PENDING_MESSAGE}.get(
        status, ""
    )
    low = 1 + index % 2
    compute = Compute(min_replicas=low, max_replicas=5 + index, init_replicas=low)
    model_type = "regression" if index % 2 else "classification"
    return _Api(name, index, status, message, compute, model_type)


class FakeBackend(Backend):
    """`n_apis` APIs named like the examples first (`iris-classifier`, `housing-regressor`)."""

    def __init__(
        self,
        n_apis: int = 4,
        clock: Callable[[], float] = lambda: FIXED_NOW,
        kind: str = "local",
        fail: dict[str, str] | None = None,
    ) -> None:
        self.clock = clock
        self.kind = kind
        self.calls: list[Call] = []
        self.fail = dict(fail or {})  # method name -> BackendError message
        self._lock = threading.Lock()
        self._apis: dict[str, _Api] = {}
        self._events: list[Event] = []
        self._decisions: dict[str, list[Decision]] = {}
        self._log_extra: dict[str, list[str]] = {}
        self.closed = threading.Event()  # ends `logs(follow=True)` iterators
        self.gate: threading.Event | None = None  # when set, get() waits for it (a slow target)
        self.gpu_apis: set[str] = set()  # APIs whose replicas hold a GPU each (local target)
        self.signatures: dict[str, dict[str, Any]] = {}  # model runtimes' inputs
        self.load_url: str | None = None  # where load tests go (a test's own HTTP server)
        names = ["iris-classifier", "housing-regressor", "sentiment-analyzer", "fraud-detector"]
        names += [f"api-{i:03d}" for i in range(len(names), n_apis)]
        for index, name in enumerate(names[:n_apis]):
            self._apis[name] = _seeded_api(name, index)
            self._events.append(Event(FIXED_NOW - 3600, name, "deployed", "created 1 replica"))
            self._events.append(Event(FIXED_NOW - 1800, name, "scaled", "scaled to 2 replicas"))
            self._decisions[name] = [
                Decision(FIXED_NOW - 170, "in_flight", 15.6, 2.0, 3, 7.8, 8, final=5,
                         limit="max_upscale_factor"),
                Decision(FIXED_NOW - 70, "in_flight", 3.1, 2.0, 5, 1.55, 2, final=3,
                         limit="max_downscale_factor"),
            ]

    # -- helpers -------------------------------------------------------------------------------
    def _record(self, method: str, *args: Any) -> None:
        with self._lock:
            self.calls.append(Call(method, args))
        if method in self.fail:
            raise BackendError(self.fail[method])

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _find(self, api: str) -> _Api:
        try:
            return self._apis[api]
        except KeyError:
            raise ApiNotFound(api) from None

    def _now(self) -> float:
        return float(self.clock())

    def _state(self, a: _Api) -> ApiState:
        c = a.compute
        up = 0 if a.status == Status.ERROR else c.init_replicas
        requested = c.init_replicas
        available = up - (1 if a.status == Status.UPDATING and up else 0)
        total = 1000 + 37 * a.index
        return ApiState(
            name=a.name,
            status=a.status,
            message=a.message,
            up_to_date=up,
            available=available,
            requested=requested,
            failed=1 if a.status == Status.ERROR else 0,
            min_replicas=c.min_replicas,
            max_replicas=c.max_replicas,
            init_replicas=c.init_replicas,
            target_cpu_utilization=c.target_cpu_utilization,
            endpoint=f"http://127.0.0.1:{8890 + a.index}/predict",
            last_update=a.created,
            network=NetworkStats(12.5 + a.index, total - 9, 7, 2, total),
            tracker=self._tracker(a),
            replicas=self._gpu_replicas(a, up),
            signature=self.signatures.get(a.name),
        )

    def _gpu_replicas(self, a: _Api, count: int) -> tuple[ReplicaEndpoint, ...]:
        if a.name not in self.gpu_apis:
            return ()
        return tuple(
            ReplicaEndpoint(f"{a.name}-v1-{i:06x}", 1, "ready", f"http://127.0.0.1:{9000 + i}",
                            gpus=(i,), gpu_utilization=40.0 + 10 * i,
                            gpu_memory_used=(3 + i) << 30)
            for i in range(count)
        )

    def _tracker(self, a: _Api) -> TrackerStats:
        if a.model_type == "classification":
            dist = {cls: 40 + 13 * ((a.index + i) % 3) for i, cls in enumerate(CLASSES)}
            return TrackerStats("classification", class_distribution=dist)
        hist = ((100.0, 12), (200.0, 30), (300.0, 41), (400.0, 18), (float("inf"), 4))
        return TrackerStats(
            "regression", regression_stats=RegressionStats(52.0, 488.0, 231.4, 105, hist)
        )

    # -- Backend -------------------------------------------------------------------------------
    def target_info(self) -> TargetInfo:
        self._record("target_info")
        if self.kind == "kubernetes":
            return TargetInfo("kubernetes", "prod", "cortex", 3, 12.0, 48 * 2**30, 1)
        if self.gpu_apis:
            devices = tuple(GpuDevice(i, "NVIDIA L4", 24 * 2**30) for i in range(2))
            return TargetInfo("local", "local", None, 1, 2.0, 24 * 2**30, 2, devices)
        return TargetInfo("local", "local", None, 1, 2.0, 24 * 2**30, 0)

    def deploy(self, project: Project, force: bool = False) -> DeployResult:
        self._record("deploy", project, force)
        changes = []
        with self._lock:
            for spec in project.apis:
                old = self._apis.get(spec.name)
                if old is None:
                    self._apis[spec.name] = _Api(spec.name, len(self._apis), compute=spec.compute)
                    changes.append(DeployChange(spec.name, "created"))
                elif old.compute != spec.compute or force:
                    self._apis[spec.name] = replace(old, compute=spec.compute, status=Status.LIVE)
                    changes.append(DeployChange(spec.name, "updated", "compute changed"))
                else:
                    changes.append(DeployChange(spec.name, "unchanged"))
        return DeployResult(tuple(changes))

    def get(self, api: str | None = None) -> list[ApiState]:
        self._record("get", api)
        if self.gate is not None:
            self.gate.wait(10)
        with self._lock:
            if api is not None:
                return [self._state(self._find(api))]
            return [self._state(a) for a in sorted(self._apis.values(), key=lambda a: a.name)]

    def delete(self, api: str | None = None) -> list[str]:
        self._record("delete", api)
        with self._lock:
            names = [api] if api is not None else sorted(self._apis)
            for name in names:
                self._find(name)
                del self._apis[name]
        return names

    def logs(self, api: str, follow: bool = False, tail: int | None = None) -> LogStream:
        stop = threading.Event()
        return LogStream(self._log_lines(api, follow, tail, stop), wake=stop.set)

    def _log_lines(self, api: str, follow: bool, tail: int | None,
                   stop: threading.Event) -> Iterator[LogLine]:
        self._record("logs", api, follow, tail)
        self._find(api)
        lines = [f"replica ready on 127.0.0.1:{8890 + i % 3}" for i in range(2)]
        lines += [f"POST /predict 200 {1.5 + i % 4:.1f}ms" for i in range(18)]
        lines.insert(7, "WARNING tracker: value 'x' is not a number")
        extra = self._log_extra.setdefault(api, [])
        lines += extra
        if tail is not None:
            lines = lines[-tail:]
        for i, text in enumerate(lines):
            yield LogLine(f"{api}-{i % 2}", text)
        seen = len(extra)
        deadline = time.monotonic() + FOLLOW_LIMIT
        while follow and not self.closed.is_set() and time.monotonic() < deadline:
            if len(extra) > seen:
                seen += 1
                yield LogLine(f"{api}-0", extra[seen - 1])
            elif stop.wait(0.02):
                return

    def add_log(self, api: str, text: str) -> None:
        self._log_extra.setdefault(api, []).append(text)

    def close(self) -> None:
        self.closed.set()

    def cluster(self) -> ClusterService:
        """The real cluster service of `env_name` (a fake Kubernetes API and moto behind it
        in the tests that use it): the fake stands in for the APIs only."""
        from cortex_tui.cluster import ClusterService

        return ClusterService(self.env_name)

    def predict(self, api: str, sample: Any, debug: bool = False) -> PredictResult:
        self._record("predict", api, sample, debug)
        a = self._find(api)
        if not isinstance(sample, dict):
            return PredictResult(400, {"error": "prediction failed: sample must be an object"}, 2.0)
        if a.model_type == "classification":
            return PredictResult(200, {"label": CLASSES[len(sample) % 3]}, 3.2)
        return PredictResult(200, 231.4, 3.2)

    def scale(self, api: str, request: ScaleRequest) -> ApiState:
        self._record("scale", api, request)
        with self._lock:
            a = self._find(api)
            try:
                a.compute = apply_scale(
                    a.compute,
                    request.min_replicas,
                    request.max_replicas,
                    request.init_replicas,
                    request.target_cpu_utilization,
                )
            except ScaleError as exc:
                raise BackendError(str(exc)) from None
            return self._state(a)

    def metrics(self, api: str, since: float | None = None) -> Metrics:
        self._record("metrics", api, since)
        with self._lock:
            a = self._find(api)
            now = math.floor(self._now())
            points = tuple(_point(a.index, now - 5 * k) for k in range(59, -1, -1))
            if api in self.gpu_apis:
                points = tuple(replace(p, gpu_utilization=round(50 + 30 * math.sin(p.t / 30), 1))
                               for p in points)
            state = self._state(a)
        if since is not None:
            points = tuple(p for p in points if p.t > since)
        return Metrics(api, points, state.network, state.tracker)

    supports_load_test = True

    @contextmanager
    def load_target(self, api: str) -> Iterator[LoadTarget]:
        self._record("load_target", api)
        self._find(api)
        if self.load_url is None:
            raise BackendError(f'api "{api}": no endpoint to load-test in this fake')
        yield LoadTarget(self.load_url, "fake endpoint")

    def events(self, api: str | None = None, since: float | None = None) -> list[Event]:
        self._record("events", api, since)
        return [
            e
            for e in self._events
            if (api is None or e.api == api) and (since is None or e.t > since)
        ]


    def decisions(self, api: str, since: float | None = None) -> list[Decision]:
        self._record("decisions", api, since)
        with self._lock:
            self._find(api)
            return [d for d in self._decisions.get(api, []) if since is None or d.t > since]


def _point(index: int, t: int) -> MetricsPoint:
    wave = math.sin(t / 40 + index)
    requested = 2 + round(1.5 + 1.5 * wave)
    ready = max(1, requested - (1 if (t // 5) % 7 == 0 else 0))
    rate = 20 + 15 * wave + 3 * math.sin(t / 7)
    latency = 12 + 4 * math.cos(t / 25 + index)
    return MetricsPoint(
        t=float(t),
        requested=requested,
        ready=ready,
        request_rate=round(rate, 2),
        latency_ms=round(latency, 2),
        code_2xx=int(rate * 5),
        code_4xx=(t // 5) % 3,
        code_5xx=0,
        cpu_utilization=round(60 + 20 * wave, 1),
    )


def live_clock() -> float:
    return time.time()
