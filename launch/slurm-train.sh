#!/usr/bin/env bash
# Slurm batch script: SECURA-M1 fine-tuning over MPI, one rank per node with BLAS threads on every core
# (ranks on a node share the merge targets and dequantised weights anyway; one per node keeps the
# gradient all-reduce to one message per node). Submit from the repository root after building:
#
#   swift build -c release --product secura-dist
#   sbatch --nodes 4 launch/slurm-train.sh MODEL DATA OUTPUT [extra secura-dist train flags...]
#
# Every node must see the same paths (a shared file system). To run one rank per core instead, use
# --ntasks-per-node=<cores> --cpus-per-task=1 (secura-dist then gives each rank one thread).
#SBATCH --job-name=secura-dist
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=04:00:00
#SBATCH --output=secura-dist-%j.out
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: sbatch [--nodes N] launch/slurm-train.sh MODEL DATA OUTPUT [train flags...]" >&2
  exit 2
fi
model=$1 data=$2 output=$3
shift 3
root="${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
source "$root/launch/env.sh"
threads="${SLURM_CPUS_PER_TASK:-1}"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
echo "secura-dist on ${SLURM_JOB_NUM_NODES:-1} node(s), ${SLURM_NTASKS:-1} rank(s), $threads thread(s) per rank"
# Resume automatically when the job is requeued: --resume auto picks the newest checkpoint in OUTPUT.
# mpirun_guard.py ends mpirun (exit 75, requeue) if it still waits for a frozen node's daemon 30 s after the
# watchdog aborted the job.
exec python3 "$root/launch/mpirun_guard.py" --grace 30 -- mpirun --map-by "ppr:${SLURM_NTASKS_PER_NODE:-1}:node:PE=$threads" --bind-to core \
  "$root/.build/release/secura-dist" train --model "$model" --data "$data" --output "$output" \
  --method secura-m1 --threads "$threads" --save-every 50 --resume auto --check-every 10 "$@"
