#!/usr/bin/env bash
# Runs a Python script with matplotlib: launch/plot-python.sh SCRIPT.py [ARGS...]. matplotlib is an optional
# dependency of the plotting scripts only: it is installed (pip, once) into a private venv under
# ~/.cache/secura-dist/plot-venv.
set -euo pipefail
venv="${SECURA_CACHE:-$HOME/.cache/secura-dist}/plot-venv"
if ! "$venv/bin/python" -c "import matplotlib" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "matplotlib>=3.7"
fi
exec "$venv/bin/python" "$@"
