#!/usr/bin/env python3
"""Compares two secura-dist state files (state.safetensors of OUTPUT/adapter or a checkpoint) tensor by
tensor with the standard library only: max|a - b| / max|b| per tensor must not exceed --rtol.
SECURA-M1's masters (per-rank masters-rank*.safetensors files beside state.safetensors, format state-2)
are reassembled from their row ranges and compared as whole master/<name> tensors.

    python3 launch/compare_states.py A/state.safetensors B/state.safetensors [--rtol 1e-5] [--prefix param/] [--suffix .cabr_A]
Prints the worst tensor and exits non-zero on a mismatch, a missing tensor or a shape difference.
"""
import argparse
import glob
import json
import os
import struct
import sys
from array import array


def read(path):
    out = read_file(path)[0]
    pieces = {}
    for masters in sorted(glob.glob(os.path.join(os.path.dirname(path), "masters-rank*.safetensors"))):
        tensors, metadata = read_file(masters)
        for name, (shape, values) in tensors.items():
            first, end, rows = (int(x) for x in metadata[name].split(","))
            pieces.setdefault(name, []).append((first, end, rows, shape[1], values))
    for name, parts in pieces.items():
        parts.sort(key=lambda p: p[0])
        rows, columns = parts[0][2], parts[0][3]
        if [p[0] for p in parts] != [0] + [p[1] for p in parts[:-1]] or parts[-1][1] != rows:
            sys.exit(f"{path}: rows of {name} are not covered exactly once by the master files")
        whole = array("f")
        for p in parts:
            whole.extend(p[4])
        out[name] = ([rows, columns], whole)
    return out


def read_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    metadata = header.pop("__metadata__", None) or {}
    out = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            continue
        a = array("f")
        a.frombytes(data[e["data_offsets"][0]:e["data_offsets"][1]])
        out[name] = (e["shape"], a)
    return out, metadata


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--prefix", default="", help="compare only tensors whose names start with this")
    p.add_argument("--suffix", default="", help="compare only tensors whose names end with this")
    args = p.parse_args()
    a, b = read(args.a), read(args.b)
    names = sorted(n for n in b if n.startswith(args.prefix) and n.endswith(args.suffix))
    worst, worst_name, failed = 0.0, "", False
    for n in names:
        if n not in a or a[n][0] != b[n][0]:
            print(f"{n}: missing or shape differs", file=sys.stderr)
            failed = True
            continue
        x, y = a[n][1], b[n][1]
        if len(y) == 0:
            print(f"{n}: empty", file=sys.stderr)
            failed = True
            continue
        if x == y:  # bit-identical and free of NaN (NaN != NaN); array equality runs in C, fast for big masters
            continue
        if any(v != v for v in x) or any(v != v for v in y):
            print(f"{n}: holds NaN", file=sys.stderr)
            failed = True
            continue
        if len(x) != len(y):
            print(f"{n}: {len(x)} vs {len(y)} values", file=sys.stderr)
            failed = True
            continue
        scale = max((abs(v) for v in y), default=0.0) or 1.0
        diff = max((abs(u - v) for u, v in zip(x, y)), default=0.0) / scale
        if diff > worst:
            worst, worst_name = diff, n
    if not names:
        print("no tensors to compare", file=sys.stderr)
        failed = True
    print(f"compared {len(names)} tensors; worst max|a-b|/max|b| = {worst:.3e} ({worst_name or 'all equal'})")
    sys.exit(1 if failed or worst > args.rtol else 0)


if __name__ == "__main__":
    main()
