"""The HPA algorithm on real replicas: a CPU-burning model scales up under load, then down."""

from __future__ import annotations

import threading
from pathlib import Path

from cortex_tui.config import load_project
from cortex_tui.local.backend import post_json
from tests.local.conftest import Local, make_project, wait_for

BURN = """
import time

def predict(sample, metadata):
    end = time.process_time() + 0.02
    while time.process_time() < end:
        pass
    return {"ok": True}
"""


def test_cpu_load_scales_up_then_back_down(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "burn", BURN, name="burner", compute="""
        min_replicas: 1
        max_replicas: 3
        cpu: 100m
        target_cpu_utilization: 50
    """)
    local.backend.deploy(load_project(root))
    state = local.wait_status("burner", "live", available=1)
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            post_json(state.endpoint, {"x": 1}, debug=False, timeout=10)

    clients = [threading.Thread(target=load, daemon=True) for _ in range(2)]
    for client in clients:
        client.start()
    try:
        local.wait_status("burner", "live", timeout=40, requested=3, available=3)
    finally:
        stop.set()
        for client in clients:
            client.join(15)
    scaled = [e for e in local.backend.events("burner") if e.kind == "scaled"]
    assert scaled and scaled[0].message.startswith("scaled 1 → ")
    assert "cpu" in scaled[0].message and "/ target 50%" in scaled[0].message

    # idle again: back to min_replicas once the stabilisation window (3 s here) has passed
    local.wait_status("burner", "live", timeout=40, requested=1, available=1)
    wait_for(lambda: len(local.replica_pids("burner")) == 1, 20, "extra replicas stopped")
    points = local.backend.metrics("burner").points
    assert max(p.requested for p in points) == 3
    assert max(p.request_rate for p in points) > 0
    assert any((p.cpu_utilization or 0) > 50 for p in points)
