"""The replica's own load signal: its requests in flight, sampled on the event loop.

The autoscaler wants the average over a window, not the value at the instant of a scrape: a
replica answering 50 ms requests is busy or idle at any one instant. Sampling every
`SAMPLE_PERIOD_S` on the loop costs nothing on the request path; the operator reads the running
sum and count and divides their differences between two reads.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from cortex_tui.config import stats_keys as K

if TYPE_CHECKING:
    from predictor.state import Replica

SAMPLE_PERIOD_S = 0.02


class InFlightSampler:
    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.sum = 0
        self.count = 0
        self.first_answer_at: float | None = None  # unix time; within one sample period
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_PERIOD_S)
            self.sample()

    def sample(self) -> None:
        r = self.replica
        self.sum += r.in_flight
        self.count += 1
        if self.first_answer_at is None and r.stats.latency_count:
            self.first_answer_at = time.time()

    def to_json(self) -> dict[str, Any]:
        return {K.SUM: self.sum, K.COUNT: self.count}
