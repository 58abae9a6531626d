#!/usr/bin/env python3
"""Make the Hugging Face PEFT reference fixtures (LoRA and DoRA) that the Swift tests compare against.

Run from the repository root, after Tests/Fixtures/make_reference.py has made the tiny models:

    /work/venv-ref/bin/python Tests/Fixtures/peft/make_peft_reference.py

Needs torch, transformers, peft, safetensors and numpy, and no network. CI never runs it. It only reads
the committed outputs. The script is deterministic. It uses fixed seeds, one CPU thread (set by
make_reference on import) and deterministic algorithms. Every case folder under Tests/Fixtures/peft/ is
deleted and rewritten, and a rerun gives byte-identical files. A sha256 prefix is printed for each
file so you can check this. It takes well under a minute. See Tests/Fixtures/peft/README.md for the
conventions.

Cases (base models from Tests/Fixtures/tiny-llama and tiny-qwen2):
  tiny-llama-lora, tiny-qwen2-lora   LoRA r=4, alpha=8 on q_proj, v_proj, dropout 0, bias "none"
  tiny-llama-dora, tiny-qwen2-dora   the same with use_dora=True
  tiny-llama-lora-all                LoRA r=4, alpha=8 on q,k,v,o,gate,up,down

Each case folder holds:
  adapter_model.safetensors + adapter_config.json
      The START adapter, written by peft's save_pretrained. Both A and B are non-zero:
      A ~ N(0,1)/sqrt(in) and B ~ 0.1 N(0,1), seeded. DoRA's magnitude is recomputed for that A and B by
      peft's own DoRA init, giving the row norms of W + scaling*B@A. Two edits to the config
      keep it byte-stable and portable: target_modules is sorted (peft writes list(set), whose order
      depends on PYTHONHASHSEED), and base_model_name_or_path is the repo-relative base folder. peft's
      auto-generated README.md model card is deleted.
  reference.safetensors   float32 tensors, computed in float64: logits, loss, token_losses, loss_mask,
                          grad.<adapter tensor name>, losses [11], grad_norms [10], final.<adapter tensor name>,
                          and for tiny-llama-lora also merged.<HF weight name>.
  reference.json          tokens, labels and mask convention, losses, optimizer settings, versions, checks.
And once: Tests/Fixtures/peft/schedules.json, the lr of transformers' get_scheduler at every step.

The float64 reference: the base model is loaded from the fixture folder, converted with .double(), and
the saved adapter is loaded on it with PeftModel.from_pretrained, so exactly the saved float32 values
are used. The run uses the float64 patches from make_reference.float64_everywhere (RMSNorm variance, RoPE,
eager softmax), and the loss is float64 cross-entropy on the logits. The script checks itself: an
independent numpy float64 forward with the effective (merged) weights, finite differences, a
hand-written AdamW, peft's merge_and_unload, DoRA magnitude == row norms, and a stock float32 rerun
(see README "Checks").
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

PEFT_DIR = Path(__file__).resolve().parent
FIXTURES = PEFT_DIR.parent
sys.path.insert(0, str(FIXTURES))
sys.dont_write_bytecode = True  # no __pycache__ next to make_reference.py
import make_reference as mr  # noqa: E402  (sets 1 thread + deterministic algorithms on import)

import peft  # noqa: E402
import safetensors  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from peft.tuners.lora import Linear as LoraLinear  # noqa: E402
from peft.tuners.lora.variants import DoraLinearVariant  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import LlamaForCausalLM, Qwen2ForCausalLM, get_scheduler  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

R, ALPHA = 4, 8
SCALING = ALPHA / R
MASK_PREFIX = 5  # labels[:, :5] = -100
STEPS = 10
OPT = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
MAX_NORM = 1.0
B_STD = 0.1
ADAPTER = "default"
ALL_PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

SCHED_BASE_LR = 1e-3
SCHED_WARMUP = 5
SCHED_TOTAL = 25


@dataclass
class Case:
    name: str
    base: str  # folder under Tests/Fixtures
    cls: type
    targets: list[str]
    dora: bool
    seed: int  # seed of the A/B init; LoRA and DoRA of the same base and targets share it
    merged: bool = False


CASES = [
    Case("tiny-llama-lora", "tiny-llama", LlamaForCausalLM, ["q_proj", "v_proj"], False, 20240611, merged=True),
    Case("tiny-qwen2-lora", "tiny-qwen2", Qwen2ForCausalLM, ["q_proj", "v_proj"], False, 20240612),
    Case("tiny-llama-dora", "tiny-llama", LlamaForCausalLM, ["q_proj", "v_proj"], True, 20240611),
    Case("tiny-qwen2-dora", "tiny-qwen2", Qwen2ForCausalLM, ["q_proj", "v_proj"], True, 20240612),
    Case("tiny-llama-lora-all", "tiny-llama", LlamaForCausalLM, ALL_PROJ, False, 20240613),
]


# ----------------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------------

def file_name(param_name: str) -> str:
    """peft parameter name (named_parameters) -> tensor name in adapter_model.safetensors.
    'X.lora_A.default.weight' -> 'X.lora_A.weight';
    'X.lora_magnitude_vector.default.weight' -> 'X.lora_magnitude_vector'."""
    n = param_name.replace(f".{ADAPTER}.", ".")
    if n.endswith(".lora_magnitude_vector.weight"):
        n = n[: -len(".weight")]
    return n


def hf_weight_name(module_name: str) -> str:
    """'base_model.model.model.layers.0.self_attn.q_proj' -> 'model.layers.0.self_attn.q_proj.weight'."""
    prefix = "base_model.model."
    assert module_name.startswith(prefix), module_name
    return module_name[len(prefix):] + ".weight"


def trainable(model) -> list[tuple[str, torch.nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def lora_modules(model) -> list[tuple[str, LoraLinear]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, LoraLinear)]


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def make_readable(folder: Path) -> None:
    for f in folder.iterdir():
        f.chmod(0o644)  # safetensors files are created 0600


def to_json(obj, indent: int = 0) -> str:
    """JSON with lists of numbers (and short lists of strings) kept on one line."""
    pad, pad1 = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(k)}: {to_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(isinstance(x, (int, float, str, bool)) or x is None for x in obj):
            return json.dumps(list(obj))
        return "[\n" + ",\n".join(pad1 + to_json(x, indent + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (per tensor)."""
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max()) / max(float(b.abs().max()), 1e-300)


