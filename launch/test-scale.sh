#!/usr/bin/env bash
# Llama-3-8B's layer widths in CI: a shape-faithful model with the real widths (C 4096, F 14336, 32 heads,
# 8 KV heads, vocab 128256, bf16, sharded) and 2 layers, made by `make-model`, then under real mpirun:
#   - SECURA-M1 with --recompute on 2 ranks is bit-identical to 1 rank (trainable values and merge masters);
#   - a 2-rank checkpoint resumes on 1 rank to the same final state, bit for bit;
#   - the merged export (fp32, sharded) scores the same loss as the model with the adapter;
#   - a run whose memory plan cannot fit is refused before loading.
#
#   launch/test-scale.sh [path/to/secura-dist]      (default .build/release/secura-dist)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/secura-dist}"
mpi="$root/launch/mpirun.sh"
source "$root/launch/env.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "  ok    $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        /' <<<"$2" | tail -n 25; }
seconds() { echo $(( $(date +%s) - $1 )); }

echo "scale: Llama-3-8B widths, 2 layers"
start=$(date +%s)
model="$work/llama-3-8b-2layers"
out="$("$bin" make-model --shape llama-3-8b --layers 2 --shard-size 1 --seed 3 --output "$model" 2>&1)"
if [ $? -eq 0 ] && [ -f "$model/model.safetensors.index.json" ]; then
  ok "make-model llama-3-8b --layers 2: $(ls "$model"/model-*.safetensors | wc -l) shards in $(seconds $start) s"
else
  fail "make-model" "$out"; echo "scale: $passed passed, $failed failed"; exit 1
fi
python3 "$root/launch/apples-task.py" "$work/task.jsonl"
common=(--model "$model" --data "$work/task.jsonl" --method secura-m1 --cabr-init slice --recompute --batch-size 2
        --max-length 64 --lr 1e-3 --seed 7 --no-chat --validation-limit 2 --check-every 1 --threads 1)
steps=4

run() {  # run NAME RANKS ARGS...
  local name=$1 ranks=$2; shift 2
  local t0=$(date +%s) log
  if [ "$ranks" -eq 1 ]; then log="$("$bin" train "${common[@]}" --output "$work/$name" "$@" 2>&1)"
  else log="$("$mpi" -np "$ranks" "$bin" train "${common[@]}" --output "$work/$name" "$@" 2>&1)"; fi
  local status=$?
  echo "$log" >"$work/$name.log"
  [ $status -eq 0 ] && ok "$name: $ranks rank(s) in $(seconds $t0) s" || fail "$name ($ranks ranks, status $status)" "$log"
  return $status
}
same() {  # same A B WHAT: every trainable tensor and merge master bit for bit
  local cmp
  cmp="$(python3 "$root/launch/compare_states.py" "$1/state.safetensors" "$2/state.safetensors" --rtol 0 2>&1)" \
    && ok "$3 ($cmp)" || fail "$3" "$cmp"
}

run np1 1 --steps $steps --save-every 2
run np2 2 --steps $steps --save-every 2
grep -q "recompute" "$work/np2.log" && ok "the start-up lines mention recomputation" || fail "no recompute line" "$(head -n 30 "$work/np2.log")"
same "$work/np2/adapter" "$work/np1/adapter" "np 2 equals np 1 after $steps steps with --recompute"

mkdir -p "$work/resumed/checkpoints"
cp -r "$work/np2/checkpoints/step-00000002" "$work/resumed/checkpoints/"
run resumed 1 --steps $steps --resume auto
grep -q "resumed from" "$work/resumed.log" || fail "the 2-rank checkpoint was not resumed" "$(cat "$work/resumed.log")"
same "$work/resumed/adapter" "$work/np1/adapter" "a 2-rank checkpoint resumed on 1 rank equals the uninterrupted run"

t0=$(date +%s)
out="$("$bin" export --model "$model" --adapter "$work/np2/adapter" --output "$work/merged" --dtype fp32 --shard-size 2 2>&1)"
if [ $? -eq 0 ] && [ -f "$work/merged/model.safetensors.index.json" ]; then
  ok "export --format merged, fp32, $(ls "$work"/merged/model-*.safetensors | wc -l) shards in $(seconds $t0) s"
  text="How many apples are 3 apples and 4 apples? 7"
  a="$("$bin" score "$work/merged" --text "$text" 2>&1)"
  b="$("$bin" score "$model" --adapter "$work/np2/adapter" --text "$text" 2>&1)"
  cmp="$(python3 - "$a" "$b" <<'PY'
import json, math, sys
a, b = (json.loads(s.strip().splitlines()[-1]) for s in sys.argv[1:])
la, lb = a["loss"], b["loss"]
assert math.isfinite(la) and math.isfinite(lb), (la, lb)
assert len(a["losses"]) == len(b["losses"]) > 0, "different token counts"
worst = max(abs(x - y) / max(abs(y), 1e-6) for x, y in zip(a["losses"], b["losses"]))
assert worst <= 1e-4, f"merged {la} vs adapter {lb}: worst per-position relative difference {worst:.2e}"
print(f"loss {la:.6f} vs {lb:.6f}, worst per-position relative difference {worst:.1e}")
PY
)" && ok "the merged export scores the adapted model's loss ($cmp)" || fail "merged export's loss" "$cmp"$'\n'"$a"$'\n'"$b"
else
  fail "export" "$out"
fi
rm -rf "$work/merged"

out="$("$mpi" -np 2 "$bin" train "${common[@]}" --steps 1 --memory-limit 0.2 --output "$work/np1" 2>&1)"; status=$?
if [ $status -ne 0 ] && grep -q "does not fit in this node's memory" <<<"$out" && ! grep -q "cabr init" <<<"$out" \
   && [ -f "$work/np1/adapter/state.safetensors" ]; then
  ok "a run that cannot fit is refused before loading, on every rank, leaving the earlier run intact"
else fail "memory refusal under mpirun (status $status)" "$out"; fi

echo "scale: $passed passed, $failed failed"
[ $failed -eq 0 ]
