"""Benchmark of the predictor against a bare Sanic handler (run through bench/predictor.sh).

Server pinned to one core, wrk (and the /healthz sampler) to the other, a few seconds per run.
The machine is shared: compare ratios measured in the same run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
IRIS = ROOT / "examples" / "iris"
MODELS = BENCH / "predictor_models"
LUA = BENCH / "predictor_post.lua"
SERVER_CPU, LOAD_CPU = "0", "1"


@dataclass
class Result:
    label: str
    conns: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = float("nan")  # server CPU time per request (robust to a busy machine)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, method: str = "GET", body: bytes | None = None,
              timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request(method, path, body=body)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not answer {method} {path}")


def start(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["taskset", "-c", SERVER_CPU, *cmd], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def serving(start: dict[str, Callable[[int], subprocess.Popen[bytes]]],
            body: Path) -> Iterator[dict[str, tuple[int, int]]]:
    """Start each server (label -> starter taking its port), wait until each answers a
    prediction, give `interleaved` its label -> (port, pid); stop them all on exit."""
    ports = {label: free_port() for label in start}  # all picked before any server binds
    procs: list[subprocess.Popen[bytes]] = []
    try:
        servers = {}
        for label, starter in start.items():
            procs.append(starter(ports[label]))
            servers[label] = (ports[label], procs[-1].pid)
        for port in ports.values():
            wait_http(port, "/predict", "POST", body.read_bytes())
        yield servers
    finally:
        for proc in procs:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ours(project: Path, api: str, port: int, inline: bool = True) -> subprocess.Popen[bytes]:
    env = {"CORTEX_INLINE_FAST_PREDICT": "1" if inline else "0"}
    return start([sys.executable, "-m", "predictor", "--project", str(project), "--api", api,
                  "--port", str(port)], env)


def bare(inference: Path, port: int, metadata: dict[str, str]) -> subprocess.Popen[bytes]:
    return start([sys.executable, str(BENCH / "bare_sanic.py"), str(inference),
                  str(port), json.dumps(metadata)])


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNIT[m.group(2)] if m else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (taskset execs the server, so same pid)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, conns: int, seconds: float, body: Path, label: str,
        pid: int | None = None) -> Result:
    duration = f"-d{max(1, round(seconds))}s"  # wrk takes whole seconds
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", duration, "--latency",
           "-s", str(LUA), f"http://127.0.0.1:{port}/predict"]
    cpu0 = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(cmd, env={**os.environ, "BODY_FILE": str(body)}, capture_output=True,
                         text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu0 if pid else float("nan")
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    # Anchored: the "+/- Stdev" column (e.g. "75.99%") must not pass for a percentile line.
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Result(label, conns, rps, p50, p99, errors, 1e6 * cpu / max(total, 1))


def measure(proc_factory, port: int, conns: int, seconds: float, body: Path, label: str,
            ready_path: str = "/predict") -> Result:
    proc = proc_factory()
    try:
        wait_http(port, ready_path, "POST", body.read_bytes())
        wrk(port, conns, 1, body, label)  # warm-up
        return wrk(port, conns, seconds, body, label, proc.pid)
    finally:
        stop(proc)


def median_result(results: list[Result]) -> Result:
    """The run with the median throughput (its own p50/p99), errors summed."""
    ordered = sorted(results, key=lambda r: r.rps)
    mid = ordered[len(ordered) // 2]
    cpu = statistics.median(r.cpu_us for r in results)
    return Result(mid.label, mid.conns, mid.rps, mid.p50_ms, mid.p99_ms,
                  sum(r.errors for r in results), cpu)


def interleaved(servers: dict[str, tuple[int, int]], conns: int, seconds: float, body: Path,
                rounds: int) -> dict[str, Result]:
    """wrk each running server (label -> (port, pid)) in turn, `rounds` times; medians."""
    runs: dict[str, list[Result]] = {label: [] for label in servers}
    for label, (port, _) in servers.items():
        wrk(port, conns, 1, body, label)  # warm-up
    for _ in range(rounds):
        for label, (port, pid) in servers.items():
            runs[label].append(wrk(port, conns, seconds, body, label, pid))
    return {label: median_result(rs) for label, rs in runs.items()}


class HealthSampler(threading.Thread):
    """GET /healthz on a new connection every 50 ms; latencies in ms."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[float] = []
        self.failures = 0
        self.done = threading.Event()

    def run(self) -> None:
        os.sched_setaffinity(0, {int(LOAD_CPU)})
        while not self.done.wait(0.05):
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
            except OSError:
                ok = False
            if ok:
                self.samples.append(1000 * (time.perf_counter() - t0))
            else:
                self.failures += 1


def row(r: Result, base: Result | None = None) -> str:
    line = (f"  {r.label:<26} c={r.conns:<3}{r.rps:8.0f} req/s  p50 {r.p50_ms:7.2f} ms  "
            f"p99 {r.p99_ms:7.2f} ms  err {r.errors}")
    if r.cpu_us == r.cpu_us:  # not NaN
        line += f"  cpu {r.cpu_us:5.1f} us/req"
    if base:
        line += (f"  | ours/bare: rps {r.rps / base.rps:.2f}x  p50 {r.p50_ms / base.p50_ms:.2f}x"
                 f"  cpu-efficiency {base.cpu_us / r.cpu_us:.2f}x")
    return line


