#!/usr/bin/env bash
# Fetches a BIG-bench task (default object_counting) from the PyPI package bigbench==1.0.0 (the source
# archive carries every task.json) into the cache, and prints the task file's path.
#
#   launch/fetch-data.sh [TASK]      e.g. launch/fetch-data.sh logical_deduction/three_objects
set -euo pipefail
task="${1:-object_counting}"
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
target="$cache/data/$(echo "$task" | tr '/' '_').json"
if [ -s "$target" ]; then
  echo "$target"
  exit 0
fi
mkdir -p "$cache/data" "$cache/wheels"
archive=$(ls "$cache"/wheels/bigbench-1.0.0.tar.gz 2>/dev/null || true)
if [ -z "$archive" ]; then
  echo "fetch-data: downloading bigbench==1.0.0 from PyPI (about 360 MB, once)" >&2
  python3 -m pip download --quiet --no-deps -d "$cache/wheels" "bigbench==1.0.0" >&2
  archive="$cache/wheels/bigbench-1.0.0.tar.gz"
fi
tmp="$target.partial.$$"
python3 - "$archive" "bigbench-1.0.0/bigbench/benchmark_tasks/$task/task.json" "$tmp" <<'PY'
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
