"""The values every layer exchanges: status words, API states, stats, metrics, events, log lines,
deploy results. Near the bottom (it imports only the config model's defaults), so the targets,
the backends, the CLI and the TUI all speak the same words. No Textual here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

from cortex_tui.config.model import (
    DEFAULT_MAX_REPLICAS,
    DEFAULT_MIN_REPLICAS,
    DEFAULT_TARGET_CPU_UTILIZATION,
)


class Status(StrEnum):
    """Status words of SPEC §6, defined once."""

    LIVE = "live"
    UPDATING = "updating"
    INSTALLING = "updating (installing requirements)"  # local: its requirements.txt
    ERROR = "error"
    OUT_OF_MEMORY = "error (out of memory)"
    COMPUTE_UNAVAILABLE = "compute unavailable"
    STOPPING = "stopping"
    STOPPED = "stopped"


@dataclass(frozen=True)
class NetworkStats:
    latency_ms: float | None = None  # average over the window / since start; None if no request
    code_2xx: int = 0
    code_4xx: int = 0
    code_5xx: int = 0
    total: int = 0


@dataclass(frozen=True)
class BatchingStats:
    """Server-side batching totals of an API's replicas."""

    batches: int = 0
    samples: int = 0
    avg_wait_ms: float | None = None  # time a sample waited for its batch to go

    @property
    def avg_batch_size(self) -> float | None:
        return self.samples / self.batches if self.batches else None


@dataclass(frozen=True)
class RegressionStats:
    min: float | None
    max: float | None
    avg: float | None
    sample_count: int
    # (upper bound of the bucket, count); the last bound may be float("inf")
    histogram: tuple[tuple[float, int], ...] = ()


@dataclass(frozen=True)
class TrackerStats:
    model_type: Literal["classification", "regression"]
    class_distribution: Mapping[str, int] | None = None  # classification
    regression_stats: RegressionStats | None = None  # regression


@dataclass(frozen=True)
class ReplicaEndpoint:
    """One replica's private admin URL (`/healthz`, `/stats`, `/metrics` of that replica
    alone: per-replica scraping; the API's endpoint reaches an arbitrary replica)."""

    name: str
    version: int
    state: str  # starting | ready | stopping
    admin_url: str
    gpus: tuple[int, ...] = ()  # the GPU devices it holds (local target)
    gpu_utilization: float | None = None  # percent, average over its devices, as NVML says
    gpu_memory_used: int | None = None  # bytes, all its devices


@dataclass(frozen=True)
class ColdStart:
    """A replica's start, unix times: spawned, `init` done, ready (health check), first
    answer. None while the step has not happened (or was not seen)."""

    replica: str
    spawned: float
    init_done: float | None = None
    ready: float | None = None
    first_answer: float | None = None

    def summary(self) -> str:
        """`replica X: init done 1.21 s, ready 1.30 s, first answer 1.42 s after spawn`."""
        steps = [(word, t) for word, t in (("init done", self.init_done), ("ready", self.ready),
                                           ("first answer", self.first_answer)) if t is not None]
        if not steps:
            return f"replica {self.replica}: starting"
        shown = ", ".join(f"{word} {max(t - self.spawned, 0.0):.2f} s" for word, t in steps)
        return f"replica {self.replica}: {shown} after spawn"


HPA = "hpa"  # a decision the cluster's HPA made: only its own words (event, condition)
SIGNAL_WORDS = {"in_flight": "in-flight", "cpu": "cpu"}


