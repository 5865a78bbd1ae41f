#!/usr/bin/env bash
# Benchmark the load generator (issue 17): ours vs wrk against one replica in the same run, at
# c=64 (request rate, target >= 0.8 of wrk's) and c=1 (latency percentiles, within 10 %).
# About 40 s with the defaults.
# usage: bench/loadtest.sh [--seconds N] [--rounds N]
# Measured 2026-12-04 on the shared 2-core box, 3 rounds of 3 s: at load average 14-16, c=64
# ours/wrk request rate 0.93 (1641 vs 1763 req/s), c=1 latency p50 0.60 p90 0.96 p99 0.96; at
# load average 11-13, c=64 0.91 (2975 vs 3258), c=1 p50 0.20 p90 0.89 p99 0.61. At such loads
# the c=1 percentiles of both tools swing by tens of percent from run to run (a request either
# runs at once or waits for a core), so the 10 % latency target cannot be judged here.
source "$(dirname "$0")/common.sh" wrk
exec "$PY" bench/loadtest_bench.py "$@"
