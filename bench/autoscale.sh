#!/usr/bin/env bash
# Benchmark autoscaling on the local target (issue 14): a step load of 32 clients on a model that
# awaits 50 ms (cpu near zero), `autoscale_on: cpu` vs `in_flight` in the same run: the time
# from the step to the added replica being ready, the failed requests (must be 0); then the cold
# start from zero (request answered, and spawned -> init -> ready -> first answer), 3 rounds.
# Bounded: at most --seconds (40) per signal, about 1.5 minutes in all; loopback only.
# usage: bench/autoscale.sh [--seconds N] [--clients N] [--rounds N] [--sync S]
source "$(dirname "$0")/common.sh"
exec "$PY" bench/autoscale_bench.py "$@"
