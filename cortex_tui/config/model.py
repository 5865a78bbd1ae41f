"""The typed, immutable model of a cortex-tui project.

Everything downstream of validation (predictor, backends, TUI) takes these objects; nothing
downstream reads raw YAML dicts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from cortex_tui.config.quantity import format_duration, parse_bytes, parse_cpu, parse_duration
from cortex_tui.errors import UserError

ModelType = Literal["classification", "regression"]
MODEL_TYPES: tuple[str, ...] = ("classification", "regression")
RuntimeName = Literal["python", "onnx", "tensorflow"]
RUNTIMES: tuple[str, ...] = ("python", "onnx", "tensorflow")
S3_PREFIX = "s3://"
CONFIG_FILENAME = "cortex.yaml"

# Defaults of SPEC §2, defined once. init_replicas defaults to min_replicas.
DEFAULT_MIN_REPLICAS = 1
DEFAULT_MAX_REPLICAS = 100
DEFAULT_TARGET_CPU_UTILIZATION = 80
DEFAULT_CPU = Decimal("0.2")  # cores ("200m")
DEFAULT_GPU = 0
DEFAULT_THREADS_PER_REPLICA = 1
DEFAULT_QUEUE_SIZE = 128
# compute.max_concurrency when unset: an `async def predict` says it can serve many requests
# at once; a sync one runs in threads_per_replica threads.
DEFAULT_ASYNC_MAX_CONCURRENCY = 64
MAX_CONCURRENCY_LIMIT = 4096
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024  # bytes ("10Mi"); less when compute.mem is small
# A request's body and its parsed objects must fit the replica's memory: by default a body may
# take 1/16 of compute.mem, its parsed objects 1/4 (more is refused with 413 before parsing),
# and a max_body_size above 1/4 of mem cannot fit at all (a validation error).
MEM_PER_DEFAULT_BODY = 16
MEM_PER_PARSED_BODY = 4
PARSE_BUDGET_WITHOUT_MEM = 1024 * 1024 * 1024  # bytes of parsed objects per request


def default_max_body_size(mem: int | None) -> int:
    """compute.max_body_size when not set: 10Mi, or 1/16 of compute.mem when that is less."""
    if mem is None:
        return DEFAULT_MAX_BODY_SIZE
    return max(1, min(DEFAULT_MAX_BODY_SIZE, mem // MEM_PER_DEFAULT_BODY))


def largest_body_size(mem: int) -> int:
    """The largest compute.max_body_size that fits compute.mem."""
    return max(1, mem // MEM_PER_PARSED_BODY)

# Autoscaling (issue 14). Durations in seconds. target_in_flight's default: see
# Compute.in_flight_target.
AutoscaleOn = Literal["cpu", "in_flight"]
AUTOSCALE_SIGNALS: tuple[str, ...] = ("cpu", "in_flight")
DEFAULT_AUTOSCALE_ON: AutoscaleOn = "cpu"
DEFAULT_WINDOW = 60.0
DEFAULT_UPSCALE_STABILIZATION = 0.0
DEFAULT_DOWNSCALE_STABILIZATION = 300.0
DEFAULT_MAX_UPSCALE_FACTOR = 1.5
DEFAULT_MAX_DOWNSCALE_FACTOR = 0.75
DEFAULT_TOLERANCE = 0.05
DEFAULT_SCALE_TO_ZERO_AFTER = 300.0
# Keys that only `autoscale_on: in_flight` reads (cpu follows the Kubernetes HPA defaults).
IN_FLIGHT_KEYS: tuple[str, ...] = (
    "target_in_flight", "window", "upscale_stabilization", "downscale_stabilization",
    "max_upscale_factor", "max_downscale_factor", "upscale_tolerance", "downscale_tolerance",
    "scale_to_zero_after",
)
# How often an autoscaler looks (the HPA's default sync period). The local operator's may be
# shortened with this environment variable (tests, demos); `window` may not be shorter.
DEFAULT_SYNC_PERIOD = 15.0
SYNC_PERIOD_ENV = "CORTEX_TUI_SYNC_PERIOD"


def sync_period() -> float:
    """The autoscaler's sync period in seconds: the environment's override or the default."""
    raw = os.environ.get(SYNC_PERIOD_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_SYNC_PERIOD
    return value if value > 0 else DEFAULT_SYNC_PERIOD


@dataclass(frozen=True)
class Tracker:
    """Prediction monitoring: which value of the response to track, and how."""

    model_type: ModelType
    key: str | None = None


@dataclass(frozen=True)
class Compute:
    """Per-replica resources, autoscaling bounds and serving limits."""

    min_replicas: int = DEFAULT_MIN_REPLICAS
    max_replicas: int = DEFAULT_MAX_REPLICAS
    init_replicas: int = DEFAULT_MIN_REPLICAS
    target_cpu_utilization: int = DEFAULT_TARGET_CPU_UTILIZATION
    cpu: Decimal = DEFAULT_CPU  # cores; Kubernetes quantity "200m" == Decimal("0.2")
    gpu: int = DEFAULT_GPU
    mem: int | None = None  # bytes; None when unset
    threads_per_replica: int = DEFAULT_THREADS_PER_REPLICA  # predictions run at once
    queue_size: int = DEFAULT_QUEUE_SIZE  # requests allowed to wait beyond those running
    max_body_size: int = DEFAULT_MAX_BODY_SIZE  # bytes; larger request bodies get 413
    max_concurrency: int | None = None  # async predictions at once; None: the default
    autoscale_on: AutoscaleOn = DEFAULT_AUTOSCALE_ON
    target_in_flight: float | None = None  # None: see in_flight_target
    window: float = DEFAULT_WINDOW  # s the in-flight signal is averaged over
    upscale_stabilization: float = DEFAULT_UPSCALE_STABILIZATION  # s
    downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION  # s
    max_upscale_factor: float = DEFAULT_MAX_UPSCALE_FACTOR  # +1 is always allowed
    max_downscale_factor: float = DEFAULT_MAX_DOWNSCALE_FACTOR  # -1 is always allowed
    upscale_tolerance: float = DEFAULT_TOLERANCE
    downscale_tolerance: float = DEFAULT_TOLERANCE
    scale_to_zero_after: float = DEFAULT_SCALE_TO_ZERO_AFTER  # s without a request (min 0)

    def concurrency(self, is_async: bool) -> int:
        """Predictions a replica runs at once: for an `async def predict`, max_concurrency
        (default 64); a sync predict runs in threads_per_replica threads."""
        if is_async:
            return self.max_concurrency or DEFAULT_ASYNC_MAX_CONCURRENCY
        return self.threads_per_replica

    @property
    def parse_budget(self) -> int:
        """Bytes the parsed objects of one request body may take (larger bodies get 413)."""
        if self.mem is None:
            return PARSE_BUDGET_WITHOUT_MEM
        return largest_body_size(self.mem)

    @property
    def cpu_millis(self) -> int:
        """CPU request in millicores, rounded up as Kubernetes does."""
        millis = self.cpu * 1000
        whole = int(millis)
        return whole if whole == millis else whole + 1

    @property
    def in_flight_target(self) -> float:
        """Desired requests per replica (running plus queued): target_in_flight, else
        max_concurrency when set, else threads_per_replica. (Whether predict is async is known
        only once a replica imports it, too late for an HPA's target: an async predict without
        max_concurrency gets the sync figure, and its user sets target_in_flight.)"""
        if self.target_in_flight is not None:
            return self.target_in_flight
        return float(self.max_concurrency or self.threads_per_replica)


MIN_BATCH_SIZE, MAX_BATCH_SIZE = 2, 1024


@dataclass(frozen=True)
class Batching:
    """server_side_batching: predict receives a list of samples and returns a list."""

    max_batch_size: int  # samples per predict call, at most
    batch_interval: float  # seconds: the longest a batch waits after its first sample

    def to_dict(self) -> dict[str, Any]:
        return {"max_batch_size": self.max_batch_size,
                "batch_interval": format_duration(self.batch_interval)}


@dataclass(frozen=True)
class ApiSpec:
    """One validated `kind: api` entry with every default filled in."""

    name: str
    inference: str  # python runtime: POSIX path relative to the project root ("" otherwise)
    compute: Compute = field(default_factory=Compute)
    tracker: Tracker | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    line: int = 0  # 1-based line of the entry in cortex.yaml (0 when built in code)
    # A project image (the API's, else the `kind: deployment` one): the project and its
    # requirements are built in, so Kubernetes pods skip unpacking and installing.
    image: str | None = None
    batching: Batching | None = None  # python.server_side_batching
    runtime: RuntimeName = "python"
    model: str | None = None  # onnx / tensorflow: project-relative POSIX path or s3:// URL
    request_handler: str | None = None  # onnx / tensorflow: project-relative .py file
    signature_key: str | None = None  # tensorflow only; None: the model's only or default one

    def runtime_dict(self) -> dict[str, Any]:
        """The runtime's section as cortex.yaml spells it, e.g. {"onnx": {"model": ...}}."""
        if self.runtime == "python":
            return {"python": {"inference": self.inference, "server_side_batching":
                               None if self.batching is None else self.batching.to_dict()}}
        section: dict[str, Any] = {
            "model": self.model, "request_handler": self.request_handler,
            "server_side_batching": None if self.batching is None else self.batching.to_dict(),
        }
        if self.runtime == "tensorflow":
            section["signature_key"] = self.signature_key
        return {self.runtime: section}
    # (line, column) of each key written in the entry's compute map, for the problems a target
    # finds later (a setting Kubernetes cannot honour); empty when built in code
    positions: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: MappingProxyType({}), compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with every default filled (used by `validate -o json`)."""
        c = self.compute
        return {
            "name": self.name,
            "image": self.image,
            **self.runtime_dict(),
            "tracker": None
            if self.tracker is None
            else {"model_type": self.tracker.model_type, "key": self.tracker.key},
            "compute": {
                "min_replicas": c.min_replicas,
                "max_replicas": c.max_replicas,
                "init_replicas": c.init_replicas,
                "target_cpu_utilization": c.target_cpu_utilization,
                "cpu": format_cpu(c.cpu),
                "gpu": c.gpu,
                "mem": c.mem,
                "threads_per_replica": c.threads_per_replica,
                "queue_size": c.queue_size,
                "max_body_size": c.max_body_size,
                "max_concurrency": c.max_concurrency,
                "autoscale_on": c.autoscale_on,
                "target_in_flight": c.in_flight_target,
                "window": c.window,
                "upscale_stabilization": c.upscale_stabilization,
                "downscale_stabilization": c.downscale_stabilization,
                "max_upscale_factor": c.max_upscale_factor,
                "max_downscale_factor": c.max_downscale_factor,
                "upscale_tolerance": c.upscale_tolerance,
                "downscale_tolerance": c.downscale_tolerance,
                "scale_to_zero_after": c.scale_to_zero_after,
            },
            "metadata": thaw(self.metadata),
        }


    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApiSpec:
        """Inverse of `to_dict`, for what a target stored (the local operator's records, the
        Kubernetes annotation): a key it lacks gets its default, sizes may be quantities
        ("128Mi"). `line` and `positions` are not stored; a `target_in_flight` equal to what
        the other keys imply reads back as unset."""
        runtime = next((r for r in RUNTIMES if isinstance(data.get(r), Mapping)), "python")
        section: Mapping[str, Any] = data.get(runtime) or {}
        tracker = data.get("tracker")
        return cls(
            name=data["name"],
            inference=(section.get("inference") or "") if runtime == "python" else "",
            compute=compute_from_dict(data.get("compute") or {}),
            tracker=None if not tracker else Tracker(tracker["model_type"], tracker.get("key")),
            metadata=freeze(data.get("metadata") or {}),
            image=data.get("image"),
            batching=batching_from_dict(section.get("server_side_batching")),
            runtime=runtime,
            model=section.get("model"),
            request_handler=section.get("request_handler"),
            signature_key=section.get("signature_key"),
        )


def batching_from_dict(data: Mapping[str, Any] | None) -> Batching | None:
    if not data:
        return None
    return Batching(int(data["max_batch_size"]), parse_duration(data["batch_interval"]))


COMPUTE_FIELDS = frozenset(Compute.__dataclass_fields__)


def compute_from_dict(data: Mapping[str, Any]) -> Compute:
    """`Compute` from `ApiSpec.to_dict()["compute"]`; missing keys keep their defaults."""
    known: dict[str, Any] = {k: v for k, v in data.items() if k in COMPUTE_FIELDS}
    if "cpu" in known:
        known["cpu"] = parse_cpu(known["cpu"])
    for key in ("mem", "max_body_size"):
        if known.get(key) is not None:
            known[key] = parse_bytes(known[key])
    compute = Compute(**known)
    implied = Compute(**{**known, "target_in_flight": None}).in_flight_target
    if compute.target_in_flight == implied:
        compute = Compute(**{**known, "target_in_flight": None})
    return compute


@dataclass(frozen=True)
class Project:
    """A validated project folder: where it lives and its APIs."""

    root: Path
    config_file: Path
    deployment_name: str
    apis: tuple[ApiSpec, ...]

    def api(self, name: str) -> ApiSpec:
        for spec in self.apis:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def api_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.apis)

    def problem(self, spec: ApiSpec, key: str, message: str) -> Problem:
        """A problem at `compute.<key>` of `spec` (at the entry when the key is not written)."""
        line, column = spec.positions.get(key, (spec.line or 1, 1))
        try:
            shown = self.config_file.relative_to(self.root).as_posix()
        except ValueError:
            shown = str(self.config_file)
        return Problem(shown, line, column, spec.name, f"compute.{key}", message)


@dataclass(frozen=True)
class Problem:
    """One validation problem, positioned in its file."""

    file: str  # path as shown to the user (relative to the project root when inside it)
    line: int  # 1-based
    column: int  # 1-based
    api: str | None  # the API's name when known
    path: str  # dotted key path, e.g. "compute.min_replicas" ("" for the whole file)
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: "
        who = f'api "{self.api}": ' if self.api else ""
        key = f"{self.path}: " if self.path else ""
        return f"{where}{who}{key}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "api": self.api,
            "path": self.path,
            "message": self.message,
        }


class ConfigError(UserError):
    """Raised by `load_project` when a project has problems; holds all of them."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_cpu(cores: Decimal) -> str:
    """Canonical Kubernetes form of a CPU quantity: "200m", "1", "1500m"."""
    millis = cores * 1000
    if millis == millis.to_integral_value() and millis % 1000 == 0:
        return str(int(millis // 1000))
    whole = int(millis)
    return f"{whole if whole == millis else whole + 1}m"


def freeze(value: Any) -> Any:
    """Deep-freeze metadata: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of `freeze`: plain dicts and lists (for JSON and for user code)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value
