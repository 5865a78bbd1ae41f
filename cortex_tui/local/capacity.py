"""This machine as the one node: allocatable cpu / memory and what replicas already hold."""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Resources:
    cpu_millis: int
    mem: int  # bytes
    gpu: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.cpu_millis + other.cpu_millis, self.mem + other.mem, self.gpu + other.gpu
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.cpu_millis - other.cpu_millis, self.mem - other.mem, self.gpu - other.gpu
        )

    def fits_in(self, free: Resources) -> bool:
        return self.cpu_millis <= free.cpu_millis and self.mem <= free.mem and self.gpu <= free.gpu


def node_capacity() -> Resources:
    """Cores this process may run on (affinity / cgroup aware enough) and total memory."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return Resources(cpu_millis=cores * 1000, mem=psutil.virtual_memory().total, gpu=0)


def describe_shortfall(need: Resources, free: Resources, total: Resources) -> str:
    """Why a replica does not fit: more than the machine has, or more than is left free."""
    parts = []
    if need.cpu_millis > free.cpu_millis:
        parts.append(_short("cpu", _millis(need.cpu_millis), _millis(free.cpu_millis),
                            _millis(total.cpu_millis), need.cpu_millis > total.cpu_millis))
    if need.mem > free.mem:
        parts.append(_short("mem", _bytes(need.mem), _bytes(free.mem), _bytes(total.mem),
                            need.mem > total.mem))
    if need.gpu > free.gpu:
        parts.append(_gpu_short(need.gpu, free.gpu, total.gpu))
    return "; ".join(parts)


def _short(what: str, need: str, free: str, total: str, beyond_machine: bool) -> str:
    if beyond_machine:
        return f"{what} {need} requested, more than this machine's {total}"
    return f"{what} {need} requested, {free} free of {total} (other replicas hold the rest)"


def _gpu_short(need: int, free: int, total: int) -> str:
    if total == 0:
        return (f"gpu {need} requested, this machine has no GPU replicas may use (none found "
                "through NVML, or excluded by CORTEX_TUI_GPUS)")
    if need > total:
        return f"gpu {need} requested, more than this machine's {total}"
    return f"gpu {need} requested, {max(free, 0)} free of {total} (other replicas hold the rest)"


def _millis(n: int) -> str:
    return f"{max(n, 0)}m"


def _bytes(n: int) -> str:
    n = max(n, 0)
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f}Gi"
    return f"{n / (1 << 20):.0f}Mi"
