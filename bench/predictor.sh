#!/usr/bin/env bash
# Benchmark the predictor (issue 3): ours vs a bare Sanic handler doing the same work, a 20 ms
# blocking model at threads_per_replica 1 vs 8 with /healthz sampled, an async 20 ms model.
# Server and load generator pinned to different cores. About a minute in total.
# usage: bench/predictor.sh [--seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian)..." >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" bench/predictor_bench.py "$@"