# ----------------------------------------------------------------------------------------------------
# Batch, labels, loss
# ----------------------------------------------------------------------------------------------------

def load_tokens() -> torch.Tensor:
    toks = [json.loads((FIXTURES / b / "reference.json").read_text())["tokens"] for b in ("tiny-llama", "tiny-qwen2")]
    assert toks[0] == toks[1], "the two tiny models use different token batches"
    return torch.tensor(toks[0], dtype=torch.int64)


def make_labels(tokens: torch.Tensor) -> torch.Tensor:
    labels = tokens.clone()
    labels[:, :MASK_PREFIX] = -100
    return labels


def masked_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """transformers' causal-LM loss convention, in the dtype of logits: position t is scored against
    labels[t+1]; labels == -100 are ignored; mean over the scored positions."""
    v = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1, :].reshape(-1, v), labels[:, 1:].reshape(-1),
                           ignore_index=-100, reduction="mean")


def token_losses(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    return mr.next_token_losses(logits, tokens)


# ----------------------------------------------------------------------------------------------------
# Building the START adapter
# ----------------------------------------------------------------------------------------------------

def lora_config(case: Case) -> LoraConfig:
    return LoraConfig(r=R, lora_alpha=ALPHA, target_modules=list(case.targets), lora_dropout=0.0, bias="none",
                      use_dora=case.dora, task_type="CAUSAL_LM")


def dora_magnitude_peft(module: LoraLinear, dtype: torch.dtype) -> torch.Tensor:
    """Run peft's own DoRA init (DoraLinearVariant.init -> DoraLinearLayer.update_layer -> get_weight_norm)
    on a copy of the module in `dtype`; return the magnitude it sets."""
    m = copy.deepcopy(module).to(dtype)
    m.lora_magnitude_vector = torch.nn.ModuleDict()
    m.adapter_layer_names = tuple(n for n in m.adapter_layer_names if n != "lora_magnitude_vector")
    DoraLinearVariant.init(m, ADAPTER)
    return m.lora_magnitude_vector[ADAPTER].weight.detach().clone()


def build_start_adapter(case: Case, folder: Path) -> dict:
    base = mr.load_folder(case.cls, FIXTURES / case.base, torch.float32)
    torch.manual_seed(case.seed)  # peft's own (discarded) kaiming init of A draws from the global RNG
    model = get_peft_model(base, lora_config(case))
    assert model.peft_config[ADAPTER].use_dora == case.dora

    g = torch.Generator().manual_seed(case.seed)
    mag_info = []
    with torch.no_grad():
        for mod_name, mod in lora_modules(model):
            A, Bm = mod.lora_A[ADAPTER].weight, mod.lora_B[ADAPTER].weight
            r, d_in = A.shape
            h = Bm.shape[0]
            assert (r, Bm.shape[1]) == (R, R) and mod.scaling[ADAPTER] == SCALING
            A.copy_(torch.randn((r, d_in), generator=g, dtype=torch.float32) / math.sqrt(d_in))
            Bm.copy_(B_STD * torch.randn((h, r), generator=g, dtype=torch.float32))
            if case.dora:
                # peft's DoRA init, run in float64 on the float32 values, rounded once to float32.
                m64 = dora_magnitude_peft(mod, torch.float64)
                m32_peft = dora_magnitude_peft(mod, torch.float32)  # the same init done in float32
                W64 = mod.get_base_layer().weight.double()
                rows = torch.linalg.norm(W64 + SCALING * (Bm.double() @ A.double()), dim=1)
                assert torch.allclose(m64, rows, rtol=1e-14, atol=0), "peft magnitude != row norms of W + s*B@A"
                assert max_rel(m32_peft, m64) < 1e-6
                mag = mod.lora_magnitude_vector[ADAPTER].weight.detach()
                assert mag.shape == (h,)
                mag.copy_(m64.float())
                mag_info.append(max_rel(m32_peft, m64))

    model.save_pretrained(folder)
    (folder / "README.md").unlink()  # peft's model-card template, not needed
    cfg_path = folder / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["target_modules"] = sorted(cfg["target_modules"])
    cfg["base_model_name_or_path"] = f"Tests/Fixtures/{case.base}"
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True))  # peft's own formatting
    make_readable(folder)

    saved = read_safetensors(folder / "adapter_model.safetensors")
    params = trainable(model)
    assert sorted(saved) == sorted(file_name(n) for n, _ in params), (sorted(saved), [n for n, _ in params])
    for n, p in params:
        t = saved[file_name(n)]
        assert t.dtype == torch.float32 and torch.equal(t, p.detach()), n
        assert float(t.abs().max()) > 0, f"{n} is zero"
    return {"mag_f32_vs_f64": max(mag_info) if mag_info else None}


