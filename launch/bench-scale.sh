#!/usr/bin/env bash
# Llama-3-8B scale on one node (issue 11's benchmark; developers' machines, not CI; about an hour on 2 cores).
# Makes the Llama-3-8B shape once (random weights, about 16 GB bf16, cached in $SECURA_CACHE/models), then,
# under `mpirun -np 2` with 1 thread per rank, T = 256 and 2 sequences per step:
#   - the machine's limit (`bench --limit`: sgemm at the model's shapes on both ranks at once, the step's FLOPs);
#   - SECURA-M1 with the SVD init for 3 steps (--cabr-init-cache in a fresh folder: the SVDs run and are cached);
#   - SECURA-M1 again from the cache (init time), resumed for one more step from the first run's checkpoint;
#   - `export --format merged` of the result (time, peak memory);
#   - LoRA and SECURA-M2 rows; a SECURA-M1 row on the Qwen2-7B shape (made too, about 15 GB).
# Every figure comes from the runs' summary.json / --json output, not from log lines. Results: results/scale/
# (README.md with the table, summary.json files and raw logs).
#
#   launch/bench-scale.sh [--skip-qwen] [--recompute]       (STEPS=3 by default)
#   ROWS="lora secura-m2 qwen2-7b" launch/bench-scale.sh --recompute   (only those rows; default: all)
#   CABR_INIT=slice ...   (the SECURA-M2 and Qwen2-7B rows without the SVDs: the same A to 1e-6, minutes saved)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source launch/env.sh
steps="${STEPS:-3}"
rows="${ROWS:-limit secura-m1 export lora secura-m2 qwen2-7b}"
want() { [[ " $rows " == *" $1 "* ]]; }
qwen=1; recompute=()
for a in "$@"; do
  case "$a" in
    --skip-qwen) qwen=0 ;;
    --recompute) recompute=(--recompute) ;;
    *) echo "bench-scale: unknown argument $a" >&2; exit 2 ;;
  esac
done
cache="${SECURA_CACHE:-$HOME/.cache/secura-dist}"
out="$root/results/scale/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out" "$cache/models"
[ -x /usr/bin/time ] || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >&2; }
swift build -c release --product secura-dist >&2
bin="$root/.build/release/secura-dist"
mpi=(bash "$root/launch/mpirun.sh" -np 2)

shape() {  # shape NAME -> folder (made once)
  local folder="$cache/models/shaped-$1"
  if [ ! -f "$folder/model.safetensors.index.json" ]; then
    rm -rf "$folder"
    echo "bench-scale: writing the $1 shape into $folder (df: $(df -h --output=avail "$cache" | tail -n 1))" >&2
    "$bin" make-model --shape "$1" --output "$folder" --seed 1 >&2
  fi
  echo "$folder"
}

# Sequences of at least 256 tokens: the end of each ROPES article with its question, and the answer.
data="$out/long.jsonl"
python3 - "$root/../shared/data/glue-qa/ropes_test.jsonl" "$data" <<'PY'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as g:
    for line in f:
        r = json.loads(line)
        answer = r["output"][0] if isinstance(r["output"], list) else r["output"]
        g.write(json.dumps({"input": r["input"][-1400:], "output": answer}) + "\n")
PY

common=(--data "$data" --batch-size 2 --micro-batch 1 --max-length 256 --lr 1e-5 --seed 42 --no-chat
        --eval-every 0 --validation-limit 2 --check-every 1 --threads 1 "${recompute[@]}")
train() {  # train NAME MODEL ARGS... (log and summary in $out/NAME)
  local name=$1 model=$2; shift 2
  mkdir -p "$out/$name"
  echo "bench-scale: $name" >&2
  /usr/bin/time -v "${mpi[@]}" "$bin" train --model "$model" "${common[@]}" --output "$out/$name" "$@" \
    >"$out/$name.log" 2>&1 || { echo "bench-scale: $name failed (log: $out/$name.log)" >&2; tail -n 20 "$out/$name.log" >&2; return 1; }
}

llama="$(shape llama-3-8b)"
if want limit; then
"${mpi[@]}" "$bin" bench --limit --model "$llama" --tokens 256 --batch 2 --threads 1 --iterations 3 --json \
  >"$out/limit.json"
"${mpi[@]}" "$bin" bench --limit --model "$llama" --tokens 256 --batch 2 --threads 1 --iterations 3 --recompute --json \
  >"$out/limit-recompute.json"
fi

