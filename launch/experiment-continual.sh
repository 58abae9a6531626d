#!/usr/bin/env bash
# The SECURA paper's experiment 3 (continual learning) scaled down to SmolLM2-135M on a 2-core machine: the
# methods trained through a short sequence of the paper's BIG-bench tasks, fused at every task's end, each
# task's held-out split and the retention suite (GSM8K, MultiRC, MRPC, ROPES) scored after every task.
# The runs (with `full`, 1.2 GB per checkpoint) go to the cache; results/continual/lrLR/ gets the tables
# (results.md, results.csv, results.json), the scores of every task and the plots (retention.png,
# matrices.png). Sequences already finished are read back, not redone; an interrupted one continues.
#
#   launch/experiment-continual.sh                           (defaults below; about 92 minutes on 2 cores)
#   LR=1e-5 launch/experiment-continual.sh                   (the paper's learning rate)
#   METHODS=full,lora STEPS=50 launch/experiment-continual.sh
#   NP=2 launch/experiment-continual.sh                      (under mpirun: 2 ranks)
#   NAME=ewc-lambda TASKS=logical_deduction,object_counting METHODS=full@ewc-lambda=1e4,ewc-samples=50 \
#     launch/experiment-continual.sh                          (another experiment: its own folders, NAME not lrLR)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
lr="${LR:-1e-4}"
steps="${STEPS:-25}"
ewc_lambda="${EWC_LAMBDA:-1e5}"
data="${SECURA_DATA:-$root/../shared/data}"
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
set_dir="$(bash launch/fetch-data.sh --continual)"
IFS=, read -r -a names <<< "${TASKS:-logical_deduction,object_counting,strategyqa}"
tasks=""
for name in "${names[@]}"; do tasks+="${tasks:+,}$set_dir/$name.json"; done
methods="${METHODS:-full,full@ewc-lambda=$ewc_lambda,ewc-samples=50,full@replay-size=200,replay-ratio=0.25,i-lora,cur-lora,lora,secura-m1,secura-m2}"
model="$(bash launch/fetch-model.sh)"
swift build -c release --product secura-dist >&2
run=("$root/.build/release/secura-dist")
[ -n "${NP:-}" ] && run=(bash launch/mpirun.sh -np "$NP" "${run[@]}")
name="${NAME:-lr$lr}"
out="$cache/continual/$name"
results="results/continual/$name"
start=$(date +%s)
"${run[@]}" experiment continual --model "$model" --tasks "$tasks" --methods "$methods" --lr "$lr" \
  --steps-per-task "$steps" --batch-size 4 --max-length 256 --seed 42 \
  --task-limit "${TASK_LIMIT:-25}" --suite-limit "${SUITE_LIMIT:-50}" --suite-dir "$data/glue-qa" --output "$out"
mkdir -p "$results"
echo "$(date -u +%F) lr $lr, methods $methods: $(( $(date +%s) - start )) s" >> "$results/wall-time.txt"
# The small files only: tables, base scores, every task's scores and run summary (no checkpoints).
(cd "$out" && find . \( -name 'results.*' -o -name base.json -o -name 'scores*.json' -o -name summary.json \) -print0 |
  xargs -0 -I{} install -D -m 644 {} "$root/$results/{}")
bash launch/plot-continual.sh "$results" || \
  echo "plotting failed (matplotlib could not be installed?); the tables are in $results/results.md" >&2