# ----------------------------------------------------------------------------------------------------
# Loading the adapter onto a base model in a given dtype
# ----------------------------------------------------------------------------------------------------

def load_adapted(case: Case, folder: Path, dtype: torch.dtype):
    base = mr.load_folder(case.cls, FIXTURES / case.base, torch.float32).to(dtype)
    model = PeftModel.from_pretrained(base, folder, is_trainable=True)
    model.eval()
    saved = read_safetensors(folder / "adapter_model.safetensors")
    params = trainable(model)
    assert len(params) == len(saved)
    for n, p in params:
        assert p.dtype == dtype, (n, p.dtype)
        assert torch.equal(p.detach(), saved[file_name(n)].to(dtype)), f"{n} not loaded exactly"
    for n, p in model.named_parameters():
        assert p.requires_grad == ("lora_" in n), n
    return model


# ----------------------------------------------------------------------------------------------------
# The training run: start logits/loss/grads, then 10 AdamW steps with clipping
# ----------------------------------------------------------------------------------------------------

def run(model, tokens, labels, steps=STEPS, manual_adamw=False) -> dict:
    params = trainable(model)
    plist = [p for _, p in params]
    opt = None if manual_adamw else torch.optim.AdamW(plist, **OPT)
    state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in plist]
    losses, norms = [], []
    out = {}
    model.train()
    for step in range(steps + 1):
        model.zero_grad(set_to_none=True)
        logits = model(input_ids=tokens, use_cache=False).logits
        loss = masked_loss(logits, labels)
        losses.append(loss.item())
        if step == 0:
            out["logits"] = logits.detach().clone()
            out["loss"] = loss.detach().clone()
            out["token_losses"] = token_losses(logits.detach(), tokens)
        if step == steps:
            break
        loss.backward()
        if step == 0:
            out["grads"] = {n: p.grad.detach().clone() for n, p in params}
        if manual_adamw:
            norms.append(manual_step(plist, state, step + 1))
        else:
            norm = torch.nn.utils.clip_grad_norm_(plist, max_norm=MAX_NORM)
            norms.append(norm.item())
            opt.step()
    model.eval()
    out["losses"] = losses
    out["grad_norms"] = norms
    out["final"] = {n: p.detach().clone() for n, p in params}
    return out


