#!/usr/bin/env bash
# Benchmark the load generator (issue 17): ours vs wrk against one replica in the same run, at
# c=64 (request rate, target >= 0.8 of wrk's) and c=1 (latency percentiles, within 10 %).
# About 40 s with the defaults.
# usage: bench/loadtest.sh [--seconds N] [--rounds N]
# Measured 2026-12-04 on the shared 2-core box, load average 14-16: c=64 ours 1641 vs wrk 1763
# req/s (0.93); c=1 latency ours/wrk p50 0.60 p90 0.96 p99 0.96 (at that load the c=1 figures
# swing by tens of percent from run to run, in both directions).
source "$(dirname "$0")/common.sh" wrk
exec "$PY" bench/loadtest_bench.py "$@"
