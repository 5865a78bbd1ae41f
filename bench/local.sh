#!/usr/bin/env bash
# Benchmark the local target (issue 4): the iris example deployed with 2 replicas behind its
# shared endpoint socket vs bare Sanic with 2 workers, loaded by wrk in the same run; the
# deploy-to-live time; the time from a CPU spike to the added replica being ready (default
# 15 s HPA sync period unless CORTEX_TUI_SYNC_PERIOD is set). About 1.5 minutes.
# Failed requests across rollouts: .venv/bin/python bench/local_rollout.py [--rollouts N].
# usage: bench/local.sh [--seconds N] [--rounds N]
# Measured 2026-11-25 on the shared 2-core box (load average ~4.7): ours 7423/6961 req/s vs bare
# Sanic 2 workers 5358/4201 (ratio 1.39); deploy-to-live 0.62 s; spike -> ready 10.7 s with the
# default 15 s sync (1.2 s with CORTEX_TUI_SYNC_PERIOD=1).
source "$(dirname "$0")/common.sh" wrk
exec "$PY" bench/local_bench.py "$@"
