"""Autoscaling on requests in flight, scale to zero and the decision record, on real replicas:
a model that awaits 50 ms (cpu near zero, so cpu scaling would never move)."""

from __future__ import annotations

import threading
from pathlib import Path

from cortex_tui.config import load_project
from cortex_tui.local.backend import post_json
from tests.helpers.request_stream import request_stream
from tests.local.conftest import Local, make_project, wait_for

AWAITS_50MS = """
import asyncio

async def predict(sample, metadata):
    await asyncio.sleep(0.05)
    return {"ok": True}
"""

CLIENTS = 32


def test_in_flight_scales_out_under_load_back_in_and_from_zero(local: Local,
                                                                 tmp_path: Path) -> None:
    root = make_project(tmp_path / "io", AWAITS_50MS, name="waiter", compute="""
        autoscale_on: in_flight
        min_replicas: 0
        max_replicas: 4
        threads_per_replica: 8
        window: 2s
        downscale_stabilization: 2s
        max_downscale_factor: 0.25
        scale_to_zero_after: 2s
    """)
    local.backend.deploy(load_project(root))
    state = local.wait_status("waiter", "live", requested=0, available=0)
    assert local.replica_pids("waiter") == set()

    # from zero: the operator holds the endpoint; the first request starts a replica and is
    # answered by it
    first = post_json(state.endpoint, {"x": 1}, debug=False, timeout=30)
    assert (first.status, first.body) == (200, {"ok": True})
    state = local.wait_status("waiter", "live", requested=1, available=1)
    assert state.decision is not None  # get shows the last sync
    [wake] = [d for d in local.backend.decisions("waiter") if d.moved]
    assert wake.summary().startswith("scaled 0 → 1: ") and "request arrived" in wake.summary()
    start = wait_for(lambda: (s := local.state_of("waiter").cold_start) and s.first_answer
                     and s, 10, "the cold start recorded")
    assert start.spawned <= start.init_done <= start.first_answer
    assert start.ready is not None and start.ready >= start.spawned

    # 32 clients at once, 8 per replica wanted: out to max_replicas, on in-flight alone
    stop, answers, failures = threading.Event(), [], []
    clients = [threading.Thread(target=request_stream, daemon=True,
                                args=(state.endpoint, stop, answers, failures))
               for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        local.wait_status("waiter", "live", timeout=40, requested=4, available=4)
    finally:
        stop.set()
        for client in clients:
            client.join(15)
    assert failures == [] and answers
    moves = [d for d in local.backend.decisions("waiter") if d.moved]
    up = [d for d in moves if d.final > d.current and d.current > 0]
    assert up and all(d.signal == "in_flight" and d.value and d.value > 4 for d in up)
    assert any(d.limit == "max_upscale_factor" or d.bound == "max_replicas" for d in up)

    # idle: back in, then to zero once no request came for scale_to_zero_after
    local.wait_status("waiter", "live", timeout=40, requested=0, available=0)
    wait_for(lambda: not local.replica_pids("waiter"), 20, "every replica stopped")
    down = [d for d in local.backend.decisions("waiter") if d.moved and d.final < d.current]
    assert down[-1].final == 0

    # and from zero again, with the CLI showing the decisions
    again = post_json(state.endpoint, {"x": 2}, debug=False, timeout=30)
    assert again.status == 200
    shown = local.cli("get", "waiter")
    assert "autoscaling: in-flight, min 0, max 4, target 8 per replica" in shown.stdout
    assert "last decision: " in shown.stdout, shown.stdout
    assert "cold start: replica waiter-v1-" in shown.stdout
    events = local.cli("events", "waiter")
    assert events.returncode == 0, events.stderr
    assert "scaled 0 → 1: " in events.stdout and "→ 0: in-flight" in events.stdout
