#!/usr/bin/env bash
# The project's test command (README; CI runs it through .ci/run): installs what is missing, fetches the
# default model, builds, runs the unit tests, then the command-line and multi-process (mpirun) checks.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash launch/setup.sh
bash launch/fetch-model.sh >/dev/null
start=$(date +%s)
swift build --build-tests
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
swift test 2>&1 | tee "$log"
unit_status=${PIPESTATUS[0]}
set -e
unit_line="$(grep -E "Executed [0-9]+ tests?" "$log" | tail -n 1)"
number() { grep -oE "$1" <<<"$2" | grep -oE "^[0-9]+" | head -n 1 || true; }
unit_total=$(number "[0-9]+ tests?" "$(grep -oE "Executed [0-9]+ tests?" <<<"$unit_line" | sed 's/Executed //')")
unit_failed=$(number "[0-9]+ failures?" "$unit_line")
unit_skipped=$(number "[0-9]+ tests? skipped" "$unit_line")
: "${unit_total:=0}" "${unit_failed:=1}" "${unit_skipped:=0}"
bin="$root/.build/debug/secura-dist"
# libFuzzer targets of every parser of untrusted bytes, ~20 s each (a sanitized build in .build/fuzz).
fuzz_status=0; bash launch/test-fuzz.sh | tee "$log" || fuzz_status=$?
fuzz_line="$(grep -E "^fuzz: [0-9]+ passed" "$log" | tail -n 1)"
cli_status=0; bash launch/test-cli.sh "$bin" | tee "$log" || cli_status=$?
cli_line="$(grep -E "^cli: [0-9]+ passed" "$log" | tail -n 1)"
mpi_status=0; bash launch/test-mpi.sh "$bin" | tee "$log" || mpi_status=$?
mpi_line="$(grep -E "^mpi: [0-9]+ passed" "$log" | tail -n 1)"
# Multi-process training runs many SmolLM2 steps: use the optimised build for them.
swift build -c release --product secura-dist
dist_status=0; bash launch/test-distributed.sh "$root/.build/release/secura-dist" | tee "$log" || dist_status=$?
dist_line="$(grep -E "^distributed: [0-9]+ passed" "$log" | tail -n 1)"
# Faults that must lose nothing: SIGKILL mid-checkpoint, a full disk (tmpfs, root), damaged checkpoints.
faults_status=0; bash launch/test-faults.sh "$root/.build/release/secura-dist" | tee "$log" || faults_status=$?
faults_line="$(grep -E "^faults: [0-9]+ passed" "$log" | tail -n 1)"
scale_status=0; bash launch/test-scale.sh "$root/.build/release/secura-dist" | tee "$log" || scale_status=$?
scale_line="$(grep -E "^scale: [0-9]+ passed" "$log" | tail -n 1)"
# Two namespace hosts (root only; the script always tears them down, also on failure).
cluster_status=0; bash launch/test-cluster.sh "$root/.build/release/secura-dist" | tee "$log" || cluster_status=$?
cluster_line="$(grep -E "^cluster: [0-9]+ passed" "$log" | tail -n 1)"
# A one-node Slurm (root only; installs slurm-wlm and munge, always stops its daemons).
slurm_status=0; bash launch/test-slurm.sh "$root/.build/release/secura-dist" | tee "$log" || slurm_status=$?
slurm_line="$(grep -E "^slurm: [0-9]+ passed" "$log" | tail -n 1)"
count() { grep -oE "[0-9]+ $2" <<<"$1" | grep -oE "[0-9]+" || echo 0; }
passed=$(( unit_total - unit_failed - unit_skipped + $(count "$fuzz_line" passed) + $(count "$cli_line" passed) + $(count "$mpi_line" passed) + $(count "$dist_line" passed) + $(count "$faults_line" passed) + $(count "$scale_line" passed) + $(count "$cluster_line" passed) + $(count "$slurm_line" passed) ))
failed=$(( unit_failed + $(count "$fuzz_line" failed) + $(count "$cli_line" failed) + $(count "$mpi_line" failed) + $(count "$dist_line" failed) + $(count "$faults_line" failed) + $(count "$scale_line" failed) + $(count "$cluster_line" failed) + $(count "$slurm_line" failed) ))
[ $unit_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $cli_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $mpi_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $dist_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $faults_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $fuzz_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $scale_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $cluster_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
[ $slurm_status -eq 0 ] || [ $failed -gt 0 ] || failed=1
echo "test.sh: build and tests took $(( $(date +%s) - start )) s"
echo "tests: $passed passed, $failed failed, $unit_skipped skipped"
[ $failed -eq 0 ]
