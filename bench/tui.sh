#!/usr/bin/env bash
# Benchmark the TUI (issue 6): 200 APIs from the fake backend in a real terminal (tmux):
# time to first frame, and CPU while refreshing once a second for 30 s with the metrics tab open.
# usage: bench/tui.sh [--apis N] [--seconds S]        (about 45 s)
source "$(dirname "$0")/common.sh" tmux
exec "$PY" bench/tui_bench.py "$@"
