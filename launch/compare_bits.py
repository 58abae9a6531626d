#!/usr/bin/env python3
"""Byte-for-byte comparison of two secura-dist state folders (OUTPUT/adapter or a checkpoint step-N):
every tensor of state.safetensors, and SECURA-M1's merged masters reassembled from the masters-*.safetensors
row files (any rank count: rows sorted by their "first,end,total" metadata, coverage checked).

    python3 launch/compare_bits.py A_FOLDER B_FOLDER
Prints what it compared; exits non-zero on any difference, on missing tensors or rows, or when nothing
was compared. Standard library only.
"""
import glob
import json
import os
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    return meta, {k: (e["dtype"], e["shape"], data[e["data_offsets"][0]:e["data_offsets"][1]]) for k, e in header.items()}


def load(folder):
    _, tensors = read(os.path.join(folder, "state.safetensors"))
    pieces = {}
    for path in sorted(glob.glob(os.path.join(folder, "masters-*.safetensors"))):
        meta, found = read(path)
        for name, (dtype, shape, raw) in found.items():
            first, end, total = (int(v) for v in meta[name].split(","))
            pieces.setdefault(name, []).append((first, end, total, dtype, shape, raw))
    for name, parts in pieces.items():
        parts.sort()
        row = 0
        for first, end, total, *_ in parts:
            if first != row:
                sys.exit(f"{folder}: {name}: rows {row}..{first} missing or overlapping")
            row = end
        if row != parts[0][2]:
            sys.exit(f"{folder}: {name}: rows end at {row} of {parts[0][2]}")
        tensors[name] = (parts[0][3], [parts[0][2]] + parts[0][4][1:], b"".join(p[5] for p in parts))
    return tensors


a, b = load(sys.argv[1]), load(sys.argv[2])
if not a or set(a) != set(b):
    sys.exit(f"tensor names differ or none: {len(a)} vs {len(b)}")
bad = [k for k in sorted(a) if a[k] != b[k]]
masters = sum(1 for k in a if k.startswith("master/"))
if bad:
    sys.exit(f"{len(bad)} of {len(a)} tensors differ, first {bad[0]}")
print(f"{len(a)} tensors ({masters} merged masters), {sum(len(v[2]) for v in a.values())} bytes, bit-identical")
