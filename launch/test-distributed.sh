#!/usr/bin/env bash
# Multi-process training checks under real mpirun, on SmolLM2 and a small generated task:
#   - np 1 and np 2 give the same final adapters (and SECURA-M1 merged weights) within 1e-5 relative;
#   - killing one rank ends the job promptly, the last checkpoint stays valid, and resuming it on
#     another rank count reaches the same final state as an uninterrupted run;
#   - a rank paused for less than --collective-timeout is waited for; a rank stopped for good (SIGSTOP) makes
#     the watchdog end the job within 90 s naming it (exit 75), and the last checkpoint resumes;
#   - a malformed data line aborts the whole job with a message naming the rank, the file and the line;
#   - 3-task `experiment continual` sequences with EWC (full) and with replay (LoRA) leave the same state after
#     every task on 2 ranks as on 1, byte for byte (needs ~16 GB free under TMPDIR).
#
#   launch/test-distributed.sh [path/to/secura-dist]      (default .build/debug/secura-dist)
#   METHODS="secura-m1 lora cur-lora" STEPS=20 launch/test-distributed.sh
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/debug/secura-dist}"
source "$root/launch/test-lib.sh"
mpi="$root/launch/mpirun.sh"
# Many SmolLM2 steps: use the CPU's OpenBLAS kernels (an OPENBLAS_CORETYPE already set is kept).
source "$root/launch/env.sh"
steps="${STEPS:-20}"
methods="${METHODS:-secura-m1 lora cur-lora}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "  ok    $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        /' <<<"$2" | tail -n 25; }

# The comparison scripts below must be able to fail: fed NaN, mismatched, one-sided and empty folders.
cmp="$(python3 "$root/launch/check_compare_scripts.py" 2>&1)" \
  && ok "compare_states.py and compare_bits.py fail on NaN, Inf, mismatches, one-sided and empty inputs" \
  || fail "the comparison scripts accept a broken input" "$cmp"

model="$(bash "$root/launch/fetch-model.sh")"
python3 "$root/launch/apples-task.py" "$work/task.jsonl"
common=(--model "$model" --data "$work/task.jsonl" --batch-size 4 --max-length 64 --lr 1e-3 --seed 7 --log-every 10 --check-every 5 --threads 1)

echo "distributed: np 1 vs np 2"
# CABR's A comes from the slice identity here: LAPACK (1 rank) and ScaLAPACK (2 ranks) SVDs agree only to
# ~1e-7, and Adam turns such differences in near-zero gradient components into different trajectories.
for m in $methods; do
  out1="$("$bin" train "${common[@]}" --cabr-init slice --method "$m" --steps "$steps" --output "$work/$m-np1" 2>&1)" || { fail "$m np 1 run" "$out1"; continue; }
  out2="$("$mpi" -np 2 "$bin" train "${common[@]}" --cabr-init slice --method "$m" --steps "$steps" --output "$work/$m-np2" 2>&1)" || { fail "$m np 2 run" "$out2"; continue; }
  cmp="$(python3 "$root/launch/compare_states.py" "$work/$m-np2/adapter/state.safetensors" "$work/$m-np1/adapter/state.safetensors" --rtol 1e-5 2>&1)" \
    && ok "$m: np 2 equals np 1 after $steps steps ($cmp)" || fail "$m: np 2 differs from np 1" "$cmp"
  if [ "$m" = secura-m1 ]; then
    grep -q "ranks on 1 node" <<<"$out2" && ok "np 2 prints the rank map" || fail "np 2 rank map" "$out2"
    [ "$(grep -c '^step ' <<<"$out2")" -eq "$(grep -c '^step ' <<<"$out1")" ] && ok "only rank 0 prints progress" || fail "progress lines" "$out2"
  fi
done
# A_init three ways on every adapted matrix of SmolLM2: ScaLAPACK on 2 ranks, LAPACK on 1, and the slice
# identity W[:r, :m]. One step with no weight decay: with fusion-step 1, A's gradient is exactly zero.
out="$("$mpi" -np 2 "$bin" train "${common[@]}" --cabr-init svd --cabr-svd-solver scalapack --weight-decay 0 --method secura-m1 --steps 1 --output "$work/svd-np2" 2>&1)"
[ $? -eq 0 ] && grep -q "ScaLAPACK" <<<"$out" && ok "SECURA-M1 with the SVD init runs on 2 ranks (ScaLAPACK)" || fail "SVD init on 2 ranks" "$out"
for other in "svd LAPACK" "slice slice-identity"; do
  set -- $other
  out="$("$bin" train "${common[@]}" --cabr-init "$1" --weight-decay 0 --method secura-m1 --steps 1 --output "$work/init-$1" 2>&1)" || { fail "init $1 on 1 rank" "$out"; continue; }
  cmp="$(python3 "$root/launch/compare_states.py" "$work/svd-np2/adapter/state.safetensors" "$work/init-$1/adapter/state.safetensors" --suffix .cabr_A --rtol 1e-5 2>&1)" \
    && ok "A from ScaLAPACK on 2 ranks equals the $2 A on 1 rank ($cmp)" || fail "ScaLAPACK A vs $2 A" "$cmp"
