#!/usr/bin/env bash
# Benchmark the onnx runtime (issue 18): the iris-onnx replica vs a bare Sanic handler calling
# the same InferenceSession.run, c=1/16/64, in the same run. Server and load generator pinned to
# different cores. About 40 s.
# usage: bench/runtimes.sh [--seconds N] [--rounds N]
source "$(dirname "$0")/common.sh" wrk
exec "$PY" bench/runtimes_bench.py "$@"
