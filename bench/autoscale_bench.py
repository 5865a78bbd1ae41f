"""Autoscaling on the local target (issue 14): a step load on a model that awaits 50 ms (cpu
near zero), `autoscale_on: cpu` vs `in_flight` in the same run, and the cold start from zero.

Both APIs request one core per replica (a GPU- or I/O-bound model's request would be sized
for its real work, not for the HTTP handling). For each signal: deploy the API (1 replica),
start CLIENTS concurrent clients at once (the step), and report the time from the step to the
added replica being ready, the replicas reached, and the requests that failed (must be 0).
Then an API with min_replicas 0: ROUNDS times, a request to the idle API (no replica) is
timed until answered, with the recorded cold start (spawned -> init done -> ready -> first
answer); it waits for the scale back to zero between rounds. Everything runs in a private
CORTEX_TUI_HOME and is stopped at the end.
usage: .venv/bin/python bench/autoscale_bench.py [--seconds N] [--clients N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.helpers.request_stream import request_stream  # noqa: E402

MODEL = """
import asyncio

async def predict(sample, metadata):
    await asyncio.sleep(0.05)
    return {"ok": True}
"""

COMPUTE = {
    "cpu": """
    autoscale_on: cpu
    min_replicas: 1
    max_replicas: 4
    threads_per_replica: 8
    cpu: "1"
    target_cpu_utilization: 50
""",
    "in_flight": """
    autoscale_on: in_flight
    min_replicas: 1
    max_replicas: 4
    threads_per_replica: 8
    cpu: "1"
    window: {window}
    downscale_stabilization: {window}
""",
    "zero": """
    autoscale_on: in_flight
    min_replicas: 0
    max_replicas: 1
    threads_per_replica: 8
    cpu: 100m
    window: {window}
    downscale_stabilization: {window}
    scale_to_zero_after: {window}
""",
}


def project(root: Path, name: str, compute: str) -> Path:
    root.mkdir(parents=True)
    (root / "inference.py").write_text(MODEL)
    (root / "cortex.yaml").write_text(
        f"- kind: api\n  name: {name}\n  python:\n    inference: inference.py\n  compute:\n"
        + textwrap.indent(textwrap.dedent(compute).strip() + "\n", "    "))
    return root


def wait(condition: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    return None


def step(backend: Any, api: str, clients: int, seconds: float) -> dict[str, Any]:
    state = backend.get(api)[0]
    stop, answers, failures = threading.Event(), [], []
    threads = [threading.Thread(target=request_stream, args=(state.endpoint, stop, answers,
                                                             failures), daemon=True)
               for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    added = wait(lambda: backend.get(api)[0].available >= 2 and time.monotonic(), seconds)
    reached = backend.get(api)[0].available
    stop.set()
    for thread in threads:
        thread.join(30)
    return {"added_after": None if not added else added - started, "reached": reached,
            "answered": len(answers), "failed": len(failures), "failures": failures[:3]}


def cold_starts(backend: Any, api: str, rounds: int, timeout: float) -> list[dict[str, Any]]:
    from cortex_tui.local.backend import post_json

    found = []
    for _ in range(rounds):
        if not wait(lambda: backend.get(api)[0].requested == 0
                    and not any(r["alive"] for r in backend._replicas(api)), timeout):
            print("  (the API did not scale to zero in time)")
            break
        state = backend.get(api)[0]
        t0 = time.monotonic()
        answer = post_json(state.endpoint, {"x": 1}, debug=False, timeout=60)
        elapsed = time.monotonic() - t0
        start = wait(lambda: (s := backend.get(api)[0].cold_start) and s.first_answer and s, 10)
        found.append({"status": answer.status, "answered_after": elapsed, "record": start})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0,
                        help="longest wait for the added replica, per signal (default 40)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="cold starts measured")
    parser.add_argument("--sync", type=float, default=2.0,
                        help="the operator's sync period (CORTEX_TUI_SYNC_PERIOD, default 2 s)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cortex-bench-autoscale-"))
    for key in [k for k in os.environ if k.startswith("CORTEX_")]:
        del os.environ[key]
    os.environ.update(CORTEX_TUI_HOME=str(home), CORTEX_TUI_SYNC_PERIOD=str(args.sync),
                      CORTEX_TUI_SCRAPE_PERIOD=str(min(args.sync, 1.0)),
                      CORTEX_TUI_SCALE_DOWN_WINDOW=str(args.sync * 2))
    from cortex_tui.config import load_project
    from cortex_tui.local.backend import LocalBackend

    window = f"{max(round(args.sync * 2), 1)}s"
    backend = LocalBackend()
    print(f"bench/autoscale: {args.clients} clients on a model awaiting 50 ms, "
          f"sync period {args.sync:g} s, window {window}; load average before: "
          f"{Path('/proc/loadavg').read_text().split()[:3]}")
    try:
        for signal in ("cpu", "in_flight"):
            name = f"step-{signal.replace('_', '-')}"
            backend.deploy(load_project(project(home / name, name,
                                                COMPUTE[signal].format(window=window))))
            wait(lambda n=name: str(backend.get(n)[0].status) == "live", 60)
            result = step(backend, name, args.clients, args.seconds)
            added = (f"{result['added_after']:.1f} s" if result["added_after"] is not None
                     else f"none within {args.seconds:g} s")
            print(f"  {signal:<9}  step -> added replica ready: {added:<18} replicas reached "
                  f"{result['reached']}  answered {result['answered']}  failed "
                  f"{result['failed']} {result['failures'] or ''}")
            backend.delete(name)
        backend.deploy(load_project(project(home / "zero", "zero",
                                            COMPUTE["zero"].format(window=window))))
        starts = cold_starts(backend, "zero", args.rounds, 60)
        for i, start in enumerate(starts, 1):
            record = start["record"]
            print(f"  cold start {i}: HTTP {start['status']} answered after "
                  f"{start['answered_after']:.2f} s  ({record.summary() if record else '-'})")
        if starts:
            times = [s["answered_after"] for s in starts]
            print(f"  cold start from zero: median {statistics.median(times):.2f} s, "
                  f"max {max(times):.2f} s over {len(times)}")
    finally:
        backend.stop_operator()
        shutil.rmtree(home, ignore_errors=True)
        print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