@torch.no_grad()
def manual_step(plist, state, t: int) -> float:
    """clip_grad_norm_ + AdamW written out; must reproduce torch's trajectory."""
    total = torch.sqrt(sum((p.grad * p.grad).sum() for p in plist))
    coef = min(1.0, MAX_NORM / (float(total) + 1e-6))
    lr, (b1, b2), eps, wd = OPT["lr"], OPT["betas"], OPT["eps"], OPT["weight_decay"]
    for p, (m, v) in zip(plist, state):
        g = p.grad * coef
        p.mul_(1 - lr * wd)
        m.mul_(b1).add_((1 - b1) * g)
        v.mul_(b2).add_((1 - b2) * g * g)
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        p.sub_((lr / bc1) * m / (v.sqrt() / math.sqrt(bc2) + eps))
    return float(total)


# ----------------------------------------------------------------------------------------------------
# Independent checks
# ----------------------------------------------------------------------------------------------------

def effective_weights(case: Case, folder: Path) -> dict[str, torch.Tensor]:
    """float64 base weights with every adapted W replaced by its effective weight:
    LoRA W + s*B@A, DoRA (m / ||W + s*B@A||_row) * (W + s*B@A). Biases unchanged."""
    w = {k: v.double() for k, v in mr.stored_tensors(FIXTURES / case.base).items()}
    ad = {k: v.double() for k, v in read_safetensors(folder / "adapter_model.safetensors").items()}
    prefixes = sorted({k.rsplit(".lora_", 1)[0] for k in ad})
    for pre in prefixes:
        hf = hf_weight_name(pre)
        W = w[hf]
        V = W + SCALING * ad[pre + ".lora_B.weight"] @ ad[pre + ".lora_A.weight"]
        if case.dora:
            V = (ad[pre + ".lora_magnitude_vector"] / torch.linalg.norm(V, dim=1))[:, None] * V
        w[hf] = V
    return w


