#!/usr/bin/env bash
# Trains SmolLM2-135M-Instruct with every method on a BIG-bench task and tabulates the validation loss
# before and after (the check of the methods-and-training issue). Results: results/methods/<task>/.
#
#   launch/train-all-methods.sh [TASK_JSON] [STEPS]      (default: object_counting, 100 steps)
#   METHODS="lora secura-m1" launch/train-all-methods.sh  (a subset)
#   LR=1e-4 METHODS=secura-m1 launch/train-all-methods.sh (another learning rate: its own row and folder)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
task="${1:-$root/../shared/data/bigbench/object_counting.json}"
steps="${2:-100}"
methods="${METHODS:-lora dora cur-lora i-lora cabr-lora secura-m1 secura-m2 full}"
model="$(bash launch/fetch-model.sh)"
swift build -c release --product secura-dist >&2
bin="$root/.build/release/secura-dist"
name="$(basename "$task" .json)"
out="$root/results/methods/$name"
mkdir -p "$out"
table="$out/summary.md"
# The table accumulates rows across runs (a subset of METHODS adds its rows); delete it to start over.
[ -s "$table" ] || {
  echo "# Every method on $name (SmolLM2-135M-Instruct Q4_1, $steps steps)"
  echo
  echo "Command per method: \`secura-dist train --model SmolLM2 --data $name.json --method M --steps $steps --batch-size 4 --lr LR --max-length 256 --seed 42\`"
  echo "(lr 1e-3 for adapters, 2e-5 for full fine-tuning; 900 train / 100 validation examples; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})."
  echo
  echo "| method | trainable | val loss at start | val loss after | first-10 train loss | last-10 train loss | seconds |"
  echo "|---|---|---|---|---|---|---|"
} >"$table"
for m in $methods; do
  lr=1e-3
  [ "$m" = full ] && lr=2e-5
  label="$m"
  run="$out/$m"
  if [ -n "${LR:-}" ]; then lr="$LR"; label="$m (lr $LR)"; run="$out/$m-lr$LR"; fi
  rm -rf "$run"
  start=$(date +%s)
  "$bin" train --model "$model" --data "$task" --method "$m" --steps "$steps" --batch-size 4 --lr "$lr" \
    --max-length 256 --seed 42 --output "$run" --log-every 10 | tee "$run.log"
  seconds=$(( $(date +%s) - start ))
  python3 - "$run/metrics.jsonl" "$label" "$seconds" "$run/summary.json" >>"$table" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
val = [r["val_loss"] for r in rows if "val_loss" in r]
train = [r["loss"] for r in rows if "loss" in r]
trainable = f"{json.load(open(sys.argv[4]))['trainable_parameters']:,}"
mean = lambda xs: sum(xs) / len(xs)
print(f"| {sys.argv[2]} | {trainable} | {val[0]:.4f} | {val[-1]:.4f} | {mean(train[:10]):.4f} | {mean(train[-10:]):.4f} | {sys.argv[3]} |")
PY
done
cat "$table"
