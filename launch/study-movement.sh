#!/usr/bin/env bash
# Issue 15: weight movement ‖W_after − W_before‖_F / ‖W_before‖_F of LoRA, CUR-LoRA and SECURA-M1 at the same
# learning rates on models whose adapted weights have different scales — SmolLM2-135M (real weights), the same
# model with W_q, W_v × 1/4 (launch/rescale_attention.py; same function) and a Llama-3-8B-shaped model (every
# width the real one, 2 layers, random weights of std 0.02 as in 7–8B models). The step-size hypothesis predicts
# CABR's relative movement to fall with the square of the weights' scale and LoRA's to rise as its inverse, so
# that SECURA-M1 moves far more than LoRA on SmolLM2 and less on the 8B shape. Writes OUTPUT/results.md.
#
#   launch/study-movement.sh [OUTPUT]       (default results/fidelity/movement; ~15 min on 2 quiet cores,
#                                            1.3 GB in the cache for the 8B-shaped model)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
out="${1:-results/fidelity/movement}"
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
data="${SECURA_DATA:-$root/../shared/data}"
task="${TASK:-$data/bigbench/object_counting.json}"
steps="${STEPS:-5}"
lrs="${LRS:-1e-4 1e-3}"
methods="${METHODS:-lora cur-lora secura-m1}"
bin="$root/.build/release/secura-dist"
swift build -c release --product secura-dist >&2
mkdir -p "$out"

# The models: SmolLM2 as an fp32 folder and rescaled (launch/smollm2-fp32.sh, launch/rescale_attention.py), the 8B shape.
smol="$(bash launch/smollm2-fp32.sh)"
small="$cache/models/smollm2-135m-fp32-attn-x0.25"
[ -s "$small/model.safetensors" ] || python3 launch/rescale_attention.py "$smol" "$small" 0.25
shaped="$cache/models/shaped-llama-3-8b-2layers"
if [ ! -s "$shaped/model.safetensors" ]; then
  df -h "$cache" >&2
  "$bin" make-model --shape llama-3-8b --layers 2 --dtype bf16 --output "$shaped" --force >&2
fi

start=$(date +%s)
for model in "$smol" "$small" "$shaped"; do
  for lr in $lrs; do
    for method in $methods; do
      run="$out/runs/$(basename "$model")/$method-lr$lr"
      [ -s "$run/summary.json" ] && continue
      rm -rf "$run"; mkdir -p "$(dirname "$run")"
      echo "== $(basename "$model") $method lr $lr" >&2
      "$bin" train --model "$model" --data "$task" --method "$method" --lr "$lr" --steps "$steps" --batch-size 2 \
        --max-length 64 --seed 42 --output "$run" > "$run.log" 2>&1 || { cat "$run.log" >&2; exit 1; }
      # Only the summary is kept: the adapter and checkpoints of an 8B-wide run are hundreds of MB.
      rm -rf "$run/adapter" "$run/adapter-peft" "$run/checkpoints"
    done
  done
done
echo "movement study wall time: $(( $(date +%s) - start )) s" | tee -a "$out/wall-time.txt"
python3 launch/movement_table.py "$out" "$smol" "$small" "$shaped" > "$out/results.md"
cat "$out/results.md"
