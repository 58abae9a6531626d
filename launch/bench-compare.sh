#!/usr/bin/env bash
# Side-by-side training throughput: secura-dist (each method; 2 ranks × 1 thread and 1 rank × 2 threads)
# and PyTorch + PEFT (LoRA, DoRA; 2 threads) on the same model, sequence length, batch and thread count,
# in one run, against the limit `secura-dist bench --limit` measures in the same run (sgemm at the model's
# shapes). For developers' machines (2 cores assumed), not CI. Prints one markdown table and writes it,
# with the raw JSON, to results/bench-compare/<UTC date-time>/ (table.md, raw.json).
#
#   launch/bench-compare.sh                          # defaults below
#   STEPS=4 SEQ_LEN=128 METHODS="lora secura-m1" launch/bench-compare.sh
#   BENCH_VENV=/path/to/venv launch/bench-compare.sh # use an existing venv with the reference stack
#
# What runs:
#   secura-dist  `train` on generated records cut at SEQ_LEN tokens (--no-chat, no validation split), each
#                method in METHODS, WARMUP+STEPS optimizer steps of BATCH sequences (micro-batch
#                BATCH/ranks); tokens/s from OUTPUT/metrics.jsonl over the steps after the warm-up.
#                `bench --limit --method M` per method and layout: the limit tokens/s.
#                `bench --gradients inputs`: the frozen model alone (forward + input gradients), a reference.
#   PyTorch      launch/bench_compare.py torch: transformers loads the same GGUF (dequantised to fp32; its
#                parameter shapes and PEFT's trainable count are checked against secura-dist's), PEFT adapter
#                on the same targets, torch.set_num_threads(2); forward + backward + clip + AdamW step on
#                BATCH × SEQ_LEN random tokens, WARMUP untimed steps, then STEPS timed.
#
# Environment (defaults in brackets):
#   STEPS [8]  WARMUP [2]  SEQ_LEN [256]  BATCH [2] (sequences per optimizer step; the 2-rank layout needs it even)
#   METHODS ["secura-m1 lora dora cur-lora"]  secura-dist methods
#   TORCH_METHODS ["lora dora"]               PEFT methods (lora, dora)
#   TARGETS [q_proj,v_proj]  RANK [8]  (LoRA/DoRA rank; alpha 16, dropout 0.05 on both sides)
#   MODEL [$SECURA_CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf, from launch/fetch-model.sh]
#   SECURA_BIN [<repo>/.build/release/secura-dist]
#   BENCH_VENV   an existing venv with torch, transformers, peft, gguf, numpy; otherwise
#                ${SECURA_CACHE:-~/.cache/secura-dist}/bench-venv is created once with everything from PyPI
#                (PyPI's Linux torch brings its CUDA libraries: a few GB, unused here; TORCH_INDEX=URL
#                installs torch from another index instead, e.g. PyTorch's CPU-only wheels, where allowed)
#   OUT [results/bench-compare/<UTC date-time>]
set -euo pipefail

if [ $# -gt 0 ]; then
  case "$1" in
    -h|--help) sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-compare: no arguments but --help (settings are environment variables; see --help)" >&2; exit 64 ;;
  esac
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
die() { echo "bench-compare: $*" >&2; exit 1; }

STEPS="${STEPS:-8}"; WARMUP="${WARMUP:-2}"; SEQ_LEN="${SEQ_LEN:-256}"; BATCH="${BATCH:-2}"
METHODS="${METHODS:-secura-m1 lora dora cur-lora}"; TORCH_METHODS="${TORCH_METHODS-lora dora}"
TARGETS="${TARGETS:-q_proj,v_proj}"; RANK="${RANK:-8}"
for v in STEPS SEQ_LEN BATCH RANK; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer (got '$WARMUP')"
[ "$SEQ_LEN" -ge 2 ] || die "SEQ_LEN must be at least 2"
for m in $TORCH_METHODS; do
  case "$m" in lora|dora) ;; *) die "TORCH_METHODS: '$m' is not lora or dora" ;; esac
