#!/usr/bin/env python3
"""Make the IMSM gate reference (Tests/Fixtures/imsm/reference.json) that IMSMGateTests compares against.

Run from the repository root:

    /work/venv-ref/bin/python Tests/Fixtures/imsm/make_reference.py

Needs only torch, no network. CI never runs it; it only reads the committed JSON. Fixed seed, one CPU
thread, deterministic algorithms: a rerun on the same machine writes a byte-identical file (the sha256
prefix is printed; see imsm_fixture.py, which holds what this script shares with the authors' gate one).

The gate is written here from the equations of docs/DESIGN.md §1.10, not from the Swift code. For B
sequences of T positions, h and h' [B, T, C] (frozen and tuned final-norm hidden states) and prompt
lengths P_b:
    q̄_b  = mean of h[b, 0:P_b],   q̄'_b = mean of h'[b, 0:P_b]
    full:      x_t = [q̄_b; h_t; h'_t; q̄'_b]  (4C),  g_t = sigmoid(W_B @ W_A @ x_t),  W_A [R, 4C], W_B [C, R]
    no-query:  x_t = [h_t; h'_t]              (2C),  same, W_A [R, 2C]
    both:      ĥ_t = g_t * h_t + (1 - g_t) * h'_t
    no-gate:   ĥ_t = (h_t + h'_t) / 2
No bias, dropout off. Loss = sum(ĥ * G) for a fixed random G, so dL/dĥ = G. Gradients by autograd in
float64 for W_A, W_B, h and h' (h' also receives the path through q̄', h the path through q̄).

Inputs are drawn in float64, rounded to float32 and used as float64 from then on, so the Swift test feeds
exactly the same values. All arrays are flat, row-major:
    inputs.h, inputs.h_tuned, inputs.G   [B*T*C]
    inputs.gate_A_full [R*4C], inputs.gate_A_no_query [R*2C], inputs.gate_B [C*R]  (W_B shared by both modes)
    modes.<mode>.out [B*T*C], grad_h, grad_h_tuned [B*T*C], grad_gate_A, grad_gate_B (not for no-gate)
Self-checks: torch.autograd.gradcheck of each mode, W_B = 0 gives the no-gate output, and h' = h gives
ĥ = h in every mode (to float64 rounding: g*h + (1-g)*h is not bit-exact in this form).
"""
import os

import torch

from imsm_fixture import B, C, PROMPT_LENGTHS, R, T, check_gradients, draw_inputs, f32, flat, forward_backward, \
    gate_input, write_reference

SEED = 20240611
MODES = ["full", "no-query", "no-gate"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")


def gate(mode, h, hp, wa, wb, lengths):
    """g [B, T, C] of the gated modes."""
    return torch.sigmoid(gate_input(mode, h, hp, lengths) @ wa.T @ wb.T)


def imsm(mode, h, hp, wa, wb, lengths):
    """ĥ [B, T, C] from h, h' [B, T, C]."""
    if mode == "no-gate":
        return (h + hp) / 2
    g = gate(mode, h, hp, wa, wb, lengths)
    return g * h + (1 - g) * hp


def main():
    normal, h, hp, G = draw_inputs(SEED)
    wa = {"full": f32(normal(R, 4 * C) / (4 * C) ** 0.5), "no-query": f32(normal(R, 2 * C) / (2 * C) ** 0.5)}
    wb = f32(normal(C, R) * 2 / R ** 0.5)          # large enough that g spreads over (0, 1)

    modes = {}
    for mode in MODES:
        f = lambda x, y, p, q: imsm(mode, x, y, p, q, PROMPT_LENGTHS)
        a = wa.get(mode, torch.zeros(R, 4 * C, dtype=torch.float64))
        out, (grad_h, grad_hp, grad_a, grad_b) = forward_backward(f, G, h, hp, a, wb)
        entry = {"out": flat(out), "grad_h": flat(grad_h), "grad_h_tuned": flat(grad_hp)}
        if mode != "no-gate":
            entry["grad_gate_A"] = flat(grad_a)
            entry["grad_gate_B"] = flat(grad_b)
            g = gate(mode, h, hp, wa[mode], wb, PROMPT_LENGTHS)
            print(f"{mode}: gate range [{g.min().item():.3f}, {g.max().item():.3f}]")
        # Self-checks.
        check_gradients(f, G, h, hp, a, wb)
        # Mathematically exact; g*h + (1-g)*h rounds, so to float64 precision here (Swift tests it bit for bit).
        same = imsm(mode, h, h, a, wb, PROMPT_LENGTHS)
        assert torch.allclose(same, h, rtol=1e-14, atol=0), f"{mode}: h' = h must give h"
        modes[mode] = entry
    zero_b = torch.zeros(C, R, dtype=torch.float64)
    for mode in ["full", "no-query"]:
        assert torch.allclose(imsm(mode, h, hp, wa[mode], zero_b, PROMPT_LENGTHS), (h + hp) / 2, rtol=0, atol=1e-15)

    write_reference(OUT, {
        "C": C, "R": R, "B": B, "T": T, "prompt_lengths": PROMPT_LENGTHS, "seed": SEED,
        "torch_version": torch.__version__, "dtype": "float64 (inputs are float32 values)", "loss": "sum(out * G)",
        "inputs": {"h": flat(h), "h_tuned": flat(hp), "G": flat(G), "gate_A_full": flat(wa["full"]),
                   "gate_A_no_query": flat(wa["no-query"]), "gate_B": flat(wb)},
        "modes": modes,
    })


if __name__ == "__main__":
    main()
