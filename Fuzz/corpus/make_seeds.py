#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/corpus/<target>/) from the test fixtures, plus small
synthetic inputs for what the fixtures lack. Deterministic; run from the repository root:

    python3 Fuzz/corpus/make_seeds.py [--gguf ~/.cache/secura-dist/models/SmolLM2-135M-Instruct.Q4_1.gguf]

Seeds are small valid (or nearly valid) files: the fuzzer mutates them, so each should reach deep into
its parser. Large fixtures are cut down (a tokenizer's vocabulary, a GGUF file's tensors)."""
import argparse, json, os, shutil, struct

FIX = "Tests/Fixtures"
OUT = "Fuzz/corpus"


def put(target, name, data):
    os.makedirs(f"{OUT}/{target}", exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(f"{OUT}/{target}/{name}", "wb") as f:
        f.write(data)


def copy(target, name, path):
    with open(path, "rb") as f:
        put(target, name, f.read())


# --- GGUF: a reader and writer for the header (metadata values and tensor infos) -------------------
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)
FIXED = {T_U8: "B", T_I8: "b", T_U16: "H", T_I16: "h", T_U32: "I", T_I32: "i", T_F32: "f", T_BOOL: "?",
         T_U64: "Q", T_I64: "q", T_F64: "d"}


def read_gguf(data):
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, data, off)[0]
        off += struct.calcsize(fmt)
        return v

    def string():
        nonlocal off
        n = take("Q")
        s = data[off:off + n].decode()
        off += n
        return s

    def value(t):
        if t in FIXED:
            return take(FIXED[t])
        if t == T_STR:
            return string()
        et, n = take("I"), take("Q")
        return (et, [value(et) for _ in range(n)])

    assert data[:4] == b"GGUF"
    off = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    kv = []
    for _ in range(n_kv):
        k = string()
        t = take("I")
        kv.append((k, t, value(t)))
    tensors = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        tensors.append((name, dims, take("I"), take("Q")))
    return version, kv, tensors


def write_gguf(kv, tensors, alignment=32):
    """tensors: (name, dims, ggml type, raw bytes); data laid out in order, each aligned."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))

    def string(s):
        b = s.encode()
        out.extend(struct.pack("<Q", len(b)) + b)

    def value(t, v):
        if t in FIXED:
            out.extend(struct.pack("<" + FIXED[t], v))
        elif t == T_STR:
            string(v)
        else:
            et, items = v
            out.extend(struct.pack("<IQ", et, len(items)))
            for item in items:
                value(et, item)

    for k, t, v in kv:
        string(k)
        out.extend(struct.pack("<I", t))
        value(t, v)
    offset, blobs = 0, []
    for name, dims, ggml_type, raw in tensors:
        string(name)
        out.extend(struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims))
        out.extend(struct.pack("<IQ", ggml_type, offset))
        blobs.append((offset, raw))
        offset += (len(raw) + alignment - 1) // alignment * alignment
    out.extend(b"\0" * (-len(out) % alignment))
    data_start = len(out)
    out.extend(b"\0" * offset)
    for at, raw in blobs:
        out[data_start + at:data_start + at + len(raw)] = raw
    return bytes(out)


def small_gguf(path, vocab_keep=64):
    """A fixture GGUF's metadata (token arrays cut to `vocab_keep`) with its tensors shrunk to 2×4 f32."""
    with open(path, "rb") as f:
        _, kv, tensors = read_gguf(f.read())
    cut = []
    for k, t, v in kv:
        if t == T_ARR and k.startswith("tokenizer.ggml."):
            v = (v[0], v[1][:vocab_keep])
        cut.append((k, t, v))
    shrunk = [(name, [4, 2] if len(dims) > 1 else [4], 0, struct.pack("<8f", *range(8))[:32 if len(dims) > 1 else 16])
              for name, dims, _, _ in tensors[:6]]
    return write_gguf(cut, shrunk)


