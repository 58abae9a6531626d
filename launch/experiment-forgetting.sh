#!/usr/bin/env bash
# The SECURA paper's experiment 2 scaled down to SmolLM2-135M on this kind of machine: fine-tune each
# method on three BIG-bench tasks at lr 1e-3 (the paper's "extreme" setting), and LoRA and SECURA-M1 at
# lr 1e-5, then score each task's held-out split and the retention suite (GSM8K, MultiRC, MRPC, ROPES)
# before and after. Results: results/forgetting/lr1e-3/ and results/forgetting/lr1e-5/ (results.md,
# results.csv, results.png, one folder per run). Runs already finished are read back, not redone.
#
#   launch/experiment-forgetting.sh                 (defaults below: 20 steps, 50 task and 100 suite records; a few hours on 2 cores)
#   STEPS=50 TASK_LIMIT=100 SUITE_LIMIT=50 launch/experiment-forgetting.sh   (larger)
#   NP=2 launch/experiment-forgetting.sh            (under mpirun: 2 ranks)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
steps="${STEPS:-20}"
data="${SECURA_DATA:-$root/../shared/data}"
tasks=("$data/bigbench/object_counting.json" "$data/bigbench/reasoning_about_colored_objects.json"
       "$data/bigbench/logical_deduction.json")
model="$(bash launch/fetch-model.sh)"
swift build -c release --product secura-dist >&2
run=("$root/.build/release/secura-dist")
[ -n "${NP:-}" ] && run=(bash launch/mpirun.sh -np "$NP" "${run[@]}")
common=(--model "$model" --task "${tasks[@]}" --steps "$steps" --batch-size 4 --max-length 256 --seed 42
        --task-limit "${TASK_LIMIT:-50}" --suite-limit "${SUITE_LIMIT:-100}" --suite-dir "$data/glue-qa")
start=$(date +%s)
"${run[@]}" experiment forgetting "${common[@]}" --lr 1e-3 \
  --methods "${METHODS:-lora,dora,cur-lora,i-lora,secura-m1,secura-m2}" --output results/forgetting/lr1e-3
"${run[@]}" experiment forgetting "${common[@]}" --lr 1e-5 \
  --methods "${METHODS_LOW_LR:-lora,secura-m1}" --output results/forgetting/lr1e-5
echo "experiment wall time: $(( $(date +%s) - start )) s" | tee -a results/forgetting/wall-time.txt
bash launch/plot-forgetting.sh results/forgetting/lr1e-3 results/forgetting/lr1e-5 || \
  echo "plotting failed (matplotlib could not be installed?); the tables are in results/forgetting/*/results.md" >&2
