#!/usr/bin/env bash
# Side-by-side greedy decoding speed: secura-dist `generate` (KV cache, fp32 weights dequantised from the GGUF)
# and transformers' `generate` on the same GGUF (dequantised to fp32 too), the same prompt ids, the same number
# of new tokens and the same thread count, in one run. For developers' machines, not CI. Prints one markdown
# table (decode tokens/s, the ratio to transformers at the same threads, and how many of transformers' greedy
# tokens equal secura-dist's) and writes it with the raw JSON to results/bench-decode/<UTC date-time>/.
#
#   launch/bench-decode.sh                           # defaults below
#   TOKENS=64 THREADS="2" launch/bench-decode.sh
#   PROMPT_FILE=long.txt TOKENS=8 launch/bench-decode.sh   # a long prompt: its prefill is a scoring forward
#   BENCH_VENV=/path/to/venv launch/bench-decode.sh  # an existing venv with torch, transformers, gguf, numpy
#
# Decode rate: (new tokens − 1) / the time of the one-token forward passes after the prompt (see
# launch/bench_decode.py); the prompt's prefill is not counted for either system. Each secura-dist repeat is
# one process (its load is outside the timed interval); transformers repeats inside one process after a
# warm-up generation.
#
# Prefill rate: prompt tokens / the seconds of the forward over the prompt (secura-dist's prefill_seconds: the
# layers over every prompt token and the head on the last row; transformers: one forward with logits_to_keep=1,
# timed alone). With a prompt of a few hundred tokens (PROMPT_FILE) this is the work of teacher-forced scoring
# of one record, which runs the same forward (the head on the answer rows only).
#
# Environment (defaults in brackets):
#   TOKENS [128]  new tokens per generation      REPEATS [3]  timed repeats per system and thread count
#   THREADS ["1 2"]  thread counts (one rank)     PROMPT [a fixed English opening; see below]
#   PROMPT_FILE  a text file whose contents are the prompt (replaces PROMPT)
#   MODEL [$SECURA_CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf, from launch/fetch-model.sh]
#   SECURA_BIN [<repo>/.build/release/secura-dist]
#   BENCH_VENV  as in launch/bench-compare.sh (otherwise the shared bench venv in the cache, created once)
#   OUT [results/bench-decode/<UTC date-time>]
set -euo pipefail

if [ $# -gt 0 ]; then
  case "$1" in
    -h|--help) sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-decode: no arguments but --help (settings are environment variables; see --help)" >&2; exit 64 ;;
  esac
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
die() { echo "bench-decode: $*" >&2; exit 1; }

TOKENS="${TOKENS:-128}"; REPEATS="${REPEATS:-3}"; THREADS="${THREADS:-1 2}"
PROMPT="${PROMPT:-The old lighthouse stood at the edge of the cliff, and every night its keeper climbed the}"
if [ -n "${PROMPT_FILE:-}" ]; then
  [ -s "$PROMPT_FILE" ] || die "PROMPT_FILE $PROMPT_FILE is missing or empty"
  PROMPT="$(cat "$PROMPT_FILE")"
fi
for v in TOKENS REPEATS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[ "$TOKENS" -ge 2 ] || die "TOKENS must be at least 2"
for t in $THREADS; do [[ "$t" =~ ^[1-9][0-9]*$ ]] || die "THREADS: '$t' is not a positive integer"; done
[ -n "$THREADS" ] || die "THREADS is empty"

cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
bin="${SECURA_BIN:-$root/.build/release/secura-dist}"
[ -x "$bin" ] || die "no secura-dist binary at $bin: build it (swift build -c release --product secura-dist) or set SECURA_BIN"
model="${MODEL:-$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -s "$model" ] || die "no model at $model: run 'bash launch/fetch-model.sh' (or set MODEL to a GGUF file)"
case "$model" in *.gguf) ;; *) die "MODEL must be a GGUF file (transformers loads it with gguf_file=...): $model" ;; esac

# The reference stack (sets py).
source launch/bench-venv.sh

out="${OUT:-$root/results/bench-decode/$(date -u +%Y-%m-%d-%H%M%S)}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-decode.XXXXXX")"
trap 'rm -rf "$work"' EXIT
manifest="$work/manifest.tsv"
: > "$manifest"

echo "bench-decode: model $model, $TOKENS new tokens, threads: $THREADS, $REPEATS repeats" >&2
for t in $THREADS; do
  files=()
  for i in $(seq "$REPEATS"); do
    f="$work/secura-$t-$i.json"
    echo "bench-decode: secura-dist, $t thread(s), repeat $i" >&2
    "$bin" generate "$model" --prompt "$PROMPT" --max-tokens "$TOKENS" --json --threads "$t" > "$f" 2> "$work/secura-$t-$i.log" ||
      { tail -n 20 "$work/secura-$t-$i.log" >&2; die "secura-dist generate failed ($t threads)"; }
    files+=("$f")
  done
  printf 'secura-dist\t%s' "$t" >> "$manifest"; printf '\t%s' "${files[@]}" >> "$manifest"; echo >> "$manifest"
done

# The prompt's ids and the number of new tokens from secura-dist's first run (greedy decoding may stop early at
# the end-of-text token; transformers is then asked for exactly as many).
first="$work/secura-${THREADS%% *}-1.json"
python3 - "$first" "$work/prompt.json" "$work/new_tokens" <<'PY'
import json, sys
line = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("{")][-1]
g = json.loads(line)
json.dump(g["prompt_tokens"], open(sys.argv[2], "w"))
open(sys.argv[3], "w").write(str(len(g["tokens"])))
PY
new_tokens="$(cat "$work/new_tokens")"
[ "$new_tokens" -ge 2 ] || die "secura-dist generated $new_tokens token(s) before stopping: use another PROMPT"
for t in $THREADS; do
  echo "bench-decode: transformers, $t thread(s)" >&2
  "$py" launch/bench_decode.py torch --model-dir "$(dirname "$model")" --gguf "$(basename "$model")" \
    --prompt-ids "$work/prompt.json" --new-tokens "$new_tokens" --threads "$t" --repeats "$REPEATS" \
    > "$work/transformers-$t.json" 2> "$work/transformers-$t.log" ||
    { tail -n 20 "$work/transformers-$t.log" >&2; die "transformers generate failed ($t threads)"; }
  printf 'transformers\t%s\t%s\n' "$t" "$work/transformers-$t.json" >> "$manifest"
done

BD_MODEL="$model" BD_TOKENS="$new_tokens" BD_REPEATS="$REPEATS" BD_PROMPT="$PROMPT" \
python3 - "$work/prompt.json" "$work/settings.json" <<'PY'
import json, os, platform, sys, time
e = os.environ
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
json.dump({"model": e["BD_MODEL"], "prompt": e["BD_PROMPT"], "prompt_tokens": len(json.load(open(sys.argv[1]))),
           "new_tokens": int(e["BD_TOKENS"]), "repeats": int(e["BD_REPEATS"]),
           "machine": {"cores": os.cpu_count(), "cpu": cpu, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "host": platform.node()}}, open(sys.argv[2], "w"))
PY
mkdir -p "$out"
python3 launch/bench_decode.py report --manifest "$manifest" --settings "$work/settings.json" --out "$out"
echo "bench-decode: wrote $out/table.md and $out/raw.json" >&2
