#!/usr/bin/env bash
# The gradient all-reduce over emulated links (issue 12, item 5). Makes its own namespace hosts (root), one
# rank per host, and for each link profile (unshaped veth, 10 Gbit/s, 1 Gbit/s; launch/cluster-link.sh):
#   - `secura-dist bench --allreduce` at sizes from 1 value to Llama-3-8B's SECURA gradient (3,840,000
#     q+v values over 32 layers, plus the loss sum and token count) on 2, 3 and 4 hosts, with each of
#     libnbc's binomial tree, ring and reduce-scatter/allgather algorithms (MCA
#     coll_libnbc_iallreduce_algorithm 2, 1, 3; 0 is libnbc's own choice: the binomial tree below 4 ranks,
#     reduce-scatter/allgather from 4 ranks for secura-dist's large sums);
#   - a SmolLM2 SECURA-M1 training run on 2 hosts × 1 rank, whose summary.json gives the all-reduce's
#     share of a real step.
# Then launch/network_model.py fits the latency–bandwidth model and extrapolates (CSV, table, PNG).
#
#   launch/bench-network.sh [secura-dist]     # writes results/scaling/network/
#   PROFILES="none 1gbit" HOSTS="2 4" ALGORITHMS="2 3" ITERATIONS=5 launch/bench-network.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/secura-dist}"
[ -x "$bin" ] || { echo "bench-network: no executable at $bin (swift build -c release)" >&2; exit 2; }
source "$root/launch/env.sh"
profiles="${PROFILES:-none 10gbit 1gbit}"
hosts="${HOSTS:-2 3 4}"
algorithms="${ALGORITHMS:-2 1 3}"
iterations="${ITERATIONS:-5}"
out="${OUT:-$root/results/scaling/network}"
max_hosts=$(tr ' ' '\n' <<<"$hosts" | sort -n | tail -1)
source "$root/launch/cluster-lib.sh"
cluster_start bench-network "$max_hosts" 1
model="$(bash "$root/launch/fetch-model.sh")"
mkdir -p "$out"
python3 "$root/launch/apples-task.py" "$work/task.jsonl"
# SmolLM2's SECURA-M1 gradient size, from a 1-step single-process run's summary.
"$bin" train --model "$model" --data "$work/task.jsonl" --method secura-m1 --cabr-init slice --steps 1 \
  --batch-size 4 --max-length 64 --threads 1 --output "$work/size" >/dev/null
smol=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["allreduce_values"])' "$work/size/summary.json")
sizes="1,1000,10000,100000,1000000,$smol,3840002"
echo "bench-network: sizes $sizes (SmolLM2 SECURA-M1: $smol values); hosts $hosts; profiles $profiles; $iterations iterations"
{
  echo "date: $(date -u +%FT%TZ)"; echo "host: $(hostname), $(nproc) cores"; echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "open mpi: $(mpirun --version 2>/dev/null | head -1)"; echo "secura-dist: $(git -C "$root" rev-parse --short HEAD)"
} >"$out/machine.txt"
for profile in $profiles; do
  bash "$root/launch/cluster-link.sh" "$profile" >/dev/null
  for p in $hosts; do
    for a in $algorithms; do
      name="allreduce-$profile-p$p-a$a"
      echo "  $name"
      bash "$mpi" -np "$p" --map-by node --mca coll_libnbc_iallreduce_algorithm "$a" "$bin" bench \
        --allreduce "$sizes" --iterations "$iterations" --warmup 1 --threads 1 --json >"$work/$name.out" 2>"$work/$name.err" \
        || { echo "bench-network: $name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
      grep '^{' "$work/$name.out" | tail -1 >"$out/$name.json"
    done
  done
  echo "  train-$profile (2 hosts × 1 rank, SmolLM2 SECURA-M1)"
  bash "$mpi" -np 2 --map-by node "$bin" train --model "$model" --data "$work/task.jsonl" --method secura-m1 \
    --cabr-init slice --steps 6 --batch-size 4 --max-length 64 --threads 1 --lr 1e-3 --seed 7 \
    --output "$work/train-$profile" >"$work/train-$profile.log" 2>&1 \
    || { echo "bench-network: training over $profile links failed:" >&2; tail -5 "$work/train-$profile.log" >&2; exit 1; }
  cp "$work/train-$profile/summary.json" "$out/train-$profile.json"
done
bash "$root/launch/cluster-link.sh" none >/dev/null
bash "$root/launch/plot-python.sh" "$root/launch/network_model.py" "$out"
