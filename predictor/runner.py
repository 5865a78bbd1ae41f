"""Run `predict` with a bounded number at once and a bounded queue beyond it.

* async predict: awaited on the event loop, at most `threads` (compute.max_concurrency) at once.
* sync predict: in a pool of `threads` threads, so the loop (health checks, metrics) stays
  responsive. Handing a call to a thread costs ~16 us, as much as the rest of a fast
  request. So with `threads == 1` a predict that has *proven* fast (FIRST_STREAK pooled calls
  in a row each under FAST_S) is called inline on the loop while the pool is idle. A moving
  average of inline calls over FAST_S (the model got slower), or any inline call over SLOW_S
  (it blocked), sends it back to the pool and doubles the streak needed to come back. The
  average is slow-moving and each call counts at most CLIP_S in it, so that the scheduler
  preempting us now and then on a busy machine (a few ms each time) does not look like a slow
  model, while one that now takes 2 ms or more per call is sent back after 4 calls. Still one
  call at a time either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any

from predictor.batcher import Batcher
from predictor.logs import log

FAST_S = 0.0001  # inline calls averaging under 100 us keep the loop responsive
SLOW_S = 0.05  # any inline call over 50 ms demotes at once
AVG_WEIGHT = 1 / 64  # of the newest inline call in the moving average
CLIP_S = 0.002  # the most one inline call adds to the moving average
FIRST_STREAK = 32
MAX_STREAK = 4096


class Busy(Exception):
    """More requests waiting than the queue allows: answer 503 with Retry-After."""


class Runner:
    def __init__(
        self,
        predict: Callable[[Any, Any], Any],
        metadata: Any,
        *,
        is_async: bool,
        threads: int,
        queue_size: int,
        pool: ThreadPoolExecutor,
        inline_fast: bool = True,
        batching: tuple[int, float] | None = None,
    ) -> None:
        """`batching`: (max_batch_size, interval in seconds): predict gets lists of samples,
        `threads` batches at once."""
        self.predict = predict
        self.metadata = metadata
        self.is_async = is_async
        self.pool = pool
        self.batcher: Batcher | None = None
        if batching is not None:
            size, interval = batching
            self.batcher = Batcher(self._predict_batch, max_batch_size=size, interval=interval,
                                   max_batches=threads)
            threads *= size  # samples predicted at once, for the queue bound and /stats
        self.threads = threads
        self.limit = threads + queue_size
        self.in_flight = 0  # running + waiting
        batched = self.batcher is not None
        self._semaphore = asyncio.Semaphore(threads) if is_async and not batched else None
        self._inline_allowed = inline_fast and threads == 1 and not is_async and not batched
        self.inline = False
        self._pool_busy = 0
        self._drained: asyncio.Future[None] | None = None
        self._streak = 0
        self._needed = FIRST_STREAK
        self._inline_avg = 0.0

    @property
    def running(self) -> int:
        return min(self.in_flight, self.threads)

    @property
    def mode(self) -> str:
        """How predict is called now: "batch", "async", "inline" (proven fast) or "pool"."""
        if self.batcher is not None:
            return "batch"
        return "async" if self.is_async else "inline" if self.inline else "pool"

    @property
    def queued(self) -> int:
        return max(0, self.in_flight - self.threads)

    async def run(self, sample: Any) -> Any:
        if self.in_flight >= self.limit:
            raise Busy(f"replica busy: {self.in_flight} requests in flight (limit {self.limit})")
        self.in_flight += 1
        try:
            if self.batcher is not None:
                return await self.batcher.submit(sample)
            if self._semaphore is not None:
                async with self._semaphore:
                    return await self.predict(sample, self.metadata)
            return await self._run_sync(sample)
        finally:
            self.in_flight -= 1

    async def _predict_batch(self, samples: list[Any]) -> Any:
        if self.is_async:
            return await self.predict(samples, self.metadata)
        return await asyncio.get_running_loop().run_in_executor(
            self.pool, self.predict, samples, self.metadata)

    @property
    def inline_now(self) -> bool:
        """True when the caller may call `call_inline` instead of awaiting `run`."""
        return self.inline and self._pool_busy == 0

    async def _run_sync(self, sample: Any) -> Any:
        while self.inline:
            if self._pool_busy == 0:
                return self.call_inline(sample)
            if self._drained is None:
                self._drained = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._drained)
        return await self._call_pooled(sample)

    def call_inline(self, sample: Any) -> Any:
        """Call predict on the loop, now (only when `inline_now`): no coroutine, no hop."""
        t0 = perf_counter()
        try:
            return self.predict(sample, self.metadata)
        finally:
            self.inline_took(perf_counter() - t0)

    def inline_took(self, took: float) -> None:
        """Count an inline call's time (the caller may time more than predict: an upper
        bound); demote to the pool when it got slow."""
        clipped = took if took < CLIP_S else CLIP_S
        avg = self._inline_avg = self._inline_avg + (clipped - self._inline_avg) * AVG_WEIGHT
        if took > SLOW_S or avg > FAST_S:
            self._demote()

    def _demote(self) -> None:
        self.inline = False
        self._streak = 0
        self._needed = min(self._needed * 2, MAX_STREAK)
        log.info("predict got slower (%.0f us on average): back to the thread pool",
                 1e6 * self._inline_avg)

    async def _call_pooled(self, sample: Any) -> Any:
        job = self.pool.submit(_timed, self.predict, sample, self.metadata)
        self._pool_busy += 1
        try:
            result, took = await asyncio.wrap_future(job)
        finally:
            if job.done():
                self._pool_done()
            else:  # we were cancelled (client gone) while the call runs: it still counts
                loop = asyncio.get_running_loop()
                job.add_done_callback(lambda _: loop.call_soon_threadsafe(self._pool_done))
        if self._inline_allowed and not self.inline:
            self._count_toward_inline(took)
        return result

    def _pool_done(self) -> None:
        self._pool_busy -= 1
        if self._pool_busy == 0 and self._drained is not None:
            self._drained.set_result(None)
            self._drained = None

    def _count_toward_inline(self, took: float) -> None:
        if took >= FAST_S:
            self._streak = 0
            return
        self._streak += 1
        if self._streak >= self._needed:
            self.inline = True
            self._inline_avg = took
            log.info("predict is fast (%d calls in a row under %.0f us): calling it inline",
                     self._streak, 1e6 * FAST_S)


def _timed(predict: Callable[[Any, Any], Any], sample: Any, metadata: Any) -> tuple[Any, float]:
    t0 = perf_counter()
    result = predict(sample, metadata)
    return result, perf_counter() - t0
