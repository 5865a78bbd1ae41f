#!/usr/bin/env bash
# Benchmark server-side batching (issue 20): a model costing 2 ms + 20 us per sample, batched
# (max_batch_size 32, batch_interval 10ms) vs unbatched, c=64 and c=1, in the same run.
# Server and load generator pinned to different cores. About 30 s.
# usage: bench/batching.sh [--seconds N] [--rounds N]
source "$(dirname "$0")/common.sh" wrk
exec "$PY" bench/batching_bench.py "$@"
