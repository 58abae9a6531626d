#!/usr/bin/env bash
# Issue 15's direct test of the step-size hypothesis by a function-preserving rescaling (results/fidelity/README.md):
# SmolLM2-135M is rewritten with W_q, W_v × S and W_k, W_o ÷ S in every layer (launch/rescale_attention.py;
# the model computes the same function, exactly so for S a power of two), then the same fine-tuning runs as the
# fidelity study (object_counting, 20 steps of 4 × 256 tokens, retention suite) are made on each S. The hypothesis
# predicts that CABR's change, built from slices of W_q/W_v, moves the function ~S² times as far at a given
# learning rate, and LoRA's ~1/S times: SECURA-M1 should retain more at S = 1/4, LoRA less.
#
#   launch/study-rescale.sh [OUTPUT]        (default results/fidelity/rescale; ~25 min on 2 quiet cores)
#   SCALES="0.25 1 4" METHODS="lora@lr=1e-3,secura-m1@lr=1e-4" launch/study-rescale.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
out="${1:-results/fidelity/rescale}"
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
data="${SECURA_DATA:-$root/../shared/data}"
task="${TASK:-$data/bigbench/object_counting.json}"
scales="${SCALES:-0.25 1 4}"
methods="${METHODS:-lora@lr=1e-3,lora@lr=1e-2,secura-m1@lr=1e-4,secura-m1@lr=1e-3}"
gguf="$(bash launch/fetch-model.sh)"
swift build -c release --product secura-dist >&2
bin="$root/.build/release/secura-dist"
mkdir -p "$out"

# SmolLM2 as an fp32 Hugging Face folder (launch/smollm2-fp32.sh); checked below: it scores as the GGUF does.
base="$(bash launch/smollm2-fp32.sh)"

text="Question: how many apples are there if I have three apples and two pears? Answer: three."
echo "# score of one text (function preserved?)" > "$out/scores.md"
echo "| model | loss |" >> "$out/scores.md"; echo "|---|---|" >> "$out/scores.md"
loss() { "$bin" score "$1" --text "$text" | python3 -c 'import json, sys; d = json.load(sys.stdin); print("%.7f (%d tokens)" % (d["loss"], d["tokens"]))'; }
echo "| GGUF (Q4_1) | $(loss "$gguf") |" >> "$out/scores.md"
start=$(date +%s)
for s in $scales; do
  model="$cache/models/smollm2-135m-fp32-attn-x$s"
  [ "$s" = 1 ] && model="$base"
  [ -s "$model/model.safetensors" ] || python3 launch/rescale_attention.py "$base" "$model" "$s"
  echo "| fp32 folder, S = $s | $(loss "$model") |" >> "$out/scores.md"
  "$bin" experiment forgetting --model "$model" --task "$task" --methods "$methods" \
    --steps "${STEPS:-20}" --batch-size 4 --max-length 256 --seeds "${SEEDS:-42}" --task-limit "${TASK_LIMIT:-40}" \
    --suite-limit "${SUITE_LIMIT:-30}" --suite-dir "$data/glue-qa" --output "$out/scale-$s"
done
echo "rescale study wall time: $(( $(date +%s) - start )) s" | tee -a "$out/wall-time.txt"
{ cat "$out/scores.md"; echo; python3 launch/rescale_table.py "$out" $scales; } > "$out/results.md"
cat "$out/results.md"
