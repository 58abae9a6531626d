#!/usr/bin/env bash
# SmolLM2-135M-Instruct as an fp32 Hugging Face folder in the cache (for launch/rescale_attention.py, which
# rescales safetensors): the merged fp32 export of a LoRA adapter trained one step at lr 1e-30 from the default
# GGUF, plus this checkout's SmolLM2 tokenizer files. The adapter's change (~1e-31) is below half an ulp of every
# non-zero weight, so the folder holds the dequantised GGUF weights (weights that are exactly zero become
# ±1e-31 or so); it scores a text as the GGUF does (launch/study-rescale.sh prints both). Prints the folder.
#
#   launch/smollm2-fp32.sh        # e.g. ~/.cache/secura-dist/models/smollm2-135m-fp32
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
data="${SECURA_DATA:-$root/../shared/data}"
base="$cache/models/smollm2-135m-fp32"
if [ -s "$base/model.safetensors" ]; then echo "$base"; exit 0; fi
gguf="$(bash launch/fetch-model.sh)"
swift build -c release --product secura-dist >&2
bin="$root/.build/release/secura-dist"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" train --model "$gguf" --data "$data/bigbench/object_counting.json" --method lora --steps 1 --lr 1e-30 \
  --batch-size 1 --max-length 64 --output "$work/run" >&2
"$bin" export --model "$gguf" --adapter "$work/run/adapter" --format merged --dtype fp32 --output "$work/fp32" >&2
cp Tests/Fixtures/tokenizers/smollm2/{tokenizer.json,tokenizer_config.json,chat_template.jinja} "$work/fp32/"
mkdir -p "$(dirname "$base")"
rm -rf "$base"
mv "$work/fp32" "$base"
echo "$base"
