#!/usr/bin/env bash
# Benchmark autoscaling on the local target (issue 14): a step load of 32 clients on a model that
# awaits 50 ms (cpu near zero), `autoscale_on: cpu` vs `in_flight` in the same run: the time
# from the step to the added replica being ready, the failed requests (must be 0); then the cold
# start from zero (request answered, and spawned -> init -> ready -> first answer), 3 rounds.
# Bounded: at most --seconds (40) per signal, about 1.5 minutes in all; loopback only.
# usage: bench/autoscale.sh [--seconds N] [--clients N] [--rounds N] [--sync S]
# Measured 2026-12-05 on the shared 2-core box (load average 3.95 before, 2.84 after; sync 2 s,
# window 4 s): cpu: no added replica within 40 s (24,507 answered, 0 failed); in_flight: added
# replica ready 2.3 s after the step (1,359 answered, 0 failed); cold start from zero: answered
# after 0.61 / 0.48 / 0.52 s (median 0.52 s; init done ~0.25 s, ready ~0.41 s after spawn).
source "$(dirname "$0")/common.sh"
exec "$PY" bench/autoscale_bench.py "$@"