done
# The default dealt path (whole matrices dealt to ranks, LAPACK dgesdd each, A broadcast from its owner):
# on 2 ranks bit-identical to 1 rank (the same local SVD per matrix), equal to the slice identity, and
# written to --cabr-init-cache; a second run reads the cache and gets the same bits.
svd_args=(train "${common[@]}" --cabr-init svd --weight-decay 0 --method secura-m1 --steps 1 --cabr-init-cache "$work/cabr-cache")
out="$("$mpi" -np 2 "$bin" "${svd_args[@]}" --output "$work/dealt-np2" 2>&1)"
if [ $? -eq 0 ] && grep -q "dealt to ranks (2 ranks)" <<<"$out" && grep -q "cabr init: wrote cache" <<<"$out"; then
  ok "dealt SVD init runs on 2 ranks and writes the cache"
  cmp="$(python3 "$root/launch/compare_states.py" "$work/dealt-np2/adapter/state.safetensors" "$work/init-svd/adapter/state.safetensors" --suffix .cabr_A --rtol 0 2>&1)" \
    && ok "dealt A on 2 ranks is bit-identical to 1 rank ($cmp)" || fail "dealt A np 2 vs np 1" "$cmp"
  cmp="$(python3 "$root/launch/compare_states.py" "$work/dealt-np2/adapter/state.safetensors" "$work/init-slice/adapter/state.safetensors" --suffix .cabr_A --rtol 1e-5 2>&1)" \
    && ok "dealt A on 2 ranks equals the slice identity ($cmp)" || fail "dealt A vs slice" "$cmp"
  out="$("$mpi" -np 2 "$bin" "${svd_args[@]}" --output "$work/cached-np2" 2>&1)"
  cmp="$(python3 "$root/launch/compare_states.py" "$work/cached-np2/adapter/state.safetensors" "$work/dealt-np2/adapter/state.safetensors" --suffix .cabr_A --rtol 0 2>&1)"
  [ $? -eq 0 ] && grep -q "cabr init: read from cache" <<<"$out" && ok "a second run reads A from the cache, bit-identical ($cmp)" \
    || fail "cache re-run" "$out"$'\n'"$cmp"
else
  fail "dealt SVD init on 2 ranks" "$out"
fi

echo "distributed: task sequences with EWC and with experience replay (experiment continual)"
# Three tasks, fused at every switch, two steps each: full fine-tuning with the EWC penalty in tasks 2 and 3 (task
# 3's against the Fisher sum of tasks 1 and 2), and LoRA with half of every batch replayed in tasks 2 and 3 (task
# 3's buffer drawn from tasks 1 and 2). Every task's final state, EWC state (Fisher sum and anchor) and replay
# buffer on 2 ranks equal 1 rank's, byte for byte. Full fine-tuning of SmolLM2 writes ~2.4 GB per task, so each
# strategy runs as its own experiment, and its two folders (np 1, np 2: ~15 GB for EWC) are removed as soon as
# they are compared.
python3 "$root/launch/apples-task.py" "$work/t2.jsonl" 5 4
python3 "$root/launch/apples-task.py" "$work/t3.jsonl" 4 3
mkdir -p "$work/suite" && python3 "$root/launch/apples-task.py" "$work/suite/apples_test.jsonl" 2 2
seq=(experiment continual --model "$model" --tasks "$work/task.jsonl,$work/t2.jsonl,$work/t3.jsonl" --steps-per-task 2 --batch-size 4
     --max-length 64 --lr 1e-4 --seed 7 --suite apples_test --suite-dir "$work/suite" --suite-limit 2 --task-limit 2 --threads 1)
seq_gb=16
free_gb=$(( $(df -Pk "$work" | awk 'NR == 2 {print $4}') / 1024 / 1024 ))
if [ "$free_gb" -lt "$seq_gb" ]; then
  fail "EWC/replay sequences need ~$seq_gb GB free beside $work, $free_gb GB are (set TMPDIR to a larger disk)"
