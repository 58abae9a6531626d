#!/usr/bin/env bash
# The scaling experiment (issue 12, item 6): SmolLM2 SECURA-M1 training over namespace hosts × ranks per host,
# strong scaling (the global batch fixed) and weak scaling (the batch per rank fixed). Each run's numbers
# come from its OUTPUT/summary.json (never from log lines); launch/scaling_report.py writes the table, CSV and
# PNG plots into the output folder, with the all-reduce extrapolation of launch/bench-network.sh if its
# results are there. Makes and removes its own hosts (root).
#
#   launch/experiment-scaling.sh [secura-dist]        # writes results/scaling/
#   CONFIGS="1x1 2x1" STEPS=4 LINK=1gbit OUT=/tmp/scaling launch/experiment-scaling.sh
#
# CONFIGS: HOSTSxRANKS_PER_HOST items (default 1x1 1x2 2x1 2x2 4x1). LINK: none (default), 1gbit, 10gbit
# (launch/cluster-link.sh). STRONG_BATCH: global batch of strong scaling (default 8). WEAK_BATCH: sequences
# per rank in weak scaling (default 2). Every strong-scaling run is also compared byte for byte with the
# first configuration's run (1 × 1 by default; same global batch, same data order: the final state must not depend on the layout).
# All hosts share this machine's cores: with more ranks than cores, times measure time-sharing, not scaling.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/secura-dist}"
[ -x "$bin" ] || { echo "experiment-scaling: no executable at $bin (swift build -c release)" >&2; exit 2; }
source "$root/launch/env.sh"
configs="${CONFIGS:-1x1 1x2 2x1 2x2 4x1}"
steps="${STEPS:-6}"
link="${LINK:-none}"
strong_batch="${STRONG_BATCH:-8}"
weak_batch="${WEAK_BATCH:-2}"
out="${OUT:-$root/results/scaling}"
data="${DATA:-$root/../shared/data/bigbench/object_counting.json}"
[ -f "$data" ] || data="$(bash "$root/launch/fetch-data.sh" object_counting)"
max_hosts=1; max_ranks=1
for c in $configs; do
  [[ "$c" =~ ^([1-9][0-9]*)x([1-9][0-9]*)$ ]] || { echo "experiment-scaling: $c: expected HOSTSxRANKS, e.g. 2x1" >&2; exit 2; }
  [ "${BASH_REMATCH[1]}" -gt "$max_hosts" ] && max_hosts="${BASH_REMATCH[1]}"
  [ "${BASH_REMATCH[2]}" -gt "$max_ranks" ] && max_ranks="${BASH_REMATCH[2]}"
done
source "$root/launch/cluster-lib.sh"
cluster_start experiment-scaling "$max_hosts" "$max_ranks"
bash "$root/launch/cluster-link.sh" "$link" >/dev/null
model="$(bash "$root/launch/fetch-model.sh")"
mkdir -p "$out/runs"
{
  echo "date: $(date -u +%FT%TZ)"; echo "host: $(hostname), $(nproc) cores"; echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "links: $link"; echo "data: $data"; echo "steps: $steps; strong batch $strong_batch; weak batch $weak_batch per rank"
  echo "secura-dist: $(git -C "$root" rev-parse --short HEAD)"
} >"$out/machine.txt"
common=(--model "$model" --data "$data" --method secura-m1 --cabr-init slice --steps "$steps" --max-length 128
        --micro-batch 1 --lr 1e-4 --seed 7 --threads 1 --save-every 0)
run() {  # run MODE HOSTS RANKS BATCH
  local mode="$1" h="$2" r="$3" batch="$4" name="$1-$2x$3" list="" k
  for k in $(seq 1 "$h"); do list+="${list:+,}10.77.0.$k:$r"; done
  echo "  $name: $h host(s) × $r rank(s), global batch $batch"
  if ! bash "$mpi" -np $((h * r)) --host "$list" --map-by node "$bin" train "${common[@]}" --batch-size "$batch" \
         --output "$work/$name" >"$out/runs/$name.log" 2>&1; then
    echo "experiment-scaling: $name failed (log: $out/runs/$name.log):" >&2
    tail -5 "$out/runs/$name.log" >&2
    exit 1
  fi
  cp "$work/$name/summary.json" "$out/runs/$name.json"
}
first="${configs%% *}"
echo "experiment-scaling: $configs; $steps steps; links $link; data $(basename "$data")"
for c in $configs; do
  h="${c%x*}"; r="${c#*x}"
  run strong "$h" "$r" "$strong_batch"
  if [ "$c" != "$first" ]; then
    if verdict="$(python3 "$root/launch/compare_bits.py" "$work/strong-$c/adapter" "$work/strong-$first/adapter" 2>&1)"; then
      echo "identical: $verdict" >"$out/runs/strong-$c.identity"
    else
      echo "differs: $verdict" >"$out/runs/strong-$c.identity"
    fi
  fi
  run weak "$h" "$r" $((weak_batch * h * r))
done
bash "$root/launch/plot-python.sh" "$root/launch/scaling_report.py" "$out"