if want secura-m1; then
train secura-m1 "$llama" --method secura-m1 --cabr-init svd --cabr-init-cache "$out/svd-cache" --steps "$steps" --save-every 1
# The same run from the SVD cache, then resumed from the first run's last checkpoint for one more step.
mkdir -p "$out/secura-m1-resume/checkpoints"
cp -r "$out/secura-m1/checkpoints/$(ls "$out/secura-m1/checkpoints" | sort | tail -n 1)" "$out/secura-m1-resume/checkpoints/"
train secura-m1-resume "$llama" --method secura-m1 --cabr-init svd --cabr-init-cache "$out/svd-cache" --steps $((steps + 1)) --resume auto
fi
if want export && [ -d "$out/secura-m1/adapter" ]; then
echo "bench-scale: export" >&2
/usr/bin/time -v "$bin" export --model "$llama" --adapter "$out/secura-m1/adapter" --output "$out/merged" --threads 2 \
  >"$out/export.log" 2>&1
du -sb "$out/merged" >>"$out/export.log"
rm -rf "$out/merged"
fi
want lora && train lora "$llama" --method lora --steps "$steps"
want secura-m2 && train secura-m2 "$llama" --method secura-m2 --cabr-init "${CABR_INIT:-svd}" --cabr-init-cache "${SVD_CACHE:-$out/svd-cache}" --steps "$steps"
if [ $qwen -eq 1 ] && want qwen2-7b; then
  qwen7="$(shape qwen2-7b)"
  train qwen2-7b-secura-m1 "$qwen7" --method secura-m1 --cabr-init "${CABR_INIT:-svd}" --steps "$steps"
fi
rm -rf "$out"/*/checkpoints "$out"/*/adapter "$out"/*/adapter-peft

python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]
limit = {k: json.load(open(os.path.join(out, f))) for k, f in [("stored", "limit.json"), ("recompute", "limit-recompute.json")]
         if os.path.exists(os.path.join(out, f))}
def maxrss(log):
    found = re.findall(r"Maximum resident set size \(kbytes\): (\d+)", open(log).read())
    return int(found[-1]) / 1048576 if found else float("nan")
rows = []
for name in ["secura-m1", "secura-m1-resume", "lora", "secura-m2", "qwen2-7b-secura-m1"]:
    p = os.path.join(out, name, "summary.json")
    if not os.path.exists(p):
        continue
    s = json.load(open(p))
    lim = limit.get("recompute" if s["recompute"] else "stored")
    # The limit was measured on the Llama shape; for Qwen2-7B only the rate carries over.
    share = s["tokens_per_second"] / lim["limit_tokens_per_second"] if lim and "qwen" not in name else float("nan")
    rows.append(f'| {name} | {s["seconds_per_step"]:.1f} | {s["tokens_per_second"]:.2f} | {share:.0%} | '
                f'{100 * s["merge_share"]:.1f} % | {100 * s["allreduce_share"]:.1f} % | {s["init_seconds"]:.1f} s ({s["init_method"]}) | '
                f'{s["checkpoint_seconds"] or 0:.1f} s / {(s["checkpoint_bytes"] or 0) / 2**30:.2f} GiB | '
                f'{max(s["peak_rss_mib"]) / 1024:.1f} | {s["pss_peak_sum_mib"] / 1024:.1f} |')
exp = open(os.path.join(out, "export.log")).read() if os.path.exists(os.path.join(out, "export.log")) else ""
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", exp)
size = re.search(r"^(\d+)\s", exp, re.M)
with open(os.path.join(out, "table.md"), "w") as f:
    if len(limit) == 2:
        f.write(f'limit (sgemm {limit["stored"]["sgemm_gflops_total"]:.0f} GFLOP/s on 2 ranks × 1 thread): '
                f'{limit["stored"]["limit_tokens_per_second"]:.2f} tokens/s stored, {limit["recompute"]["limit_tokens_per_second"]:.2f} with recomputation\n\n')
    f.write("| run | s/step | tokens/s | share of limit | merges | all-reduce | init | final checkpoint | peak RSS/rank (GiB) | PSS peak sum (GiB) |\n")
    f.write("|---|---|---|---|---|---|---|---|---|---|\n")
    f.write("\n".join(rows) + "\n\n")
    if exp: f.write(f'export: {wall.group(1) if wall else "?"} wall, peak RSS {maxrss(os.path.join(out, "export.log")):.2f} GiB, '
            f'{int(size.group(1)) / 2**30 if size else float("nan"):.1f} GiB written\n')
print(open(os.path.join(out, "table.md")).read())
PY
echo "bench-scale: results in $out" >&2