@dataclass(frozen=True)
class Decision:
    """One sync of the autoscaler: its inputs, each rule that acted, its result."""

    t: float  # unix time
    signal: str  # "in_flight" | "cpu"
    value: float | None  # the API-wide signal (None: no sample yet)
    target: float  # per replica
    current: int  # replicas requested before the sync
    raw: float | None  # value / target
    recommended: int  # ceil(raw), or current when held
    held: bool = False  # inside the tolerance band
    limit: str = ""  # "max_upscale_factor" | "max_downscale_factor" when it capped the move
    bound: str = ""  # "min_replicas" | "max_replicas" when it clamped
    stabilized: str = ""  # "downscale_stabilization" | "upscale_stabilization" | "start"
    final: int = 0
    note: str = ""  # e.g. why a replica was kept for scale to zero, or woke from zero

    @property
    def moved(self) -> bool:
        return self.final != self.current

    @property
    def notable(self) -> bool:
        """A move, the cluster's own words, or a sync where a factor or a stabilisation window
        held a move back: what `events` and the TUI list (steady syncs, and min/max holding an
        idle or saturated API, are left out)."""
        return self.moved or self.signal == HPA or bool(self.limit or self.stabilized)

    def arithmetic(self) -> str:
        """`in-flight 7.8 / target 2 = 3.9` (cpu: `cpu 240% / target 80% = 3.0`)."""
        word = SIGNAL_WORDS.get(self.signal, self.signal)
        if self.value is None or self.raw is None:
            return f"{word}: no sample yet"
        unit = "%" if self.signal == "cpu" else ""
        return (f"{word} {_num(self.value)}{unit} / target {_num(self.target)}{unit} "
                f"= {_num(self.raw)}")

    def reasons(self) -> list[str]:
        out = []
        if self.held:
            out.append("within tolerance")
        if self.limit:
            out.append(f"capped by {self.limit}")
        if self.bound:
            out.append(f"clamped to {self.bound}")
        if self.stabilized == "start":
            out.append("held: the autoscaler started less than a stabilisation period ago")
        elif self.stabilized:
            out.append(f"held by {self.stabilized}")
        if self.note:
            out.append(self.note)
        return out

    def summary(self) -> str:
        """One line: `scaled 2 → 4: in-flight 7.8 / target 2 = 3.9, capped by ...`."""
        if self.signal == HPA:
            return f"HPA: {self.note}"
        head = (f"scaled {self.current} → {self.final}" if self.moved
                else f"kept {self.final}")
        return f"{head}: " + ", ".join([self.arithmetic(), *self.reasons()])

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"summary": self.summary()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**fields)


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


@dataclass(frozen=True)
class ApiState:
    """What `get` shows for one API (SPEC §6, issue 4's `get -o json`)."""

    name: str
    status: Status
    message: str = ""  # the reason for error / compute unavailable; "" when live
    up_to_date: int = 0  # replicas running the current version (ready or not)
    available: int = 0  # up-to-date replicas that are ready
    requested: int = 0  # replicas the autoscaler wants now
    failed: int = 0  # replicas that crashed / failed to start
    min_replicas: int = DEFAULT_MIN_REPLICAS
    max_replicas: int = DEFAULT_MAX_REPLICAS
    init_replicas: int = DEFAULT_MIN_REPLICAS
    target_cpu_utilization: int = DEFAULT_TARGET_CPU_UTILIZATION
    endpoint: str | None = None  # URL that accepts POST predictions
    last_update: float | None = None  # unix time of the last deploy / change
    network: NetworkStats = field(default_factory=NetworkStats)
    request_rate: float | None = None  # requests/s between the target's last two scrapes
    tracker: TrackerStats | None = None
    replicas: tuple[ReplicaEndpoint, ...] = ()  # local target: every running replica
    signature: Mapping[str, Any] | None = None  # onnx / tensorflow: {input: {shape, type}}
    autoscale_on: str = "cpu"
    target_in_flight: float | None = None  # requests per replica (autoscale_on: in_flight)
    decision: Decision | None = None  # the autoscaler's last sync
    cold_start: ColdStart | None = None  # the API's last replica start

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.decision is not None:
            data["decision"] = self.decision.to_json()
        data["status"] = str(self.status)
        net = data.pop("network")
        data["network_stats"] = net
        tracker = data.pop("tracker")
        data["class_distribution"] = tracker["class_distribution"] if tracker else None
        data["regression_stats"] = tracker["regression_stats"] if tracker else None
        if tracker and data["class_distribution"] is not None:
            data["class_distribution"] = dict(data["class_distribution"])
        data["tracker_model_type"] = tracker["model_type"] if tracker else None
        reg = data["regression_stats"]
        if reg is not None:  # strict JSON: the +inf bound of the last bucket is null
            reg["histogram"] = [[None if b == float("inf") else b, c] for b, c in reg["histogram"]]
        return data


