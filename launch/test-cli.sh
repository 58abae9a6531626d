#!/usr/bin/env bash
# End-to-end checks of the secura-dist command line on the committed fixtures: inspect and score
# (single process and under mpirun), and one deliberately broken model folder per failure path,
# each of which must give one clear message naming the file, a non-zero exit and no crash.
# The broken folders are made here, from the committed fixtures, in a temporary directory.
#
#   launch/test-cli.sh [path/to/secura-dist]     (default .build/debug/secura-dist)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/debug/secura-dist}"
fixtures="$root/Tests/Fixtures"
mpi="$root/launch/mpirun.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "  ok    $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        /' <<<"$2"; }

# expect_error NAME NEEDLE CMD...: the command must exit non-zero, print NEEDLE on stderr, and not crash.
expect_error() {
  local name="$1" needle="$2"; shift 2
  local err status
  err="$("$@" 2>&1 >/dev/null)"; status=$?
  if [ $status -eq 0 ]; then fail "$name (exit 0)" "$err"
  elif [ $status -ge 128 ] || grep -qiE "fatal error|stack dump|backtrace|segmentation" <<<"$err"; then fail "$name (crashed, status $status)" "$err"
  elif ! grep -qF -- "$needle" <<<"$err"; then fail "$name (message lacks '$needle')" "$err"
  elif [ "$(grep -c . <<<"$err")" -gt 2 ]; then fail "$name (more than one message)" "$err"
  else ok "$name"; fi
}

echo "cli: inspect and score"
out="$("$bin" inspect --memory-plan --shape llama-3-8b --method secura-m1 --ranks-per-node 2 --max-length 256 --recompute 2>&1)" \
  && grep -q "8,030,261,248 parameters" <<<"$out" && grep -q "2.50 GiB  SECURA-M1 fp32 merge masters" <<<"$out" \
  && grep -q "(603 MiB per rank)" <<<"$out" && ok "inspect --memory-plan --shape llama-3-8b" || fail "memory plan of the 8B shape" "$out"
out="$("$bin" inspect "$fixtures/tiny-llama" 2>&1)" && grep -q "parameters   137,536" <<<"$out" \
  && ok "inspect tiny-llama" || fail "inspect tiny-llama" "$out"
out="$("$bin" inspect "$fixtures/tiny-qwen2" --json 2>&1)" \
  && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["architecture"]=="qwen2" and d["parameters"]==109120 and d["tie_word_embeddings"], d' "$out" \
  && ok "inspect --json tiny-qwen2" || fail "inspect --json tiny-qwen2" "$out"

