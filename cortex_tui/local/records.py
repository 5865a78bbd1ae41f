"""The desired state of one deployed API, as persisted in `state.json`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from cortex_tui.config.model import ApiSpec, Compute
from cortex_tui.config.scaling import AUTOSCALER_KEYS
from cortex_tui.local.capacity import Resources


@dataclass
class ApiRecord:
    name: str
    deployment: str
    version: int
    fingerprint: str
    snapshot: str  # directory the replicas run from
    port: int  # the stable endpoint port, kept across redeploys and operator restarts
    spec: dict[str, Any]  # ApiSpec.to_dict() as deployed (compute includes `scale` changes)
    requested: int  # replicas the autoscaler wants now
    last_update: float
    code: str = ""  # hash of the project files other than cortex.yaml
    runtime: str = ""  # fingerprint of what replicas run (spec minus autoscaling, code)
    config: str = "cortex.yaml"  # name of the config file inside the snapshot

    @property
    def api(self) -> ApiSpec:
        """The deployed spec, typed (older records lack newer keys: their defaults)."""
        return ApiSpec.from_dict(self.spec)

    @property
    def compute(self) -> Compute:
        return self.api.compute

    @property
    def tracker_type(self) -> str | None:
        tracker = self.api.tracker
        return tracker.model_type if tracker else None

    @property
    def resources(self) -> Resources:
        c = self.compute
        return Resources(cpu_millis=c.cpu_millis, mem=c.mem or 0, gpu=c.gpu)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiRecord:
        return cls(**data)


def runtime_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec without the autoscaling bounds: changing only those rolls no replica."""
    compute = {k: v for k, v in spec["compute"].items() if k not in AUTOSCALER_KEYS}
    return dict(spec, compute=compute)


def fingerprint(spec: dict[str, Any], content: str) -> str:
    data = json.dumps(spec, sort_keys=True, default=str) + content
    return hashlib.sha256(data.encode()).hexdigest()


def describe_changes(old: dict[str, Any], new: dict[str, Any], code_changed: bool) -> str:
    """`compute.cpu, metadata changed` — the keys that differ between two deployed specs."""
    changed = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict) and key != "metadata":
            changed += [f"{key}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            changed.append(key)
    if code_changed:
        changed.append("project files")
    return (", ".join(changed) + " changed") if changed else "redeployed"
