#!/usr/bin/env python3
"""Independent check of `secura-dist export --format gguf` on the committed tiny exports.

For each Tests/Fixtures/gguf-export/<model>-<dtype>.gguf (written by GGUFExportReferenceTests.testWriteFixtures
from a LoRA adapter trained 3 steps, committed beside it as <model>-lora/, a PEFT folder):

1. gguf-py's GGUFReader reads every key and tensor. The keys must describe the Hugging Face folder's
   configuration; the tensor names must be exactly those gguf-py's TensorNameMap gives the folder's
   tensors (plus rope_freqs.weight for llama3 RoPE, whose values must be the converter's formula).
2. Every tensor is compared with this script's own merge, W + (lora_alpha / r) * B @ A in float64 from
   the base safetensors and the PEFT adapter, laid out as convert_hf_to_gguf.py lays it out (Llama q/k
   rows permuted per head, Gemma2 norms + 1; 1-D tensors F32, matrices in the file's dtype, Q8_0 rows
   that are not whole blocks of 32 in F16): dequantised values within the type's rounding of the merge,
   and re-quantised with gguf.quants the same bytes (up to values whose fp32 merge differs in its
   last bit).
3. transformers' GGUF loader loads the file and computes the mean next-token loss of TOKENS. Two things
   its loader does not map are passed from the file as config overrides: llama3 RoPE (it ignores
   rope_freqs.weight; the Hugging Face rope_parameters are passed after step 1 checked the factors) and
   Gemma2's soft-capping and query_pre_attn_scalar keys (read from the GGUF's own metadata).
   For comparison, transformers' loss of the fp32 merge (the Hugging Face folder with merged weights).

Writes gguf-export/reference.json; GGUFExportReferenceTests compares `score` with transformers_loss.
Run from the repository root:  /work/venv-ref/bin/python Tests/Fixtures/make_gguf_export_reference.py
"""
import hashlib
import importlib.metadata
import json
import math
from pathlib import Path

import gguf
import numpy as np
import torch
import transformers
from gguf import GGMLQuantizationType as QT
from safetensors.numpy import load_file
from transformers import AutoConfig, AutoModelForCausalLM

FIXTURES = Path(__file__).resolve().parent
EXPORTS = FIXTURES / "gguf-export"
MODELS = {"tiny-llama": gguf.MODEL_ARCH.LLAMA, "tiny-qwen2": gguf.MODEL_ARCH.QWEN2, "tiny-gemma2": gguf.MODEL_ARCH.GEMMA2}
DTYPES = {"f16": QT.F16, "bf16": QT.BF16, "q8_0": QT.Q8_0}
FILE_TYPES = {"f16": 1, "bf16": 32, "q8_0": 7}
TOKENS = [1, 3, 17, 60, 4, 25, 31, 8, 47, 5, 2, 14]   # within every tiny vocabulary (Gemma2's has 64)


def field(reader: gguf.GGUFReader, key: str):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def merged_weights(model: str) -> dict[str, np.ndarray]:
    """Base weights with the PEFT adapter folded in, in float64 (Hugging Face names and order)."""
    base = {k: v.astype(np.float64) for k, v in load_file(FIXTURES / model / "model.safetensors").items()}
    adapter_dir = EXPORTS / f"{model}-lora"
    cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    scaling = cfg["lora_alpha"] / cfg["r"]
    lora = load_file(adapter_dir / "adapter_model.safetensors")
    merged = 0
    for key, a in lora.items():
        if ".lora_A." not in key:
            continue
        module = key.removeprefix("base_model.model.").split(".lora_A.")[0]
        b = lora[key.replace(".lora_A.", ".lora_B.")]
        base[module + ".weight"] += scaling * (b.astype(np.float64) @ a.astype(np.float64))
        merged += 1
    assert merged > 0, "the adapter holds no LoRA pair"
    return base


