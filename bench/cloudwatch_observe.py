"""Cost of the CloudWatch publisher per request: `observe()` on the request path, and the
bulk fold its thread does once a second, in µs, against a no-op observer measured in the same
run. CloudWatch itself is never called (the flush period is longer than the run).

    .venv/bin/python bench/cloudwatch_observe.py [N]
"""

from __future__ import annotations

import sys
import time
from typing import Any

from predictor import cloudwatch
from predictor.cloudwatch import CloudWatchPublisher

# This loop calls observe() ~20x faster than a replica answers requests, so it would hit the
# stuck-sender backstop (fold on the request path) at MAX_RAW; lift it to time each side alone.
cloudwatch.MAX_RAW = 10**9

LABELS = ("setosa", "versicolor", "virginica")


class Unstarted(CloudWatchPublisher):
    """No background thread: the fold is timed alone."""

    def start(self) -> None:
        return None


def per_call_us(observe: Any, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        observe(200 if i % 50 else 500, 3.5, LABELS[i % 3])
    return (time.perf_counter() - start) / n * 1e6


def fold_us(n: int) -> tuple[float, int]:
    publisher = Unstarted("bench", "iris-classifier", deployment="iris", region="us-east-1",
                          model_type="classification", flush_seconds=3600)
    per_call_us(publisher.observe, n)
    start = time.perf_counter()
    publisher._drain()
    return (time.perf_counter() - start) / n * 1e6, len(publisher._buffer)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    publisher = CloudWatchPublisher("bench", "iris-classifier", deployment="iris",
                                    region="us-east-1", model_type="classification",
                                    flush_seconds=3600)

    def noop(status: int, latency_ms: float, tracked: Any) -> None:
        return None

    per_call_us(publisher.observe, 10_000)  # warm up, starts the thread
    base = min(per_call_us(noop, n) for _ in range(3))
    cost = min(per_call_us(publisher.observe, n) for _ in range(3))
    fold, items = min(fold_us(n) for _ in range(3))
    print(f"no-op observer          {base:6.2f} µs/call")
    print(f"observe (request path)  {cost:6.2f} µs/call  ({cost - base:.2f} µs added)")
    print(f"fold (publisher thread) {fold:6.2f} µs/request, in bulk once a second")
    print(f"{n} requests in one minute -> {items} statistic sets to send")


if __name__ == "__main__":
    main()
