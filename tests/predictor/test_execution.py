"""How predictions run: how many at once, the bounded queue, health checks while busy."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers.predictor_process import Predictor, wait_until

# Waits on a gate file, and reports the highest number of predictions seen running at once.
GATED_SYNC = """
import os
import threading
import time

lock = threading.Lock()
running = 0
highest = 0


def predict(sample, metadata):
    global running, highest
    if sample == "highest":
        return highest
    with lock:
        running += 1
        highest = max(highest, running)
    try:
        while not os.path.exists(metadata["gate"]):
            time.sleep(0.005)
        return sample
    finally:
        with lock:
            running -= 1
"""

GATED_ASYNC = """
import asyncio
import os

running = 0
highest = 0


async def predict(sample, metadata):
    global running, highest
    if sample == "highest":
        return highest
    running += 1
    highest = max(highest, running)
    try:
        while not os.path.exists(metadata["gate"]):
            await asyncio.sleep(0.005)
        return sample
    finally:
        running -= 1
"""


def _burst(replica: Predictor, gate: Path, n: int) -> list[int]:
    """Send n gated requests at once, wait until all are in, open the gate: statuses."""
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(replica.post, i) for i in range(n)]
        wait_until(lambda: replica.stats()["in_flight"] == n, what=f"{n} requests in flight")
        gate.touch()
        return [f.result().status for f in futures]


def _highest(replica: Predictor, gate: Path) -> int:
    gate.touch()
    return replica.post("highest").json()


def test_sync_predict_runs_one_at_a_time_by_default_and_health_stays_up(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_SYNC, metadata={"gate": str(gate)})
    replica = start_predictor(root, admin_port=0).wait_ready()
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(replica.post, i) for i in range(4)]
        wait_until(lambda: replica.stats()["in_flight"] == 4, what="4 requests in flight")
        stats = replica.stats()
        assert stats["queued"] == 3
        # The model is blocked, yet both ports answer health checks and metrics.
        assert replica.get("/healthz").status == 200
        assert replica.get("/healthz", replica.admin_port).status == 200
        assert replica.get("/livez").status == 200  # busy is alive
        assert replica.get("/metrics").status == 200
        gate.touch()
        assert [f.result().status for f in futures] == [200] * 4
    assert _highest(replica, gate) == 1


def test_threads_per_replica_runs_that_many_sync_predictions_at_once(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_SYNC, metadata={"gate": str(gate)}, compute={"threads_per_replica": 3})
    replica = start_predictor(root, admin_port=0).wait_ready()
    assert _burst(replica, gate, 6) == [200] * 6
    assert _highest(replica, gate) == 3


def test_async_predict_runs_64_at_once_by_default(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_ASYNC, metadata={"gate": str(gate)})  # threads_per_replica: 1
    replica = start_predictor(root, admin_port=0).wait_ready()
    replica.wait_line(r"init done .*\(async predict, 64 at once")
    assert _burst(replica, gate, 64) == [200] * 64
    assert _highest(replica, gate) == 64


def test_max_concurrency_bounds_async_predictions_and_the_queue_follows(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_ASYNC, metadata={"gate": str(gate)},
                   compute={"max_concurrency": 2, "queue_size": 3})
    replica = start_predictor(root, admin_port=0).wait_ready()
    replica.wait_line(r"init done .*\(async predict, 2 at once, queue 3\)")
    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(replica.post, i) for i in range(5)]  # 2 running + 3 waiting
        wait_until(lambda: replica.stats()["in_flight"] == 5, what="5 requests in flight")
        assert replica.stats()["queued"] == 3
        refused = replica.post("one too many")
        assert refused.status == 503 and refused.headers["retry-after"] == "1"
        gate.touch()
        assert [f.result().status for f in futures] == [200] * 5
    assert _highest(replica, gate) == 2


def test_max_concurrency_leaves_a_sync_predict_to_its_threads(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_SYNC, metadata={"gate": str(gate)},
                   compute={"max_concurrency": 8, "threads_per_replica": 2})
    replica = start_predictor(root, admin_port=0).wait_ready()
    replica.wait_line(r"WARNING .*compute.max_concurrency applies to an async def predict; "
                      r"this sync predict runs in threads_per_replica \(2\) threads")
    assert _burst(replica, gate, 4) == [200] * 4
    assert _highest(replica, gate) == 2


def test_full_queue_answers_503_with_retry_after_then_recovers(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_SYNC, metadata={"gate": str(gate)}, compute={"queue_size": 2})
    replica = start_predictor(root, admin_port=0).wait_ready()
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(replica.post, i) for i in range(3)]  # 1 running + 2 waiting
        wait_until(lambda: replica.stats()["in_flight"] == 3, what="3 requests in flight")
        refused = replica.post("one too many")
        assert refused.status == 503
        assert refused.headers["retry-after"] == "1"
        assert "busy" in refused.json()["error"]
        gate.touch()
        assert [f.result().status for f in futures] == [200] * 3
    assert replica.post("later").status == 200
    net = replica.stats()["network_stats"]
    assert net["code_5xx"] == 1 and net["code_2xx"] == 4


FAST_THEN_SLOW = """
import os
import time


