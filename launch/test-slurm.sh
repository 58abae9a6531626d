#!/usr/bin/env bash
# Slurm checks on a one-node Slurm started by launch/slurm-up.sh (root; always stopped again):
#   - `sbatch launch/slurm-train.sh` runs a 2-rank SmolLM2 SECURA-M1 job to completion;
#   - `scontrol requeue` of a running job restarts it, `--resume auto` continues from its last checkpoint,
#     and it ends with the same final state as the uninterrupted job, byte for byte;
#   - a rank stopped with SIGSTOP makes the watchdog exit 75, Slurm requeues the job (RequeueExit=75) and
#     the job resumes to the same final state;
#   - `srun --mpi=pmix -n 2 secura-dist doctor` starts 2 ranks without mpirun.
#
#   launch/test-slurm.sh [path/to/secura-dist]      (default .build/release/secura-dist; the batch script
#                                                    itself runs .build/release/secura-dist)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/secura-dist}"
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "  ok    $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        /' <<<"$2" | tail -n 60; }
if [ "$(id -u)" -ne 0 ]; then
  echo "slurm: skipped (needs root to start Slurm)"; echo "slurm: 0 passed, 0 failed"; exit 0
fi
started=$(date +%s)
export SECURA_SLURM_DIR="$(mktemp -d)/slurm"
chmod 755 "$(dirname "$SECURA_SLURM_DIR")"   # the munge user must reach the state folder
work="$(mktemp -d)"
trap 'bash "$root/launch/slurm-down.sh" >/dev/null 2>&1; rm -rf "$work" "$(dirname "$SECURA_SLURM_DIR")"' EXIT
trap 'exit 130' INT TERM
echo "slurm: one node"
if ! out="$(bash "$root/launch/slurm-up.sh" 2>&1)"; then
  fail "slurm-up.sh" "$out"; echo "slurm: $passed passed, $failed failed"; exit 1
fi
ok "slurmctld and slurmd up without systemd ($(tail -n 1 <<<"$out" | cut -d';' -f1))"
export SLURM_CONF="$SECURA_SLURM_DIR/slurm.conf"
# mpirun refuses root unless told; the batch script is meant for ordinary users and stays unchanged.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
model="$(bash "$root/launch/fetch-model.sh")"
python3 "$root/launch/apples-task.py" "$work/task.jsonl"
flags=(--steps 8 --batch-size 4 --max-length 64 --lr 1e-3 --seed 7 --cabr-init slice --save-every 2 --log-every 1)
submit=(sbatch --parsable --nodes 1 --ntasks-per-node 2 --cpus-per-task 1 --time 15)

"${submit[@]}" --wait --output "$work/straight.out" "$root/launch/slurm-train.sh" "$model" "$work/task.jsonl" "$work/straight" "${flags[@]}" >/dev/null
status=$?
if [ $status -eq 0 ] && grep -q "^done: 8 steps" "$work/straight.out" && grep -q "2 ranks on 1 node" "$work/straight.out"; then
  ok "sbatch launch/slurm-train.sh: 2 ranks, 8 steps, rank map and progress in the job's output"
else
  fail "sbatch launch/slurm-train.sh (status $status)" "$(cat "$work/straight.out" 2>/dev/null)"
fi

echo "slurm: requeue"
job="$("${submit[@]}" --requeue --open-mode append --output "$work/requeued.out" "$root/launch/slurm-train.sh" "$model" "$work/task.jsonl" "$work/requeued" "${flags[@]}")"
for _ in $(seq 1 1500); do [ -d "$work/requeued/checkpoints/step-00000004" ] && break; sleep 0.2; done
if [ ! -d "$work/requeued/checkpoints/step-00000004" ]; then
  fail "no checkpoint to requeue from" "$(cat "$work/requeued.out" 2>/dev/null)"
