#!/usr/bin/env bash
# The fidelity study of issue 15 at the scale of a 2-core machine (results/fidelity/README.md explains it):
# one BIG-bench task, a learning-rate sweep per method — LoRA, DoRA, I-LoRA, CUR-LoRA, SECURA-M1, SECURA-M1 with the
# scale-free CABR (--cabr-scale unit, the direct test of the step-size hypothesis) and the authors'
# configuration (output rule, bf16 merges, b_Δ) — plus the paper's ablations (SECURA-M2; fusion only at the
# end, standing in for Table 3's fusion-step 200 at this run length), at lr 1e-3 and 1e-4. Each run records its task score, the
# retention suite's scores and its weight movement ‖W_after − W_before‖/‖W_before‖ (results.csv), then
# launch/plot_fidelity.py draws retention against task gain (each method's frontier over its lrs) and
# weight movement against lr. Runs already finished are read back, not redone.
#
#   launch/study-fidelity.sh [OUTPUT]            (default results/fidelity/run; ~50 min on 2 quiet cores)
#   STEPS=40 SEEDS=1,2,3 SUITE_LIMIT=100 launch/study-fidelity.sh      (the issue's full size: hours)
#   METHODS=lora@lr=1e-3,secura-m1@lr=1e-4 TASKS=object_counting,logical_deduction SEEDS=1,2,3 \
#     launch/study-fidelity.sh results/fidelity/seeds      (a subset of the runs on several tasks and seeds)
# METHODS replaces the method list (experiment forgetting's --methods syntax); TASKS names BIG-bench tasks in
# $SECURA_DATA/bigbench (default: TASK, a file, default object_counting).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
out="${1:-results/fidelity/run}"
steps="${STEPS:-20}"
data="${SECURA_DATA:-$root/../shared/data}"
task_flags=()
if [ -n "${TASKS:-}" ]; then
  IFS=, read -ra task_names <<< "$TASKS"
  for name in "${task_names[@]}"; do
    [ -f "$data/bigbench/$name.json" ] || { echo "study-fidelity.sh: no task file $data/bigbench/$name.json (TASKS)" >&2; exit 2; }
    task_flags+=(--task "$data/bigbench/$name.json")
  done
else
  task_flags=(--task "${TASK:-$data/bigbench/object_counting.json}")
fi
model="$(bash launch/fetch-model.sh)"
swift build -c release --product secura-dist >&2
authors="smagnorm=output,merge-precision=bf16,delta-bias=true"
methods=(
  lora@lr=1e-4 lora@lr=1e-3 lora@lr=1e-2
  cur-lora@lr=1e-3 cur-lora@lr=1e-2 cur-lora@lr=1e-1
  secura-m1@lr=1e-4 secura-m1@lr=1e-3 secura-m1@lr=1e-2
  "secura-m1@lr=1e-4,cabr-scale=unit" "secura-m1@lr=1e-3,cabr-scale=unit" "secura-m1@lr=1e-2,cabr-scale=unit"
  "secura-m1@lr=1e-5,$authors" "secura-m1@lr=1e-4,$authors" "secura-m1@lr=1e-3,$authors"
  secura-m2@lr=1e-3 "secura-m1@lr=1e-3,fusion-step=$steps"
  secura-m2@lr=1e-4 "secura-m1@lr=1e-4,fusion-step=$steps" dora@lr=1e-4 dora@lr=1e-3 i-lora@lr=1e-3
)
list="${METHODS:-$(IFS=,; echo "${methods[*]}")}"
start=$(date +%s)
"$root/.build/release/secura-dist" experiment forgetting --model "$model" "${task_flags[@]}" --methods "$list" \
  --steps "$steps" --batch-size 4 --max-length 256 --seeds "${SEEDS:-42}" --task-limit "${TASK_LIMIT:-40}" \
  --suite-limit "${SUITE_LIMIT:-30}" --suite-dir "$data/glue-qa" --output "$out"
echo "study wall time: $(( $(date +%s) - start )) s" | tee -a "$out/wall-time.txt"
bash launch/plot-python.sh launch/plot_fidelity.py "$out/results.csv" "$out" || \
  echo "plotting failed (matplotlib could not be installed?); the tables are in $out/results.md" >&2
