#!/usr/bin/env python3
"""Make the GGUF fixtures and the SmolLM2 reference values the Swift tests compare against.

Run from the repository root (needs torch, transformers, gguf, safetensors, numpy; no network):

    /work/venv-ref/bin/python Tests/Fixtures/make_gguf_reference.py              # everything
    /work/venv-ref/bin/python Tests/Fixtures/make_gguf_reference.py --skip-smollm2
    /work/venv-ref/bin/python Tests/Fixtures/make_gguf_reference.py --only-smollm2

Deterministic (fixed seeds, one CPU thread, deterministic algorithms): a rerun rewrites byte-identical
files, and the script prints a sha256 prefix of each so that can be checked. See
Tests/Fixtures/gguf/README.md and Tests/Fixtures/smollm2/README.md for what the files hold.

What it makes:

  gguf/tiny-llama-f32.gguf      the tiny-llama fixture (Tests/Fixtures/tiny-llama) written the way
  gguf/tiny-qwen2-f32.gguf      llama.cpp's convert_hf_to_gguf.py writes an --outtype f32 file: tensor
                                names mapped with gguf-py's TensorNameMap, Llama's q/k rows permuted for
                                interleaved RoPE (Qwen2 is not permuted), the same metadata keys, llama3
                                RoPE scaling as a `rope_freqs.weight` tensor. Plus a stub byte-level
                                vocabulary (the tiny models have no tokenizer).
  gguf/quant-types.gguf         small tensors in F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K and metadata
                                of every value type (nested arrays included), data alignment 64.
  gguf/quant-types.reference.safetensors
                                gguf-py's fp32 dequantisation of every tensor, in row-major shape.
  smollm2/reference.json        SmolLM2-135M-Instruct (Q4_1 GGUF) loaded by transformers: 20 GSM8K chat
                                sequences with their token ids and per-sequence mean next-token losses
                                (float32 transformers and an independent float64 forward), and greedy
                                generations for 5 prompts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

import gguf
from gguf import GGMLQuantizationType as QT
from safetensors.numpy import load_file, save_file

FIXTURES = Path(__file__).resolve().parent
ROOT = FIXTURES.parent.parent
GGUF_DIR = FIXTURES / "gguf"
SMOL_DIR = FIXTURES / "smollm2"

SEED_QUANT = 20240611
GSM8K = ROOT.parent / "shared" / "data" / "glue-qa" / "gsm8k_test.jsonl"
SMOL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_SEQUENCES = 20
GENERATION_PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "What is 12 times 7?",
    "Give me three tips for staying focused while studying.",
    "Translate 'good morning' into Spanish.",
]
MAX_NEW_TOKENS = 24

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


# ----------------------------------------------------------------------------------------------------
# (a) tiny-llama / tiny-qwen2 as llama.cpp's converter writes them
# ----------------------------------------------------------------------------------------------------

def permute_for_interleaved_rope(w: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute, reimplemented. Within each head the HF rows are
    [first halves of the rotary pairs; second halves] (rotate_half layout); GGUF interleaves them:
    GGUF row h*D + 2i + j  <-  HF row h*D + j*D/2 + i   (j in {0, 1}, i < D/2)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def llama3_rope_factors(rope: dict, head_dim: int) -> np.ndarray:
    """generate_extra_tensors() of convert_hf_to_gguf.py's LlamaModel: the per-frequency divisors of
    the llama3 rule, stored as `rope_freqs.weight` (F32). One deliberate difference: the converter reads
    original_max_position_embeddings from the *top level* of config.json and falls back to 8192; HF
    keeps it inside rope_scaling / rope_parameters (Llama 3.1's value is 8192, so real models are not
    affected). tiny-llama uses 64, so this uses the value HF actually applies; see gguf/README.md."""
    base = float(rope["rope_theta"])
    freqs = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    factor = rope.get("factor", 8.0)
    low, high = rope.get("low_freq_factor", 1.0), rope.get("high_freq_factor", 4.0)
    old = rope["original_max_position_embeddings"]
    low_wl, high_wl = old / low, old / high
    out = []
    for f in freqs:
        wl = 2 * math.pi / f
        if wl < high_wl:
            out.append(1)
        elif wl > low_wl:
            out.append(factor)
        else:
            smooth = (old / wl - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(torch.tensor(out, dtype=torch.float32).numpy())


def byte_level_tokens() -> list[str]:
    """GPT-2's byte-to-unicode table: token id b is the printable stand-in for byte b."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def write_tiny(folder_name: str, out_name: str, arch: gguf.MODEL_ARCH) -> dict:
    from transformers import AutoConfig

    folder = FIXTURES / folder_name
    hp = AutoConfig.from_pretrained(folder).to_dict()
    tensors = load_file(str(folder / "model.safetensors"))
    arch_name = gguf.MODEL_ARCH_NAMES[arch]
    n_head, n_kv = hp["num_attention_heads"], hp["num_key_value_heads"]
    rope = hp.get("rope_parameters") or hp.get("rope_scaling") or {}

    path = GGUF_DIR / out_name
    w = gguf.GGUFWriter(str(path), arch=arch_name)
    # ModelBase.prepare_metadata: type, name; then TextModel.set_gguf_parameters in its order.
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(folder_name)
    w.add_block_count(hp["num_hidden_layers"])
    w.add_context_length(hp["max_position_embeddings"])
    w.add_embedding_length(hp["hidden_size"])
    w.add_feed_forward_length(hp["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_freq_base(rope["rope_theta"])
    w.add_layer_norm_rms_eps(hp["rms_norm_eps"])
    if hp.get("head_dim") is not None:
        w.add_key_length(hp["head_dim"])
        w.add_value_length(hp["head_dim"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    head_dim = hp.get("head_dim") or hp["hidden_size"] // n_head
    if arch == gguf.MODEL_ARCH.LLAMA:  # LlamaModel.set_gguf_parameters
        w.add_vocab_size(hp["vocab_size"])
        w.add_rope_dimension_count(head_dim)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    # Stub vocabulary (the tiny models have none): 256 byte-level tokens, all NORMAL, no merges.
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(byte_level_tokens())
    w.add_token_types([gguf.TokenType.NORMAL] * 256)
    if hp.get("bos_token_id") is not None:
        w.add_bos_token_id(hp["bos_token_id"])
    if hp.get("eos_token_id") is not None:
        w.add_eos_token_id(hp["eos_token_id"])

    name_map = gguf.get_tensor_name_map(arch, hp["num_hidden_layers"])
    written: dict[str, np.ndarray] = {}
    # generate_extra_tensors() comes first in prepare_tensors().
    if rope.get("rope_type", "").lower() == "llama3":
        written[gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight"] = llama3_rope_factors(rope, head_dim)
    for hf_name in sorted(tensors):
        data = tensors[hf_name].astype(np.float32)
        if arch == gguf.MODEL_ARCH.LLAMA:  # LlamaModel.modify_tensors
            if hf_name.endswith(("q_proj.weight", "q_proj.bias")):
                data = permute_for_interleaved_rope(data, n_head, n_head)
            if hf_name.endswith(("k_proj.weight", "k_proj.bias")):
                data = permute_for_interleaved_rope(data, n_head, n_kv)
        new_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert new_name is not None, hf_name
        written[new_name] = np.ascontiguousarray(data)
    for name, data in written.items():
        w.add_tensor(name, data, raw_dtype=QT.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return {"path": path, "hf": tensors, "arch": arch, "n_head": n_head, "n_kv": n_kv}


def check_tiny(made: dict, folder_name: str) -> float:
    """Reads the file back: the names and shapes round-trip, transformers' GGUF loader (which reverses
    the permutation itself) recovers exactly the safetensors weights, and its logits on the fixture's
    token batch are compared with the folder's reference logits (returned: max |Δ|)."""
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    path: Path = made["path"]
    reader = gguf.GGUFReader(str(path))
    assert reader.alignment == 32
    by_name = {t.name: t for t in reader.tensors}
    for t in reader.tensors:
        assert t.tensor_type == QT.F32, t.name
    # our permutation is exactly what transformers' reverse permutation undoes
    proc = LlamaTensorProcessor(config={"num_attention_heads": made["n_head"], "num_key_value_heads": made["n_kv"]})
    for name, t in by_name.items():
        if ".attn_q." in name or ".attn_k." in name:
            stored = np.array(t.data).reshape(list(reversed([int(d) for d in t.shape])))
            back = proc.process(stored, name).weights if made["arch"] == gguf.MODEL_ARCH.LLAMA else stored
            hf = name.replace("blk.", "model.layers.").replace(".attn_q.", ".self_attn.q_proj.").replace(
                ".attn_k.", ".self_attn.k_proj.")
            assert np.array_equal(back, made["hf"][hf]), name
            if made["arch"] == gguf.MODEL_ARCH.LLAMA:
                assert not np.array_equal(stored, made["hf"][hf]), name  # really permuted

    model = AutoModelForCausalLM.from_pretrained(str(GGUF_DIR), gguf_file=path.name, dtype=torch.float32)
    model.eval()
    sd = model.state_dict()
    for k, v in made["hf"].items():
        assert torch.equal(sd[k], torch.from_numpy(v)), k
    ref = json.loads((FIXTURES / folder_name / "reference.json").read_text())
    with safe_open(str(FIXTURES / folder_name / "reference.safetensors"), framework="np") as f:
        ref_logits = f.get_tensor("logits")
    with torch.no_grad():
        logits = model(torch.tensor(ref["tokens"])).logits.numpy()
    return float(np.abs(logits - ref_logits).max())


# ----------------------------------------------------------------------------------------------------
# (b) one small tensor per type, and gguf-py's dequantisation of each
# ----------------------------------------------------------------------------------------------------

def random_k_blocks(rng: np.random.Generator, qtype: QT, n_blocks: int) -> np.ndarray:
    """gguf-py cannot quantise Q4_K / Q6_K: random block bytes with sane f16 super-block scales."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    if qtype == QT.Q4_K:  # f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes
        d = (rng.uniform(0.002, 0.02, n_blocks)).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
        dmin = (rng.uniform(0.001, 0.01, n_blocks)).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
        raw[:, 0:2], raw[:, 2:4] = d, dmin
    elif qtype == QT.Q6_K:  # 128 ql, 64 qh, 16 int8 scales, f16 d
        d = (rng.uniform(0.0005, 0.005, n_blocks)).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
        raw[:, 208:210] = d
    else:
        raise ValueError(qtype)
    return raw


def write_quant_types() -> Path:
    rng = np.random.default_rng(SEED_QUANT)
    path = GGUF_DIR / "quant-types.gguf"
    w = gguf.GGUFWriter(str(path), arch="quant-types")
    w.add_custom_alignment(64)
    # one metadata value of every type
    w.add_uint8("test.uint8", 200)
    w.add_int8("test.int8", -5)
    w.add_uint16("test.uint16", 60000)
    w.add_int16("test.int16", -30000)
    w.add_uint32("test.uint32", 4_000_000_000)
    w.add_int32("test.int32", -2_000_000_000)
    w.add_uint64("test.uint64", 2**63 + 5)
    w.add_int64("test.int64", -(2**62))
    w.add_float32("test.float32", 1.5)
    w.add_float64("test.float64", -2.25e-300)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo ✓ GGUF")
    w.add_array("test.array.int32", [1, -2, 3])
    w.add_array("test.array.string", ["a", "bc", ""])
    w.add_array("test.array.float32", [0.5, -1.25])
    w.add_array("test.array.nested", [[1, 2], [3]])

    # (name, row-major shape, type); names are the type, so a failure names what is wrong.
    specs = [
        ("f32.3d", [2, 3, 8], QT.F32),
        ("f16", [3, 40], QT.F16),
        ("bf16", [3, 40], QT.BF16),
        ("q8_0", [4, 64], QT.Q8_0),
        ("q8_0.3d", [2, 2, 64], QT.Q8_0),
        ("q4_0", [4, 64], QT.Q4_0),
        ("q4_1", [4, 64], QT.Q4_1),
        ("q4_k", [3, 256], QT.Q4_K),
        ("q6_k", [3, 512], QT.Q6_K),
    ]
    for name, shape, qtype in specs:
        if qtype in (QT.Q4_K, QT.Q6_K):
            n = int(np.prod(shape))
            blocks = random_k_blocks(rng, qtype, n // 256)
            row_bytes = shape[-1] // 256 * gguf.GGML_QUANT_SIZES[qtype][1]
            raw = blocks.reshape(*shape[:-1], row_bytes)
        else:
            x = rng.standard_normal(shape).astype(np.float32)
            if qtype == QT.F16:
                x[0, :4] = [0.0, -0.0, 6.0e-8, 65504.0]  # zero, negative zero, smallest subnormal, max
            raw = gguf.quants.quantize(x, qtype) if qtype != QT.F32 else x
        w.add_tensor(name, raw, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    reader = gguf.GGUFReader(str(path))
    assert reader.alignment == 64
    reference = {}
    for t in reader.tensors:
        shape = list(reversed([int(d) for d in t.shape]))
        values = gguf.quants.dequantize(np.array(t.data), t.tensor_type).astype(np.float32)
        reference[t.name] = np.ascontiguousarray(values.reshape(shape))
        assert np.isfinite(reference[t.name]).all(), t.name
    out = GGUF_DIR / "quant-types.reference.safetensors"
    save_file(reference, str(out), metadata={"format": "np"})
    os.chmod(out, 0o644)  # safetensors writes 0600
    return path


# ----------------------------------------------------------------------------------------------------
# (c) SmolLM2-135M-Instruct: losses and greedy generations from transformers' GGUF loader
# ----------------------------------------------------------------------------------------------------

def smollm2_path() -> Path:
    cache = Path(os.environ.get("SECURA_CACHE", Path.home() / ".cache" / "secura-dist"))
    path = cache / "models" / SMOL_NAME
    if not path.is_file():
        sys.exit(f"{path} not found: run launch/fetch-model.sh first")
    return path


def forward64(sd: dict[str, torch.Tensor], cfg, ids: torch.Tensor) -> torch.Tensor:
    """The Llama forward pass written out in float64 from the (dequantised, unpermuted) weights, sharing
    no code with transformers. ids [T] -> logits [T, V]."""
    w = {k: v.to(torch.float64) for k, v in sd.items()}
    H, nh, nkv = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads
    hd = getattr(cfg, "head_dim", None) or H // nh
    eps = cfg.rms_norm_eps
    theta = (cfg.rope_parameters or {}).get("rope_theta", getattr(cfg, "rope_theta", None))
    t = ids.shape[0]
    inv = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)

    def rms(x, g):
        return g * x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)

    def rope(x):  # [heads, T, hd], rotate_half layout
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    x = w["model.embed_tokens.weight"][ids]
    mask = torch.triu(torch.full((t, t), float("-inf"), dtype=torch.float64), 1)
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(t, nh, hd).transpose(0, 1)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(t, nkv, hd).transpose(0, 1)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(t, nkv, hd).transpose(0, 1)
        q, k = rope(q), rope(k)
        k, v = k.repeat_interleave(nh // nkv, 0), v.repeat_interleave(nh // nkv, 0)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd) + mask, -1) @ v
        x = x + a.transpose(0, 1).reshape(t, nh * hd) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        g = h @ w[p + "mlp.gate_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    x = rms(x, w["model.norm.weight"])
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T


def mean_next_token_loss64(logits: torch.Tensor, ids: torch.Tensor) -> float:
    lp = torch.log_softmax(logits[:-1].to(torch.float64), -1)
    return float(-lp.gather(1, ids[1:, None]).mean())


def make_smollm2() -> None:
    import tokenizers
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = smollm2_path()
    folder, name = str(path.parent), path.name
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    cfg = model.config
    assert cfg.tie_word_embeddings, "SmolLM2 has no output.weight: the head is tied"
    sd = model.state_dict()

    records = [json.loads(line) for line in GSM8K.read_text().splitlines()[:N_SEQUENCES]]
    sequences = []
    for i, r in enumerate(records):
        answer = r["output"][0] if isinstance(r["output"], list) else r["output"]
        messages = [{"role": "user", "content": r["input"]}, {"role": "assistant", "content": answer}]
        text = tok.apply_chat_template(messages, tokenize=False)
        ids = tok.encode(text, add_special_tokens=False)
        x = torch.tensor(ids)
        with torch.no_grad():
            out = model(x[None], labels=x[None])
            loss32 = float(out.loss)
            logits64 = forward64(sd, cfg, x)
        loss64 = mean_next_token_loss64(logits64, x)
        d32 = float((out.logits[0].double() - logits64).abs().max())
        print(f"  seq {i:2d}: T={len(ids):4d}  loss f32 {loss32:.7f}  f64 {loss64:.9f}  max|Δlogits| f32 vs f64 {d32:.1e}")
        assert abs(loss32 - loss64) < 1e-4 * abs(loss64), (i, loss32, loss64)
        sequences.append({"index": i, "text": text, "ids": ids, "tokens": len(ids),
                          "loss_float32": loss32, "loss_float64": loss64,
                          "max_abs_logit_diff_float32_vs_float64": d32})

    generations = []
    for prompt in GENERATION_PROMPTS:
        text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                       add_generation_prompt=True)
        ids = tok.encode(text, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=MAX_NEW_TOKENS, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True, pad_token_id=tok.pad_token_id)
        new = out.sequences[0, len(ids):].tolist()
        margins = []
        for s in out.scores:
            top2 = torch.topk(s[0].float(), 2).values
            margins.append(float(top2[0] - top2[1]))
        print(f"  generate {prompt!r}: {tok.decode(new)!r}  (smallest top-1/top-2 logit margin {min(margins):.3f})")
        generations.append({"prompt": prompt, "prompt_text": text, "prompt_ids": ids, "generated_ids": new,
                            "generated_text": tok.decode(new), "top2_logit_margins": margins})

    ref = {
        "model_file": name,
        "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "data_file": "shared/data/glue-qa/gsm8k_test.jsonl",
        "loss": "mean over positions t < T-1 of -log softmax(logits[t])[ids[t+1]] (natural log)",
        "config": {k: getattr(cfg, k, None) for k in
                   ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "vocab_size", "rms_norm_eps", "max_position_embeddings",
                    "tie_word_embeddings", "bos_token_id", "eos_token_id"]} | {"rope_parameters": cfg.rope_parameters},
        "eos_token_id": tok.eos_token_id,
        "max_new_tokens": MAX_NEW_TOKENS,
        "sequences": sequences,
        "generations": generations,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "gguf": gguf_version(),
                     "tokenizers": tokenizers.__version__, "numpy": np.__version__},
    }
    text = json.dumps(ref, indent=1, ensure_ascii=False)
    for key in ("ids", "prompt_ids", "generated_ids", "top2_logit_margins"):  # one line per id list
        for item in sequences + generations:
            if key in item:
                text = text.replace(json.dumps(item[key], indent=1).replace("\n", "\n" + " " * 3), json.dumps(item[key]), 1)
    assert json.loads(text) == ref
    SMOL_DIR.mkdir(exist_ok=True)
    (SMOL_DIR / "reference.json").write_text(text + "\n")


def gguf_version() -> str:
    from importlib.metadata import version
    return version("gguf")


# ----------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--skip-smollm2", action="store_true")
    group.add_argument("--only-smollm2", action="store_true")
    args = parser.parse_args()
    import transformers
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, gguf {gguf_version()}, "
          f"python {platform.python_version()}")

    if not args.only_smollm2:
        GGUF_DIR.mkdir(exist_ok=True)
        llama = write_tiny("tiny-llama", "tiny-llama-f32.gguf", gguf.MODEL_ARCH.LLAMA)
        qwen = write_tiny("tiny-qwen2", "tiny-qwen2-f32.gguf", gguf.MODEL_ARCH.QWEN2)
        d_llama = check_tiny(llama, "tiny-llama")
        d_qwen = check_tiny(qwen, "tiny-qwen2")
        print(f"transformers' GGUF loader vs the folders' reference logits: tiny-llama {d_llama:.1e} "
              f"(it ignores rope_freqs, so llama3 RoPE scaling is lost), tiny-qwen2 {d_qwen:.1e}")
        assert d_qwen < 1e-5 and d_llama > 1e-3
        write_quant_types()
        total = 0
        for f in sorted(GGUF_DIR.iterdir()):
            if f.suffix in (".gguf", ".safetensors"):
                total += f.stat().st_size
                print(f"  gguf/{f.name:<40}{f.stat().st_size:>9}  {sha(f)}")
        print(f"  total {total} bytes")
        assert total < 1 << 20

    if not args.skip_smollm2:
        make_smollm2()
        f = SMOL_DIR / "reference.json"
        print(f"  smollm2/reference.json {f.stat().st_size} bytes  {sha(f)}")


if __name__ == "__main__":
    main()
