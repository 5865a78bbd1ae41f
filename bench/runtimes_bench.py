"""The onnx runtime: the iris-onnx example's replica vs a bare Sanic handler calling the same
InferenceSession.run through the same request handler (run through bench/runtimes.sh).

Target (issue 18): at c=64 at least 0.9 x bare's throughput. Ratios from the same run: the
machine is shared.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from predictor_bench import bare, interleaved, ours, row, serving

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
    start = {"bare Sanic": lambda port: bare(BENCH / "runtimes_models" / "bare_onnx.py", port, {}),
             "ours": lambda port: ours(EXAMPLE, "iris-onnx", port)}
    with serving(start, BODY) as servers:
        ratio = 0.0
        for conns in (1, 16, 64):
            results = interleaved(servers, conns, args.seconds, BODY, args.rounds)
            print(row(results["bare Sanic"]))
            print(row(results["ours"], results["bare Sanic"]))
            ratio = results["ours"].rps / results["bare Sanic"].rps
        print(f"  target: c=64 rps ours/bare {ratio:.2f}x (>= 0.90x); "
              f"load average after {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
