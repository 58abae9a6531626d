"""Reference for `--smagnorm output` and `--delta-bias`: the SECURA authors' output-level rule, written
independently in PyTorch (float64) from their released code's behaviour (MeCuping/SECURA,
SECURA_Relese/src/CABR_DoRA_Sep.py: CABRLoRA.forward_sepMerged, merge, SigNorm):

    y_F = x·W_Fᵀ + b            (W_F = W, or W + C·A_L·B_L·R for SECURA-M2 as the paper defines W_former)
    y_Δ = x·(C·A·B·R)ᵀ + b_Δ
    L   = |y_Δ / (y_F + 1e-10)|, detached
    S   = 2 everywhere if L is all zero, else 2 − σ(6·L), detached
    y   = (2·y_F + y_Δ) / S

(The authors' SigNorm computes L/(max L + ε) − 0.5 and then overwrites it with L·scale; we follow what
runs. Their random 0.99 column decay when more than `Ratio` of S is ≤ `mn` is not part of this rule.)
Every case also records the gradients of the OLD secura-dist rule (S differentiated, factor 1 while
y_Δ is zero), so the test can show that it tells the two apart.

Writes Tests/Fixtures/smagnorm-output/reference.json. Run with the reference venv:
    /work/venv-ref/bin/python Tests/Fixtures/make_smagnorm_output_reference.py
"""
import json
import os

import torch

torch.manual_seed(20261202)
H, D, N, r, m = 6, 7, 5, 3, 4
EPS, SCALE = 1e-10, 6.0


def smallest(norms, k):
    return sorted(torch.argsort(norms, stable=True)[:k].tolist())


def case(seed, name, nonzero_change, long_term, delta_bias):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(H, D, generator=g, dtype=torch.float64) * 0.5
    b = torch.randn(H, generator=g, dtype=torch.float64) * 0.1
    x = torch.randn(N, D, generator=g, dtype=torch.float64)
    probe = torch.randn(N, H, generator=g, dtype=torch.float64)
    cols, rows = smallest(W.norm(dim=0), r), smallest(W.norm(dim=1), r)
    C, R = W[:, cols].clone(), W[rows, :].clone()
    A = torch.randn(r, m, generator=g, dtype=torch.float64)
    B = (torch.randn(m, r, generator=g, dtype=torch.float64) * 0.3) if nonzero_change else torch.zeros(m, r, dtype=torch.float64)
    bias = (torch.randn(H, generator=g, dtype=torch.float64) * 0.05) if (delta_bias and nonzero_change) else torch.zeros(H, dtype=torch.float64)
    AL = torch.randn(r, m, generator=g, dtype=torch.float64) if long_term else torch.zeros(r, m, dtype=torch.float64)
    BL = (torch.randn(m, r, generator=g, dtype=torch.float64) * 0.3) if long_term else torch.zeros(m, r, dtype=torch.float64)

    def run(detached):
        xs, As, Bs, bs = (t.clone().requires_grad_(True) for t in (x, A, B, bias))
        WF = W + C @ AL @ BL @ R
        yF = xs @ WF.T + b
        yD = xs @ (C @ As @ Bs @ R).T + (bs if delta_bias else 0)
        ratio = (yD / (yF + EPS)).abs()
        if detached:
            ratio = ratio.detach()
            S = torch.full_like(ratio, 2.0) if bool((ratio == 0).all()) else (2 - torch.sigmoid(SCALE * ratio)).detach()
            y = (2 * yF + yD) / S
        else:   # the old secura-dist rule: exact derivative, identity while the change is zero
            y = yF + yD if bool((yD == 0).all()) else (2 * yF + yD) / (2 - torch.sigmoid(SCALE * ratio))
        (y * probe).sum().backward()
        return y.detach(), xs.grad, As.grad, Bs.grad, bs.grad

    y, dx, dA, dB, db = run(True)
    _, odx, odA, odB, odb = run(False)
    flat = lambda t: [] if t is None else [float(v) for v in t.reshape(-1)]
    return {
        "name": name, "longTerm": long_term, "deltaBias": delta_bias,
        "W": flat(W), "b": flat(b), "x": flat(x), "probe": flat(probe), "columns": cols, "rows": rows,
        "A": flat(A), "B": flat(B), "bias": flat(bias), "AL": flat(AL), "BL": flat(BL),
        "out": flat(y), "dInput": flat(dx), "dA": flat(dA), "dB": flat(dB), "dBias": flat(db),
        "old": {"dInput": flat(odx), "dA": flat(odA), "dB": flat(odB), "dBias": flat(odb)},
    }


cases = [
    case(1, "zero change (S = 2)", False, False, True),
    case(2, "cabr with delta bias", True, False, True),
    case(3, "cabr without delta bias", True, False, False),
    case(4, "secura-m2 long-term pair in the former weight", True, True, True),
    case(5, "secura-m2 zero short-term change", False, True, True),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smagnorm-output", "reference.json")
with open(out, "w") as f:
    json.dump({"H": H, "D": D, "N": N, "r": r, "m": m, "eps": EPS, "scale": SCALE, "torch": torch.__version__,
               "cases": cases}, f, indent=0)
print("wrote", out)
