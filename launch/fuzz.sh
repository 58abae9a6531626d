#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of Fuzz/ (one per parser of untrusted bytes; see Fuzz/README.md).
#
#   launch/fuzz.sh TARGET SECONDS [libFuzzer flags...]     e.g. launch/fuzz.sh gguf 300
#   launch/fuzz.sh all SECONDS                             every target in turn, SECONDS each
#   launch/fuzz.sh build [TARGET]                          build only
#   FUZZ_SKIP_BUILD=1 launch/fuzz.sh TARGET SECONDS        run what was built (launch/test-fuzz.sh)
#
# Builds with Swift's -sanitize=fuzzer,address into .build/fuzz (so the normal build is untouched), then
# runs the fuzzer at nice 19 on a scratch copy of Fuzz/corpus/TARGET plus Fuzz/regressions/TARGET (new
# corpus entries stay in .build/fuzz/runs/TARGET, never in git). Prints executions and coverage
# (libFuzzer's final cov/ft figures) and writes them to .build/fuzz/runs/TARGET/result (key=value lines,
# for launch/test-fuzz.sh). Exits non-zero when an input crashes, hangs (>10 s) or allocates >1 GB, naming
# the saved input; reproduce it with the binary the message names and the input.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
all_targets=(gguf safetensors config tokenizer tokenizer-config jsonl bigbench toml state adapter-config)
scratch="$root/.build/fuzz"
runs="${FUZZ_RUNS:-$scratch/runs}"   # where corpora, logs and findings of runs go

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
known() { local t; for t in "${all_targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

bin_dir=""
# Sets bin_dir, where the fuzz binaries are (asked once: each swift invocation costs a second or two).
find_bin_dir() { [ -n "$bin_dir" ] || bin_dir="$(swift build -c debug --scratch-path "$scratch" --show-bin-path)"; }

# build TARGET...: one swift build per product; the sanitized library modules are compiled once.
build() {
  local t
  for t in "$@"; do
    nice -n 15 swift build -c debug --scratch-path "$scratch" --product "fuzz-$t" \
      -Xswiftc -DFUZZING -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
      -Xswiftc -use-ld=lld 2>&1 \
      | grep -vE "ld.gold: warning: Cannot export local symbol" || true
    find_bin_dir
    [ -x "$bin_dir/fuzz-$t" ] || { echo "fuzz: building fuzz-$t failed" >&2; return 1; }
  done
}

# run TARGET SECONDS [flags...]: fuzz one target; prints one summary line, returns 1 on a finding.
run() {
  local t="$1" seconds="$2"; shift 2
  local dir="$runs/$t" bin status=0
  find_bin_dir
  bin="$bin_dir/fuzz-$t"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$root/Fuzz/corpus/$t/"* "$dir/corpus/"
  [ -d "$root/Fuzz/regressions/$t" ] && cp "$root/Fuzz/regressions/$t/"* "$dir/corpus/" 2>/dev/null || true
  # Swift traps (overflow, bounds, force unwrap) end as SIGILL/SIGTRAP, which libFuzzer reports as a
  # deadly signal; malloc_limit_mb turns an allocation sized by an unchecked number into a finding.
  ASAN_OPTIONS="${ASAN_OPTIONS:-symbolize=1:detect_leaks=0}" \
    timeout --kill-after=30 $((seconds + 300)) nice -n 19 "$bin" "$dir/corpus" \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len=65536 -artifact_prefix="$dir/artifacts/" "$@" >"$dir/log" 2>&1 || status=$?
  local execs cov ft crash elapsed
  execs="$(grep -oE "^stat::number_of_executed_units: *[0-9]+" "$dir/log" | grep -oE "[0-9]+$" || echo 0)"
  cov="$(grep -oE "cov: [0-9]+" "$dir/log" | tail -n 1 | grep -oE "[0-9]+" || echo 0)"
  ft="$(grep -oE "ft: [0-9]+" "$dir/log" | tail -n 1 | grep -oE "[0-9]+" || echo 0)"
  elapsed="$(grep -oE "Done [0-9]+ runs in [0-9]+ second" "$dir/log" | grep -oE "in [0-9]+" | grep -oE "[0-9]+" || echo "$seconds")"
  crash="$(grep -oE "Test unit written to .*" "$dir/log" | tail -n 1 | sed 's/Test unit written to //' || true)"
  { echo "target=$t"; echo "seconds=$elapsed"; echo "execs=$execs"; echo "cov=$cov"; echo "ft=$ft"
    echo "status=$status"; echo "crash=$crash"; } >"$dir/result"
  if [ "$status" -eq 0 ] && [ -z "$crash" ]; then
    echo "fuzz-$t: $execs execs in $elapsed s, cov $cov, ft $ft, no crash (log $dir/log)"
    return 0
  fi
  echo "fuzz-$t: FINDING after $execs execs (status $status): ${crash:-no input saved}"
  grep -m 3 -E "^==[0-9]+==ERROR|deadly signal|Fatal error|timeout after|out-of-memory|malloc\(" "$dir/log" | sed 's/^/    /' || true
  echo "    log: $dir/log"
  [ -n "$crash" ] && echo "    reproduce: $bin $crash"
  return 1
}

[ $# -ge 1 ] || usage
case "$1" in
  build)
    if [ $# -ge 2 ]; then known "$2" || usage; build "$2"; else build "${all_targets[@]}"; fi ;;
  all)
    [ $# -eq 2 ] || usage
    build "${all_targets[@]}"
    failures=0
    for t in "${all_targets[@]}"; do run "$t" "$2" || failures=$((failures + 1)); done
    [ $failures -eq 0 ] ;;
  *)
    known "$1" && [ $# -ge 2 ] || usage
    t="$1" seconds="$2"; shift 2
    [ "${FUZZ_SKIP_BUILD:-0}" = 1 ] || build "$t"
    run "$t" "$seconds" "$@" ;;
esac
