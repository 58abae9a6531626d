#!/usr/bin/env bash
# Bit-identity guard for refactors that must not change any number: trains every method (and a few
# variants: IMSM, --smagnorm output, fusion-step/bf16 merges) for 20 steps on SmolLM2 at 1 and 2 ranks and
# keeps every persisted state (the final adapter and the checkpoints after steps 10 and 20, with AdamW
# moments, EMA copies, long-term pairs and SECURA-M1's master rows) plus the losses.
#
#   launch/check-methods-identity.sh record DIR [path/to/secura-dist]   (default .build/release/secura-dist)
#   launch/check-methods-identity.sh compare REF_DIR NEW_DIR
#   CONFIGS="lora secura-m1" launch/check-methods-identity.sh record DIR   (a subset, by label)
# compare checks every state folder byte for byte (launch/compare_bits.py) and the per-step losses and
# gradient norms exactly; it fails on a missing run or folder, and when it compared nothing.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:?usage: check-methods-identity.sh record DIR [BIN] | compare REF NEW}"

# label → method flags. Every method of `secura-dist train --help`, plus variants with their own code paths.
declare -A flags=(
  [lora]="--method lora" [dora]="--method dora" [cur-lora]="--method cur-lora" [i-lora]="--method i-lora"
  [cabr-lora]="--method cabr-lora" [secura-m1]="--method secura-m1" [secura-m2]="--method secura-m2"
  [full]="--method full --lr 1e-4"
  [lora-imsm]="--method lora --imsm" [secura-m1-imsm]="--method secura-m1 --imsm"
  [secura-m1-output]="--method secura-m1 --smagnorm output"
  [secura-m1-fuse3-bf16]="--method secura-m1 --fusion-step 3 --merge-precision bf16"
)
labels="${CONFIGS:-lora dora cur-lora i-lora cabr-lora secura-m1 secura-m2 full lora-imsm secura-m1-imsm secura-m1-output secura-m1-fuse3-bf16}"
states="adapter checkpoints/step-00000010 checkpoints/step-00000020"

if [ "$mode" = record ]; then
  out="${2:?record needs DIR}"
  bin="${3:-$root/.build/release/secura-dist}"
  source "$root/launch/env.sh"
  model="$(bash "$root/launch/fetch-model.sh")"
  mkdir -p "$out"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  python3 "$root/launch/apples-task.py" "$work/task.jsonl"
  common=(--model "$model" --data "$work/task.jsonl" --batch-size 4 --max-length 48 --lr 1e-3 --seed 7 --steps 20
          --save-every 10 --log-every 10 --check-every 5 --threads 1 --cabr-init slice --cur-rank 32 --cabr-m 48)
  for label in $labels; do
    for np in 1 2; do
      run="$work/$label-np$np"
      # shellcheck disable=SC2086
      if ! log="$(mpirun --allow-run-as-root --oversubscribe -np "$np" "$bin" train "${common[@]}" ${flags[$label]} --output "$run" 2>&1)"; then
        echo "FAIL  $label np $np"; tail -n 20 <<<"$log"; exit 1
      fi
      dest="$out/$label-np$np"
      rm -rf "$dest"; mkdir -p "$dest"
      for s in $states; do mkdir -p "$dest/$s"; cp "$run/$s"/*.safetensors "$dest/$s/"; done
      python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    keys = [k for k in ("step", "loss", "val_loss", "grad_norm", "tokens") if k in r]
    print(json.dumps({k: r[k] for k in keys}, sort_keys=True))' "$run/metrics.jsonl" >"$dest/losses.jsonl"
      echo "recorded $label np $np"
    done
  done
elif [ "$mode" = compare ]; then
  ref="${2:?compare needs REF}"; new="${3:?compare needs NEW}"
  passed=0; failed=0
  for label in $labels; do
    for np in 1 2; do
      for s in $states; do
        if r="$(python3 "$root/launch/compare_bits.py" "$ref/$label-np$np/$s" "$new/$label-np$np/$s" 2>&1)"; then
          passed=$((passed + 1)); echo "  ok    $label np $np $s: $r"
        else
          failed=$((failed + 1)); echo "  FAIL  $label np $np $s: $r"
        fi
      done
      if [ -s "$ref/$label-np$np/losses.jsonl" ] && cmp -s "$ref/$label-np$np/losses.jsonl" "$new/$label-np$np/losses.jsonl"; then
        passed=$((passed + 1)); echo "  ok    $label np $np losses ($(wc -l <"$ref/$label-np$np/losses.jsonl") lines)"
      else
        failed=$((failed + 1)); echo "  FAIL  $label np $np losses differ or missing"
      fi
    done
  done
  echo "identity: $passed passed, $failed failed"
  [ $failed -eq 0 ] && [ $passed -gt 0 ]
else
  echo "unknown mode '$mode' (record or compare)"; exit 64
fi
