#!/usr/bin/env bash
# Multi-host checks on 2 namespace hosts (launch/cluster-up.sh), torn down on every exit:
#   - the doctor sees one node per host (rank → host map, node-shared memory once per host);
#   - SECURA-M1 on 2 hosts × 1 rank (TCP between them) gives a final state bit-identical to 1 rank;
#   - cutting one host's link (ip link set ... down) makes the watchdog end the job within 90 s with its
#     message, and the last checkpoint resumes to the uninterrupted result;
#   - freezing every process of one host (SIGSTOP on its daemon and rank) ends the job within 90 s, with the
#     watchdog's message and launch/mpirun_guard.py ending the mpirun that waits for the frozen daemon.
# Needs root (namespaces); skipped with a message otherwise.
#
#   launch/test-cluster.sh [path/to/secura-dist]      (default .build/release/secura-dist)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/secura-dist}"
source "$root/launch/env.sh"
source "$root/launch/test-lib.sh"
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "  ok    $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        /' <<<"$2" | tail -n 25; }
if [ "$(id -u)" -ne 0 ]; then
  echo "cluster: skipped (needs root for network namespaces)"
  echo "cluster: 0 passed, 0 failed"
  exit 0
fi
started=$(date +%s)
source "$root/launch/cluster-lib.sh"
cluster_log="$(mktemp)"
if ! cluster_start test-cluster 2 1 2>"$cluster_log"; then
  fail "cluster-up.sh 2" "$(cat "$cluster_log")"
  rm -f "$cluster_log"
  echo "cluster: $passed passed, $failed failed"
  exit 1
fi
rm -f "$cluster_log"
model="$(bash "$root/launch/fetch-model.sh")"
python3 "$root/launch/apples-task.py" "$work/task.jsonl"
common=(--model "$model" --data "$work/task.jsonl" --batch-size 4 --max-length 64 --lr 1e-3 --seed 7 --log-every 2
        --threads 1 --cabr-init slice --method secura-m1)
steps=8

echo "cluster: 2 namespace hosts"
out="$(timeout 300 bash "$mpi" -np 2 "$bin" doctor 2>&1)"
if [ $? -eq 0 ] && grep -q "rank 0 -> node1 (local 0 of 1)" <<<"$out" && grep -q "rank 1 -> node2 (local 0 of 1)" <<<"$out" \
   && grep -q "per node on 2 nodes" <<<"$out"; then ok "doctor: rank 0 on node1, rank 1 on node2, node-shared memory once per host"
else fail "doctor on 2 hosts" "$out"; fi

echo "cluster: 2 hosts × 1 rank vs 1 rank"
out1="$("$bin" train "${common[@]}" --steps "$steps" --output "$work/one" 2>&1)" || fail "1-rank run" "$out1"
out2="$(timeout 600 bash "$mpi" -np 2 "$bin" train "${common[@]}" --steps "$steps" --output "$work/two" 2>&1)"
if [ $? -eq 0 ] && grep -q "2 ranks on 2 node(s)" <<<"$out2"; then
  ok "secura-m1 trains on 2 hosts ($(python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(f"all-reduce {100 * s["allreduce_share"]:.1f}% of step time, hosts {sorted(set(s["hosts"]))}")' "$work/two/summary.json"))"
  cmp="$(python3 "$root/launch/compare_bits.py" "$work/two/adapter" "$work/one/adapter" 2>&1)" \
    && ok "2 hosts × 1 rank equal 1 rank after $steps steps ($cmp)" || fail "2 hosts differ from 1 rank" "$cmp"
else
  fail "secura-m1 on 2 hosts" "$out2"
fi

echo "cluster: a cut link"
timeout 600 bash "$mpi" -np 2 "$bin" train "${common[@]}" --steps "$steps" --save-every 2 --collective-timeout 20 \
  --output "$work/cut" >"$work/cut.log" 2>&1 &
job=$!
for _ in $(seq 1 3000); do [ -d "$work/cut/checkpoints/step-00000002" ] && break; kill -0 "$job" 2>/dev/null || break; sleep 0.2; done
if [ ! -d "$work/cut/checkpoints/step-00000002" ]; then
  fail "no checkpoint before the cut" "$(cat "$work/cut.log")"
else
  ip link set secura-v2 down
  cut_at=$(date +%s)
  wait "$job"; status=$?
  elapsed=$(( $(date +%s) - cut_at ))
  if [ $status -ne 0 ] && [ $elapsed -le 90 ] && grep -q "did not complete within 20 s.*ranks that did not arrive: 1 (" "$work/cut.log"; then
    ok "cut link to node2: the watchdog ends the job ${elapsed}s after the cut, naming rank 1 (exit $status)"
  else
    fail "cut link: status $status after ${elapsed}s" "$(cat "$work/cut.log")"
  fi
  grep -h "watchdog:" "$work/cut.log" | head -n 1 | sed 's/^/        /'
  resume_and_compare "before the cut" "$work/cut" "$work/one" "${common[@]}" --steps "$steps"
fi

echo "cluster: a frozen host"
# Every process of node2 (its Open MPI daemon and its rank) stopped: the watchdog on node1 aborts the job,
# but mpirun would wait forever for the frozen daemon; launch/mpirun_guard.py ends it and exits 75.
ip link set secura-v2 up
timeout 300 python3 "$root/launch/mpirun_guard.py" --grace 10 -- bash "$mpi" -np 2 "$bin" train "${common[@]}" \
  --steps "$steps" --save-every 2 --collective-timeout 10 --output "$work/frozen" >"$work/frozen.log" 2>&1 &
job=$!
for _ in $(seq 1 3000); do [ -d "$work/frozen/checkpoints/step-00000002" ] && break; kill -0 "$job" 2>/dev/null || break; sleep 0.2; done
if [ ! -d "$work/frozen/checkpoints/step-00000002" ]; then
  fail "no checkpoint before freezing node2" "$(cat "$work/frozen.log")"
else
  frozen="$(ip netns pids node2)"
  kill -STOP $frozen
  frozen_at=$(date +%s)
  wait "$job"; status=$?
  elapsed=$(( $(date +%s) - frozen_at ))
  kill -CONT $frozen 2>/dev/null; kill -9 $frozen 2>/dev/null
  if [ $status -eq 75 ] && [ $elapsed -le 90 ] && grep -q "did not complete within 10 s.*ranks that did not arrive: 1 (" "$work/frozen.log" \
     && grep -q "mpirun_guard: the watchdog aborted the job" "$work/frozen.log"; then
    ok "frozen node2: watchdog message, then mpirun_guard ends mpirun ${elapsed}s after the freeze (exit 75)"
  else
    fail "frozen host: status $status after ${elapsed}s" "$(cat "$work/frozen.log")"
  fi
  resume_and_compare "before the freeze" "$work/frozen" "$work/one" "${common[@]}" --steps "$steps"
fi

echo "cluster: took $(( $(date +%s) - started )) s"
echo "cluster: $passed passed, $failed failed"
[ $failed -eq 0 ]
