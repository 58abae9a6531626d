#!/usr/bin/env bash
# Plots of a continual experiment: launch/plot-continual.sh RESULTS_FOLDER [MORE_FOLDERS...]
# Reads each folder's results.json and writes retention.png and matrices.png beside it (matplotlib through
# launch/plot-python.sh, which installs it into a private venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
for folder in "$@"; do
  bash "$root/launch/plot-python.sh" "$root/launch/plot_continual.py" "$folder/results.json" "$folder"
done
