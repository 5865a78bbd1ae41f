"""Failed requests across forced redeploys of the local target (issue 4's zero-loss rollout).

Deploys the iris example with 2 replicas in a private CORTEX_TUI_HOME, then for each mode
(a new connection per request / keep-alive) and client count, streams requests back to back
while running `cortex-tui deploy --force` N times (each waits until the new replicas are live
and the old ones gone), and prints requests answered and failed.
usage: .venv/bin/python bench/local_rollout.py [--rollouts N] [--clients 1,4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.helpers.request_stream import request_stream  # noqa: E402

IRIS = REPO / "examples" / "iris"
API = "iris-classifier"


def cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "cortex_tui", *args], env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"cortex-tui {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def settled(backend, old: set[str]) -> bool:  # type: ignore[no-untyped-def]
    state = backend.get(API)[0]
    names = {r["name"] for r in backend._replicas(API) if r["alive"]}
    return str(state.status) == "live" and state.up_to_date == 2 and not names & old


def client(port: int, body: bytes, keep_alive: bool, stop: threading.Event,
           ok: list, failed: list[str]) -> None:
    request_stream(f"http://127.0.0.1:{port}/{API}", stop, ok, failed, body=body,
                   keep_alive=keep_alive, timeout=30)


def run(env: dict[str, str], backend, port: int, keep_alive: bool, clients: int,  # type: ignore[no-untyped-def]
        rollouts: int, body: bytes) -> None:
    stop, ok, failed = threading.Event(), [], []
    threads = [threading.Thread(target=client, args=(port, body, keep_alive, stop, ok, failed))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        for _ in range(rollouts):
            time.sleep(1.0)
            old = {r["name"] for r in backend._replicas(API) if r["alive"]}
            cli(env, "deploy", "--force", "-p", str(IRIS))
            deadline = time.monotonic() + 60
            while not settled(backend, old):
                if time.monotonic() > deadline:
                    raise SystemExit("rollout did not settle in 60 s")
                time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    mode = "keep-alive" if keep_alive else "new connection each"
    print(f"{mode:20} clients {clients}: {len(ok):6} answered, {len(failed)} failed over "
          f"{rollouts} rollouts in {time.monotonic() - started:.0f} s {failed[:3]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rollouts", type=int, default=5)
    parser.add_argument("--clients", default="1,4")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cortex-rollout-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORTEX_")}
    env["CORTEX_TUI_HOME"] = str(home)
    os.environ.update(CORTEX_TUI_HOME=str(home))
    from cortex_tui.local.backend import LocalBackend
    from cortex_tui.types import ScaleRequest

    backend = LocalBackend()
    try:
        with open("/proc/sys/net/ipv4/tcp_migrate_req") as handle:
            print(f"net.ipv4.tcp_migrate_req = {handle.read().strip()}")
        cli(env, "deploy", "-p", str(IRIS))
        backend.scale(API, ScaleRequest(min_replicas=2))
        while not settled(backend, set()):
            time.sleep(0.1)
        port = int(backend.get(API)[0].endpoint.split(":")[2].split("/")[0])
        body = (IRIS / "sample.json").read_bytes()
        for keep_alive in (False, True):
            for clients in (int(c) for c in args.clients.split(",")):
                run(env, backend, port, keep_alive, clients, args.rollouts, body)
    finally:
        backend.stop_operator()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
