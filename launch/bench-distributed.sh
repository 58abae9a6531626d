#!/usr/bin/env bash
# Scaling on one machine: SmolLM2-135M with SECURA-M1 (SVD initialisation through ScaLAPACK), the same
# global batch on 1 rank with 2 BLAS threads and on 2 ranks with 1 thread each. Reports step time,
# tokens/s, the share of step time in the gradient all-reduce and in the merges, the CABR init time,
# and memory (peak resident per rank; the sum of proportional set sizes, which counts node-shared and
# page-cache pages once), all read from each run's summary.json. Results: results/distributed/<date>/ and a
# summary table on stdout.
#
#   launch/bench-distributed.sh [STEPS]        (default 10 optimizer steps, batch 4, max length 256)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
steps="${1:-10}"
model="$(bash launch/fetch-model.sh)"
data="$root/../shared/data/bigbench/object_counting.json"
swift build -c release --product secura-dist >&2
bin="$root/.build/release/secura-dist"
out="$root/results/distributed/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
common=(train --model "$model" --data "$data" --method secura-m1 --cabr-init svd --steps "$steps" --batch-size 4
        --micro-batch 1 --lr 1e-4 --max-length 256 --seed 42 --eval-every 0 --validation-limit 8 --log-every 1 --check-every 5)
run() {  # name ranks threads
  local name=$1 ranks=$2 threads=$3 start
  start=$(date +%s.%N)
  bash launch/mpirun.sh -np "$ranks" "$bin" "${common[@]}" --threads "$threads" --output "$out/$name" \
    >"$out/$name.log" 2>&1
  echo "wall $(echo "$(date +%s.%N) - $start" | bc) s" >>"$out/$name.log"
}
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $steps steps; logs in $out" >&2
run np1-2threads 1 2
run np2-1thread 2 1
{
  echo "| run | s/step | tokens/s | all-reduce | merges | CABR init (SVD) | peak RSS per rank (MiB) | PSS sum (MiB) | wall (s) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for name in np1-2threads np2-1thread; do
    python3 - "$out/$name/summary.json" "$name" "$out/$name.log" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))  # written by train (see TrainSummary)
wall = re.search(r"^wall ([\d.]+) s$", open(sys.argv[3]).read(), re.M)  # this script's own line, not train's
rss = ", ".join(f"{v:.0f}" for v in s["peak_rss_mib"])
print(f"| {sys.argv[2]} | {s['seconds_per_step']:.2f} | {s['tokens_per_second']:.0f} | {100 * s['allreduce_share']:.1f} % | "
      f"{100 * s['merge_share']:.1f} % | {s['init_seconds']:.2f} s | {rss} | {sum(s['pss_end_mib']):.0f} | {float(wall.group(1)):.0f} |")
PY
  done
} | tee "$out/summary.md"
