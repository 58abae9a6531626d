"""What the two IMSM gate reference scripts (make_reference.py, make_authors_gate_reference.py) share:
the sizes, torch's deterministic set-up, the float32-valued inputs, the gate input [q̄; h; h'; q̄'] or
[h; h'], autograd of loss = sum(out * G), and the JSON writer. Imported by those scripts from this folder;
not run on its own.

Importing it sets torch to one CPU thread and deterministic algorithms, so a rerun on the same machine
writes a byte-identical file. Another CPU or BLAS build may round the float64 gradients differently in
the last bits (MKL picks its kernels by CPU); the Swift tests' tolerances are far above that.
"""
import hashlib
import json
import os

import torch

C, R, B, T = 16, 4, 2, 7
PROMPT_LENGTHS = [4, 3]

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def f32(t):
    """Rounds to float32 and returns float64, so the stored values are exact float32 values."""
    return t.float().double()


def flat(t):
    """A tensor as a flat, row-major list of Python floats."""
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def draw_inputs(seed):
    """A float64 normal sampler seeded with `seed`, and from it h, h' and G [B, T, C] as float32 values.

    h' is h plus half as much noise: a tuned model close to the frozen one. The sampler is returned so a
    script can go on to draw its weights from the same stream."""
    gen = torch.Generator().manual_seed(seed)
    normal = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)
    h = f32(normal(B, T, C))
    hp = f32(h + 0.5 * normal(B, T, C))
    G = f32(normal(B, T, C))
    return normal, h, hp, G


def gate_input(mode, h, hp, lengths):
    """x [B, T, kC]: [q̄; h; h'; q̄'] for "full" (k = 4), [h; h'] otherwise (k = 2).

    q̄_b and q̄'_b are the means of h and h' over the first P_b positions (zeros where P_b = 0)."""
    if mode != "full":
        return torch.cat([h, hp], dim=-1)
    qb = torch.stack([h[b, :p].mean(0) if p > 0 else h.new_zeros(C) for b, p in enumerate(lengths)])
    qt = torch.stack([hp[b, :p].mean(0) if p > 0 else hp.new_zeros(C) for b, p in enumerate(lengths)])
    return torch.cat([qb[:, None, :].expand(-1, T, -1), h, hp, qt[:, None, :].expand(-1, T, -1)], dim=-1)


def forward_backward(f, G, *inputs):
    """out = f(*inputs) and the gradients of sum(out * G) for each input (None where out does not depend on it)."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    out = f(*leaves)
    (out * G).sum().backward()
    return out, [leaf.grad for leaf in leaves]


def check_gradients(f, G, *inputs):
    """torch.autograd.gradcheck of sum(f(*inputs) * G) with respect to every input."""
    leaves = tuple(t.detach().clone().requires_grad_(True) for t in inputs)
    assert torch.autograd.gradcheck(lambda *args: (f(*args) * G).sum(), leaves)


def write_reference(path, ref):
    """Writes `ref` as compact JSON plus a newline and prints its size and sha256 prefix."""
    text = json.dumps(ref, separators=(",", ":")) + "\n"
    with open(path, "w") as f:
        f.write(text)
    print(f"{os.path.relpath(path)}: {len(text)} bytes, sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}")
