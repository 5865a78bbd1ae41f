"""The onnx runtime: the iris-onnx example's replica vs a bare Sanic handler calling the same
InferenceSession.run through the same request handler (run through bench/runtimes.sh).

Target (issue 18): at c=64 at least 0.9 x bare's throughput. Ratios from the same run: the
machine is shared.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from predictor_bench import bare, free_port, interleaved, ours, row, stop, wait_http

BENCH = Path(__file__).resolve().parent
EXAMPLE = BENCH.parent / "examples" / "iris-onnx"
BODY = EXAMPLE / "sample.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per server")
    args = parser.parse_args()
    print(f"iris-onnx (handler + onnxruntime), ours vs bare Sanic; median of {args.rounds} "
          f"interleaved runs; load average now {Path('/proc/loadavg').read_text().strip()}")
    ports = {"bare Sanic": free_port(), "ours": free_port()}
    procs = [bare(BENCH / "runtimes_models" / "bare_onnx.py", ports["bare Sanic"], {}),
             ours(EXAMPLE, "iris-onnx", ports["ours"])]
    try:
        for port in ports.values():
            wait_http(port, "/predict", "POST", BODY.read_bytes())
        servers = {label: (port, proc.pid)
                   for (label, port), proc in zip(ports.items(), procs, strict=True)}
        ratio = 0.0
        for conns in (1, 16, 64):
            results = interleaved(servers, conns, args.seconds, BODY, args.rounds)
            print(row(results["bare Sanic"]))
            print(row(results["ours"], results["bare Sanic"]))
            ratio = results["ours"].rps / results["bare Sanic"].rps
        print(f"  target: c=64 rps ours/bare {ratio:.2f}x (>= 0.90x); "
              f"load average after {Path('/proc/loadavg').read_text().strip()}")
    finally:
        for proc in procs:
            stop(proc)


if __name__ == "__main__":
    main()
