"""Server-side batching: requests gathered on the event loop, one model call per batch.

Independent of the runtime: it calls `predict_batch(samples) -> awaitable list`, so any
runtime that can predict a list of samples can batch (the Python runtime wraps its predict).

A batch goes when `max_batch_size` samples wait, or `interval` after its first sample
arrived, whichever comes first, and at most `max_batches` run at once: a batch due while every
slot is busy goes (with what has gathered since, up to the size) as soon as one frees.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections import deque
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

from cortex_tui.config import stats_keys as K
from predictor.tracker import LATENCY_BOUNDS, trimmed_histogram

PredictBatch = Callable[[list[Any]], Awaitable[Any]]
# Upper bounds (inclusive) of the batch-size histogram; one more bucket holds everything above.
BATCH_SIZE_BOUNDS: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Failed:
    """In place of one sample's prediction: that sample's request fails with `exc`, the rest of
    its batch is answered (a model runtime's own batch predict returns it for a sample that
    does not fit the model)."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class BatchError(Exception):
    """predict broke the batching rule: every request of that batch gets a 500 saying so."""


class BatchStats:
    """Batch sizes and the time samples waited for their batch to go (plain ints, scrape-time
    reading like RequestStats)."""

    __slots__ = ("batches", "samples", "size_buckets", "wait_buckets", "wait_sum")

    def __init__(self) -> None:
        self.batches = 0
        self.samples = 0
        self.size_buckets = [0] * (len(BATCH_SIZE_BOUNDS) + 1)
        self.wait_buckets = [0] * (len(LATENCY_BOUNDS) + 1)
        self.wait_sum = 0.0

    def record(self, size: int, waits: list[float]) -> None:
        self.batches += 1
        self.samples += size
        self.size_buckets[bisect_left(BATCH_SIZE_BOUNDS, size)] += 1
        for wait in waits:
            self.wait_buckets[bisect_left(LATENCY_BOUNDS, wait)] += 1
        self.wait_sum += sum(waits)

    def to_json(self) -> dict[str, Any]:
        return {
            K.BATCHES: self.batches,
            K.BATCH_SAMPLES: self.samples,
            K.AVG_BATCH_SIZE: round(self.samples / self.batches, 3) if self.batches else None,
            K.AVG_BATCH_WAIT_MS: round(1000.0 * self.wait_sum / self.samples, 3)
            if self.samples else None,
            K.BATCH_SIZE_HISTOGRAM: trimmed_histogram(BATCH_SIZE_BOUNDS, self.size_buckets),
        }


class Batcher:
    def __init__(self, predict_batch: PredictBatch, *, max_batch_size: int, interval: float,
                 max_batches: int) -> None:
        self.predict_batch = predict_batch
        self.max_batch_size = max_batch_size
        self.interval = interval
        self.max_batches = max_batches
        self.stats = BatchStats()
        self.running = 0  # batches being predicted
        self._waiting: deque[tuple[Any, asyncio.Future[Any], float]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def drain(self) -> None:
        """Shutting down: no batch waits for more samples from now on."""
        self.interval = 0.0
        self._dispatch(due=True)

    async def submit(self, sample: Any) -> Any:
        """The prediction of one sample, made in a batch."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((sample, future, perf_counter()))
        if len(self._waiting) >= self.max_batch_size:
            self._dispatch()
        elif self._timer is None and len(self._waiting) == 1:
            self._arm()
        return await future

    def _arm(self) -> None:
        """Time the first waiting sample's interval (already over: dispatch at once)."""
        loop = asyncio.get_running_loop()
        due = self._waiting[0][2] + self.interval - perf_counter()
        self._timer = loop.call_later(max(0.0, due), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch(due=True)

    def _dispatch(self, due: bool = False) -> None:
        """Start every batch that is full or due while a slot is free."""
        waiting = self._waiting
        while waiting and self.running < self.max_batches:
            first_due = due or perf_counter() - waiting[0][2] >= self.interval
            if len(waiting) < self.max_batch_size and not first_due:
                break
            due = False
            size = min(len(waiting), self.max_batch_size)
            batch = [waiting.popleft() for _ in range(size)]
            self.running += 1
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if waiting and self.running < self.max_batches:
            self._arm()

    async def _run(self, batch: list[tuple[Any, asyncio.Future[Any], float]]) -> None:
        start = perf_counter()
        self.stats.record(len(batch), [start - arrived for _, _, arrived in batch])
        samples = [sample for sample, _, _ in batch]
        try:
            results = await self.predict_batch(samples)
            _check(results, len(samples))
        except BaseException as exc:  # every request of the batch fails with it
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                return  # answered as 500s; never let them stop the loop
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            for (_, future, _), result in zip(batch, results, strict=True):
                if future.done():  # its client may have gone
                    continue
                if type(result) is Failed:
                    future.set_exception(result.exc)
                else:
                    future.set_result(result)
        finally:
            self.running -= 1
            self._dispatch()


def _check(results: Any, size: int) -> None:
    if not isinstance(results, (list, tuple)):
        raise BatchError(f"with server_side_batching, predict must return a list of "
                         f"{size} predictions, one per sample (got {type(results).__name__})")
    if len(results) != size:
        raise BatchError(f"with server_side_batching, predict must return a list of "
                         f"{size} predictions, one per sample (got {len(results)})")
