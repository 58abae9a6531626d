#!/usr/bin/env bash
# Forward+backward throughput benchmarks (tokens/s), one and two threads, on the 2-layer fixture shape
# and on SmolLM2-135M's shape with random weights (T = 256). Writes JSON lines to bench-out/ and a table.
#
#   launch/bench.sh                 # with the kernels launch/env.sh picks for this CPU
#   OPENBLAS_CORETYPE=Prescott launch/bench.sh   # force OpenBLAS's generic kernels, for comparison
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
swift build -c release --product secura-dist >&2
bin="$root/.build/release/secura-dist"
mkdir -p bench-out
out="bench-out/forward-backward-$(date +%Y%m%d-%H%M%S).jsonl"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" >&2
for grads in weights inputs; do
  for threads in 1 2; do
    "$bin" bench --preset tiny --tokens 256 --threads "$threads" --gradients "$grads" --iterations 20 --warmup 2 --json | tee -a "$out"
    "$bin" bench --preset smollm2-135m --tokens 256 --threads "$threads" --gradients "$grads" --iterations 3 --warmup 1 --json | tee -a "$out"
  done
done
echo "results in $out" >&2
