"""Our load generator vs wrk against the same replica, in the same run (bench/loadtest.sh).

One predictor replica of examples/iris pinned to one core; wrk and our generator (one process)
pinned to the other, interleaved round by round. Reports at c=64 the request rate (ours / wrk,
target >= 0.8) and at c=1 the latency percentiles (ours / wrk, target within 10 %). The machine
is shared: the load average is printed beside the figures; compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from predictor_bench import IRIS, LOAD_CPU, LUA, _ms, free_port, ours, stop, wait_http

PERCENTILES = ("p50", "p90", "p99")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_wrk(url: str, conns: int, seconds: float, body: Path) -> dict[str, float]:
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s",
           "--latency", "-s", str(LUA), url]
    out = subprocess.run(cmd, env={**os.environ, "BODY_FILE": str(body)}, capture_output=True,
                         text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for key, pct in (("p50", "50"), ("p90", "90"), ("p99", "99")):
        result[key] = _ms(re.search(rf"^\s*{pct}%\s+(\S+)", out, re.M).group(1))
    return result


def run_ours(url: str, conns: int, seconds: float, body: Path) -> dict[str, float]:
    out = subprocess.run(["taskset", "-c", LOAD_CPU, sys.executable, __file__, "--generator",
                          url, str(conns), str(round(max(1, seconds))), str(body)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def generator_main(url: str, conns: int, seconds: float, body: Path) -> None:
    from cortex_tui.loadtest import generator, histogram
    from cortex_tui.loadtest.samples import load_samples
    from cortex_tui.loadtest.spec import LoadSpec

    outcome = generator.run(url, load_samples(body), LoadSpec(concurrency=conns,
                                                             duration=seconds))
    p = histogram.percentiles_ms(histogram.decode(outcome.histogram))
    print(json.dumps({"rps": outcome.requests / outcome.elapsed,
                      **{k: p[k] for k in PERCENTILES}}))


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per tool")
    args = parser.parse_args()
    body = IRIS / "sample.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}/iris-classifier"
    proc = ours(IRIS, "iris-classifier", port)
    try:
        wait_http(port, "/iris-classifier", "POST", body.read_bytes())
        print(f"one iris replica pinned to a core, load on core {LOAD_CPU}; "
              f"{args.rounds} rounds of {args.seconds:.0f} s, medians; "
              f"load average before: {loadavg()}")
        run_wrk(url, 64, 1, body)  # warm-up
        results: dict[tuple[str, int], list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for conns in (64, 1):
                for tool, runner in (("wrk", run_wrk), ("ours", run_ours)):
                    results.setdefault((tool, conns), []).append(
                        runner(url, conns, args.seconds, body))
        m = {key: median(runs) for key, runs in results.items()}
        for (tool, conns), r in sorted(m.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
            print(f"  {tool:<5} c={conns:<3} {r['rps']:8.0f} req/s  "
                  + "  ".join(f"{k} {r[k]:.3f} ms" for k in PERCENTILES))
        rate = m["ours", 64]["rps"] / m["wrk", 64]["rps"]
        print(f"c=64 request rate ours/wrk: {rate:.2f} (target >= 0.80)")
        ratios = {k: m["ours", 1][k] / m["wrk", 1][k] for k in PERCENTILES}
        print("c=1 latency ours/wrk: " + "  ".join(f"{k} {v:.2f}" for k, v in ratios.items())
              + " (target 0.90..1.10)")
        print(f"load average after: {loadavg()}")
    finally:
        stop(proc)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--generator":
        generator_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
