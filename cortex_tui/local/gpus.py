"""This machine's GPUs, handed out whole to replicas as Kubernetes' NVIDIA device plugin does.

Discovery goes through NVML (`nvidia-ml-py`); a machine without a GPU or a driver simply has
none. `CORTEX_TUI_GPUS=0,2` restricts which devices (by NVML index) replicas may use. A replica
with `gpu: N` gets N devices of its own through `CUDA_VISIBLE_DEVICES`; the allocation lives in
the replica's environment, so an operator restart re-adopts it from the running processes.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

GPUS_ENV = "CORTEX_TUI_GPUS"
# Tests and development only: "module:attribute" naming a GpuSource used instead of NVML.
SOURCE_ENV = "CORTEX_TUI_GPU_SOURCE"
VISIBLE_ENV = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")


class GpuSettingError(ValueError):
    """`CORTEX_TUI_GPUS` names no device list."""


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    memory: int  # bytes


@dataclass(frozen=True)
class GpuUsage:
    utilization: float  # percent of the last sample period the device was busy
    memory_used: int  # bytes


class GpuSource(Protocol):
    def devices(self) -> list[Gpu]: ...

    def usage(self, index: int) -> GpuUsage | None: ...


class Nvml:
    """NVML through nvidia-ml-py; every failure (no library, no driver, no device) means no GPU."""

    def __init__(self) -> None:
        self._nvml: Any = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
        except Exception:  # ImportError, NVMLError_LibraryNotFound, NVMLError_DriverNotLoaded...
            self._nvml = None

    def devices(self) -> list[Gpu]:
        if self._nvml is None:
            return []
        try:
            count = self._nvml.nvmlDeviceGetCount()
            return [self._device(i) for i in range(count)]
        except Exception:
            return []

    def _device(self, index: int) -> Gpu:
        nvml = self._nvml
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        name = nvml.nvmlDeviceGetName(handle)
        if isinstance(name, bytes):  # older bindings answer bytes
            name = name.decode(errors="replace")
        return Gpu(index, str(name), int(nvml.nvmlDeviceGetMemoryInfo(handle).total))

    def usage(self, index: int) -> GpuUsage | None:
        if self._nvml is None:
            return None
        try:
            handle = self._nvml.nvmlDeviceGetHandleByIndex(index)
            rates = self._nvml.nvmlDeviceGetUtilizationRates(handle)
            memory = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            return GpuUsage(float(rates.gpu), int(memory.used))
        except Exception:
            return None


def parse_selection(raw: str | None) -> set[int] | None:
    """`0,2` → {0, 2}; unset or empty → None (every device)."""
    if raw is None or not raw.strip():
        return None
    picked: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part.isascii() or not part.isdigit():
            raise GpuSettingError(
                f"{GPUS_ENV}={raw!r}: expected device indices separated by commas, e.g. 0,2")
        picked.add(int(part))
    return picked


def load_source() -> GpuSource:
    spec = os.environ.get(SOURCE_ENV, "")
    if not spec:
        return Nvml()
    module, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module), attr or "source")
    return factory()


def discover(source: GpuSource | None = None) -> list[Gpu]:
    """The devices replicas may use: every GPU NVML sees, narrowed by `CORTEX_TUI_GPUS`."""
    devices = (source or load_source()).devices()
    selection = parse_selection(os.environ.get(GPUS_ENV))
    if selection is None:
        return devices
    return [d for d in devices if d.index in selection]


def visible_devices_env(devices: Iterable[int]) -> dict[str, str]:
    """What a replica's environment says about its devices. A replica without GPUs sees none,
    as a pod without an `nvidia.com/gpu` limit does."""
    value = ",".join(str(i) for i in devices)
    return {name: value for name in VISIBLE_ENV}


def devices_of_process(pid: int) -> tuple[int, ...] | None:
    """The devices a running replica was given, read back from its environment."""
    try:
        value = psutil.Process(pid).environ().get(VISIBLE_ENV[0])
    except psutil.Error:
        return None
    if value is None:
        return None
    return tuple(int(p) for p in value.split(",") if p.strip().isdigit())


class GpuPool:
    """The devices replicas may use. Who holds which is not kept here but read from the
    replicas themselves (each knows its devices), so an exit frees them and an operator restart
    re-adopts them with no bookkeeping to get wrong."""

    def __init__(self, devices: list[Gpu]) -> None:
        self.devices = devices

    @property
    def total(self) -> int:
        return len(self.devices)

    def free(self, taken: Iterable[int]) -> list[int]:
        held = set(taken)
        return [d.index for d in self.devices if d.index not in held]

    def pick(self, taken: Iterable[int], count: int) -> tuple[int, ...] | None:
        """`count` free devices (lowest indices first), or None when fewer are free."""
        free = self.free(taken)
        return tuple(free[:count]) if count <= len(free) else None

    def replica_cap(self, per_replica: int) -> int | None:
        """Most replicas of `per_replica` devices this machine can ever run (None: no limit)."""
        if per_replica <= 0:
            return None
        return self.total // per_replica