def gguf_seeds(smollm2):
    copy("gguf", "quant-types.gguf", f"{FIX}/gguf/quant-types.gguf")
    put("gguf", "tiny-llama-shrunk.gguf", small_gguf(f"{FIX}/gguf/tiny-llama-f32.gguf"))
    put("gguf", "tiny-qwen2-shrunk.gguf", small_gguf(f"{FIX}/gguf/tiny-qwen2-f32.gguf"))
    put("gguf", "tiny-gemma2-shrunk.gguf", small_gguf(f"{FIX}/gguf/tiny-gemma2-f32.gguf"))
    if smollm2 and os.path.exists(smollm2):
        # The real model's metadata (llama keys, BPE tokenizer, chat template), vocabulary cut to 256.
        with open(smollm2, "rb") as f:
            head = f.read(8 << 20)
        _, kv, tensors = read_gguf(head)
        cut = [(k, t, (v[0], v[1][:256]) if t == T_ARR and k.startswith("tokenizer.ggml.") else v) for k, t, v in kv]
        put("gguf", "smollm2-header.gguf", write_gguf(cut, [("token_embd.weight", [4, 2], 0, bytes(32))]))
    # Minimal: no metadata, one f32 tensor; and the bare fixed header.
    put("gguf", "minimal.gguf", write_gguf([("general.architecture", T_STR, "llama")], [("t", [2], 0, bytes(8))]))
    put("gguf", "empty.gguf", write_gguf([], []))