done
[ -n "$METHODS$TORCH_METHODS" ] || die "METHODS and TORCH_METHODS are both empty"

cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
bin="${SECURA_BIN:-$root/.build/release/secura-dist}"
[ -x "$bin" ] || die "no secura-dist binary at $bin: build it (swift build -c release --product secura-dist) or set SECURA_BIN"
model="${MODEL:-$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -s "$model" ] || die "no model at $model: run 'bash launch/fetch-model.sh' (or set MODEL to a GGUF file)"
case "$model" in *.gguf) ;; *) die "MODEL must be a GGUF file (transformers loads it with gguf_file=...): $model" ;; esac
command -v mpirun >/dev/null || die "mpirun not found: install Open MPI (the 2-rank layout needs it; see launch/setup.sh)"
cores="$(nproc)"
[ "$cores" -ge 2 ] || die "this benchmark uses 2 cores and this machine has $cores"
[ "$cores" -eq 2 ] || echo "bench-compare: note: $cores cores here; the benchmark uses 2 (other cores may disturb it)" >&2

# The reference stack (sets py).
source launch/bench-venv.sh

out="${OUT:-$root/results/bench-compare/$(date -u +%Y-%m-%d-%H%M%S)}"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs"
manifest="$work/manifest.tsv"
: > "$manifest"

# run NAME RANKS COMMAND...: runs secura-dist (under mpirun for RANKS > 1); stdout in $work/logs/NAME.out,
# stderr in $work/logs/NAME.log.
run() {
  local name="$1" ranks="$2"; shift 2
  local cmd=("$bin" "$@")
  if [ "$ranks" -gt 1 ]; then
    cmd=(bash launch/mpirun.sh -np "$ranks" ${OPENBLAS_CORETYPE:+-x OPENBLAS_CORETYPE} "${cmd[@]}")
  fi
  echo "bench-compare: $name" >&2
  if ! "${cmd[@]}" > "$work/logs/$name.out" 2> "$work/logs/$name.log"; then
    tail -n 20 "$work/logs/$name.out" "$work/logs/$name.log" >&2
    die "$name failed (command: ${cmd[*]})"
  fi
}

echo "bench-compare: model $model, T=$SEQ_LEN, batch $BATCH, $WARMUP+$STEPS steps, methods: $METHODS; PyTorch: $TORCH_METHODS" >&2
run inspect 1 inspect "$model" --json
cp "$work/logs/inspect.out" "$work/inspect.json"
python3 launch/bench_compare.py data "$work/data.jsonl" --records $((BATCH * (WARMUP + STEPS) + 8)) --tokens "$SEQ_LEN"

plural() { if [ "$1" -gt 1 ]; then echo s; fi; }
adapter_flags=(--targets "$TARGETS" --rank "$RANK" --alpha 16 --dropout 0.05)
for layout in "2 1" "1 2"; do
  read -r ranks threads <<< "$layout"
  label="$ranks rank$(plural "$ranks") × $threads thread$(plural "$threads")"
  tag="${ranks}x${threads}"
  if [ $((BATCH % ranks)) -ne 0 ]; then
    for m in $METHODS; do
      printf 'skipped\tsecura-dist %s\t%s\tBATCH=%s is not a multiple of %s ranks\n' "$m" "$label" "$BATCH" "$ranks" >> "$manifest"
    done
    continue
  fi
  micro=$((BATCH / ranks))
  for m in $METHODS; do
    run "limit-$m-$tag" "$ranks" bench --model "$model" --limit --method "$m" --tokens "$SEQ_LEN" --batch "$BATCH" --iterations 5 \
      --threads "$threads" --json
    printf 'limit\t%s\t%s\t%s\n' "$m" "$label" "$work/logs/limit-$m-$tag.out" >> "$manifest"
    run "train-$m-$tag" "$ranks" train --model "$model" --data "$work/data.jsonl" --output "$work/train-$m-$tag" \
      --method "$m" "${adapter_flags[@]}" --steps $((WARMUP + STEPS)) --batch-size "$BATCH" --micro-batch "$micro" \
      --max-length "$SEQ_LEN" --no-chat --split 1 --check-every 0 --log-every 1000000000 --threads "$threads"
    printf 'train\t%s\t%s\t%s\n' "$m" "$label" "$work/train-$m-$tag" >> "$manifest"
  done
  run "frozen-$tag" "$ranks" bench --model "$model" --tokens "$SEQ_LEN" --batch "$micro" --gradients inputs \
    --iterations "$STEPS" --warmup "$WARMUP" --threads "$threads" --json
  printf 'frozen\t-\t%s\t%s\t%s\n' "$label" "$work/logs/frozen-$tag.out" "$ranks" >> "$manifest"