def permute(w: np.ndarray, heads: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: rotate_half rows to interleaved RoPE rows."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama3_factors(rope: dict, theta: float, head_dim: int) -> np.ndarray:
    """The converter's rope_freqs for llama3 scaling (original_max from the rope parameters, as HF applies it)."""
    factor, low, high = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
    old = rope["original_max_position_embeddings"]
    freqs = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    out = []
    for f in freqs:
        wavelen = 2 * math.pi / f
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            s = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - s) / factor + s))
    return np.array(out, dtype=np.float32)


def expected_tensors(model: str, arch, hp: dict) -> dict[str, np.ndarray]:
    """GGUF name -> float64 values laid out as the converter writes them."""
    weights = merged_weights(model)
    names = gguf.get_tensor_name_map(arch, hp["num_hidden_layers"])
    out = {}
    for name, w in weights.items():
        gname = names.get_name(name, try_suffixes=(".weight", ".bias"))
        assert gname is not None, name
        if arch == gguf.MODEL_ARCH.LLAMA and (".attn_q." in gname or ".attn_k." in gname):
            w = permute(w, hp["num_attention_heads"] if ".attn_q." in gname else hp["num_key_value_heads"])
        if arch == gguf.MODEL_ARCH.GEMMA2 and gname.endswith("norm.weight"):
            w = w + 1
        out[gname] = w
    return out


def check_file(path: Path, model: str, dtype: str, hp: dict, expected: dict) -> dict:
    arch = MODELS[model]
    reader = gguf.GGUFReader(path)
    arch_name = gguf.MODEL_ARCH_NAMES[arch]
    head_dim = hp.get("head_dim") or hp["hidden_size"] // hp["num_attention_heads"]
    keys = {
        "general.architecture": arch_name, "general.file_type": FILE_TYPES[dtype],
        f"{arch_name}.block_count": hp["num_hidden_layers"], f"{arch_name}.embedding_length": hp["hidden_size"],
        f"{arch_name}.feed_forward_length": hp["intermediate_size"],
        f"{arch_name}.context_length": hp["max_position_embeddings"],
        f"{arch_name}.attention.head_count": hp["num_attention_heads"],
        f"{arch_name}.attention.head_count_kv": hp["num_key_value_heads"],
        f"{arch_name}.attention.key_length": head_dim, f"{arch_name}.vocab_size": hp["vocab_size"],
        f"{arch_name}.attention.layer_norm_rms_epsilon": np.float32(hp["rms_norm_eps"]),
        f"{arch_name}.rope.freq_base": np.float32(hp["rope_parameters"]["rope_theta"]),
        "tokenizer.ggml.model": "none",
    }
    if arch == gguf.MODEL_ARCH.GEMMA2:
        keys |= {"gemma2.attn_logit_softcapping": np.float32(hp["attn_logit_softcapping"]),
                 "gemma2.final_logit_softcapping": np.float32(hp["final_logit_softcapping"]),
                 "gemma2.attention.sliding_window": hp["sliding_window"],
                 "gemma2.attention.query_pre_attn_scalar": hp["query_pre_attn_scalar"]}
    for key, want in keys.items():
        got = field(reader, key)
        assert got == want, f"{path.name}: {key} = {got!r}, expected {want!r}"
    assert reader.alignment == 32 and all(t.data_offset % 32 == 0 for t in reader.tensors), path.name

    expected = dict(expected)
    rope = hp["rope_parameters"]
    if rope.get("rope_type") == "llama3":
        expected["rope_freqs.weight"] = llama3_factors(rope, rope["rope_theta"], head_dim).astype(np.float64)
    found = {t.name: t for t in reader.tensors}
    assert set(found) == set(expected), f"{path.name}: {sorted(set(found) ^ set(expected))}"
    worst, differing = 0.0, 0
    for name, want in expected.items():
        t = found[name]
        shape = tuple(int(d) for d in reversed(t.shape))
        assert shape == want.shape, f"{path.name} {name}: shape {shape} vs {want.shape}"
        qtype = QT.F32 if want.ndim == 1 else DTYPES[dtype]
        if qtype == QT.Q8_0 and want.shape[-1] % 32 != 0:
            qtype = QT.F16
        assert t.tensor_type == qtype, f"{path.name} {name}: {t.tensor_type.name}, expected {qtype.name}"
        got = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64).reshape(shape)
        w32 = want.astype(np.float32)
        if qtype == QT.F32:
            bound = np.abs(want) * 2.0 ** -22 + 1e-30
        elif qtype == QT.F16:
            bound = np.abs(want) * 2.0 ** -10 + 2.0 ** -24
        elif qtype == QT.BF16:
            bound = np.abs(want) * 2.0 ** -7 + 1e-38
        else:
            d = np.abs(want.reshape(-1, 32)).max(axis=1, keepdims=True) / 127
            bound = (np.broadcast_to(d / 2, (d.shape[0], 32)).reshape(want.shape) + np.abs(want) / 1024)
        units = np.abs(got - want) / bound
        worst = max(worst, float(units.max()))
        assert units.max() <= 1, f"{path.name} {name}: error {units.max()} x its bound"
        if qtype != QT.F32:
            requantized = np.frombuffer(gguf.quants.quantize(w32, qtype).tobytes(), dtype=np.uint8)
            stored = np.frombuffer(t.data.tobytes(), dtype=np.uint8)
            differing += int((requantized != stored).sum())
    return {"tensors_checked": len(expected), "keys_checked": len(keys), "worst_error_in_bounds": worst,
            "requantized_bytes_differing": differing, "bytes": path.stat().st_size}


