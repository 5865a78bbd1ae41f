# Sourced by the bench/*.sh scripts: run from the repository root, install wrk when missing,
# pick the project's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian)..." >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
