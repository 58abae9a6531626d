#!/usr/bin/env bash
# Bar chart of a forgetting experiment: launch/plot-forgetting.sh RESULTS_FOLDER [MORE_FOLDERS...]
# Reads each folder's results.csv and writes results.png beside it (matplotlib through launch/plot-python.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
for folder in "$@"; do
  bash "$root/launch/plot-python.sh" "$root/launch/plot_forgetting.py" "$folder/results.csv" "$folder/results.png"
done
