"""The Runner's rules, in-process with real threads: limits, queue, the inline fast path."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from predictor.runner import FIRST_STREAK, Busy, Runner


class Model:
    """A sync predict that records how many calls overlap and on which threads it ran."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.running = 0
        self.highest = 0
        self.threads: list[str] = []

    def __call__(self, sample: Any, metadata: Any) -> Any:
        with self.lock:
            self.running += 1
            self.highest = max(self.highest, self.running)
            self.threads.append(threading.current_thread().name)
        try:
            if self.delay:
                time.sleep(self.delay)
            return sample
        finally:
            with self.lock:
                self.running -= 1


async def running_in_its_thread(model: Model, timeout: float = 5.0) -> None:
    """Wait (with a deadline) until a call of `model` has started in the pool's thread."""
    deadline = time.monotonic() + timeout
    while model.running == 0:
        assert time.monotonic() < deadline, "the call never started"
        await asyncio.sleep(0.001)


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(1, thread_name_prefix="predict") as executor:
        yield executor


async def _calls_until_inline(runner: Runner) -> int:
    """Pooled calls made until the runner switched to inline (bounded)."""
    calls = 0
    while runner.mode == "pool" and calls < 100 * FIRST_STREAK:
        assert await runner.run(calls) == calls
        calls += 1
    assert runner.mode == "inline"
    return calls


async def test_a_fast_predict_earns_the_inline_path_and_a_slow_one_loses_it(pool: Any) -> None:
    model = Model()
    runner = Runner(model, {}, is_async=False, threads=1, queue_size=8, pool=pool)
    assert runner.mode == "pool"
    assert await _calls_until_inline(runner) >= FIRST_STREAK
    assert model.threads[-1].startswith("predict")
    assert runner.inline_now
    assert runner.call_inline("x") == "x"
    assert model.threads[-1] == threading.current_thread().name  # ran on the loop's thread
    model.delay = 0.06  # over the 50 ms hard limit
    assert runner.call_inline("slow") == "slow"
    assert runner.mode == "pool"
    model.delay = 0.0
    assert await _calls_until_inline(runner) >= 2 * FIRST_STREAK  # the proof needed doubled


async def test_inline_is_never_used_with_several_threads_or_when_disabled(pool: Any) -> None:
    for kwargs in ({"threads": 2}, {"threads": 1, "inline_fast": False}):
        runner = Runner(Model(), {}, is_async=False, queue_size=8, pool=pool, **kwargs)
        for i in range(3 * FIRST_STREAK):
            await runner.run(i)
        assert runner.mode == "pool"


async def test_inline_calls_wait_for_the_pool_so_one_call_runs_at_a_time(pool: Any) -> None:
    model = Model(delay=0.05)
    runner = Runner(model, {}, is_async=False, threads=1, queue_size=8, pool=pool)
    pooled = asyncio.ensure_future(runner.run("pooled"))
    await running_in_its_thread(model)
    runner.inline = True  # as if the model had just proved fast
    assert not runner.inline_now
    model.delay = 0.0
    results = await asyncio.gather(pooled, *(runner.run(i) for i in range(5)))
    assert results == ["pooled", 0, 1, 2, 3, 4]
    assert model.highest == 1


async def test_the_queue_bound_raises_busy(pool: Any) -> None:
    model = Model(delay=0.05)
    runner = Runner(model, {}, is_async=False, threads=1, queue_size=2, pool=pool,
                    inline_fast=False)
    calls = [asyncio.ensure_future(runner.run(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert (runner.in_flight, runner.running, runner.queued) == (3, 1, 2)
    with pytest.raises(Busy):
        await runner.run("one too many")
    assert await asyncio.gather(*calls) == [0, 1, 2]
    assert runner.in_flight == 0


async def test_async_predict_runs_at_most_threads_at_once(pool: Any) -> None:
    state = {"running": 0, "highest": 0}

    async def predict(sample: Any, metadata: Any) -> Any:
        state["running"] += 1
        state["highest"] = max(state["highest"], state["running"])
        await asyncio.sleep(0.01)
        state["running"] -= 1
        return sample

    runner = Runner(predict, {}, is_async=True, threads=3, queue_size=10, pool=pool)
    assert runner.mode == "async"
    assert await asyncio.gather(*(runner.run(i) for i in range(9))) == list(range(9))
    assert state["highest"] == 3


async def test_a_cancelled_request_keeps_its_running_call_counted(pool: Any) -> None:
    model = Model(delay=0.1)
    runner = Runner(model, {}, is_async=False, threads=1, queue_size=8, pool=pool)
    gone = asyncio.ensure_future(runner.run("client went away"))
    await running_in_its_thread(model)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    runner.inline = True  # even if the model had just proved fast...
    model.delay = 0.0
    assert not runner.inline_now  # ...nothing runs inline while that call is still running
    assert await runner.run("next") == "next"
    assert model.highest == 1