DeployAction = Literal["created", "updated", "unchanged", "deleted"]


@dataclass(frozen=True)
class DeployChange:
    api: str
    action: DeployAction
    message: str = ""  # e.g. "compute.cpu changed", shown after the action


@dataclass(frozen=True)
class DeployResult:
    changes: tuple[DeployChange, ...]


@dataclass(frozen=True)
class ScaleRequest:
    """Fields left None keep their current value."""

    min_replicas: int | None = None
    max_replicas: int | None = None
    init_replicas: int | None = None
    target_cpu_utilization: int | None = None


@dataclass(frozen=True)
class MetricsPoint:
    """One sample of an API's time series (one per scrape / sync period)."""

    t: float  # unix time
    requested: int  # replicas wanted
    ready: int  # replicas ready
    request_rate: float  # requests per second over the last interval
    latency_ms: float | None  # average latency over the last interval
    code_2xx: int = 0  # responses in the last interval, by status class
    code_4xx: int = 0
    code_5xx: int = 0
    cpu_utilization: float | None = None  # average, percent of the cpu request
    gpu_utilization: float | None = None  # average over the API's GPU devices, percent


@dataclass(frozen=True)
class Metrics:
    api: str
    points: tuple[MetricsPoint, ...]
    network: NetworkStats  # totals
    tracker: TrackerStats | None  # totals
    batching: BatchingStats | None = None  # totals; None without server-side batching


EventKind = Literal[
    "deployed", "updated", "scaled", "ready", "restarted", "failed", "pending", "deleted"
]


@dataclass(frozen=True)
class Event:
    t: float  # unix time
    api: str
    kind: EventKind
    message: str


@dataclass(frozen=True)
class PredictResult:
    status: int  # HTTP status of the replica's answer
    body: Any  # the decoded JSON body (or the raw text when not JSON)
    elapsed_ms: float
    is_json: bool = True  # False: `body` is the text of an answer that was not JSON

    def shown(self) -> str:
        """The answer as the user reads it: JSON (a string keeps its quotes, so "26.9" and
        26.9 differ), or the raw text of a non-JSON answer."""
        if not self.is_json:
            return str(self.body)
        return json.dumps(self.body, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class LogLine:
    replica: str  # replica / pod name
    text: str  # the line without its trailing newline


@dataclass(frozen=True)
class LoadTarget:
    """Where a load test sends its requests: the API's own endpoint, and how it is reached."""

    url: str  # http://HOST:PORT/PATH accepting POST predictions
    via: str  # shown in the load test's summary, e.g. "local endpoint 127.0.0.1:8123"


@dataclass(frozen=True)
class TargetInfo:
    """What the TUI header shows about where APIs run."""

    kind: Literal["local", "kubernetes"]
    name: str  # environment name ("local" or a kubeconfig context / named environment)
    namespace: str | None = None
    nodes: int = 1
    cpu: float = 0.0  # allocatable cores, all nodes
    memory: int = 0  # allocatable bytes, all nodes
    gpu: int = 0
    gpus: tuple[GpuDevice, ...] = ()  # local target: each device replicas may use


@dataclass(frozen=True)
class GpuDevice:
    """One GPU of the local machine, who holds it and its load now."""

    index: int
    name: str
    memory: int  # bytes
    replica: str | None = None  # the replica holding it; None when free
    utilization: float | None = None  # percent busy over NVML's last sample period
    memory_used: int | None = None  # bytes
