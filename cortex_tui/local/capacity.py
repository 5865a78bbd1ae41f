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


def describe_shortfall(need: Resources, free: Resources) -> str:
    parts = []
    if need.cpu_millis > free.cpu_millis:
        parts.append(f"cpu {need.cpu_millis}m requested, {max(free.cpu_millis, 0)}m free")
    if need.mem > free.mem:
        parts.append(f"mem {_mib(need.mem)} requested, {_mib(max(free.mem, 0))} free")
    if need.gpu > free.gpu:
        parts.append(f"gpu {need.gpu} requested, {max(free.gpu, 0)} on this machine")
    return "; ".join(parts)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f}Mi"
