#!/usr/bin/env python3
"""Make the reference for the IMSM authors' gate (Tests/Fixtures/imsm/authors_gate.json) that
IMSMAuthorsGateTests compares `--imsm-gate authors` against.

Run from the repository root:

    /work/venv-ref/bin/python Tests/Fixtures/imsm/make_authors_gate_reference.py

Needs only torch, no network. CI never runs it; it only reads the committed JSON. Fixed seed, one CPU
thread, deterministic algorithms: a rerun on the same machine writes a byte-identical file (the sha256
prefix is printed; imsm_fixture.py holds what this script shares with make_reference.py).

What the authors' code does (github.com/ECNU-Text-Computing/IMSM, siamese_model.py, read for this script;
nothing here is copied from it): each of the gate's two matrices is a torch module
`Sequential(Linear(in, out, bias=False), Dropout(p))`, so
    u = dropout(x @ W_A.T)      W_A [R, kC], x = [q̄; h; h'; q̄'] (mode 5, our "full", k = 4)
                                               or [h; h']       (mode 2, our "no-query", k = 2)
    z = dropout(u @ W_B.T)      W_B [C, R]
    g = sigmoid(z),  ĥ = g * h + (1 - g) * h'
and both matrices keep nn.Linear's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (Kaiming-
uniform with a = sqrt(5)): fan_in = kC for W_A, R for W_B. Their config uses gate_rank 8, dropout_prob 0.1.

The gate is written here from those equations with the two dropout masks passed explicitly, so the Swift
test can hand its gate the same masks. The masks ARE torch's: they are drawn with F.dropout on ones, and a
self-check replays the same seed through the authors' module structure (Linear + Dropout, train mode) to
show that the explicit-mask gate gives the same g. Mask values are 0 or 1/(1-p); p = 0.2 makes the kept
scale 1.25, exact in float32 (the authors' 0.1 gives 1.111..., which float32 cannot hold).

For B sequences of T positions, h and h' [B, T, C] and prompt lengths P_b (all > 0 here: the authors'
mean divides by P), loss = sum(ĥ * G) for a fixed random G, so dL/dĥ = G. Gradients by autograd in float64
for W_A, W_B, h and h' (h and h' also receive the paths through q̄ and q̄'). The stored weights are nn.Linear's
default draw for W_A and 3x nn.Linear's default for W_B (so that the gates spread over (0, 1)); the init
bounds are stored separately and checked against torch's own initialiser. All arrays are flat, row-major,
float32 values:
    inputs.h, inputs.h_tuned, inputs.G [B*T*C];  inputs.gate_B [C*R] (shared)
    modes.<mode>.gate_A [R*kC], mask_after_A [B*T*R], mask_after_B [B*T*C]
    modes.<mode>.out [B*T*C] (training forward with the masks), out_eval [B*T*C] (no dropout),
    grad_h, grad_h_tuned [B*T*C], grad_gate_A [R*kC], grad_gate_B [C*R] (of the training forward)
    init.modes.<mode>.bound_A = 1/sqrt(kC), init.bound_B = 1/sqrt(R)
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from imsm_fixture import B, C, PROMPT_LENGTHS, R, T, check_gradients, draw_inputs, f32, flat, forward_backward, \
    gate_input, write_reference

P = 0.2
SEED = 20241223
MODES = {"full": 4, "no-query": 2}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "authors_gate.json")
assert all(p > 0 for p in PROMPT_LENGTHS), "the authors' query mean divides by the prompt length"


def gate(x, wa, wb, mask_a, mask_b):
    """g = sigmoid(mask_b * ((mask_a * (x W_Aᵀ)) W_Bᵀ)): dropout after each linear layer."""
    return torch.sigmoid(((x @ wa.T) * mask_a) @ wb.T * mask_b)


def imsm(mode, h, hp, wa, wb, mask_a, mask_b):
    g = gate(gate_input(mode, h, hp, PROMPT_LENGTHS), wa, wb, mask_a, mask_b)
    return g * h + (1 - g) * hp


def check_init_bounds(k):
    """torch's nn.Linear default: every weight within 1/sqrt(fan_in), the extremes near it, std bound/sqrt(3)."""
    for fan_in, out in [(k * 256, 8), (8, 256 * k)]:
        w = nn.Linear(fan_in, out, bias=False).weight.detach().double()
        bound = 1 / math.sqrt(fan_in)
        assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound, (fan_in, w.abs().max(), bound)
        assert abs(w.std().item() * math.sqrt(3) / bound - 1) < 0.02, (fan_in, w.std().item())


