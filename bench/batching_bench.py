"""Server-side batching, batched vs unbatched (run through bench/batching.sh).

Targets (issue 20): at c=64 at least 5 x the throughput and a lower p99; at c=1 the latency
batching adds is at most batch_interval + 1 ms. The machine is shared: ratios from the same run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from predictor_bench import interleaved, ours, row, serving

MODELS = Path(__file__).resolve().parent / "batching_models"
BODY = Path(__file__).resolve().parent / "predictor_models" / "trivial_sample.json"
INTERVAL_MS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per server")
    args = parser.parse_args()
    print(f"model: 2 ms + 20 us per sample; batched: max_batch_size 32, batch_interval "
          f"{INTERVAL_MS:g}ms; load average now {Path('/proc/loadavg').read_text().strip()}")
    start = {api: lambda port, api=api: ours(MODELS, api, port)
             for api in ("unbatched", "batched")}
    with serving(start, BODY) as servers:
        results = {}
        for conns in (64, 1):
            results[conns] = interleaved(servers, conns, args.seconds, BODY, args.rounds)
            print(row(results[conns]["unbatched"]))
            print(row(results[conns]["batched"]))
        many, one = results[64], results[1]
        added = one["batched"].p50_ms - one["unbatched"].p50_ms
        gain = many["batched"].rps / many["unbatched"].rps
        print(f"  c=64: throughput batched/unbatched {gain:.1f}x "
              f"(target >= 5x); p99 {many['batched'].p99_ms:.1f} vs "
              f"{many['unbatched'].p99_ms:.1f} ms (target lower)")
        print(f"  c=1: p50 added by batching {added:.2f} ms "
              f"(target <= batch_interval + 1 ms = {INTERVAL_MS + 1:g} ms)")


if __name__ == "__main__":
    main()
