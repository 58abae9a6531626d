#!/usr/bin/env bash
# SmolLM2 training on namespace hosts against 1 rank on 1 host, per method: 2 hosts × 1 rank and
# 2 hosts × 2 ranks, final state (adapter, optimizer moments, SECURA-M1's merged weights from their row
# files) compared byte for byte (launch/compare_bits.py). Makes and removes its own 2-host cluster (root). Prints a Markdown table.
#
#   launch/cluster-train-check.sh [secura-dist] ;  METHODS="secura-m1 lora cur-lora" STEPS=8
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/secura-dist}"
source "$root/launch/env.sh"
methods="${METHODS:-secura-m1 lora cur-lora}"
steps="${STEPS:-8}"
source "$root/launch/cluster-lib.sh"
cluster_start cluster-train-check 2 2 || exit 1
model="$(bash "$root/launch/fetch-model.sh")"
python3 "$root/launch/apples-task.py" "$work/task.jsonl"
compare() { python3 "$root/launch/compare_bits.py" "$1" "$2" 2>&1; }
common=(--model "$model" --data "$work/task.jsonl" --batch-size 4 --max-length 64 --lr 1e-3 --seed 7 --threads 1
        --cabr-init slice --steps "$steps")
echo "| method | 2 hosts × 1 rank vs 1 rank | 2 hosts × 2 ranks vs 1 rank | rank map (2 × 2) |"
echo "|---|---|---|---|"
for m in $methods; do
  "$bin" train "${common[@]}" --method "$m" --output "$work/$m-1" >/dev/null 2>&1 || { echo "| $m | 1-rank run failed | | |"; continue; }
  r21="run failed"; r22="run failed"; map=""
  bash "$mpi" -np 2 --map-by node "$bin" train "${common[@]}" --method "$m" --output "$work/$m-21" >"$work/$m-21.log" 2>&1 \
    && r21="$(compare "$work/$m-21/adapter" "$work/$m-1/adapter")"
  bash "$mpi" -np 4 --map-by node "$bin" train "${common[@]}" --method "$m" --output "$work/$m-22" >"$work/$m-22.log" 2>&1 \
    && r22="$(compare "$work/$m-22/adapter" "$work/$m-1/adapter")"
  map="$(python3 -c 'import json, sys; print("; ".join(f"rank {r} → {h}" for r, h in enumerate(json.load(open(sys.argv[1]))["hosts"])))' "$work/$m-22/summary.json" 2>/dev/null)"
  echo "| $m | $r21 | $r22 | $map |"
done