def main():
    torch.manual_seed(SEED)
    _, h, hp, G = draw_inputs(SEED)
    linear_b = nn.Linear(R, C, bias=False)
    wb = f32(3 * linear_b.weight.detach().double())

    modes, init = {}, {}
    for mode, k in MODES.items():
        check_init_bounds(k)
        init[mode] = {"bound_A": 1 / math.sqrt(k * C)}
        wa = f32(nn.Linear(k * C, R, bias=False).weight.detach().double())
        x = gate_input(mode, h, hp, PROMPT_LENGTHS)

        # The masks are torch's dropout of ones; replaying the seed through the authors' structure gives the
        # same gate, so explicit masks reproduce nn.Dropout (order: after linear_A, then after linear_B).
        mask_seed = SEED + k
        torch.manual_seed(mask_seed)
        mask_a = F.dropout(torch.ones(B, T, R, dtype=torch.float64), P, training=True)
        mask_b = F.dropout(torch.ones(B, T, C, dtype=torch.float64), P, training=True)
        lin_a = nn.Sequential(nn.Linear(k * C, R, bias=False), nn.Dropout(P)).double().train()
        lin_b = nn.Sequential(nn.Linear(R, C, bias=False), nn.Dropout(P)).double().train()
        with torch.no_grad():
            lin_a[0].weight.copy_(wa)
            lin_b[0].weight.copy_(wb)
            torch.manual_seed(mask_seed)
            module_gate = torch.sigmoid(lin_b(lin_a(x)))
        assert torch.equal(module_gate, gate(x, wa, wb, mask_a, mask_b)), f"{mode}: explicit masks differ from nn.Dropout"
        mask_a, mask_b = f32(mask_a), f32(mask_b)
        for name, m in [("after A", mask_a), ("after B", mask_b)]:
            assert set(m.unique().tolist()) == {0.0, 1 / (1 - P)}, f"{mode} mask {name}: {m.unique()}"

        f = lambda x1, x2, p1, p2: imsm(mode, x1, x2, p1, p2, mask_a, mask_b)
        out, (grad_h, grad_hp, grad_a, grad_b) = forward_backward(f, G, h, hp, wa, wb)
        ones_a, ones_b = torch.ones_like(mask_a), torch.ones_like(mask_b)
        out_eval = imsm(mode, h, hp, wa, wb, ones_a, ones_b)
        with torch.no_grad():
            lin_a.eval()
            lin_b.eval()
            xe = gate_input(mode, h, hp, PROMPT_LENGTHS)
            ge = torch.sigmoid(lin_b(lin_a(xe)))
            assert torch.allclose(ge * h + (1 - ge) * hp, out_eval, rtol=1e-14, atol=0), f"{mode}: eval"
        g = gate(x, wa, wb, mask_a, mask_b)
        print(f"{mode}: gate range [{g.min().item():.3f}, {g.max().item():.3f}], "
              f"dropped {int((mask_a == 0).sum())}/{mask_a.numel()} after A, {int((mask_b == 0).sum())}/{mask_b.numel()} after B")
        check_gradients(f, G, h, hp, wa, wb)
        # The placement matters: the masks on u and z are not a mask on x.
        assert not torch.allclose(out, out_eval), f"{mode}: dropout had no effect"
        modes[mode] = {
            "gate_A": flat(wa), "mask_after_A": flat(mask_a), "mask_after_B": flat(mask_b),
            "out": flat(out), "out_eval": flat(out_eval),
            "grad_h": flat(grad_h), "grad_h_tuned": flat(grad_hp),
            "grad_gate_A": flat(grad_a), "grad_gate_B": flat(grad_b),
        }

    write_reference(OUT, {
        "C": C, "R": R, "B": B, "T": T, "prompt_lengths": PROMPT_LENGTHS, "dropout": P, "seed": SEED,
        "torch_version": torch.__version__, "dtype": "float64 (inputs and masks are float32 values)",
        "loss": "sum(out * G)", "source": "github.com/ECNU-Text-Computing/IMSM siamese_model.py (mode 5 = full, mode 2 = no-query)",
        "inputs": {"h": flat(h), "h_tuned": flat(hp), "G": flat(G), "gate_B": flat(wb)},
        "init": {"bound_B": 1 / math.sqrt(R), "modes": init},
        "modes": modes,
    })


if __name__ == "__main__":
    main()
