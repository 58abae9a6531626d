#!/usr/bin/env bash
# Bar chart of a forgetting experiment: launch/plot-forgetting.sh RESULTS_FOLDER [MORE_FOLDERS...]
# Reads each folder's results.csv and writes results.png beside it. matplotlib is an optional
# dependency: it is installed (pip, once) into a private venv under ~/.cache/secura-dist/plot-venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${SECURA_CACHE:-$HOME/.cache/secura-dist}/plot-venv"
if ! "$venv/bin/python" -c "import matplotlib" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "matplotlib>=3.7"
fi
for folder in "$@"; do
  "$venv/bin/python" "$root/launch/plot_forgetting.py" "$folder/results.csv" "$folder/results.png"
done
