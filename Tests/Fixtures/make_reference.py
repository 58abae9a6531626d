#!/usr/bin/env python3
"""Make the PyTorch / transformers reference fixtures the Swift tests compare against.

Run from the repository root (needs torch, transformers, safetensors, numpy; no network):

    /work/venv-ref/bin/python Tests/Fixtures/make_reference.py

The script is deterministic (fixed seeds, one CPU thread, deterministic algorithms) and can be rerun
at any time: every output folder is deleted and rewritten. CI never runs it; it only reads the
committed outputs. See Tests/Fixtures/README.md for the conventions the Swift tests rely on.

What it makes, under Tests/Fixtures/:

  tiny-llama/               LlamaForCausalLM, float32, one model.safetensors. hidden 64, 2 layers,
                            4 heads, 2 KV heads, head_dim 24 (deliberately != 64/4), intermediate 176,
                            vocab 256, untied lm_head, Llama 3.1 ("llama3") RoPE scaling chosen so the
                            12 RoPE frequencies fall into all three branches of the llama3 rule.
  tiny-qwen2/               Qwen2ForCausalLM, float32, tied embeddings (no lm_head tensor in the file),
                            q/k/v biases, head_dim 16, no sliding window.
  tiny-llama-bf16-sharded/  the tiny-llama weights rounded to bfloat16, in >= 2 shards +
                            model.safetensors.index.json.
  tiny-qwen2-f16/           the tiny-qwen2 weights rounded to float16, one file.

  In each of the four folders, next to the model files:
  reference.json            tokens (B=2 x T=12, the same batch for every folder), loss, versions, dtype.
  reference.safetensors     float32 tensors: "logits" [B,T,V], "losses" [B,T-1], "hidden.final" [B,T,H],
                            "rope.inv_freq" [head_dim/2], and for the two float32 folders
                            "grad.<parameter name>" for every parameter in model.safetensors.

Weights: fixed seeds, linear weights ~ N(0, 1/fan_in), embeddings ~ N(0, 1) (tied embeddings:
N(0, 1/hidden_size), see init_weights), RMSNorm weights ~ 1 + 0.1 N, biases ~ 0.1 N, so activations,
logits (|logit| < 4) and gradients are O(1) instead of HF's std-0.02 init.

How the reference numbers are computed: each folder is loaded back with from_pretrained (so exactly the
stored, possibly rounded, weights are used), converted with model.double(), and run in float64. Stock
transformers still rounds to float32 in four places even in a float64 model (RMSNorm variance, RoPE
angles, the eager-attention softmax, and the causal-LM loss, which calls logits.float()). For the
reference those four spots are replaced by float64 versions of the same formulas (see
`float64_everywhere`), the loss is cross-entropy in float64 on the model's logits, and the result is
checked against stock transformers (float64 model with its own labels= loss, and a plain float32 model):
the differences are printed and asserted small.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import inspect
import json
import math
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
from transformers.models.llama import modeling_llama
from transformers.models.qwen2 import modeling_qwen2

FIXTURES = Path(__file__).resolve().parent

SEED_LLAMA_WEIGHTS = 20240601
SEED_QWEN2_WEIGHTS = 20240602
SEED_TOKENS = 20240603
B, T = 2, 12
VOCAB = 256
BF16_MAX_SHARD_SIZE = "100KB"  # tiny-llama in bf16 is ~275 kB -> 3 shards

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------------

def llama_config() -> LlamaConfig:
    cfg = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=176,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=24,
        hidden_act="silu",
        max_position_embeddings=128,
        rms_norm_eps=1e-5,
        # transformers 5.x spelling; 4.x would take rope_theta=... and rope_scaling={...}.
        rope_parameters={
            "rope_type": "llama3",
            "rope_theta": 10000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 64,
        },
        tie_word_embeddings=False,
        attention_bias=False,
        mlp_bias=False,
    )
    cfg._attn_implementation = "eager"
    return cfg


def qwen2_config() -> Qwen2Config:
    cfg = Qwen2Config(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=176,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_act="silu",
        max_position_embeddings=128,
        rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        tie_word_embeddings=True,
        use_sliding_window=False,
    )
    cfg._attn_implementation = "eager"
    return cfg


def head_dim_of(cfg) -> int:
    return getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads


# ----------------------------------------------------------------------------------------------------
# Weight initialisation: O(1) activations and gradients instead of HF's std-0.02 init
# ----------------------------------------------------------------------------------------------------

def init_weights(model: torch.nn.Module, seed: int) -> None:
    """Linear weights ~ N(0, 1/fan_in) (std 1/sqrt(fan_in)), embeddings ~ N(0, 1),
    RMSNorm weights ~ 1 + 0.1 N(0,1), biases ~ 0.1 N(0,1). Parameters are visited in
    named_modules() order; a tied parameter (Qwen2 lm_head = embed_tokens) is drawn once.

    Exception, tied embeddings: the embedding matrix is then also the output head, and with std 1
    the logits have std ~sqrt(hidden) = 8 (max |logit| ~50, loss ~42, a saturated one-hot softmax
    whose gradient barely depends on most logits). So a tied embedding follows the linear rule of
    the head it doubles as: std 1/sqrt(hidden_size). The input side does not care: the first thing
    each layer does is RMSNorm."""
    g = torch.Generator().manual_seed(seed)
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    seen: set[int] = set()
    with torch.no_grad():
        for mod_name, mod in model.named_modules():
            for p_name, p in mod.named_parameters(recurse=False):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                full = f"{mod_name}.{p_name}"
                z = torch.randn(p.shape, generator=g, dtype=torch.float32)
                if isinstance(mod, torch.nn.Embedding):
                    v = z / math.sqrt(p.shape[1]) if tied else z
                elif isinstance(mod, torch.nn.Linear) and p_name == "weight":
                    v = z / math.sqrt(p.shape[1])
                elif isinstance(mod, torch.nn.Linear) and p_name == "bias":
                    v = 0.1 * z
                elif type(mod).__name__.endswith("RMSNorm") and p_name == "weight":
                    v = 1.0 + 0.1 * z
                else:
                    raise RuntimeError(f"no init rule for {full} ({type(mod).__name__})")
                p.copy_(v)
    n_unique = len({id(p) for p in model.parameters()})
    assert len(seen) == n_unique, (len(seen), n_unique)


# ----------------------------------------------------------------------------------------------------
# RoPE frequencies, computed independently in float64 (and the llama3 branch of each one)
# ----------------------------------------------------------------------------------------------------

def rope_inv_freq64(cfg) -> tuple[np.ndarray, list[str], np.ndarray]:
    rp = cfg.rope_parameters
    base = float(rp["rope_theta"])
    d = head_dim_of(cfg)
    inv = 1.0 / base ** (np.arange(0, d, 2, dtype=np.float64) / d)
    wavelen = 2.0 * math.pi / inv
    if rp.get("rope_type", "default") == "default":
        return inv, ["default"] * len(inv), wavelen
    assert rp["rope_type"] == "llama3", rp
    factor = float(rp["factor"])
    low, high = float(rp["low_freq_factor"]), float(rp["high_freq_factor"])
    old = float(rp["original_max_position_embeddings"])
    low_wl, high_wl = old / low, old / high
    out, branch = np.empty_like(inv), []
    for i, (f, wl) in enumerate(zip(inv, wavelen)):
        if wl < high_wl:
            out[i] = f
            branch.append("unchanged")
        elif wl > low_wl:
            out[i] = f / factor
            branch.append("divided")
        else:
            s = (old / wl - low) / (high - low)
            out[i] = (1.0 - s) * f / factor + s * f
            branch.append("smoothed")
    return out, branch, wavelen


def print_rope_table(name: str, cfg) -> np.ndarray:
    inv, branch, wavelen = rope_inv_freq64(cfg)
    rp = cfg.rope_parameters
    print(f"\nRoPE frequencies of {name}: head_dim {head_dim_of(cfg)}, {rp}")
    if rp.get("rope_type") == "llama3":
        old = rp["original_max_position_embeddings"]
        print(f"  high-freq wavelength limit {old / rp['high_freq_factor']:.3f}, "
              f"low-freq wavelength limit {old / rp['low_freq_factor']:.3f}")
    print(f"  {'i':>2} {'base inv_freq':>14} {'wavelength':>12} {'branch':>10} {'final inv_freq':>16}")
    base = 1.0 / float(rp["rope_theta"]) ** (np.arange(0, head_dim_of(cfg), 2) / head_dim_of(cfg))
    for i in range(len(inv)):
        print(f"  {i:>2} {base[i]:>14.6e} {wavelen[i]:>12.3f} {branch[i]:>10} {inv[i]:>16.9e}")
    if rp.get("rope_type") == "llama3":
        missing = {"unchanged", "smoothed", "divided"} - set(branch)
        assert not missing, f"llama3 branches not exercised: {missing}"
        print("  all three llama3 branches are exercised")
    return inv


# ----------------------------------------------------------------------------------------------------
# Float64 everywhere: replace the four float32 round-trips of stock transformers
# ----------------------------------------------------------------------------------------------------

def _rmsnorm_forward64(self, hidden_states):
    # Same formula as LlamaRMSNorm / Qwen2RMSNorm.forward, without the cast to float32.
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    return self.weight * (hidden_states * torch.rsqrt(variance + self.variance_epsilon))


def _rotary_forward64(self, x, position_ids):
    # Same as LlamaRotaryEmbedding.forward, with float64 inverse frequencies and angles.
    freqs = position_ids[..., None].to(torch.float64) * self._inv_freq64.to(x.device)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos = emb.cos() * self.attention_scaling
    sin = emb.sin() * self.attention_scaling
    return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


def _eager_attention64(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    # Same as modeling_llama.eager_attention_forward, with the softmax in the input dtype.
    key_states = modeling_llama.repeat_kv(key, module.num_key_value_groups)
    value_states = modeling_llama.repeat_kv(value, module.num_key_value_groups)
    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask
    attn_weights = F.softmax(attn_weights, dim=-1)
    attn_weights = F.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value_states)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


@contextlib.contextmanager
def float64_everywhere(model, inv_freq64: np.ndarray):
    saved_eager = (modeling_llama.eager_attention_forward, modeling_qwen2.eager_attention_forward)
    patched = []
    try:
        for m in model.modules():
            if type(m).__name__.endswith("RMSNorm"):
                m.forward = types.MethodType(_rmsnorm_forward64, m)
                patched.append(m)
            elif type(m).__name__.endswith("RotaryEmbedding"):
                assert m.attention_scaling == 1.0
                m._inv_freq64 = torch.tensor(inv_freq64, dtype=torch.float64)
                m.forward = types.MethodType(_rotary_forward64, m)
                patched.append(m)
        modeling_llama.eager_attention_forward = _eager_attention64
        modeling_qwen2.eager_attention_forward = _eager_attention64
        yield
    finally:
        modeling_llama.eager_attention_forward, modeling_qwen2.eager_attention_forward = saved_eager
        for m in patched:
            del m.forward
            if hasattr(m, "_inv_freq64"):
                del m._inv_freq64


# ----------------------------------------------------------------------------------------------------
# Saving and loading
# ----------------------------------------------------------------------------------------------------

def save_folder(model, folder: Path, **kwargs) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
        kwargs["safe_serialization"] = True  # transformers 4.x; 5.x always writes safetensors
    model.save_pretrained(folder, **kwargs)
    assert not list(folder.glob("*.bin")), "pickle weights written"
    make_readable(folder)


def make_readable(folder: Path) -> None:
    for f in folder.iterdir():  # safetensors files are created 0600; make all outputs 0644
        f.chmod(0o644)


def stored_tensors(folder: Path) -> dict[str, torch.Tensor]:
    out = {}
    for f in sorted(folder.glob("model*.safetensors")):
        with safe_open(str(f), framework="pt") as sf:
            for k in sf.keys():
                assert k not in out, f"{k} in two shards"
                out[k] = sf.get_tensor(k)
    return out


def load_folder(cls, folder: Path, dtype: torch.dtype):
    model = cls.from_pretrained(folder, attn_implementation="eager", dtype=dtype)
    model.eval()
    # from_pretrained must have used exactly the stored weights (nothing re-initialised).
    stored = stored_tensors(folder)
    sd = model.state_dict()
    for k, v in stored.items():
        assert torch.equal(sd[k].to(torch.float64), v.to(torch.float64)), f"{folder.name}: {k} differs"
    params = dict(model.named_parameters())
    assert set(params) == set(stored), (sorted(set(params) ^ set(stored)))
    return model


# ----------------------------------------------------------------------------------------------------
# Reference computation
# ----------------------------------------------------------------------------------------------------

def next_token_losses(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """[B, T-1]: position t scores token t+1, natural log, in the dtype of logits."""
    b, t, v = logits.shape
    return F.cross_entropy(
        logits[:, :-1, :].reshape(-1, v), tokens[:, 1:].reshape(-1), reduction="none"
    ).view(b, t - 1)


def make_reference(name: str, cls, dtype_stored: str, tokens: torch.Tensor, with_grads: bool) -> dict:
    folder = FIXTURES / name
    cfg = cls.config_class.from_pretrained(folder)
    inv64, _, _ = rope_inv_freq64(cfg)

    # --- float64 reference (the values written to disk) ---
    model = load_folder(cls, folder, torch.float32).double()
    transformers_inv = model.model.rotary_emb.inv_freq.detach().to(torch.float64).numpy()
    assert np.allclose(transformers_inv, inv64, rtol=1e-6, atol=0), (transformers_inv, inv64)

    captured = {}
    hook = model.model.norm.register_forward_hook(lambda m, i, o: captured.__setitem__("norm", o))
    with float64_everywhere(model, inv64):
        out = model(input_ids=tokens, output_hidden_states=True, use_cache=False)
        logits = out.logits
        assert logits.dtype == torch.float64
        losses = next_token_losses(logits, tokens)
        loss = losses.mean()
        if with_grads:
            model.zero_grad(set_to_none=True)
            loss.backward()
    hook.remove()
    hidden_final = out.hidden_states[-1]
    # transformers 5.x: the last hidden_states entry is the output of the final norm.
    assert torch.equal(hidden_final, captured["norm"]), "last hidden_states entry is not post-norm"
    assert len(out.hidden_states) == cfg.num_hidden_layers + 1

    tensors = {
        "logits": logits.detach().float().contiguous(),
        "losses": losses.detach().float().contiguous(),
        "hidden.final": hidden_final.detach().float().contiguous(),
        "rope.inv_freq": torch.tensor(inv64, dtype=torch.float32),
    }
    grads64 = {}
    if with_grads:
        stored_names = set(stored_tensors(folder))
        for pname, p in model.named_parameters():
            assert p.grad is not None, pname
            grads64[pname] = p.grad.detach().clone()
            tensors[f"grad.{pname}"] = p.grad.detach().float().contiguous()
        assert set(grads64) == stored_names, sorted(set(grads64) ^ stored_names)
        assert "lm_head.weight" not in grads64 or not cfg.tie_word_embeddings
        for pname, g64 in grads64.items():
            assert float(g64.abs().max()) > 0, f"{name}: zero gradient for {pname}"

    # --- stock transformers in float64: its own labels= loss, and the size of its float32 round-trips ---
    stock64 = load_folder(cls, folder, torch.float32).double()
    with torch.no_grad():
        s_out = stock64(input_ids=tokens, labels=tokens, use_cache=False)
    loss_transformers = s_out.loss.item()
    d_stock64 = float((s_out.logits - logits.detach()).abs().max())
    assert abs(loss_transformers - loss.item()) < 1e-5, (loss_transformers, loss.item())
    assert d_stock64 < 1e-4, d_stock64

    # --- stock transformers in float32: what an fp32 implementation should be able to reach ---
    model32 = load_folder(cls, folder, torch.float32)
    out32 = model32(input_ids=tokens, labels=tokens, use_cache=False)
    d32 = float((out32.logits.detach().double() - logits.detach()).abs().max())
    scale = float(logits.detach().abs().max())
    assert d32 < 1e-4 * max(1.0, scale), (d32, scale)
    assert abs(out32.loss.item() - loss.item()) < 1e-4
    grad_rel32 = None
    if with_grads:
        out32.loss.backward()
        worst = 0.0
        for pname, p in model32.named_parameters():
            g64 = grads64[pname]
            err = float((p.grad.double() - g64).abs().max()) / max(float(g64.abs().max()), 1e-30)
            worst = max(worst, err)
        grad_rel32 = worst
        assert worst < 1e-3, worst

    ref = {
        "tokens": tokens.tolist(),
        "loss": loss.item(),
        "loss_transformers": loss_transformers,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "dtype_stored": dtype_stored,
    }
    text = json.dumps(ref, indent=2)
    for row in ref["tokens"]:  # one line per sequence
        text = text.replace(json.dumps(row, indent=2).replace("\n", "\n    "), json.dumps(row), 1)
    assert json.loads(text) == ref
    (folder / "reference.json").write_text(text + "\n")
    save_file(tensors, str(folder / "reference.safetensors"), metadata={"format": "pt"})
    make_readable(folder)

    n_params = sum(p.numel() for p in model.parameters())
    return {
        "folder": name,
        "dtype": dtype_stored,
        "params": n_params,
        "loss": loss.item(),
        "loss_tf": loss_transformers,
        "stock64": d_stock64,
        "f32": d32,
        "grad32": grad_rel32,
        "max|logit|": scale,
        "grad_range": (min(float(g.abs().max()) for g in grads64.values()),
                       max(float(g.abs().max()) for g in grads64.values())) if with_grads else None,
    }


# ----------------------------------------------------------------------------------------------------
# Independent check: the whole forward pass written out in numpy float64, straight from the files
# ----------------------------------------------------------------------------------------------------

def numpy_forward(folder: Path, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Returns (final-norm hidden [B,T,H], logits [B,T,V]). This is the exact math the Swift code
    must implement; it shares no code with transformers."""
    cfg = json.loads((folder / "config.json").read_text())
    w = {k: v.to(torch.float64).numpy() for k, v in stored_tensors(folder).items()}
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    inv, _, _ = rope_inv_freq64(types.SimpleNamespace(rope_parameters=cfg["rope_parameters"], head_dim=hd,
                                                      hidden_size=H, num_attention_heads=nh))
    b, t = tokens.shape
    ang = np.arange(t, dtype=np.float64)[:, None] * inv[None, :]          # [T, hd/2]
    cos = np.concatenate([np.cos(ang)] * 2, -1)                           # [T, hd]
    sin = np.concatenate([np.sin(ang)] * 2, -1)

    def rms(x, g):
        return g * x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    def rope(x):  # x [B, heads, T, hd]; "rotate_half" layout: pairs (i, i + hd/2)
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + np.concatenate([-x2, x1], -1) * sin

    x = w["model.embed_tokens.weight"][tokens]
    mask = np.triu(np.full((t, t), -np.inf), 1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = lin(h, p + "self_attn.q_proj").reshape(b, t, nh, hd).transpose(0, 2, 1, 3)
        k = lin(h, p + "self_attn.k_proj").reshape(b, t, nkv, hd).transpose(0, 2, 1, 3)
        v = lin(h, p + "self_attn.v_proj").reshape(b, t, nkv, hd).transpose(0, 2, 1, 3)
        q, k = rope(q), rope(k)
        k, v = np.repeat(k, nh // nkv, axis=1), np.repeat(v, nh // nkv, axis=1)  # query head j uses kv head j // (nh/nkv)
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        a = (s / s.sum(-1, keepdims=True)) @ v
        x = x + lin(a.transpose(0, 2, 1, 3).reshape(b, t, nh * hd), p + "self_attn.o_proj")
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        gate = lin(h, p + "mlp.gate_proj")
        x = x + lin(gate / (1.0 + np.exp(-gate)) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, w["model.norm.weight"])
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x, x @ head.T


def check_against_numpy(name: str, tokens: torch.Tensor) -> float:
    folder = FIXTURES / name
    hidden, logits = numpy_forward(folder, tokens.numpy())
    with safe_open(str(folder / "reference.safetensors"), framework="np") as f:
        ref_logits, ref_hidden, ref_losses = f.get_tensor("logits"), f.get_tensor("hidden.final"), f.get_tensor("losses")
    ref = json.loads((folder / "reference.json").read_text())
    tok = np.array(ref["tokens"])
    z = logits[:, :-1] - logits[:, :-1].max(-1, keepdims=True)
    lse = np.log(np.exp(z).sum(-1))
    losses = lse - np.take_along_axis(z, tok[:, 1:, None], -1)[..., 0]
    d = max(float(np.abs(logits - ref_logits).max()), float(np.abs(hidden - ref_hidden).max()),
            float(np.abs(losses - ref_losses).max()))
    assert d < 1e-5, (name, d)  # float32 storage of the reference is the only difference
    assert abs(losses.mean() - ref["loss"]) < 1e-12, (name, losses.mean(), ref["loss"])
    return d


# ----------------------------------------------------------------------------------------------------

def main() -> None:
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, python {sys.version.split()[0]}")

    # 1-3. models with O(1) init, float32
    llama_cfg = llama_config()
    torch.manual_seed(SEED_LLAMA_WEIGHTS)
    llama = LlamaForCausalLM(llama_cfg)
    init_weights(llama, SEED_LLAMA_WEIGHTS)
    llama.eval()

    qwen_cfg = qwen2_config()
    torch.manual_seed(SEED_QWEN2_WEIGHTS)
    qwen = Qwen2ForCausalLM(qwen_cfg)
    init_weights(qwen, SEED_QWEN2_WEIGHTS)
    qwen.eval()
    assert qwen.lm_head.weight is qwen.model.embed_tokens.weight

    print_rope_table("tiny-llama", llama_cfg)
    print_rope_table("tiny-qwen2", qwen_cfg)

    save_folder(llama, FIXTURES / "tiny-llama")
    save_folder(qwen, FIXTURES / "tiny-qwen2")

    # 4. dtype / sharding variants of the same weights
    save_folder(copy.deepcopy(llama).to(torch.bfloat16), FIXTURES / "tiny-llama-bf16-sharded",
                max_shard_size=BF16_MAX_SHARD_SIZE)
    save_folder(copy.deepcopy(qwen).to(torch.float16), FIXTURES / "tiny-qwen2-f16")

    checks = [
        ("tiny-llama", "F32", 1),
        ("tiny-qwen2", "F32", 1),
        ("tiny-llama-bf16-sharded", "BF16", 2),
        ("tiny-qwen2-f16", "F16", 1),
    ]
    for name, st_dtype, min_files in checks:
        folder = FIXTURES / name
        files = sorted(folder.glob("model*.safetensors"))
        assert len(files) >= min_files, (name, files)
        if len(files) > 1:
            index = json.loads((folder / "model.safetensors.index.json").read_text())
            assert set(index["weight_map"]) == set(stored_tensors(folder))
        else:
            assert not (folder / "model.safetensors.index.json").exists()
        for f in files:
            header_len = int.from_bytes(f.read_bytes()[:8], "little")
            header = json.loads(f.read_bytes()[8:8 + header_len])
            dts = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
            assert dts == {st_dtype}, (f, dts)
    assert "lm_head.weight" not in stored_tensors(FIXTURES / "tiny-qwen2")
    assert "lm_head.weight" in stored_tensors(FIXTURES / "tiny-llama")
    # variants hold exactly the rounded float32 weights
    for src, dst, dt in [("tiny-llama", "tiny-llama-bf16-sharded", torch.bfloat16),
                         ("tiny-qwen2", "tiny-qwen2-f16", torch.float16)]:
        a, b = stored_tensors(FIXTURES / src), stored_tensors(FIXTURES / dst)
        assert set(a) == set(b)
        for k in a:
            assert torch.equal(a[k].to(dt), b[k]), (dst, k)

    # 5. the fixed token batch
    g = torch.Generator().manual_seed(SEED_TOKENS)
    tokens = torch.randint(0, VOCAB, (B, T), generator=g, dtype=torch.int64)
    print(f"\ntokens: {tokens.tolist()}")

    # 6-7. reference dumps and self-checks
    rows = [
        make_reference("tiny-llama", LlamaForCausalLM, "float32", tokens, with_grads=True),
        make_reference("tiny-qwen2", Qwen2ForCausalLM, "float32", tokens, with_grads=True),
        make_reference("tiny-llama-bf16-sharded", LlamaForCausalLM, "bfloat16", tokens, with_grads=False),
        make_reference("tiny-qwen2-f16", Qwen2ForCausalLM, "float16", tokens, with_grads=False),
    ]

    print("\nindependent numpy float64 forward vs reference.safetensors (max |diff| of logits, hidden, losses):")
    for r in rows:
        print(f"  {r['folder']:<26}{check_against_numpy(r['folder'], tokens):.1e}")

    print("\nsummary (loss = float64 reference; loss_tf = stock transformers labels= loss on the float64 model;")
    print("         stock64 = max|Δlogits| stock float64 model vs reference; f32 = max|Δlogits| float32 model;")
    print("         grad32 = worst per-tensor max|Δgrad| / max|grad| of the float32 model;")
    print("         max|grad| = smallest and largest per-tensor max|grad| of the reference)")
    print(f"{'folder':<26}{'dtype':<10}{'params':>8}{'loss':>20}{'loss_tf':>20}"
          f"{'max|logit|':>11}{'stock64':>10}{'f32':>10}{'grad32':>10}{'max|grad|':>20}")
    for r in rows:
        g32 = f"{r['grad32']:.1e}" if r["grad32"] is not None else "-"
        gr = f"{r['grad_range'][0]:.1e}..{r['grad_range'][1]:.1e}" if r["grad_range"] else "-"
        print(f"{r['folder']:<26}{r['dtype']:<10}{r['params']:>8}{r['loss']:>20.15f}{r['loss_tf']:>20.15f}"
              f"{r['max|logit|']:>11.3f}{r['stock64']:>10.1e}{r['f32']:>10.1e}{g32:>10}{gr:>20}")

    print("\nfiles:")
    total = 0
    for f in sorted(FIXTURES.rglob("*")):
        if f.is_file() and f.parent != FIXTURES:
            size = f.stat().st_size
            total += size
            digest = hashlib.sha256(f.read_bytes()).hexdigest()[:12]
            print(f"  {str(f.relative_to(FIXTURES)):<58}{size:>9}  {digest}")
    print(f"  total {total} bytes ({total / 1e6:.2f} MB)")
    assert total < 5_000_000


if __name__ == "__main__":
    main()
