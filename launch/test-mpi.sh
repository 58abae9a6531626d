#!/usr/bin/env bash
# Multi-process checks of the MPI layer: runs `secura-dist doctor` as a plain process and under
# `mpirun -np 1`, `-np 2` and `-np 4`, and checks that each run succeeds, reports "doctor: ok" and
# "node-shared memory: ok", and that only rank 0 wrote anything (mpirun --tag-output labels every line
# with its rank). `doctor --shm` adds node-shared memory's lifecycle and error paths (a count mismatch
# between a node's ranks, explicit frees, windows left for MPI_Finalize). Ends with the line
# `mpi: N passed, M failed` and exits non-zero if anything failed.
#
# Usage: launch/test-mpi.sh [path/to/secura-dist]   (default .build/debug/secura-dist)
# Environment: MPI_TEST_TIMEOUT seconds per run (default 300).
set -euo pipefail

binary="${1:-.build/debug/secura-dist}"
timeout_seconds="${MPI_TEST_TIMEOUT:-300}"
passed=0
failed=0

if [[ ! -x "$binary" ]]; then
    echo "test-mpi: no executable at $binary (build first: swift build)" >&2
    echo "mpi: 0 passed, 1 failed"
    exit 1
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "test-mpi: mpirun not found (apt-get install openmpi-bin)" >&2
    echo "mpi: 0 passed, 1 failed"
    exit 1
fi

mpirun_flags=(--oversubscribe --tag-output)
if [[ "$(id -u)" == "0" ]]; then
    mpirun_flags+=(--allow-run-as-root)
fi

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL $1: $2"
    if [[ -s "$work_dir/out" ]]; then sed 's/^/    | /' "$work_dir/out"; fi
}

# run_case NAME EXPECT_TAGS COMMAND...: runs COMMAND with stdout+stderr in $work_dir/out.
# EXPECT_TAGS=yes means lines carry mpirun's [job,rank]<stream>: tags and only rank 0 may write.
run_case() {
    local name="$1" tagged="$2"
    shift 2
    local status=0
    timeout "$timeout_seconds" "$@" >"$work_dir/out" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        fail "$name" "exit status $status"
        return
    fi
    if ! grep -q "doctor: ok" "$work_dir/out"; then
        fail "$name" "no 'doctor: ok' line"
        return
    fi
    if ! grep -q "node-shared memory: ok" "$work_dir/out"; then
        fail "$name" "no 'node-shared memory: ok' line"
        return
    fi
    if [[ "$tagged" == "yes" ]]; then
        # Every line a rank wrote is tagged [jobid,rank]<stdout|stderr>:; untagged lines come from mpirun.
        local others
        others="$(grep -cE '^\[[0-9]+,[1-9][0-9]*\]<' "$work_dir/out" || true)"
        if [[ "$others" != "0" ]]; then
            fail "$name" "$others line(s) written by ranks other than 0"
            return
        fi
    fi
    pass "$name"
}

run_case "plain process" no "$binary" doctor
run_case "mpirun -np 1" yes mpirun "${mpirun_flags[@]}" -np 1 "$binary" doctor
run_case "mpirun -np 2" yes mpirun "${mpirun_flags[@]}" -np 2 "$binary" doctor
run_case "mpirun -np 4" yes mpirun "${mpirun_flags[@]}" -np 4 "$binary" doctor
run_case "plain process doctor --shm" no "$binary" doctor --shm
run_case "mpirun -np 2 doctor --shm" yes mpirun "${mpirun_flags[@]}" -np 2 "$binary" doctor --shm
run_case "mpirun -np 4 doctor --shm" yes mpirun "${mpirun_flags[@]}" -np 4 "$binary" doctor --shm

# Machine-readable output: one JSON line from rank 0 with "ok":true and both ranks in the map.
status=0
timeout "$timeout_seconds" mpirun "${mpirun_flags[@]}" -np 2 "$binary" doctor --json >"$work_dir/out" 2>&1 || status=$?
json_lines="$(grep -cE '^\[[0-9]+,0\]<stdout>:\{' "$work_dir/out" || true)"
if [[ $status -eq 0 && "$json_lines" == "1" ]] && grep -q '"ok":true' "$work_dir/out" \
    && grep -q '"rank":1' "$work_dir/out"; then
    pass "mpirun -np 2 doctor --json"
else
    fail "mpirun -np 2 doctor --json" "status $status, $json_lines JSON line(s) from rank 0"
fi

# OpenBLAS's idle threads: every rank re-executed itself with OPENBLAS_THREAD_TIMEOUT=4 (BLASThreadTimeout), and
# a value the user set is kept.
if grep -q '"blasThreadTimeout":"4"' "$work_dir/out"; then
    pass "mpirun -np 2: every rank runs with OPENBLAS_THREAD_TIMEOUT=4"
else
    fail "mpirun -np 2 OPENBLAS_THREAD_TIMEOUT" "doctor --json does not report 4 on every rank"
fi
status=0
OPENBLAS_THREAD_TIMEOUT=20 timeout "$timeout_seconds" mpirun "${mpirun_flags[@]}" -x OPENBLAS_THREAD_TIMEOUT -np 2 \
    "$binary" doctor --json >"$work_dir/out" 2>&1 || status=$?
if [[ $status -eq 0 ]] && grep -q '"blasThreadTimeout":"20"' "$work_dir/out"; then
    pass "mpirun -np 2: a user's OPENBLAS_THREAD_TIMEOUT is kept"
else
    fail "mpirun -np 2 user OPENBLAS_THREAD_TIMEOUT" "status $status; doctor --json does not report 20"
fi

echo "mpi: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