# --- safetensors -------------------------------------------------------------------------------------
def safetensors(entries, metadata=None):
    header, data = {}, bytearray()
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data.extend(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(data)


def safetensors_seeds():
    copy("safetensors", "tiny-qwen2-lora.safetensors", f"{FIX}/peft/tiny-qwen2-lora/adapter_model.safetensors")
    put("safetensors", "dtypes.safetensors", safetensors([
        ("a.f32", "F32", [2, 2], struct.pack("<4f", 1, -2, 0.5, 3)),
        ("b.bf16", "BF16", [3], bytes([0x80, 0x3f, 0, 0xc0, 0x49, 0x40])),
        ("c.f16", "F16", [1, 2], bytes([0, 0x3c, 0, 0xc0])),
        ("d.i64", "I64", [1], struct.pack("<q", 7)),
        ("e.scalar", "F32", [], struct.pack("<f", 2)),
        ("f.empty", "F32", [0, 3], b""),
    ], {"format": "pt"}))
    put("safetensors", "empty-header.safetensors", safetensors([]))


# --- JSON and text seeds -----------------------------------------------------------------------------
def shrink_tokenizer(path, keep):
    """A tokenizer.json with its vocabulary cut to the first `keep` ids and the merges that stay valid."""
    with open(path) as f:
        t = json.load(f)
    vocab = {k: v for k, v in t["model"]["vocab"].items() if v < keep}
    merges = []
    for m in t["model"]["merges"]:
        a, b = m if isinstance(m, list) else m.split(" ", 1)
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    t["model"]["vocab"], t["model"]["merges"] = vocab, merges
    t["added_tokens"] = [a for a in t["added_tokens"] if a["id"] < keep]
    return json.dumps(t, ensure_ascii=False, separators=(",", ":"))


def text_seeds():
    for name in ["tiny-llama", "tiny-qwen2", "tiny-gemma2", "tiny-qwen2-f16", "tiny-llama-bf16-sharded"]:
        copy("config", f"{name}.json", f"{FIX}/{name}/config.json")

    put("tokenizer", "smollm2-shrunk.json", shrink_tokenizer(f"{FIX}/tokenizers/smollm2/tokenizer.json", 400))
    put("tokenizer", "flags-shrunk.json", shrink_tokenizer(f"{FIX}/tokenizers/flags/tokenizer.json", 400))

    copy("tokenizer-config", "smollm2.json", f"{FIX}/tokenizers/smollm2/tokenizer_config.json")
    copy("tokenizer-config", "qwen3.json", f"{FIX}/tokenizers/qwen3/tokenizer_config.json")
    with open(f"{FIX}/tokenizers/smollm2/chat_template.jinja") as f:
        template = f.read()
    put("tokenizer-config", "with-template.json", json.dumps({
        "bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>", "special": True},
        "pad_token": "<|endoftext|>", "unk_token": None, "add_bos_token": False, "chat_template": template}))

    put("jsonl", "prompt-answer.jsonl", '{"input": "2 + 2 =", "output": "4"}\n'
        '{"input": "Name a colour.", "output": ["red", "blue"]}\r\n\n   \n{"input": "x\\u00e9\\n", "output": "y"}\n')
    put("jsonl", "messages.jsonl", json.dumps({"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."}]}) + "\n")
    put("jsonl", "bad-lines.jsonl", '{"input": 1}\n[1, 2]\nnot json\n{"messages": []}\n{"input": "a", "output": "b"}\n')

    put("bigbench", "generative.json", json.dumps({
        "name": "t", "task_prefix": "Answer.\n", "example_input_prefix": "\nQ: ", "example_output_prefix": "\nA: ",
        "examples": [{"input": "2 + 3", "target": "5"}, {"input": "1 + 1", "target": ["2", "two"]}]}, indent=1))
    put("bigbench", "multiple-choice.json", json.dumps({
        "name": "mc", "choice_prefix": "\n  choice: ", "append_choices_to_input": True,
        "examples": [{"input": "Sky colour?", "target_scores": {"blue": 1, "green": 0}},
                     {"input": "2 > 1?", "target_scores": {"yes": 1.0, "no": 0.0}, "target": "yes"}]}))

    put("toml", "train.toml", '# a run\nmodel = "models/tiny"\ndata = \'data/task.jsonl\'\nlr = 1e-3\n'
        'steps = 1_000\nmethod = "lora"  # comment\ntargets = ["q_proj", \'v_proj\']\nskip_bad_lines = true\n'
        'recompute = false\nnote = "tab\\there \\"quoted\\" # not a comment"\n')
    put("toml", "errors.toml", '[table]\nkey\n"quoted-key" = 1\nx = { a = 1 }\ny = 1979-05-27\nz = "open\n')

    # A state.json as Checkpoint.save writes it (a LoRA run's adapter folder), and a state-1 one.
    state = {
        "adamStep": 2, "format": "secura-dist/state-2", "hasOptimizerState": False, "masterFiles": [],
        "method": {"alpha": 16, "cabrInit": "svd", "cabrM": 200, "consistencyWeight": 0.99, "curRank": 150,
                   "dropout": 0.05, "emaDecay": 0.99, "fusionStep": 1,
                   "imsm": {"dropout": 0.1, "lr": 0.001, "mode": "full", "rank": 8},
                   "mergePrecision": "fp32", "method": "lora", "rank": 8, "smagnorm": "merge",
                   "smagnormEps": 1e-10, "smagnormScale": 6, "targets": ["q_proj", "v_proj"]},
        "model": "models/SmolLM2-135M-Instruct.Q4_1.gguf", "samplesSeen": 4, "skippedSteps": 0, "step": 2,
        "trainableParameters": 483840,
        "training": {"adamw": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "weightDecay": 0.01},
                     "batchSize": 2, "clipNorm": 1, "evalEvery": 0, "microBatch": 1, "onNaN": "skip",
                     "padToken": 2, "saveEvery": 0,
                     "schedule": {"base": 0.001, "kind": "constant", "total": 2, "warmup": 0},
                     "seed": 42, "steps": 2}}
    put("state", "imsm-adapter.json", json.dumps(state, indent=2, sort_keys=True))
    older = dict(state, format="secura-dist/state-1", hasOptimizerState=True)
    del older["masterFiles"]
    older["method"] = dict(state["method"], method="secura-m1")
    del older["method"]["imsm"]
    put("state", "state-1.json", json.dumps(older, sort_keys=True))

    for name in ["tiny-llama-lora", "tiny-llama-dora", "tiny-qwen2-lora"]:
        copy("adapter-config", f"{name}.json", f"{FIX}/peft/{name}/adapter_config.json")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/secura-dist/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = ap.parse_args()
    gguf_seeds(args.gguf)
    safetensors_seeds()
    text_seeds()
