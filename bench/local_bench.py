"""bench/local.sh: the local target's throughput vs bare Sanic, deploy-to-live, spike-to-ready.

Everything runs in one private CORTEX_TUI_HOME that is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IRIS = REPO / "examples" / "iris"
API = "iris-classifier"
LUA = REPO / "bench" / "predictor_post.lua"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(url: str, seconds: int, body: Path) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "-s", str(LUA), url],
        env=dict(os.environ, BODY_FILE=str(body)), capture_output=True, text=True, check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print(f"  wrk reported: {errors.group(0)}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def rates(values: list[float]) -> str:
    return " ".join(f"{v:.0f}" for v in values)


def wait(condition, timeout: float, what: str, period: float = 0.02):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(period)
    raise SystemExit(f"timed out waiting for {what}")


def answers(url: str, body: bytes) -> bool:
    try:
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cortex-bench-"))
    os.environ["CORTEX_TUI_HOME"] = str(home)
    from cortex_tui.config import load_project
    from cortex_tui.local.backend import LocalBackend
    from cortex_tui.types import ScaleRequest

    project = Path(shutil.copytree(IRIS, home / "iris"))
    body_file = project / "sample.json"
    body = body_file.read_bytes()
    backend = LocalBackend()
    bare: subprocess.Popen[bytes] | None = None
    try:
        backend.target_info()  # start the operator outside the deploy timing
        t0 = time.perf_counter()
        backend.deploy(load_project(project))
        wait(lambda: str(backend.get(API)[0].status) == "live", 60, "live")
        deploy_to_live = time.perf_counter() - t0
        state = backend.scale(API, ScaleRequest(min_replicas=2, max_replicas=2))
        wait(lambda: backend.get(API)[0].available == 2, 60, "2 replicas")
        endpoint = state.endpoint.rsplit("/", 1)[0] + "/predict"

        port = free_port()
        bare = subprocess.Popen(
            [sys.executable, str(REPO / "bench" / "bare_sanic.py"),
             str(project / "inference.py"), str(port), '{"data_file": "iris.csv"}',
             "--workers", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        bare_url = f"http://127.0.0.1:{port}/predict"
        wait(lambda: answers(bare_url, body), 60, "bare sanic", period=0.2)

        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(wrk(endpoint, args.seconds, body_file))
            theirs.append(wrk(bare_url, args.seconds, body_file))
        os.killpg(bare.pid, signal.SIGTERM)
        bare.wait(10)
        bare = None
        print(f"local target, 2 replicas (one shared socket): {rates(ours)} req/s")
        print(f"bare Sanic, 2 workers:                   {rates(theirs)} req/s")
        print(f"ratio (best of {args.rounds}): {max(ours) / max(theirs):.2f}  (target >= 0.9)")
        print(f"deploy-to-live: {deploy_to_live:.2f} s")

        # back to one replica at once (max 1 clamps), then allow 2 and make the CPU spike
        backend.scale(API, ScaleRequest(min_replicas=1, max_replicas=1))
        wait(lambda: backend.get(API)[0].up_to_date == 1, 30, "1 replica")
        backend.scale(API, ScaleRequest(max_replicas=2))
        spike(backend, endpoint, body_file)
    finally:
        if bare is not None:
            os.killpg(bare.pid, signal.SIGKILL)
        backend.stop_operator()
        shutil.rmtree(home, ignore_errors=True)
    return 0


def spike(backend, endpoint: str, body_file: Path) -> None:  # type: ignore[no-untyped-def]
    info = backend.client.call("GET", "/v1/info")["options"]
    load = subprocess.Popen(
        ["wrk", "-t1", "-c16", "-d120s", "-s", str(LUA), endpoint],
        env=dict(os.environ, BODY_FILE=str(body_file)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    t0 = time.perf_counter()
    try:
        wait(lambda: backend.get(API)[0].available >= 2, 120, "the added replica", period=0.05)
    finally:
        load.kill()
        load.wait()
    print(f"cpu spike -> added replica ready: {time.perf_counter() - t0:.2f} s "
          f"(HPA sync period {info['sync_period']:g} s)")


if __name__ == "__main__":
    sys.exit(main())
