#!/usr/bin/env bash
# The README's demo: installs what is missing, builds secura-dist (release), and runs it on a model.
# Today: inspect and score the committed tiny Llama fixture, single-process and under mpirun -np 2.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash launch/setup.sh
source launch/env.sh
swift build -c release --product secura-dist
bin="$root/.build/release/secura-dist"
model="$root/Tests/Fixtures/tiny-llama"
echo "== secura-dist inspect $model"
"$bin" inspect "$model"
echo "== secura-dist score (next-token losses of 12 tokens)"
"$bin" score "$model" --tokens 254,199,117,111,67,231,13,21,205,11,170,15
echo "== the same under mpirun -np 2 (only rank 0 prints)"
bash launch/mpirun.sh -np 2 "$bin" score "$model" --tokens 254,199,117,111,67,231,13,21,205,11,170,15
echo "== native libraries and MPI check"
bash launch/mpirun.sh -np 2 "$bin" doctor
