#!/usr/bin/env python3
"""Compares two secura-dist state files (state.safetensors of OUTPUT/adapter or a checkpoint) tensor by
tensor with the standard library only: max|a - b| / max|b| per tensor must not exceed --rtol.
SECURA-M1's masters (per-rank masters-rank*.safetensors files beside state.safetensors, format state-2)
are reassembled from their row ranges and compared as whole master/<name> tensors.

    python3 launch/compare_states.py A/state.safetensors B/state.safetensors [--rtol 1e-5] [--prefix param/] [--suffix .cabr_A]
Prints the worst tensor. Exits non-zero on a difference above --rtol, on a tensor present on one side
only, a dtype or shape difference, a NaN or Inf on either side, an unreadable file, or when no tensor
was compared (e.g. a --prefix that matches nothing).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from state_files import StateError, first_non_finite, floats, read_state  # noqa: E402


def problem(n, a, b, names):
    """Why tensor n cannot be compared (None when it can): one-sided, dtype/shape, not F32, empty, NaN/Inf."""
    if n not in a or n not in b:
        return f"{n}: only in {names[0] if n in a else names[1]}"
    (da, sa, ra), (db, sb, rb) = a[n], b[n]
    if da != db or sa != sb:
        return f"{n}: {da} {sa} vs {db} {sb}"
    if da != "F32":
        return f"{n}: dtype {da} is not compared (state files hold F32)"
    if len(rb) == 0:
        return f"{n}: empty"
    for side, raw in zip(names, (ra, rb)):
        values = floats("F32", raw)
        i = first_non_finite(values)
        if i is not None:
            return f"{n}: {values[i]} at [{i}] in {side}"
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--prefix", default="", help="compare only tensors whose names start with this")
    p.add_argument("--suffix", default="", help="compare only tensors whose names end with this")
    args = p.parse_args()
    try:
        a, b = read_state(args.a), read_state(args.b)
    except (OSError, StateError) as e:
        sys.exit(f"cannot compare: {e}")
    wanted = lambda n: n.startswith(args.prefix) and n.endswith(args.suffix)  # noqa: E731
    names = sorted({n for n in a if wanted(n)} | {n for n in b if wanted(n)})
    worst, worst_name, problems, compared = 0.0, "", [], 0
    for n in names:
        why = problem(n, a, b, (args.a, args.b))
        if why:
            problems.append(why)
            continue
        compared += 1
        x, y = floats("F32", a[n][2]), floats("F32", b[n][2])
        if x == y:  # bit-identical (array equality runs in C, fast for big masters)
            continue
        scale = max(abs(v) for v in y) or 1.0
        diff = max(abs(u - v) for u, v in zip(x, y)) / scale
        if diff > worst:
            worst, worst_name = diff, n
    if not names:
        problems.append(f"no tensors to compare (prefix '{args.prefix}', suffix '{args.suffix}')")
    for line in problems[:20]:
        print(line, file=sys.stderr)
    print(f"compared {compared} of {len(names)} tensors; worst max|a-b|/max|b| = {worst:.3e} ({worst_name or 'all equal'})")
    sys.exit(1 if problems or compared == 0 or worst > args.rtol else 0)


if __name__ == "__main__":
    main()
