#!/usr/bin/env bash
# Benchmark the predictor (issue 3): ours vs a bare Sanic handler doing the same work, a 20 ms
# blocking model at threads_per_replica 1 vs 8 with /healthz sampled, an async 20 ms model.
# Server and load generator pinned to different cores. About a minute in total.
# usage: bench/predictor.sh [--seconds N]
source "$(dirname "$0")/common.sh" wrk
exec "$PY" bench/predictor_bench.py "$@"