else
  scontrol requeue "$job"
  requeued_at=$(date +%s)
  # Slurm holds a requeued job back for cred_expire seconds (20 in slurm-up.sh's slurm.conf).
  for _ in $(seq 1 1800); do
    state="$(scontrol show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)"
    case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
    sleep 0.5
  done
  if [ "$state" = COMPLETED ] && grep -q "resumed from .*step-0000000[4-8]" "$work/requeued.out"; then
    ok "scontrol requeue: the job ran again and resumed ($(grep -o 'resumed from [^ ]*' "$work/requeued.out" | tail -n 1 | sed 's|.*/||')), $(( $(date +%s) - requeued_at )) s after the requeue"
    cmp="$(python3 "$root/launch/compare_bits.py" "$work/requeued/adapter" "$work/straight/adapter" 2>&1)" \
      && ok "the requeued job's final state equals the uninterrupted job's byte for byte ($cmp)" \
      || fail "requeued job's final state differs" "$cmp"
  else
    fail "requeued job: state $state" "$(cat "$work/requeued.out" 2>/dev/null)"
  fi
fi

echo "slurm: watchdog exit, requeued by Slurm (RequeueExit=75)"
job="$("${submit[@]}" --requeue --open-mode append --output "$work/auto.out" "$root/launch/slurm-train.sh" "$model" "$work/task.jsonl" "$work/auto" "${flags[@]}" --collective-timeout 20)"
for _ in $(seq 1 1500); do [ -d "$work/auto/checkpoints/step-00000004" ] && break; sleep 0.2; done
victim=""
for p in $(pgrep -f "secura-dist train .*--output $work/auto"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$p
done
if [ -z "$victim" ]; then
  fail "no rank 1 to stop" "$(cat "$work/auto.out" 2>/dev/null)"
else
  kill -STOP "$victim"
  stopped_at=$(date +%s)
  requeued_after=""
  for _ in $(seq 1 1800); do
    info="$(scontrol show job "$job" 2>/dev/null)"
    state="$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2)"
    [ "$state" = PENDING ] && [ -z "$requeued_after" ] && requeued_after=$(( $(date +%s) - stopped_at ))
    case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
    sleep 0.5
  done
  kill -9 "$victim" 2>/dev/null
  if [ "$state" = COMPLETED ] && [ -n "$requeued_after" ] && grep -q "did not complete within 20 s.*ranks that did not arrive: 1 (" "$work/auto.out" \
     && grep -q "resumed from" "$work/auto.out"; then
    ok "SIGSTOP of rank 1: watchdog exit 75, Slurm requeued the job ${requeued_after}s after the fault, and it resumed to completion"
    cmp="$(python3 "$root/launch/compare_bits.py" "$work/auto/adapter" "$work/straight/adapter" 2>&1)" \
      && ok "the automatically requeued job ends with the uninterrupted job's state byte for byte ($cmp)" \
      || fail "automatically requeued job's final state differs" "$cmp"
  else
    fail "watchdog + RequeueExit: state $state, requeued after ${requeued_after:-never}" "$(cat "$work/auto.out" 2>/dev/null
      echo "--- scontrol show job $job"; scontrol show job "$job" 2>&1 | grep -E "JobState|Reason|Restarts|ExitCode"
      echo "--- slurmctld.log"; grep -E "JobId=$job|job_id=$job|$job" "$SECURA_SLURM_DIR/log/slurmctld.log" 2>/dev/null | tail -n 12
      echo "--- slurmd.log"; tail -n 12 "$SECURA_SLURM_DIR/log/slurmd.log" 2>/dev/null)"
  fi
fi

echo "slurm: srun"
out="$(srun --mpi=pmix -n 2 --time 5 "$bin" doctor 2>&1)"
if [ $? -eq 0 ] && grep -q "rank 1 -> " <<<"$out" && grep -q "doctor: ok" <<<"$out"; then ok "srun --mpi=pmix -n 2 secura-dist doctor"
else fail "srun --mpi=pmix -n 2" "$out"; fi

echo "slurm: took $(( $(date +%s) - started )) s"
echo "slurm: $passed passed, $failed failed"
[ $failed -eq 0 ]
