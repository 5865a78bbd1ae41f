#!/usr/bin/env bash
# Benchmark the TUI (issue 6): 200 APIs from the fake backend in a real terminal (tmux):
# time to first frame, and CPU while refreshing once a second for 30 s with the metrics tab open.
# usage: bench/tui.sh [--apis N] [--seconds S]        (about 45 s)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v tmux >/dev/null; then
    echo "installing tmux (Debian)..." >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq tmux >/dev/null
fi
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" bench/tui_bench.py "$@"