def numpy_check(case: Case, folder: Path, tokens, labels, logits64, loss64) -> float:
    """make_reference.numpy_forward (shares no code with transformers/peft) on the effective weights."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copy(FIXTURES / case.base / "config.json", tmp / "config.json")
        save_file({k: v.contiguous() for k, v in effective_weights(case, folder).items()}, str(tmp / "model.safetensors"))
        _, logits_np = mr.numpy_forward(tmp, tokens.numpy())
    d = float(np.abs(logits_np - logits64.numpy()).max())
    assert d < 1e-10, (case.name, d)
    lab = labels.numpy()[:, 1:]
    z = logits_np[:, :-1]
    z = z - z.max(-1, keepdims=True)
    lse = np.log(np.exp(z).sum(-1))
    tok = np.where(lab == -100, 0, lab)
    ll = lse - np.take_along_axis(z, tok[..., None], -1)[..., 0]
    loss_np = ll[lab != -100].mean()
    assert abs(loss_np - loss64) < 1e-12, (loss_np, loss64)
    return d


def finite_differences(model, tokens, labels, grads) -> dict:
    """Central differences (h = 1e-6) on the largest-|grad| entry of the first tensor of each kind.
    For LoRA the autograd gradient is the true derivative. For DoRA only the magnitude's is: peft detaches
    ||W + s*B@A|| so the stored A/B gradients deliberately differ from the true derivative."""
    params = dict(trainable(model))
    out = {}
    h = 1e-6
    for kind in ("lora_A", "lora_B", "lora_magnitude_vector"):
        names = [n for n in params if f".{kind}." in n]
        if not names:
            continue
        n = names[0]
        p, g = params[n], grads[n]
        idx = int(g.abs().argmax())
        vals = []
        with torch.no_grad():
            flat = p.view(-1)
            orig = flat[idx].item()
            for sgn in (1.0, -1.0):
                flat[idx] = orig + sgn * h
                lg = model(input_ids=tokens, use_cache=False).logits
                vals.append(masked_loss(lg, labels).item())
            flat[idx] = orig
        fd = (vals[0] - vals[1]) / (2 * h)
        ad = g.view(-1)[idx].item()
        out[kind] = {"param": file_name(n), "index": idx, "autograd": ad, "finite_difference": fd,
                     "rel_diff": abs(fd - ad) / abs(ad)}
    return out


def merged_check(case: Case, folder: Path, tokens, logits64) -> dict[str, torch.Tensor]:
    """peft's merge_and_unload() in float64 vs W + (alpha/r)*B@A; and the merged model's logits."""
    model = load_adapted(case, folder, torch.float64)
    eff = effective_weights(case, folder)
    names = [hf_weight_name(n) for n, _ in lora_modules(model)]
    merged_model = model.merge_and_unload()
    sd = merged_model.state_dict()
    out = {}
    for hf in names:
        assert torch.allclose(sd[hf], eff[hf], rtol=0, atol=1e-14), hf
        out[f"merged.{hf}"] = eff[hf]
    inv64, _, _ = mr.rope_inv_freq64(merged_model.config)
    with mr.float64_everywhere(merged_model, inv64), torch.no_grad():
        lg = merged_model(input_ids=tokens, use_cache=False).logits
    d = float((lg - logits64).abs().max())
    assert d < 1e-12, d
    return out


# ----------------------------------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------------------------------

def make_case(case: Case, tokens: torch.Tensor) -> dict:
    folder = PEFT_DIR / case.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    init_info = build_start_adapter(case, folder)
    labels = make_labels(tokens)

    # --- float64 reference ---
    model64 = load_adapted(case, folder, torch.float64)
    inv64, _, _ = mr.rope_inv_freq64(model64.config)
    if case.dora:  # magnitude == row norms of W + s*B@A (to the float32 rounding of the stored magnitude)
        for _, mod in lora_modules(model64):
            W = mod.get_base_layer().weight
            rows = torch.linalg.norm(W + SCALING * mod.lora_B[ADAPTER].weight @ mod.lora_A[ADAPTER].weight, dim=1)
            rows = rows.detach()
            mag = mod.lora_magnitude_vector[ADAPTER].weight.detach()
            assert max_rel(mag, rows) < 1e-7 and float(((mag - rows).abs() / rows).max()) < 1e-7
    with mr.float64_everywhere(model64, inv64):
        with torch.no_grad():  # eval mode == train mode (no dropout anywhere)
            eval_logits = model64(input_ids=tokens, use_cache=False).logits
            loss_tf = model64(input_ids=tokens, labels=labels, use_cache=False).loss.item()
        ref = run(model64, tokens, labels)
        assert torch.equal(eval_logits, ref["logits"])
    # float64_everywhere patches RMSNorm/RoPE per module instance: every model needs its own context.
    fresh = load_adapted(case, folder, torch.float64)
    with mr.float64_everywhere(fresh, inv64):
        manual = run(fresh, tokens, labels, manual_adamw=True)
    fd_model = load_adapted(case, folder, torch.float64)
    with mr.float64_everywhere(fd_model, inv64):
        fd = finite_differences(fd_model, tokens, labels, ref["grads"])
    loss64 = ref["loss"].item()
    assert abs(loss_tf - loss64) < 1e-5, (loss_tf, loss64)

    # manual AdamW + clipping reproduces torch's trajectory
    adam_d = max(max_rel(manual["final"][n], ref["final"][n]) for n in ref["final"])
    assert adam_d < 1e-10, adam_d
    assert max(abs(a - b) for a, b in zip(manual["losses"], ref["losses"])) < 1e-12
    assert max(abs(a - b) for a, b in zip(manual["grad_norms"], ref["grad_norms"])) < 1e-12

    for kind, r in fd.items():
        if case.dora and kind != "lora_magnitude_vector":
            continue  # detached norm: not the true derivative (reported, not asserted)
        assert r["rel_diff"] < 1e-6, (case.name, kind, r)

    # gradients: every tensor, and every entry, non-zero
    zeros = {n: int((g == 0).sum()) for n, g in ref["grads"].items()}
    assert not any(zeros.values()), zeros

    # independent numpy forward on the effective weights
    d_np = numpy_check(case, folder, tokens, labels, ref["logits"], loss64)

    # --- stock transformers/peft in float32: what a float32 implementation should reach ---
    model32 = load_adapted(case, folder, torch.float32)
    f32 = run(model32, tokens, labels)
    chk32 = {
        "logits_max_abs": float((f32["logits"].double() - ref["logits"]).abs().max()),
        "loss_abs": abs(f32["losses"][0] - ref["losses"][0]),
        "grad_worst_rel": max(max_rel(f32["grads"][n], ref["grads"][n]) for n in ref["grads"]),
        "losses_max_abs": max(abs(a - b) for a, b in zip(f32["losses"], ref["losses"])),
        "grad_norms_max_rel": max(abs(a - b) / b for a, b in zip(f32["grad_norms"], ref["grad_norms"])),
        "final_worst_rel": max(max_rel(f32["final"][n], ref["final"][n]) for n in ref["final"]),
    }
    # the tolerances README section 5 suggests for a float32 implementation
    assert chk32["logits_max_abs"] < 1e-5 and chk32["grad_worst_rel"] < 1e-5, chk32
    assert chk32["losses_max_abs"] < 1e-5 and chk32["final_worst_rel"] < 2e-5, chk32

    # --- write reference.safetensors ---
    scored = (labels[:, 1:] != -100)
    tensors = {
        "logits": ref["logits"].float().contiguous(),
        "loss": torch.tensor([loss64], dtype=torch.float32),
        "token_losses": ref["token_losses"].float().contiguous(),
        "loss_mask": scored.float().contiguous(),
        "losses": torch.tensor(ref["losses"], dtype=torch.float32),
        "grad_norms": torch.tensor(ref["grad_norms"], dtype=torch.float32),
    }
    # token_losses/loss_mask agree with the loss
    assert abs(float((ref["token_losses"] * scored).sum() / scored.sum()) - loss64) < 1e-12
    for n, g in ref["grads"].items():
        tensors[f"grad.{file_name(n)}"] = g.float().contiguous()
    for n, p in ref["final"].items():
        tensors[f"final.{file_name(n)}"] = p.float().contiguous()
    if case.merged:
        for k, v in merged_check(case, folder, tokens, ref["logits"]).items():
            tensors[k] = v.float().contiguous()
    save_file(tensors, str(folder / "reference.safetensors"), metadata={"format": "pt"})

    # --- reference.json ---
    params = trainable(model64)
    refj = {
        "case": case.name,
        "base_model": f"Tests/Fixtures/{case.base}",
        "method": "dora" if case.dora else "lora",
        "r": R,
        "lora_alpha": ALPHA,
        "scaling": SCALING,
        "target_modules": sorted(case.targets),
        "tokens": tokens.tolist(),
        "labels": make_labels(tokens).tolist(),
        "mask_convention": (
            "labels = tokens with labels[:, :5] = -100 (ignored). transformers' causal-LM convention: "
            "position t (t = 0..T-2) is scored against labels[t+1]. So positions t = 4..10 of each row "
            "count and t = 0..3 do not. loss = mean over the scored positions of "
            "logsumexp(logits[b,t,:]) - logits[b,t,tokens[b,t+1]] (natural log). "
            "loss_mask[b,t] = 1 for scored positions, shape [B, T-1]."),
        "num_scored_tokens": int(scored.sum()),
        "loss": loss64,
        "loss_transformers": loss_tf,
        "losses": ref["losses"],
        "grad_norms": ref["grad_norms"],
        "optimizer": {
            "name": "torch.optim.AdamW", "lr": OPT["lr"], "betas": list(OPT["betas"]), "eps": OPT["eps"],
            "weight_decay": OPT["weight_decay"], "amsgrad": False, "param_groups": 1,
            "weight_decay_applies_to": "every trainable tensor, magnitude vectors included",
            "clip_grad_norm_max_norm": MAX_NORM,
            "clip_rule": "total = sqrt(sum of squares of all grads); g *= min(1, max_norm / (total + 1e-6))",
            "steps": STEPS, "batch": "the same batch at every step", "lr_schedule": "none (constant)",
        },
        "params": [[file_name(n), list(p.shape)] for n, p in params],
        "init": {
            "seed": case.seed,
            "lora_A": "torch.randn([r, in], generator=torch.Generator().manual_seed(seed)) / sqrt(in)",
            "lora_B": "0.1 * torch.randn([out, r]), same generator; per adapted module in named_modules "
                      "order, A then B",
            "lora_magnitude_vector": ("peft DoraLinearVariant.init run in float64 on the float32 A, B, W: "
                                      "||W + scaling*B@A|| per output row, rounded to float32"
                                      if case.dora else None),
        },
        "checks": {
            "numpy_effective_weights_logits_max_abs": d_np,
            "float32_stock_vs_reference": chk32,
            "finite_differences": fd,
            "manual_adamw_final_worst_rel": adam_d,
            "dora_magnitude_float32_init_vs_float64_rel": init_info["mag_f32_vs_f64"],
        },
        "dtype_stored": "float32",
        "peft_version": peft.__version__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "safetensors_version": safetensors.__version__,
    }
    (folder / "reference.json").write_text(to_json(refj) + "\n")
    assert json.loads((folder / "reference.json").read_text())["losses"] == ref["losses"]
    make_readable(folder)

    return {"case": case.name, "losses": ref["losses"], "grad_norms": ref["grad_norms"], "loss_tf": loss_tf,
            "f32": chk32, "np": d_np, "fd": fd, "adam": adam_d, "logits": ref["logits"], "grads": ref["grads"]}


# ----------------------------------------------------------------------------------------------------
# Learning-rate schedules
# ----------------------------------------------------------------------------------------------------

def make_schedules() -> None:
    out = {
        "base_lr": SCHED_BASE_LR,
        "num_warmup_steps": SCHED_WARMUP,
        "num_training_steps": SCHED_TOTAL,
        "convention": (
            "lr[name][k] is the learning rate that the k-th optimizer step uses, with k counting from 0. "
            "So lr[name][0] is the lr of the first optimizer.step(). This follows the HF Trainer loop: "
            "optimizer.step(), then scheduler.step(). It equals base_lr * lr_lambda(k). "
            "Counting steps from 1, step s uses lr_lambda(s - 1). With warmup the first step has lr 0, "
            "but AdamW still updates its moments and step count t."),
        "lr_lambda": {
            "constant_with_warmup": "k < W ? k / W : 1",
            "linear": "k < W ? k / W : max(0, (N - k) / (N - W))",
            "cosine": "k < W ? k / W : max(0, 0.5 * (1 + cos(pi * 2 * 0.5 * (k - W) / (N - W))))  (num_cycles 0.5)",
        },
        "lr": {},
    }
    for name in ("constant_with_warmup", "linear", "cosine"):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.AdamW([p], lr=SCHED_BASE_LR)
        sched = get_scheduler(name, opt, num_warmup_steps=SCHED_WARMUP, num_training_steps=SCHED_TOTAL)
        lrs = []
        for k in range(SCHED_TOTAL):
            lrs.append(opt.param_groups[0]["lr"])
            assert lrs[-1] == sched.get_last_lr()[0]
            p.grad = torch.ones(1)
            opt.step()
            sched.step()
        # the documented formulas
        W, N = SCHED_WARMUP, SCHED_TOTAL
        for k, lr in enumerate(lrs):
            if k < W:
                lam = k / W
            elif name == "constant_with_warmup":
                lam = 1.0
            elif name == "linear":
                lam = max(0.0, (N - k) / (N - W))
            else:
                lam = max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * (k - W) / (N - W))))
            assert abs(lr - SCHED_BASE_LR * lam) < 1e-18, (name, k, lr, lam)
        out["lr"][name] = lrs
    out["transformers_version"] = transformers.__version__
    out["torch_version"] = torch.__version__
    path = PEFT_DIR / "schedules.json"
    path.write_text(to_json(out) + "\n")
    path.chmod(0o644)


# ----------------------------------------------------------------------------------------------------

def main() -> None:
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, "
          f"python {sys.version.split()[0]}")
    tokens = load_tokens()
    rows = [make_case(c, tokens) for c in CASES]
    make_schedules()

    by = {r["case"]: r for r in rows}
    # Same A/B and m = ||W + s*B@A|| at the start: DoRA's start logits and A/B gradients equal LoRA's.
    for base in ("tiny-llama", "tiny-qwen2"):
        lo, do = by[f"{base}-lora"], by[f"{base}-dora"]
        d_logits = float((lo["logits"] - do["logits"]).abs().max())
        d_grads = max(max_rel(do["grads"][n], lo["grads"][n]) for n in lo["grads"])
        print(f"{base}: DoRA vs LoRA at the start: max|Δlogits| {d_logits:.1e}, A/B grads worst rel {d_grads:.1e}")
        assert d_logits < 1e-5 and d_grads < 1e-5

    print("\nper-step losses (float64 reference; losses[k] before step k, losses[10] after the last step):")
    for r in rows:
        print(f"  {r['case']:<22}" + " ".join(f"{x:.6f}" for x in r["losses"]))
    print("\ngrad norms before clipping:")
    for r in rows:
        print(f"  {r['case']:<22}" + " ".join(f"{x:.4f}" for x in r["grad_norms"]))
    print("\nchecks:")
    for r in rows:
        c = r["f32"]
        print(f"  {r['case']:<22} loss_tf-loss {r['loss_tf'] - r['losses'][0]:+.1e}  numpy {r['np']:.1e}  "
              f"adamw {r['adam']:.1e}  f32: logits {c['logits_max_abs']:.1e} grads {c['grad_worst_rel']:.1e} "
              f"losses {c['losses_max_abs']:.1e} norms {c['grad_norms_max_rel']:.1e} final {c['final_worst_rel']:.1e}")
        for kind, f in r["fd"].items():
            print(f"      FD {kind:<22} autograd {f['autograd']:+.6e}  fd {f['finite_difference']:+.6e}  "
                  f"rel {f['rel_diff']:.1e}")

    print("\nfiles:")
    total = 0
    for f in sorted(PEFT_DIR.rglob("*")):
        if f.is_file() and f.suffix != ".py" and f.name != "README.md" and "__pycache__" not in f.parts:
            size = f.stat().st_size
            total += size
            print(f"  {str(f.relative_to(PEFT_DIR)):<50}{size:>9}  {hashlib.sha256(f.read_bytes()).hexdigest()[:12]}")
    print(f"  total {total} bytes ({total / 1e6:.3f} MB)")
    assert total < 3_000_000


if __name__ == "__main__":
    main()
