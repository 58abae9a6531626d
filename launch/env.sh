#!/usr/bin/env bash
# Sourced by the launch scripts (demo, bench, Slurm): picks OpenBLAS's kernels for this CPU.
#
# Debian's OpenBLAS 0.3.21 does not recognise some newer (often virtualised) Xeons and falls back to its
# generic "Prescott" SSE3 kernels, several times slower (measured here: sgemm 16 vs 92 GFLOP/s, one
# thread). OPENBLAS_CORETYPE is read when the library loads, so it must be set before secura-dist starts.
# An explicit OPENBLAS_CORETYPE in the environment is always respected; `secura-dist doctor` reports
# which kernels are in use. Under mpirun across nodes, pass it on with `-x OPENBLAS_CORETYPE`.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ] && [ "$(uname -m)" = "x86_64" ]; then
  flags="$(grep -m1 '^flags' /proc/cpuinfo)"
  case " $flags " in
    *" avx512f "*" avx512bw "*|*" avx512bw "*" avx512f "*) export OPENBLAS_CORETYPE=SkylakeX ;;
    *" avx2 "*) export OPENBLAS_CORETYPE=Haswell ;;
  esac
fi
