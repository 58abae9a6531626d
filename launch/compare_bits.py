#!/usr/bin/env python3
"""Byte-for-byte comparison of two secura-dist state folders (OUTPUT/adapter or a checkpoint step-N):
every tensor of state.safetensors, and SECURA-M1's merged masters reassembled from the masters-*.safetensors
row files (any rank count: rows sorted by their "first,end,total" metadata, coverage checked).

    python3 launch/compare_bits.py A_FOLDER B_FOLDER
Prints what it compared. Exits non-zero on any difference, on a tensor present on one side only, on
missing rows, on a NaN or Inf in an F32 tensor (equal NaN bytes are not agreement), on an unreadable
file, or when nothing was compared. Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from state_files import StateError, first_non_finite, floats, read_state  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        a, b = (read_state(os.path.join(folder, "state.safetensors")) for folder in sys.argv[1:3])
    except (OSError, StateError) as e:
        sys.exit(f"cannot compare: {e}")
    if not a or not b:
        sys.exit(f"nothing to compare: {len(a)} vs {len(b)} tensors")
    one_sided = sorted(set(a) ^ set(b))
    if one_sided:
        n = one_sided[0]
        sys.exit(f"{len(one_sided)} tensors on one side only, first {n} (only in {sys.argv[1] if n in a else sys.argv[2]})")
    for name in sorted(a):
        for folder, side in ((sys.argv[1], a), (sys.argv[2], b)):
            values = floats(side[name][0], side[name][2])
            i = first_non_finite(values) if values is not None else None
            if i is not None:
                sys.exit(f"{name}: {values[i]} at [{i}] in {folder}")
    bad = [k for k in sorted(a) if a[k] != b[k]]
    if bad:
        sys.exit(f"{len(bad)} of {len(a)} tensors differ, first {bad[0]}")
    masters = sum(1 for k in a if k.startswith("master/"))
    print(f"{len(a)} tensors ({masters} merged masters), {sum(len(v[2]) for v in a.values())} bytes, bit-identical")


if __name__ == "__main__":
    main()