def predict(sample, metadata):
    if os.path.exists(metadata["slow"]):
        time.sleep(0.3)
    return sample
"""


def test_a_fast_model_that_turns_slow_does_not_block_health_checks(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    slow = tmp_path / "slow"
    root = project(FAST_THEN_SLOW, metadata={"slow": str(slow)})
    replica = start_predictor(root, admin_port=0).wait_ready()
    assert replica.stats()["predict_mode"] == "pool"

    def earned_inline() -> bool:
        assert replica.post(1).status == 200
        return replica.stats()["predict_mode"] == "inline"

    wait_until(earned_inline, timeout=30, what="the fast model to be called inline")
    replica.wait_line(r"predict is fast \(32 calls in a row")
    slow.touch()
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(replica.post, i) for i in range(4)]
        # At most one slow call may run inline before the model is sent back to the pool;
        # after that the loop answers while the other three wait their turn.
        wait_until(lambda: replica.stats()["queued"] >= 1, timeout=20, what="a queued request")
        assert replica.get("/healthz", replica.admin_port).status == 200
        assert [f.result().status for f in futures] == [200] * 4
    assert replica.stats()["predict_mode"] == "pool"
    replica.wait_line(r"predict got slower .*: back to the thread pool")


ASYNC_CALLABLE = """
import asyncio


class Model:
    async def __call__(self, sample, metadata):
        await asyncio.sleep(0)
        return {"doubled": sample * 2}


predict = Model()
"""


def test_an_object_with_an_async_call_is_an_async_predict(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project(ASYNC_CALLABLE)).wait_ready()
    assert replica.post(21).json() == {"doubled": 42}
    assert replica.get("/stats").json()["predict_mode"] == "async"


def test_the_replica_samples_its_requests_in_flight_for_the_autoscaler(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_ASYNC, metadata={"gate": str(gate)}, compute={"threads_per_replica": 2})
    replica = start_predictor(root, admin_port=0).wait_ready()
    before = replica.stats()
    assert before["init_done_at"] >= before["started"] and before["first_answer_at"] is None
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(replica.post, i) for i in range(3)]
        wait_until(lambda: replica.stats()["in_flight"] == 3, what="3 requests in flight")
        first = replica.stats()["in_flight_sampled"]
        wait_until(lambda: replica.stats()["in_flight_sampled"]["count"] >= first["count"] + 5,
                   what="samples taken while 3 requests wait")
        last = replica.stats()["in_flight_sampled"]
        # every sample between the two reads saw the 3 gated requests (2 running, 1 queued)
        assert (last["sum"] - first["sum"]) == 3 * (last["count"] - first["count"])
        metrics = replica.get("/metrics").body.decode()
        assert re.search(r"^cortex_in_flight_requests\{[^}]*\} 3\.0$", metrics, re.M)
        gate.touch()
        assert [f.result().status for f in futures] == [200] * 3
    wait_until(lambda: replica.stats()["first_answer_at"], what="the first answer recorded")
    after = replica.stats()
    assert after["first_answer_at"] >= after["init_done_at"]