done

if [ -n "$TORCH_METHODS" ]; then
  for m in $TORCH_METHODS; do
    # The limit for PyTorch's method, on one rank with two threads (PyTorch's layout).
    if ! grep -q "^limit	$m	1 rank × 2 threads	" "$manifest"; then
      run "limit-$m-1x2" 1 bench --model "$model" --limit --method "$m" --tokens "$SEQ_LEN" --batch "$BATCH" --threads 2 --json
      printf 'limit\t%s\t1 rank × 2 threads\t%s\n' "$m" "$work/logs/limit-$m-1x2.out" >> "$manifest"
    fi
    run "inspect-$m" 1 inspect "$model" --json --method "$m" "${adapter_flags[@]}"
    trainable="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["trainable_total"])' "$work/logs/inspect-$m.out")"
    echo "bench-compare: pytorch-$m" >&2
    if ! "$py" launch/bench_compare.py torch --model-dir "$(dirname "$model")" --gguf "$(basename "$model")" \
        --method "$m" --threads 2 --batch "$BATCH" --tokens "$SEQ_LEN" --steps "$STEPS" --warmup "$WARMUP" \
        --rank "$RANK" --alpha 16 --dropout 0.05 --targets "$TARGETS" \
        --expect-shapes "$work/inspect.json" --expect-trainable "$trainable" \
        > "$work/torch-$m.json" 2> "$work/logs/pytorch-$m.log"; then
      tail -n 20 "$work/logs/pytorch-$m.log" >&2
      die "PyTorch $m failed"
    fi
    printf 'torch\t%s\t1 process × 2 threads\t%s\t1 rank × 2 threads\n' "$m" "$work/torch-$m.json" >> "$manifest"
  done
fi

BC_MODEL="$model" BC_SEQ_LEN="$SEQ_LEN" BC_BATCH="$BATCH" BC_STEPS="$STEPS" BC_WARMUP="$WARMUP" BC_METHODS="$METHODS" \
BC_TORCH_METHODS="$TORCH_METHODS" BC_TARGETS="$TARGETS" BC_RANK="$RANK" BC_BIN="$bin" BC_CORES="$cores" \
python3 - "$work/settings.json" <<'PY'
import json, os, platform, sys, time
e = os.environ
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
json.dump({"settings": {"model": e["BC_MODEL"], "seq_len": int(e["BC_SEQ_LEN"]), "batch": int(e["BC_BATCH"]),
                        "steps": int(e["BC_STEPS"]), "warmup": int(e["BC_WARMUP"]), "methods": e["BC_METHODS"].split(),
                        "torch_methods": e["BC_TORCH_METHODS"].split(), "targets": e["BC_TARGETS"],
                        "rank": int(e["BC_RANK"]), "alpha": 16, "dropout": 0.05, "secura_bin": e["BC_BIN"]},
           "machine": {"cores": int(e["BC_CORES"]), "cpu": cpu, "openblas_coretype": e.get("OPENBLAS_CORETYPE", "unset"),
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": platform.node()}},
          open(sys.argv[1], "w"))
PY
mkdir -p "$out/logs"
cp "$work"/logs/* "$out/logs/"
python3 launch/bench_compare.py report --manifest "$manifest" --settings "$work/settings.json" --out "$out"
echo "bench-compare: wrote $out/table.md and $out/raw.json (logs in $out/logs/)" >&2
