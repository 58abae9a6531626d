#!/usr/bin/env python3
"""Make the tiny Gemma2 fixtures the Swift tests compare against (see Tests/Fixtures/README.md, Gemma2).

Run from the repository root (needs torch, transformers, safetensors, gguf, numpy; no network):

    /tmp/gemma-venv/bin/python Tests/Fixtures/make_gemma2_reference.py

Deterministic (fixed seeds, one CPU thread, deterministic algorithms); every output is rewritten.

  tiny-gemma2/               Gemma2ForCausalLM, float32, tied embeddings. hidden 16, 3 layers (0 and 2
                             slide, 1 is global), 2 heads, 1 KV head, head_dim 12 (!= 16/2),
                             query_pre_attn_scalar 16 (!= head_dim), sliding_window 4 (< T = 12),
                             soft-capping 2.0 (attention) and 3.0 (final logits), small on purpose so
                             that the tanh is far from linear, intermediate 32, vocab 64.
      reference.json         tokens (B=2 x T=12), float64 loss, versions.
      reference.safetensors  logits [B,T,V], losses [B,T-1], hidden.final [B,T,C], rope.inv_freq,
                             grad.<name> for every stored tensor (float64 results rounded to float32).
  gguf/tiny-gemma2-f32.gguf  the same weights as llama.cpp's convert_hf_to_gguf.py (Gemma2Model) writes
                             them with --outtype f32: gguf-py's tensor names, +1 folded into every
                             norm weight, no lm_head, no Q/K permutation, its metadata keys. One key
                             more than the converter writes: gemma2.attention.query_pre_attn_scalar
                             (the converter drops it and llama.cpp assumes head_dim; this model's
                             differs, and the loader reads the key when present).

The reference runs the model in float64 with transformers' four float32 spots (Gemma2RMSNorm's x.float(),
the RoPE angles, the eager softmax, the loss) replaced by float64 versions of the same formulas, then
checks stock transformers (float64 and float32) and an independent numpy forward against it.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import Gemma2Config, Gemma2ForCausalLM
from transformers.models.gemma2 import modeling_gemma2

import gguf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_reference as mr  # noqa: E402  (shared helpers: saving, loading, RoPE in float64)

FIXTURES = mr.FIXTURES
NAME = "tiny-gemma2"
SEED_WEIGHTS = 20240621
SEED_TOKENS = 20240622
B, T, VOCAB = 2, 12, 64

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def gemma2_config() -> Gemma2Config:
    cfg = Gemma2Config(
        vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=3,
        num_attention_heads=2, num_key_value_heads=1, head_dim=12, query_pre_attn_scalar=16,
        hidden_activation="gelu_pytorch_tanh", max_position_embeddings=64, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        sliding_window=4, attn_logit_softcapping=2.0, final_logit_softcapping=3.0,
        tie_word_embeddings=True, attention_bias=False, bos_token_id=None, eos_token_id=None, pad_token_id=None,
    )
    cfg._attn_implementation = "eager"
    return cfg


def init_weights(model) -> None:
    """Linear ~ N(0, 1/fan_in); the tied embedding ~ N(0, 1/C) (it is also the head; the √C input scale
    makes the input side O(1)); Gemma2RMSNorm weights ~ 0.1 N, i.e. scales 1 + 0.1 N."""
    g = torch.Generator().manual_seed(SEED_WEIGHTS)
    seen = set()
    with torch.no_grad():
        for _, mod in model.named_modules():
            for p_name, p in mod.named_parameters(recurse=False):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                z = torch.randn(p.shape, generator=g, dtype=torch.float32)
                if isinstance(mod, torch.nn.Embedding):
                    v = z / math.sqrt(p.shape[1])
                elif isinstance(mod, torch.nn.Linear) and p_name == "weight":
                    v = z / math.sqrt(p.shape[1])
                elif type(mod).__name__ == "Gemma2RMSNorm":
                    v = 0.1 * z
                else:
                    raise RuntimeError(f"no init rule for {type(mod).__name__}.{p_name}")
                p.copy_(v)


def _norm64(self, x):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * (1.0 + self.weight)


def _eager64(module, query, key, value, attention_mask, dropout=0.0, scaling=None, softcap=None, **kwargs):
    k = modeling_gemma2.repeat_kv(key, module.num_key_value_groups)
    v = modeling_gemma2.repeat_kv(value, module.num_key_value_groups)
    w = torch.matmul(query, k.transpose(2, 3)) * scaling
    if softcap is not None:
        w = torch.tanh(w / softcap) * softcap
    if attention_mask is not None:
        w = w + attention_mask
    w = F.softmax(w, dim=-1)
    return torch.matmul(w, v).transpose(1, 2).contiguous(), w


def run64(model, inv64, tokens, grads: bool):
    saved = modeling_gemma2.eager_attention_forward
    patched = []
    try:
        for m in model.modules():
            if type(m).__name__ == "Gemma2RMSNorm":
                m.forward = types.MethodType(_norm64, m)
                patched.append(m)
            elif type(m).__name__ == "Gemma2RotaryEmbedding":
                m._inv_freq64 = torch.tensor(inv64, dtype=torch.float64)
                m.forward = types.MethodType(mr._rotary_forward64, m)
                patched.append(m)
        modeling_gemma2.eager_attention_forward = _eager64
        captured = {}
        hook = model.model.norm.register_forward_hook(lambda m, i, o: captured.__setitem__("norm", o))
        out = model(input_ids=tokens, use_cache=False)
        hook.remove()
        losses = mr.next_token_losses(out.logits, tokens)
        if grads:
            model.zero_grad(set_to_none=True)
            losses.mean().backward()
        return out.logits, losses, captured["norm"]
    finally:
        modeling_gemma2.eager_attention_forward = saved
        for m in patched:
            del m.forward


def numpy_forward(folder: Path, tokens: np.ndarray) -> np.ndarray:
    """Gemma2 written out in numpy float64 from the files alone: the math the Swift code implements."""
    cfg = json.loads((folder / "config.json").read_text())
    w = {k: v.to(torch.float64).numpy() for k, v in mr.stored_tensors(folder).items()}
    C, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, win = cfg["rms_norm_eps"], cfg["sliding_window"]
    inv = 1.0 / cfg["rope_parameters"]["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    b, t = tokens.shape
    ang = np.arange(t, dtype=np.float64)[:, None] * inv[None, :]
    cos, sin = np.concatenate([np.cos(ang)] * 2, -1), np.concatenate([np.sin(ang)] * 2, -1)

    def rms(x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * (1.0 + g)

    def rope(x):
        return x * cos + np.concatenate([-x[..., hd // 2:], x[..., : hd // 2]], -1) * sin

    def cap(x, c):
        return c * np.tanh(x / c)

    def gelu(x):
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

    emb = w["model.embed_tokens.weight"]
    x = emb[tokens] * np.float64(np.float32(math.sqrt(C)))
    i_, j_ = np.arange(t)[:, None], np.arange(t)[None, :]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        lin = lambda h, n: h @ w[p + n + ".weight"].T  # noqa: E731
        sliding = cfg["layer_types"][layer] == "sliding_attention"
        allowed = (j_ <= i_) & ((j_ > i_ - win) if sliding else True)
        h = rms(x, w[p + "input_layernorm.weight"])
        q = rope(lin(h, "self_attn.q_proj").reshape(b, t, nh, hd).transpose(0, 2, 1, 3))
        k = rope(lin(h, "self_attn.k_proj").reshape(b, t, nkv, hd).transpose(0, 2, 1, 3))
        v = lin(h, "self_attn.v_proj").reshape(b, t, nkv, hd).transpose(0, 2, 1, 3)
        k, v = np.repeat(k, nh // nkv, 1), np.repeat(v, nh // nkv, 1)
        s = cap(q @ k.transpose(0, 1, 3, 2) * cfg["query_pre_attn_scalar"] ** -0.5, cfg["attn_logit_softcapping"])
        s = np.where(allowed, s, -np.inf)
        s = np.exp(s - s.max(-1, keepdims=True))
        a = (s / s.sum(-1, keepdims=True)) @ v
        o = lin(a.transpose(0, 2, 1, 3).reshape(b, t, nh * hd), "self_attn.o_proj")
        x = x + rms(o, w[p + "post_attention_layernorm.weight"])
        h = rms(x, w[p + "pre_feedforward_layernorm.weight"])
        m = lin(gelu(lin(h, "mlp.gate_proj")) * lin(h, "mlp.up_proj"), "mlp.down_proj")
        x = x + rms(m, w[p + "post_feedforward_layernorm.weight"])
    x = rms(x, w["model.norm.weight"])
    return cap(x @ emb.T, cfg["final_logit_softcapping"])


def write_gguf(folder: Path, path: Path) -> None:
    """The converter's Gemma2Model layout: its metadata keys, gguf-py's names, norms + 1, no lm_head."""
    hp = json.loads((folder / "config.json").read_text())
    tensors = {k: v.numpy() for k, v in mr.stored_tensors(folder).items()}
    arch = gguf.MODEL_ARCH.GEMMA2
    w = gguf.GGUFWriter(str(path), arch=gguf.MODEL_ARCH_NAMES[arch])
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(NAME)
    w.add_context_length(hp["max_position_embeddings"])
    w.add_embedding_length(hp["hidden_size"])
    w.add_block_count(hp["num_hidden_layers"])
    w.add_feed_forward_length(hp["intermediate_size"])
    w.add_head_count(hp["num_attention_heads"])
    w.add_head_count_kv(hp["num_key_value_heads"])
    w.add_layer_norm_rms_eps(hp["rms_norm_eps"])
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_attn_logit_softcapping(hp["attn_logit_softcapping"])
    w.add_final_logit_softcapping(hp["final_logit_softcapping"])
    w.add_sliding_window(hp["sliding_window"])
    w.add_uint32("gemma2.attention.query_pre_attn_scalar", hp["query_pre_attn_scalar"])  # not the converter's
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_tokenizer_model("llama")
    w.add_token_list([f"<t{i}>" for i in range(hp["vocab_size"])])
    w.add_token_scores([0.0] * hp["vocab_size"])
    w.add_token_types([gguf.TokenType.NORMAL] * hp["vocab_size"])
    name_map = gguf.get_tensor_name_map(arch, hp["num_hidden_layers"])
    for hf_name in sorted(tensors):
        data = tensors[hf_name].astype(np.float32)
        if hf_name.endswith("norm.weight"):
            data = data + np.float32(1)
        new_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert new_name is not None, hf_name
        w.add_tensor(new_name, np.ascontiguousarray(data), raw_dtype=gguf.GGMLQuantizationType.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    mr.make_readable(path.parent)
    reader = gguf.GGUFReader(str(path))
    names = sorted(t.name for t in reader.tensors)
    print("GGUF tensors:", ", ".join(n for n in names if n.startswith(("blk.0.", "token", "output"))))
    expected = {"blk.0.attn_norm.weight", "blk.0.post_attention_norm.weight", "blk.0.ffn_norm.weight",
                "blk.0.post_ffw_norm.weight", "token_embd.weight", "output_norm.weight"}
    assert expected <= set(names), sorted(expected - set(names))
    assert "output.weight" not in names


def main() -> None:
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, gguf-py from {gguf.__file__}")
    cfg = gemma2_config()
    torch.manual_seed(SEED_WEIGHTS)
    model = Gemma2ForCausalLM(cfg)
    init_weights(model)
    model.eval()
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert cfg.layer_types == ["sliding_attention", "full_attention", "sliding_attention"], cfg.layer_types
    folder = FIXTURES / NAME
    mr.save_folder(model, folder)
    assert "lm_head.weight" not in mr.stored_tensors(folder)

    tokens = torch.randint(0, VOCAB, (B, T), generator=torch.Generator().manual_seed(SEED_TOKENS))
    inv64, _, _ = mr.rope_inv_freq64(cfg)

    model64 = mr.load_folder(Gemma2ForCausalLM, folder, torch.float32).double()
    logits, losses, hidden = run64(model64, inv64, tokens, grads=True)
    loss = losses.mean()
    grads64 = {n: p.grad.detach().clone() for n, p in model64.named_parameters()}
    assert set(grads64) == set(mr.stored_tensors(folder))
    for n, g64 in grads64.items():
        assert float(g64.abs().max()) > 0, n

    stock64 = mr.load_folder(Gemma2ForCausalLM, folder, torch.float32).double()
    with torch.no_grad():
        s_out = stock64(input_ids=tokens, labels=tokens, use_cache=False)
    d64 = float((s_out.logits - logits.detach()).abs().max())
    assert d64 < 1e-4 and abs(s_out.loss.item() - loss.item()) < 1e-5, (d64, s_out.loss.item(), loss.item())

    model32 = mr.load_folder(Gemma2ForCausalLM, folder, torch.float32)
    out32 = model32(input_ids=tokens, labels=tokens, use_cache=False)
    d32 = float((out32.logits.detach().double() - logits.detach()).abs().max())
    out32.loss.backward()
    g32 = max(float((p.grad.double() - grads64[n]).abs().max()) / float(grads64[n].abs().max())
              for n, p in model32.named_parameters())
    assert d32 < 1e-4 and g32 < 1e-3, (d32, g32)

    d_np = float(np.abs(numpy_forward(folder, tokens.numpy()) - logits.detach().numpy()).max())
    assert d_np < 1e-10, d_np

    # The sliding window must matter: the same model with every layer global gives other logits.
    cfg_full = Gemma2Config.from_pretrained(folder)
    cfg_full.layer_types = ["full_attention"] * cfg.num_hidden_layers
    full = Gemma2ForCausalLM.from_pretrained(folder, config=cfg_full, attn_implementation="eager").double()
    with torch.no_grad():
        d_window = float((full(input_ids=tokens, use_cache=False).logits - logits.detach()).abs().max())
    assert d_window > 1e-2, d_window

    tensors = {"logits": logits.detach().float().contiguous(), "losses": losses.detach().float().contiguous(),
               "hidden.final": hidden.detach().float().contiguous(),
               "rope.inv_freq": torch.tensor(inv64, dtype=torch.float32)}
    for n, g in grads64.items():
        tensors[f"grad.{n}"] = g.float().contiguous()
    ref = {"tokens": tokens.tolist(), "loss": loss.item(), "loss_transformers": s_out.loss.item(),
           "transformers_version": transformers.__version__, "torch_version": torch.__version__,
           "dtype_stored": "float32"}
    text = json.dumps(ref, indent=2)
    for row in ref["tokens"]:
        text = text.replace(json.dumps(row, indent=2).replace("\n", "\n    "), json.dumps(row), 1)
    assert json.loads(text) == ref
    (folder / "reference.json").write_text(text + "\n")
    save_file(tensors, str(folder / "reference.safetensors"), metadata={"format": "pt"})
    mr.make_readable(folder)
    write_gguf(folder, FIXTURES / "gguf" / "tiny-gemma2-f32.gguf")

    grange = (min(float(g.abs().max()) for g in grads64.values()), max(float(g.abs().max()) for g in grads64.values()))
    print(f"\nparams {sum(p.numel() for p in model64.parameters())}, loss {loss.item():.15f} "
          f"(stock labels= loss {s_out.loss.item():.15f}), max|logit| {float(logits.abs().max()):.3f}")
    print(f"stock float64 max|Δlogits| {d64:.1e}; float32 model max|Δlogits| {d32:.1e}, worst grad "
          f"max|Δ|/max|g| {g32:.1e}; numpy forward {d_np:.1e}; all-global model differs by {d_window:.2f}")
    print(f"per-tensor max|grad| {grange[0]:.1e}..{grange[1]:.1e}")
    for f in sorted(list(folder.iterdir()) + [FIXTURES / "gguf" / "tiny-gemma2-f32.gguf"]):
        print(f"  {str(f.relative_to(FIXTURES)):<44}{f.stat().st_size:>8}  {hashlib.sha256(f.read_bytes()).hexdigest()[:12]}")


if __name__ == "__main__":
    main()
