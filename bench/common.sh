# Sourced by the bench/*.sh scripts as `source bench/common.sh TOOL...`: run from the repository
# root, install each Debian TOOL that is missing, pick the project's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
        echo "installing $tool (Debian)..." >&2
        apt-get update -qq >/dev/null && apt-get install -y -qq "$tool" >/dev/null
    fi
done
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