def loss(model: torch.nn.Module) -> float:
    ids = torch.tensor([TOKENS])
    with torch.no_grad():
        logits = model(ids).logits[0].double()
    return float(torch.nn.functional.cross_entropy(logits[:-1], ids[0, 1:]))


def transformers_loss(path: Path, model: str, hp: dict) -> float:
    reader = gguf.GGUFReader(path)
    overrides = {}
    if hp["rope_parameters"].get("rope_type") == "llama3":
        overrides["rope_parameters"] = hp["rope_parameters"]
    if MODELS[model] == gguf.MODEL_ARCH.GEMMA2:
        overrides |= {"attn_logit_softcapping": float(field(reader, "gemma2.attn_logit_softcapping")),
                      "final_logit_softcapping": float(field(reader, "gemma2.final_logit_softcapping")),
                      "query_pre_attn_scalar": field(reader, "gemma2.attention.query_pre_attn_scalar"),
                      "attn_implementation": "eager"}
    m = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32, **overrides)
    for key, value in overrides.items():
        if key != "attn_implementation":
            assert getattr(m.config, key) == value, f"{path.name}: override {key} not applied"
    return loss(m.eval())


def merged_fp32_loss(model: str) -> float:
    extra = {"attn_implementation": "eager"} if model == "tiny-gemma2" else {}
    m = AutoModelForCausalLM.from_pretrained(FIXTURES / model, dtype=torch.float32, **extra)
    state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in merged_weights(model).items()}
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert not unexpected and all("lm_head" in k for k in missing), (missing, unexpected)
    return loss(m.eval())


def main() -> None:
    exports = []
    for model, arch in MODELS.items():
        hp = AutoConfig.from_pretrained(FIXTURES / model).to_dict()
        expected = expected_tensors(model, arch, hp)
        fp32 = merged_fp32_loss(model)
        for dtype in DTYPES:
            path = EXPORTS / f"{model}-{dtype}.gguf"
            entry = {"file": path.name, "model": model, "dtype": dtype,
                     "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
            entry |= check_file(path, model, dtype, hp, expected)
            entry["transformers_loss"] = transformers_loss(path, model, hp)
            entry["merged_fp32_loss"] = fp32
            exports.append(entry)
            print(f"{path.name}: {entry['tensors_checked']} tensors, worst {entry['worst_error_in_bounds']:.3f} of bound, "
                  f"{entry['requantized_bytes_differing']} bytes differ re-quantised; transformers loss "
                  f"{entry['transformers_loss']:.9f} (fp32 merge {fp32:.9f})")
    versions = {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__,
                "gguf": importlib.metadata.version("gguf")}
    out = {"tokens": TOKENS, "versions": versions, "exports": exports}
    (EXPORTS / "reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
