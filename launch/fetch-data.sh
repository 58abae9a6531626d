#!/usr/bin/env bash
# Fetches a BIG-bench task (default object_counting) from the PyPI package bigbench==1.0.0 (the source
# archive carries every task.json) into the cache, and prints the task file's path. With --continual, builds
# the continual-learning task set (the SECURA paper's 16 tasks or their substitutes, 1,000 examples each at
# most, seeded; launch/make_continual_data.py, README "Continual learning") and prints its folder; its
# tasks.txt lists the files in order.
#
#   launch/fetch-data.sh [TASK]      e.g. launch/fetch-data.sh logical_deduction/three_objects
#   launch/fetch-data.sh --continual
#   tasks=$(sed "s|^|$(launch/fetch-data.sh --continual)/|" "$(launch/fetch-data.sh --continual)/tasks.txt" | paste -sd,)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"

# The bigbench==1.0.0 source archive, downloaded from PyPI once.
archive() {
  mkdir -p "$cache/wheels"
  local path="$cache/wheels/bigbench-1.0.0.tar.gz"
  if [ ! -s "$path" ]; then
    echo "fetch-data: downloading bigbench==1.0.0 from PyPI (about 360 MB, once)" >&2
    python3 -m pip download --quiet --no-deps -d "$cache/wheels" "bigbench==1.0.0" >&2
  fi
  echo "$path"
}

if [ "${1:-}" = "--continual" ]; then
  # The folder's name carries the converter's defaults; a finished folder has tasks.txt (written last).
  target="$cache/data/continual-seed42-n1000"
  if [ -s "$target/tasks.txt" ]; then
    echo "$target"
    exit 0
  fi
  src="$(archive)"
  tmp="$target.partial.$$"
  rm -rf "$tmp"
  python3 "$root/launch/make_continual_data.py" "$src" "$tmp" --seed 42 --examples 1000 >&2 || { rm -rf "$tmp"; exit 1; }
  rm -rf "$target"
  mv "$tmp" "$target"
  echo "$target"
  exit 0
fi

task="${1:-object_counting}"
target="$cache/data/$(echo "$task" | tr '/' '_').json"
if [ -s "$target" ]; then
  echo "$target"
  exit 0
fi
mkdir -p "$cache/data"
src="$(archive)"
tmp="$target.partial.$$"
python3 - "$src" "bigbench-1.0.0/bigbench/benchmark_tasks/$task/task.json" "$tmp" <<'PY'
import shutil, sys, tarfile
archive, member, out = sys.argv[1:]
with tarfile.open(archive) as tar:
    try:
        src = tar.extractfile(member)
    except KeyError:
        sys.exit(f"fetch-data: {member} is not in {archive} (is the task name right?)")
    with open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
mv "$tmp" "$target"
echo "$target"
