#!/usr/bin/env bash
# CI check of the parsers of untrusted bytes: builds every libFuzzer target of Fuzz/ (launch/fuzz.sh) and
# runs each briefly on its committed seeds and regression inputs. A target passes when it ran, executed
# inputs and found no crash, hang or oversized allocation.
#
#   launch/test-fuzz.sh [SECONDS per target]     (default 20; the whole script takes about 5 minutes
#                                                 on 2 cores, most of it the sanitized build)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-20}"
targets=(gguf safetensors config tokenizer tokenizer-config jsonl bigbench toml state adapter-config)
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "  ok    $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        /' <<<"$2"; }

echo "fuzz: building the targets (sanitized, .build/fuzz)"
start=$(date +%s)
if ! out="$(bash "$root/launch/fuzz.sh" build 2>&1)"; then
  fail "build of the fuzz targets" "$(tail -n 20 <<<"$out")"
  echo "fuzz: $passed passed, $failed failed"
  exit 1
fi
echo "  built in $(( $(date +%s) - start )) s"

echo "fuzz: each target for $seconds s"
for t in "${targets[@]}"; do
  out="$(FUZZ_RUNS="$runs" FUZZ_SKIP_BUILD=1 bash "$root/launch/fuzz.sh" "$t" "$seconds" 2>&1)"; status=$?
  result="$runs/$t/result"
  if [ ! -f "$result" ]; then fail "fuzz-$t did not run (status $status)" "$(tail -n 20 <<<"$out")"; continue; fi
  execs="$(sed -n 's/^execs=//p' "$result")"; cov="$(sed -n 's/^cov=//p' "$result")"
  crash="$(sed -n 's/^crash=//p' "$result")"
  if [ $status -ne 0 ] || [ -n "$crash" ]; then
    # Keep the input and log: the scratch directory is removed on exit.
    kept="$root/.build/fuzz/findings/$t"
    mkdir -p "$kept"; cp "$runs/$t/log" "$kept/log"
    [ -n "$crash" ] && [ -f "$crash" ] && cp "$crash" "$kept/"
    fail "fuzz-$t: finding after $execs execs (input and log kept in $kept)" \
      "$(grep -vE "ld.gold|^\[|Build|Planning" <<<"$out" | grep -vE "^ *(log|reproduce):" | tail -n 6)"
  elif [ "${execs:-0}" -le 0 ]; then
    fail "fuzz-$t executed no inputs" "$(tail -n 20 "$runs/$t/log")"
  else
    ok "fuzz-$t: $execs execs, cov $cov, no crash"
  fi
done
echo "fuzz: took $(( $(date +%s) - start )) s"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