def fast_model(name: str, project: Path, api: str, metadata: dict[str, str], body: Path,
               seconds: float, rounds: int, target: float) -> None:
    print(f"{name}: ours vs bare Sanic (Sanic's default JSON); ratios ours/bare; "
          f"median of {rounds} interleaved runs")
    inference = project / "inference.py" if (project / "inference.py").exists() \
        else project / f"{api}.py"
    start = {
        "bare Sanic": lambda port: bare(inference, port, metadata),
        "bare Sanic again (A/A)": lambda port: bare(inference, port, metadata),
        "ours (tracker+metrics on)": lambda port: ours(project, api, port),
        "ours, always thread pool": lambda port: ours(project, api, port, inline=False),
    }
    with serving(start, body) as servers:
        ratios = {}
        for conns in (1, 64):
            results = interleaved(servers, conns, seconds, body, rounds)
            base = results["bare Sanic"]
            for label, res in results.items():
                print(row(res, None if label == "bare Sanic" else base))
            mine = results["ours (tracker+metrics on)"]
            ratios[conns] = (mine.rps / base.rps, mine.p50_ms / base.p50_ms,
                             base.cpu_us / mine.cpu_us)
        print(f"  targets: c=64 rps ours/bare {ratios[64][0]:.2f}x (>= {target:.2f}x), "
              f"cpu-efficiency {ratios[64][2]:.2f}x; "
              f"c=1 p50 ours/bare {ratios[1][1]:.2f}x (<= 1.05x)")
        print("  (the A/A row is bare vs bare: how far same-run ratios swing from noise alone;\n"
              "   cpu us/req, the server's CPU time per request, is the steadiest comparison)")


def blocking_model(seconds: float, body: Path) -> None:
    print("model blocking 20 ms, 16 connections: threads_per_replica 1 vs 8, /healthz sampled")
    results = {}
    for api in ("sleep-one", "sleep-eight"):
        port = free_port()
        proc = ours(MODELS, api, port)
        try:
            wait_http(port, "/healthz")
            sampler = HealthSampler(port)
            sampler.start()
            res = wrk(port, 16, seconds, body, api, proc.pid)
            sampler.done.set()
            sampler.join()
        finally:
            stop(proc)
        results[api] = res
        h = sampler.samples
        print(row(res))
        if h:
            # inclusive: with a few samples the default method puts p99 above the maximum
            q = statistics.quantiles(h, n=100, method="inclusive") if len(h) > 1 else [h[0]] * 99
            print(f"    /healthz during it: {len(h)} samples, p50 {q[49]:.2f} ms, "
                  f"p99 {q[98]:.2f} ms, max {max(h):.2f} ms (target < 10 ms), "
                  f"failures {sampler.failures}")
    one, eight = results["sleep-one"].rps, results["sleep-eight"].rps
    print(f"  scaling 8 vs 1: {eight / one:.2f}x (target >= 7x; 1 thread ~48 req/s)")


def async_model(seconds: float, rounds: int, body: Path) -> None:
    print("async model awaiting 20 ms, 64 connections, default compute.max_concurrency: "
          "ours vs bare Sanic (target >= 0.95x)")
    start = {"bare Sanic": lambda port: bare(MODELS / "awaiting.py", port, {}),
             "ours": lambda port: ours(MODELS, "async-sleep", port)}
    with serving(start, body) as servers:
        results = interleaved(servers, 64, seconds, body, rounds)
        print(row(results["bare Sanic"]))
        print(row(results["ours"], results["bare Sanic"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per server")
    parser.add_argument("--only", choices=("trivial", "iris", "blocking", "async"),
                        action="append", help="run only these parts (repeatable)")
    args = parser.parse_args()
    print(f"cores: servers on {SERVER_CPU}, wrk on {LOAD_CPU}; {args.seconds:.0f} s per run; "
          f"load average now {Path('/proc/loadavg').read_text().strip()} (shared machine: "
          "compare ratios from the same run)")
    parts = set(args.only or ("trivial", "iris", "blocking", "async"))
    body = MODELS / "sample.json"
    if "trivial" in parts:
        fast_model("trivial model (tracker on, predict ~1 us)", MODELS, "trivial", {},
                   MODELS / "trivial_sample.json", args.seconds, args.rounds, 1.0)
    if "iris" in parts:
        fast_model("iris example (pure Python, ~80 us)", IRIS, "iris-classifier",
                   {"data_file": "iris.csv"}, IRIS / "sample.json", args.seconds, args.rounds,
                   0.89)
    if "blocking" in parts:
        blocking_model(args.seconds, body)
    if "async" in parts:
        async_model(args.seconds, args.rounds, body)


if __name__ == "__main__":
    main()