else
  # strategy: the method spec, its run folder, the file it leaves for the next task, and what its later tasks print
  for strategy in "ewc full@ewc-lambda=1e3,ewc-samples=4 full-ewc-lambda-1e3-ewc-samples-4-lr0.0001 ewc.safetensors ewc:.penalty.*/2-t2/ewc.safetensors" \
                  "replay lora@replay-size=8,replay-ratio=0.5 lora-replay-size-8-replay-ratio-0.5-lr0.0001 replay.json replay:.2.of.every.4.sequences.*/2-t2/replay.json"; do
    read -r name spec run state later <<<"$strategy"
    started=$(date +%s)
    out1="$("$bin" "${seq[@]}" --methods "$spec" --output "$work/seq-np1" 2>&1)"; s1=$?
    out2="$("$mpi" -np 2 "$bin" "${seq[@]}" --methods "$spec" --output "$work/seq-np2" 2>&1)"; s2=$?
    if [ $s1 -eq 0 ] && [ $s2 -eq 0 ]; then
      all_same=1; detail=""; compared=0
      for task in 1-task 2-t2 3-t3; do
        cmp="$(python3 "$root/launch/compare_bits.py" "$work/seq-np2/$run/$task/adapter" "$work/seq-np1/$run/$task/adapter" 2>&1)" \
          && compared=$((compared + 1)) || { all_same=0; detail+="$run/$task adapter: $cmp"$'\n'; }
        if [ -s "$work/seq-np1/$run/$task/$state" ] && cmp -s "$work/seq-np2/$run/$task/$state" "$work/seq-np1/$run/$task/$state"; then
          compared=$((compared + 1))
        else
          all_same=0; detail+="$run/$task/$state differs or is missing"$'\n'
        fi
      done
      # The third task must have trained against the second's state (the chain over three tasks, not two).
      grep -q "$later" <<<"$out1" || { all_same=0; detail+="task 3 did not use task 2's $state (no line matching '$later')"$'\n'; }
      [ $compared -eq 6 ] || { all_same=0; detail+="compared $compared of 6 files"$'\n'; }
      [ $all_same -eq 1 ] && ok "3-task sequence with $name ($spec): np 2 equals np 1 byte for byte (adapter and $state of every task; $(( $(date +%s) - started )) s)" \
        || fail "$name sequence np 2 vs np 1" "$detail"
    else
      fail "$name sequence (np 1 status $s1, np 2 status $s2)" "$out1"$'\n'"$out2"
    fi
    rm -rf "$work/seq-np1" "$work/seq-np2"
  done
fi

echo "distributed: a killed rank"
kill_steps=30
"$bin" train "${common[@]}" --cabr-init slice --method secura-m1 --steps "$kill_steps" --output "$work/straight" >/dev/null 2>&1 \
  || fail "uninterrupted reference run"
"$mpi" -np 2 "$bin" train "${common[@]}" --cabr-init slice --method secura-m1 --steps "$kill_steps" --save-every 5 --output "$work/killed" >"$work/killed.log" 2>&1 &
job=$!
# Wait (up to 10 minutes on a slow machine) for the second checkpoint, so there is one to resume from.
for _ in $(seq 1 3000); do [ -d "$work/killed/checkpoints/step-00000010" ] && break; sleep 0.2; done
victim="$(pgrep -f "secura-dist train .*--output $work/killed" | tail -n 1)"
if [ -z "$victim" ]; then
  fail "no rank to kill (the job ended before its second checkpoint?)" "$(cat "$work/killed.log")"
else
  killed_at=$(date +%s)
  kill -9 "$victim"
  wait "$job"; status=$?
  elapsed=$(( $(date +%s) - killed_at ))
  if [ $status -ne 0 ] && [ $elapsed -le 30 ]; then ok "job exits non-zero ($status) ${elapsed}s after SIGKILL of one rank"
  else fail "job after SIGKILL: status $status after ${elapsed}s" "$(cat "$work/killed.log")"; fi
  latest="$(ls -d "$work"/killed/checkpoints/step-* 2>/dev/null | sort | tail -n 1)"
  resume_and_compare "($(basename "$latest")) after the SIGKILL" "$work/killed" "$work/straight" \
    "${common[@]}" --cabr-init slice --method secura-m1 --steps "$kill_steps"
fi

echo "distributed: watchdog (a stopped rank)"
# Rank 1 is first paused for 10 s (a merely slow rank: the job must go on), then stopped for good after
# the second checkpoint: the watchdog must end the job within 90 s, naming rank 1, with exit status 75.
"$mpi" -np 2 "$bin" train "${common[@]}" --cabr-init slice --method secura-m1 --steps "$kill_steps" --save-every 5 \
  --collective-timeout 20 --output "$work/stopped" >"$work/stopped.log" 2>&1 &