# score must reproduce transformers' per-position losses of the fixture's first sequence.
tokens="$(python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["tokens"][0])))' "$fixtures/tiny-llama/reference.json")"
out="$("$bin" score "$fixtures/tiny-llama" --tokens "$tokens" --dump-logits "$work/logits.safetensors" 2>&1)"
if python3 - "$out" "$fixtures/tiny-llama/reference.safetensors" "$work/logits.safetensors" <<'PY'
import json, struct, sys
result = json.loads(sys.argv[1])
def read(path, name):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        e = header[name]
        f.seek(8 + n + e["data_offsets"][0])
        raw = f.read(e["data_offsets"][1] - e["data_offsets"][0])
        return e["shape"], struct.unpack("<%df" % (len(raw) // 4), raw)
shape, losses = read(sys.argv[2], "losses")
ref = losses[: shape[1]]
assert result["tokens"] == 12 and len(result["losses"]) == 11, result
for a, r in zip(result["losses"], ref):
    assert abs(a - r) <= 1e-5 + 1e-4 * abs(r), (a, r)
assert abs(result["loss"] - sum(ref) / len(ref)) <= 1e-5 + 1e-4 * abs(result["loss"])
lshape, logits = read(sys.argv[3], "logits")
rshape, rlogits = read(sys.argv[2], "logits")
assert lshape == [12, 256], lshape
for a, r in zip(logits, rlogits[: 12 * 256]):
    assert abs(a - r) <= 1e-5 + 1e-4 * abs(r), (a, r)
PY
then ok "score matches transformers (losses and --dump-logits)"; else fail "score vs reference" "$out"; fi

echo "cli: under mpirun"
out="$("$mpi" -np 2 "$bin" inspect "$fixtures/tiny-llama" 2>&1)"; status=$?
if [ $status -eq 0 ] && [ "$(grep -c '^architecture' <<<"$out")" -eq 1 ]; then ok "mpirun -np 2 inspect prints once"
else fail "mpirun -np 2 inspect (status $status)" "$out"; fi
out="$("$mpi" -np 2 "$bin" score "$fixtures/tiny-qwen2" --tokens 1,2,3,4 2>&1)"; status=$?
if [ $status -eq 0 ] && [ "$(grep -c '"loss"' <<<"$out")" -eq 1 ]; then ok "mpirun -np 2 score prints once"
else fail "mpirun -np 2 score (status $status)" "$out"; fi
err="$("$mpi" -np 2 "$bin" inspect "$work/nowhere" 2>&1)"; status=$?
if [ $status -ne 0 ] && grep -q "nowhere" <<<"$err" && grep -q "rank" <<<"$err"; then ok "mpirun -np 2 bad model aborts the job naming rank and file"
else fail "mpirun -np 2 bad model (status $status)" "$err"; fi

echo "cli: broken model folders"
broken() { rm -rf "$work/$1"; cp -r "$fixtures/${2:-tiny-llama}" "$work/$1"; echo "$work/$1"; }
expect_error "missing folder" "$work/nowhere" "$bin" inspect "$work/nowhere"
d="$(broken no-config)"; rm "$d/config.json"
expect_error "missing config.json" "config.json" "$bin" inspect "$d"
d="$(broken no-weights)"; rm "$d/model.safetensors"
expect_error "missing model.safetensors" "model.safetensors" "$bin" inspect "$d"
d="$(broken truncated)"; head -c 300000 "$fixtures/tiny-llama/model.safetensors" >"$d/model.safetensors"
expect_error "truncated safetensors" "model.safetensors" "$bin" inspect "$d"
d="$(broken short)"; printf 'abc' >"$d/model.safetensors"
expect_error "file shorter than a header" "model.safetensors" "$bin" inspect "$d"
d="$(broken offset-past-end)"
python3 - "$d/model.safetensors" <<'PY'
import json, struct, sys
p = sys.argv[1]
data = open(p, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
h = json.loads(data[8:8 + n])
name = sorted(k for k in h if k != "__metadata__")[0]
h[name]["data_offsets"][1] += 10_000_000
raw = json.dumps(h).encode()
raw += b" " * (-len(raw) % 8)
open(p, "wb").write(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
PY
expect_error "header offset past the end" "model.safetensors" "$bin" inspect "$d"
d="$(broken unknown-dtype)"
python3 - "$d/model.safetensors" <<'PY'
import json, struct, sys
p = sys.argv[1]
data = open(p, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
h = json.loads(data[8:8 + n])
h["model.norm.weight"]["dtype"] = "Q9_Z"
raw = json.dumps(h).encode()
raw += b" " * (-len(raw) % 8)
open(p, "wb").write(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
PY
expect_error "unknown dtype" "Q9_Z" "$bin" inspect "$d"
d="$(broken unknown-type)"; sed -i 's/"model_type": "llama"/"model_type": "mamba"/' "$d/config.json"
expect_error "unknown model type" "mamba" "$bin" inspect "$d"
d="$(broken bad-json)"; echo '{ "model_type": ' >"$d/config.json"
expect_error "malformed config.json" "config.json" "$bin" inspect "$d"
d="$(broken wrong-shape)"; sed -i 's/"intermediate_size": 176/"intermediate_size": 177/' "$d/config.json"
expect_error "shape mismatch" "mlp" "$bin" inspect "$d"
expect_error "token outside the vocabulary" "outside the vocabulary" "$bin" score "$fixtures/tiny-llama" --tokens 1,2,999
expect_error "malformed --tokens" "not a token id" "$bin" score "$fixtures/tiny-llama" --tokens 1,x,3

echo "cli: exit statuses (64 usage, 65 data, 74 I/O; 75 is the watchdog's, checked by test-distributed.sh)"
# expect_status NAME STATUS CMD...: the command must exit with STATUS (the table in ErrorReport.swift).
expect_status() {
  local name="$1" want="$2"; shift 2
  local err status
  err="$("$@" 2>&1 >/dev/null)"; status=$?
  if [ $status -eq "$want" ]; then ok "$name exits $want"; else fail "$name (exit $status, expected $want)" "$err"; fi
}
expect_status "an unknown flag" 64 "$bin" inspect --nonsense "$fixtures/tiny-llama"
expect_status "an unknown model shape" 64 "$bin" make-model --shape llama-2-7b --output "$work/shaped-unknown"
head -c 1000 "$fixtures/gguf/tiny-llama-f32.gguf" >"$work/truncated.gguf"
expect_status "a truncated GGUF" 65 "$bin" inspect "$work/truncated.gguf"
d="$(broken huge-layers)"; sed -i 's/"num_hidden_layers": 2/"num_hidden_layers": 100000000000/' "$d/config.json"
expect_status "a config.json with 10^11 layers" 65 "$bin" inspect "$d"
expect_error "a config.json with 10^11 layers names the key" "'num_hidden_layers' is 100000000000" "$bin" score "$d" --tokens 1,2
expect_status "a missing model" 74 "$bin" inspect "$work/nowhere"
expect_status "mpirun -np 2 with a missing model" 74 "$mpi" -np 2 "$bin" inspect "$work/nowhere"

echo "cli: make-model (shape-faithful folders)"
out="$("$bin" make-model --help 2>&1)" && grep -q "llama-3.1-8b" <<<"$out" && grep -q "std 0.02" <<<"$out" \
  && ok "make-model --help lists the shapes and the distribution" || fail "make-model --help" "$out"
expect_error "make-model of an unknown shape names the known ones" "known: llama-3-8b" \
  "$bin" make-model --shape llama-2-7b --output "$work/shaped-unknown"
[ ! -e "$work/shaped-unknown" ] && ok "an unknown shape writes nothing" || fail "an unknown shape left $work/shaped-unknown"
# One real layer of Llama-3.2-1B (0.65 GB bf16, mostly the 128256×2048 embedding), sharded at 0.1 GB
# so the index path is exercised: the embedding alone, the layer, the norms.
start=$SECONDS
out="$("$bin" make-model --shape llama-3.2-1b --layers 1 --shard-size 0.1 --output "$work/shaped" 2>&1)"; status=$?
if [ $status -eq 0 ] && grep -q "ETA" <<<"$out" && [ -f "$work/shaped/model.safetensors.index.json" ] \
  && [ -f "$work/shaped/model-00003-of-00003.safetensors" ] && [ -f "$work/shaped/tokenizer.json" ]; then
  ok "make-model llama-3.2-1b --layers 1 ($((SECONDS - start)) s)"
else fail "make-model llama-3.2-1b --layers 1 (status $status)" "$out"; fi
out="$("$bin" inspect "$work/shaped" --json 2>&1)" \
  && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["parameters"]==323491840 and d["num_hidden_layers"]==1 and d["hidden_size"]==2048 and d["dtypes"]=={"BF16": 323491840} and d["tie_word_embeddings"], d' "$out" \
  && ok "inspect of the made model" || fail "inspect of the made model" "$out"
out="$("$bin" score "$work/shaped" --text "Two apples and three apples" 2>&1)" \
  && python3 -c 'import json,sys,math; d=json.loads(sys.argv[1]); assert d["tokens"] > 2 and math.isfinite(d["loss"]), d' "$out" \
  && ok "score on the made model" || fail "score on the made model" "$out"
expect_error "make-model refuses a non-empty folder" "--force" \
  "$bin" make-model --shape llama-3.2-1b --layers 1 --output "$work/shaped"
rm -rf "$work/shaped"

echo "cli: SmolLM2 (tokenize, generate, train, resume, score, export, IMSM)"
smol="$(bash "$root/launch/fetch-model.sh" 2>/dev/null || true)"
if [ -z "$smol" ] || [ ! -s "$smol" ]; then
  fail "SmolLM2 GGUF not available (launch/fetch-model.sh failed)"
else
  out="$("$bin" tokenize "$smol" --text "Hello world" 2>&1)"
  [ "$out" = '{"ids":[19556,905]}' ] && ok "tokenize" || fail "tokenize" "$out"
  out="$("$bin" generate "$smol" --chat --prompt "What is the capital of France?" --max-tokens 12 --json 2>&1)"
  grep -q '"text":"The capital of France is Paris."' <<<"$out" && ok "generate --chat (greedy)" || fail "generate" "$out"
  # --chat-template replaces the model's template; a template the interpreter cannot run names construct and line.
  cat >"$work/plain.jinja" <<'JINJA'
{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content | trim }}
{% endfor %}
{% if add_generation_prompt %}[assistant] {{ strftime_now('%d %b %Y') }}:{% endif %}
JINJA
  want="$("$bin" tokenize "$smol" --text $'<|im_start|>[user] Hi\n[assistant] 14 Mar 2025:' 2>&1 | sed 's/{"ids":\(.*\)}/\1/')"
  out="$("$bin" generate "$smol" --chat --chat-template "$work/plain.jinja" --template-date 2025-03-14 --prompt " Hi " --max-tokens 1 --json 2>&1)"
  grep -qF "\"prompt_tokens\":$want" <<<"$out" && ok "generate --chat-template --template-date" || fail "generate --chat-template" "$out (want $want)"
  printf 'line one\n{%% filter upper %%}hi{%% endfilter %%}' >"$work/filter.jinja"
  expect_error "--chat-template with a filter block" "filter.jinja, line 2: the chat template uses the statement '{% filter %}'" \
    "$bin" score "$smol" --text "Hi" --chat --chat-template "$work/filter.jinja"
  python3 "$root/launch/apples-task.py" "$work/task.jsonl" 4 3
  cat >"$work/run.toml" <<'TOML'
# flags as keys; the command line overrides them
method = "lora"
steps = 4            # overridden below
batch-size = 2
lr = 1e-3
max-length = 64
targets = ["q_proj", "v_proj"]
TOML
  out="$("$bin" train --config "$work/run.toml" --model "$smol" --data "$work/task.jsonl" --steps 3 --save-every 2 --output "$work/run" 2>&1)"; status=$?
  steps_done=$(grep -c '"loss"' "$work/run/metrics.jsonl" 2>/dev/null || echo 0)
  if [ $status -eq 0 ] && [ "$steps_done" -eq 3 ] && [ -f "$work/run/adapter/state.safetensors" ] && [ -f "$work/run/adapter-peft/adapter_model.safetensors" ]; then
    ok "train lora from a TOML config (3 steps, checkpoints, PEFT folder)"
  else fail "train lora (status $status, $steps_done metric lines)" "$out"; fi
  out="$("$bin" train --config "$work/run.toml" --model "$smol" --data "$work/task.jsonl" --steps 4 --resume auto --output "$work/run" 2>&1)"; status=$?
  if [ $status -eq 0 ] && grep -q "resumed from .*step-00000003 at step 3" <<<"$out" && grep -q '"step":4' "$work/run/metrics.jsonl"; then
    ok "train --resume auto continues from the last checkpoint"
  else fail "resume (status $status)" "$out"; fi
  out="$("$bin" train --config "$work/run.toml" --model "$smol" --data "$work/task.jsonl" --steps 1 --output "$work/run" 2>&1)"; status=$?
  if [ $status -eq 0 ] && [ "$(grep -c '"loss"' "$work/run/metrics.jsonl")" -eq 1 ] && [ "$(grep -c '"loss"' "$work/run/metrics.jsonl.previous")" -eq 4 ]; then
    ok "a new run in the same folder starts a new metrics file and keeps the old one as metrics.jsonl.previous"
  else fail "metrics of a new run (status $status)" "$out"; fi
  out="$("$bin" score "$smol" --adapter "$work/run/adapter" --text "2 apples and 3 apples make 5 apples." 2>&1)" \
    && grep -q '"loss"' <<<"$out" && ok "score --adapter" || fail "score --adapter" "$out"
  out="$("$bin" export --model "$smol" --adapter "$work/run/adapter" --format peft --output "$work/peft" 2>&1)" \
    && [ -f "$work/peft/adapter_config.json" ] && ok "export --format peft" || fail "export peft" "$out"
  # IMSM: the gate in inspect's count, a short run, generation with its adapter, and the export refusal.
  out="$("$bin" inspect "$smol" --method lora --imsm --json 2>&1)" \
    && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["imsm"]=="full" and d["imsm_gate"]==5*576*8 and d["trainable_total"]==30*15360+5*576*8, d' "$out" \
    && ok "inspect --imsm counts the gate" || fail "inspect --imsm" "$out"
  out="$("$bin" train --model "$smol" --data "$work/task.jsonl" --method lora --imsm --steps 2 --batch-size 2 --max-length 64 --lr 1e-3 --output "$work/imsm" 2>&1)"; status=$?
  if [ $status -eq 0 ] && grep -q "imsm full gate: 23,040 trainable" <<<"$out" && [ -f "$work/imsm/adapter/state.safetensors" ] && [ ! -e "$work/imsm/adapter-peft" ]; then
    ok "train lora --imsm (gate in the adapter folder, no PEFT folder)"
  else fail "train lora --imsm (status $status)" "$out"; fi
  out="$("$bin" generate "$smol" --adapter "$work/imsm/adapter" --chat --prompt "How many apples are 2 apples and 3 apples?" --max-tokens 4 --json 2>&1)" \
    && grep -q '"tokens"' <<<"$out" && ok "generate --adapter of an IMSM run" || fail "generate IMSM" "$out"
  expect_error "merged export of an IMSM run refuses" "IMSM" "$bin" export --model "$smol" --adapter "$work/imsm/adapter" --output "$work/imsm-merged"
  expect_error "--imsm with full" "not full" "$bin" inspect "$smol" --method full --imsm
  printf '{"input": "a", "output": "b"}\n{"input": "c", "outputs": "d"}\n' >"$work/bad.jsonl"
  expect_error "malformed data line names file and line" "bad.jsonl:2" "$bin" train --model "$smol" --data "$work/bad.jsonl" --output "$work/bad-run" --steps 1
  out="$("$bin" eval "$smol" --adapter "$work/run/adapter" --data "$work/task.jsonl" --part all --limit 3 --output "$work/eval.json" 2>&1)"; status=$?
  if [ $status -eq 0 ] && grep -q "exact_match" <<<"$out" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['tasks'][0]['count'] == 3" "$work/eval.json"; then
    ok "eval --adapter (teacher-forced, 3 records, JSON output)"
  else fail "eval (status $status)" "$out"; fi
  expect_error "eval of a missing data file names it" "nowhere.jsonl" "$bin" eval "$smol" --data "$work/nowhere.jsonl"
  # A usage error: ArgumentParser adds its usage lines to the message, so expect_error's one-message rule does not apply.
  err="$("$bin" eval "$smol" 2>&1 >/dev/null)"; status=$?
  [ $status -ne 0 ] && [ $status -lt 128 ] && grep -q "give --data" <<<"$err" && ok "eval without data is a usage error" || fail "eval without data (status $status)" "$err"
  expect_error "eval of a malformed line names file and line" "bad.jsonl:2" "$bin" eval "$smol" --data "$work/bad.jsonl" --part all
  expect_error "unknown config key" "--nonsense" "$bin" train --config <(echo 'nonsense = 3') --model "$smol" --data "$work/task.jsonl" --output "$work/x"
  # A config file can describe the whole run, model, data and output included; the run leaves summary.json.
  printf 'model = "%s"\ndata = "%s"\noutput = "%s"\nmethod = "lora"\nsteps = 1\nbatch-size = 2\nmax-length = 48\n' \
    "$smol" "$work/task.jsonl" "$work/whole" >"$work/whole.toml"
  out="$("$bin" train --config "$work/whole.toml" 2>&1)"; status=$?
  if [ $status -eq 0 ] && python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); c = s["configuration"]
assert s["final_step"] == 1 and s["steps_run"] == 1 and c["model"] == sys.argv[2] and c["method"]["method"] == "lora" and c["optimizer"]["batchSize"] == 2, s' \
     "$work/whole/summary.json" "$smol"; then
    ok "a TOML config with model, data and output runs alone; summary.json holds the resolved configuration"
  else fail "whole-run TOML config (status $status)" "$out"; fi
  # A diverging run (no bad file needed): NaN losses are written as "NaN" and --on-nan skip acts on them.
  out="$("$bin" train --model "$smol" --data "$work/task.jsonl" --method lora --steps 2 --batch-size 2 --max-length 48 \
    --lr 1e30 --clip 0 --output "$work/nan" 2>&1)"; status=$?
  if [ $status -eq 0 ] && grep -q '"loss":"NaN"' "$work/nan/metrics.jsonl" && grep -q "skipped for NaN/Inf" <<<"$out" \
     && python3 -c 'import json, math, sys; s = json.load(open(sys.argv[1]), parse_constant=float); assert s["skipped_steps"] >= 1 and s["final_loss"] == "NaN", s' "$work/nan/summary.json"; then
    ok "a diverging run (--lr 1e30 --clip 0) ends normally: NaN in metrics.jsonl and summary.json as \"NaN\", steps skipped"
  else fail "diverging run (status $status)" "$out"; fi
  # The forgetting experiment through the library API: per-method settings, two seeds, resumable.
  mkdir -p "$work/suite" && python3 "$root/launch/apples-task.py" "$work/suite/apples_test.jsonl" 3 2
  exp=(experiment forgetting --model "$smol" --task "$work/task.jsonl" --methods "lora,lora@lr=1e-2,rank=4" --seeds 1,2 --steps 1
       --batch-size 2 --max-length 48 --suite apples_test --suite-dir "$work/suite" --suite-limit 2 --task-limit 2 --output "$work/forget")
  out="$("$bin" "${exp[@]}" 2>&1)"; status=$?
  if [ $status -eq 0 ] && [ -f "$work/forget/task/lora-rank-4-lr0.01-seed2/eval.json" ] && [ -f "$work/forget/base-seed1.json" ] \
     && python3 -c 'import csv, sys; rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 4 and {r["seed"] for r in rows} == {"1", "2"} and {r["method"] for r in rows} == {"lora", "lora@lr=1e-2,rank=4"}, rows
assert {r["lr"] for r in rows} == {"0.001", "0.01"} and "apples_test_rougeL_after" in rows[0], rows[0]' "$work/forget/results.csv" \
     && grep -q "| lora@lr=1e-2,rank=4 |" "$work/forget/results.md" && grep -q "bootstrap interval" "$work/forget/results.md"; then
    again="$("$bin" "${exp[@]}" 2>&1)"
    if grep -q "step 1/1" <<<"$again"; then fail "experiment forgetting rerun trained again" "$again"
    else ok "experiment forgetting: per-method settings, 2 seeds (results.md/csv with seeds and intervals); a rerun reads the runs back"; fi
  else fail "experiment forgetting (status $status)" "$out"; fi
  # The same folder with another task list (a task alone after a run of two crashed the tables once): the stored
  # base scores are read back by task name, only the task they lack is scored, and each invocation's tables hold
  # its own tasks.
  python3 "$root/launch/apples-task.py" "$work/other.jsonl" 3 3
  exp2=(experiment forgetting --model "$smol" --task "$work/other.jsonl" --methods lora --seeds 1,2 --steps 1 --batch-size 2
        --max-length 48 --suite apples_test --suite-dir "$work/suite" --suite-limit 2 --task-limit 2 --output "$work/forget")
  out="$("$bin" "${exp2[@]}" 2>&1)"; status=$?
  if [ $status -eq 0 ] && grep -q "== base model: 1 task(s) not in base-seed1.json" <<<"$out" \
     && python3 -c 'import json, sys
names = sorted(t["name"] for t in json.load(open(sys.argv[1]))["tasks"])
assert names == ["other", "task"], names' "$work/forget/base-seed1.json" \
     && grep -q "^## other " "$work/forget/results.md" && ! grep -q "^## task " "$work/forget/results.md"; then
    again="$("$bin" "${exp[@]}" 2>&1)"; status=$?
    if [ $status -eq 0 ] && ! grep -q "== base model" <<<"$again" && grep -q "^## task " "$work/forget/results.md"; then
      ok "experiment forgetting: another task list in the same folder scores only the new task's base; tables per invocation"
    else fail "experiment forgetting: the first task list after another (status $status)" "$again"; fi
  else fail "experiment forgetting with another task list in the same folder (status $status)" "$out"; fi
  # The continual experiment: two tasks in order, fused at the switch, an accuracy matrix per method.
  python3 "$root/launch/apples-task.py" "$work/apples2.jsonl" 4 3
  cont=(experiment continual --model "$smol" --tasks "$work/task.jsonl,$work/apples2.jsonl" --methods "lora,secura-m1@lr=1e-3"
        --steps-per-task 1 --batch-size 2 --max-length 64 --lr 1e-3 --suite apples_test --suite-dir "$work/suite" --suite-limit 2
        --task-limit 2 --output "$work/continual")
  out="$("$bin" "${cont[@]}" 2>&1)"; status=$?
  if [ $status -eq 0 ] && python3 -c 'import json, sys; r = json.load(open(sys.argv[1]), parse_constant=float)
assert [m["method"] for m in r] == ["lora", "secura-m1@lr=1e-3"], r
assert all(len(m["accuracy"]) == 2 and all(len(row) == 2 for row in m["accuracy"]) and len(m["suiteMeans"]) == 3 for m in r), r
assert all("backwardTransfer" in m["metrics"] for m in r), r
assert [m["folder"] for m in r] == ["lora-lr0.001", "secura-m1-lr0.001"], r' "$work/continual/results.json" \
     && [ -f "$work/continual/lora-lr0.001/2-apples2/adapter/state.safetensors" ] && grep -q "accuracy matrix" "$work/continual/results.md"; then
    again="$("$bin" "${cont[@]}" 2>&1)"
    if [ "$(grep -c "scores read back, nothing retrained" <<<"$again")" = 2 ] && ! grep -q "step 1/1" <<<"$again"; then
      ok "experiment continual: 2 tasks fused at the switch, accuracy matrices and BWT/FWT/forgetting; a rerun reads everything back"
    else fail "experiment continual rerun" "$again"; fi
  else fail "experiment continual (status $status)" "$out"; fi
  # Numbers outside their documented range are usage errors naming the flag, before anything is allocated.
  for bad in "--batch-size 2147483648" "--imsm-rank 2147483648 --imsm --method lora" "--threads 2147483648" "--micro-batch 0" "--max-length 1"; do
    flag="${bad%% *}"
    err="$("$bin" train --model "$smol" --data "$work/task.jsonl" --output "$work/range" $bad 2>&1 >/dev/null)"; status=$?
    if [ $status -ne 0 ] && [ $status -lt 128 ] && grep -q -- "$flag: .* is outside" <<<"$err" && [ ! -e "$work/range/metrics.jsonl" ]; then ok "train $bad: usage error naming $flag"
    else fail "train $bad (status $status)" "$err"; fi
  done
  # The memory preflight refuses before any weight is read (no dequantisation line), names the largest part,
  # the available memory and a flag that helps, and leaves the earlier run in the same folder intact.
  out="$("$bin" train --model "$smol" --data "$work/task.jsonl" --method secura-m1 --cabr-init slice --max-length 512 --steps 1 \
    --memory-limit 0.5 --output "$work/run" 2>&1)"; status=$?
  if [ $status -ne 0 ] && [ $status -lt 128 ] && grep -q "does not fit in this node's memory" <<<"$out" \
     && grep -q "the largest part is activations" <<<"$out" && grep -q "512 MiB are available (--memory-limit)" <<<"$out" \
     && grep -q "try --recompute" <<<"$out" && ! grep -qE "dequantised [0-9]+ MiB of weights" <<<"$out" && [ -f "$work/run/adapter/state.safetensors" ]; then
    ok "train refuses a run that cannot fit before loading (estimate, available memory, hint)"
  else fail "memory preflight (status $status)" "$out"; fi
fi

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
