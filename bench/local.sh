#!/usr/bin/env bash
# Benchmark the local target (issue 4): the iris example deployed with 2 replicas behind its
# SO_REUSEPORT endpoint vs bare Sanic with 2 workers, loaded by wrk in the same run; the
# deploy-to-live time; the time from a CPU spike to the added replica being ready (default
# 15 s HPA sync period unless CORTEX_TUI_SYNC_PERIOD is set). About 1.5 minutes.
# usage: bench/local.sh [--seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian)..." >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" bench/local_bench.py "$@"
