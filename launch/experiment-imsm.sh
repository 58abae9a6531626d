#!/usr/bin/env bash
# IMSM rows of the forgetting experiment (SmolLM2-135M, object_counting, lr 1e-3, the same settings as
# launch/experiment-forgetting.sh): LoRA and SECURA-M1 with and without IMSM, and IMSM's ablations
# (no-query, no-gate) on LoRA. Results: results/forgetting/imsm-lr1e-3/. The plain LoRA and SECURA-M1
# runs are taken from results/forgetting/lr1e-3/ when that experiment has run (same seed and settings).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
steps="${STEPS:-20}"
data="${SECURA_DATA:-$root/../shared/data}"
model="$(bash launch/fetch-model.sh)"
swift build -c release --product secura-dist >&2
run=("$root/.build/release/secura-dist")
[ -n "${NP:-}" ] && run=(bash launch/mpirun.sh -np "$NP" "${run[@]}")
out=results/forgetting/imsm-lr1e-3
mkdir -p "$out/object_counting"
for m in lora secura-m1; do
  from="results/forgetting/lr1e-3/object_counting/$m-lr0.001"
  [ -f "$from/eval.json" ] && [ ! -e "$out/object_counting/$m-lr0.001" ] && cp -r "$from" "$out/object_counting/"
done
start=$(date +%s)
"${run[@]}" experiment forgetting --model "$model" --task "$data/bigbench/object_counting.json" --steps "$steps" \
  --batch-size 4 --max-length 256 --seed 42 --task-limit "${TASK_LIMIT:-50}" --suite-limit "${SUITE_LIMIT:-20}" \
  --suite-dir "$data/glue-qa" --lr 1e-3 \
  --methods lora,lora+imsm,lora+imsm:no-query,lora+imsm:no-gate,secura-m1,secura-m1+imsm --output "$out"
echo "IMSM experiment wall time: $(( $(date +%s) - start )) s" | tee -a results/forgetting/wall-time.txt
bash launch/plot-forgetting.sh "$out" || echo "plotting failed; the table is in $out/results.md" >&2
