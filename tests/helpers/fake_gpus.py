"""A stand-in for NVML, for the operator process under test (no GPU on CI machines).

The operator loads it through `CORTEX_TUI_GPU_SOURCE=tests.helpers.fake_gpus:source`; the
number of devices comes from `FAKE_GPU_COUNT`. Usage figures are fixed per device so a test can
check that they reach `get` and the TUI.
"""

from __future__ import annotations

import os

from cortex_tui.local.gpus import Gpu, GpuUsage

GIB = 1 << 30
SOURCE = "tests.helpers.fake_gpus:source"


class FakeGpus:
    def __init__(self, count: int) -> None:
        self.count = count

    def devices(self) -> list[Gpu]:
        return [Gpu(i, "Fake H100 80GB", 80 * GIB) for i in range(self.count)]

    def usage(self, index: int) -> GpuUsage | None:
        return GpuUsage(utilization=10.0 * (index + 1), memory_used=(index + 1) * GIB)


def source() -> FakeGpus:
    return FakeGpus(int(os.environ.get("FAKE_GPU_COUNT", "0")))