job=$!
rank_pid() {  # the pid of world rank $1 of the job writing to $2
  for p in $(pgrep -f "secura-dist train .*--output $2"); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && { echo "$p"; return; }
  done
}
for _ in $(seq 1 3000); do [ -d "$work/stopped/checkpoints/step-00000005" ] && break; sleep 0.2; done
victim="$(rank_pid 1 "$work/stopped")"
if [ -z "$victim" ]; then
  fail "no rank 1 to stop" "$(cat "$work/stopped.log")"
else
  kill -STOP "$victim"; sleep 10; kill -CONT "$victim"
  for _ in $(seq 1 3000); do [ -d "$work/stopped/checkpoints/step-00000010" ] && break; kill -0 "$job" 2>/dev/null || break; sleep 0.2; done
  if [ -d "$work/stopped/checkpoints/step-00000010" ]; then ok "a rank paused for 10 s (under a 20 s deadline) is not killed"
  else fail "the job did not survive a 10 s pause of rank 1" "$(cat "$work/stopped.log")"; fi
  kill -STOP "$victim" 2>/dev/null
  stopped_at=$(date +%s)
  # A hang must not hang the test: give up (and kill the job) after 150 s.
  ( sleep 150; kill -9 "$victim" 2>/dev/null; kill "$job" 2>/dev/null ) & guard=$!
  wait "$job"; status=$?
  elapsed=$(( $(date +%s) - stopped_at ))
  kill "$guard" 2>/dev/null; kill -9 "$victim" 2>/dev/null
  if [ $status -eq 75 ] && [ $elapsed -le 90 ] && grep -q "did not complete within 20 s.*ranks that did not arrive: 1 (" "$work/stopped.log"; then
    ok "SIGSTOP of rank 1: the watchdog ends the job ${elapsed}s after the fault, naming rank 1 (exit $status)"
  else
    fail "SIGSTOP of rank 1: status $status after ${elapsed}s" "$(cat "$work/stopped.log")"
  fi
  grep -h "watchdog:" "$work/stopped.log" | head -n 1 | sed 's/^/        /'
  resume_and_compare "after the watchdog" "$work/stopped" "$work/straight" \
    "${common[@]}" --cabr-init slice --method secura-m1 --steps "$kill_steps"
fi

echo "distributed: malformed data"
cp "$work/task.jsonl" "$work/bad.jsonl"
echo '{"input": "broken", "output": }' >>"$work/bad.jsonl"
err="$("$mpi" -np 2 "$bin" train "${common[@]}" --cabr-init slice --method lora --data "$work/bad.jsonl" --steps 2 --output "$work/bad" 2>&1)"; status=$?
if [ $status -ne 0 ] && grep -q "error on rank" <<<"$err" && grep -q "bad.jsonl:31" <<<"$err"; then ok "malformed line aborts the job naming rank, file and line"
else fail "malformed line under mpirun (status $status)" "$err"; fi

echo "distributed: evaluation"
# Records are dealt to ranks and gathered in order: np 1 and np 2 must give the same predictions and scores.
for mode in teacher-forced generate; do
  args=(eval "$model" --adapter "$work/lora-np1/adapter" --data "$work/task.jsonl" --part all --limit 9 --mode "$mode"
        --max-new-tokens 6 --threads 1)
  e1="$("$bin" "${args[@]}" --output "$work/eval-$mode-np1.json" 2>&1)" || { fail "eval $mode np 1" "$e1"; continue; }
  e2="$("$mpi" -np 2 "$bin" "${args[@]}" --output "$work/eval-$mode-np2.json" 2>&1)" || { fail "eval $mode np 2" "$e2"; continue; }
  cmp="$(python3 - "$work/eval-$mode-np1.json" "$work/eval-$mode-np2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
ta, tb = a["tasks"][0], b["tasks"][0]
assert ta["count"] == tb["count"] == 9, (ta["count"], tb["count"])
assert [r["prediction"] for r in ta["records"]] == [r["prediction"] for r in tb["records"]], "predictions differ"
assert ta["metrics"] == tb["metrics"], (ta["metrics"], tb["metrics"])
print(f'{ta["primaryMetric"]} {ta["metrics"][ta["primaryMetric"]]:.4f}')
PY
)" && ok "eval ($mode) on np 2 equals np 1 ($cmp)" || fail "eval ($mode) np 2 vs np 1" "$cmp"
done

echo "distributed: $passed passed, $failed failed"
[ $failed -eq 0 ]
