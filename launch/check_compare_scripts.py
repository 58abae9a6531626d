#!/usr/bin/env python3
"""Feeds launch/compare_states.py and launch/compare_bits.py deliberately broken state folders and checks
that each comparison fails (exit status non-zero) where it must: NaN, Inf, a shape/length difference, a
tensor on one side only (either side), no tensors at all, a filter that matches nothing, a truncated
file, master rows missing. Two equal folders must pass, so the checks are not simply always failing.

    python3 launch/check_compare_scripts.py      # prints one line per case; exits 1 if any case is wrong
Standard library only; run by launch/test-distributed.sh before it trusts the scripts.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
from array import array

here = os.path.dirname(os.path.abspath(__file__))


def write(path, tensors, metadata=None):
    """A safetensors file of F32 tensors: name -> list of floats (shape [len]) or (shape, list)."""
    header, data = {}, b""
    for name, t in sorted(tensors.items()):
        shape, values = t if isinstance(t, tuple) else ([len(t)], t)
        raw = array("f", values).tobytes()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + data)


def folder(root, name, tensors, masters=None):
    """root/name/state.safetensors (+ one masters file: name -> (first, end, total, rows of 2 values))."""
    path = os.path.join(root, name)
    write(os.path.join(path, "state.safetensors"), tensors)
    if masters:
        write(os.path.join(path, "masters-rank0000-of-0001.safetensors"),
              {n: ([m[1] - m[0], 2], m[3]) for n, m in masters.items()},
              {n: f"{m[0]},{m[1]},{m[2]}" for n, m in masters.items()})
    return path


def run(script, a, b, *extra):
    if script == "compare_states.py":
        a, b = os.path.join(a, "state.safetensors"), os.path.join(b, "state.safetensors")
    done = subprocess.run([sys.executable, os.path.join(here, script), a, b, *extra], capture_output=True, text=True)
    return done.returncode, (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]


def main():
    good = {"param/a": [1.0, 2.0, 3.0], "param/b": [0.5, -0.25]}
    master = {"master/w": (0, 2, 2, [1.0, 2.0, 3.0, 4.0])}
    with tempfile.TemporaryDirectory() as root:
        ref = folder(root, "ref", good, master)
        cases = [
            ("equal folders", True, folder(root, "same", good, master), ()),
            ("NaN in a tensor", False, folder(root, "nan", {**good, "param/a": [1.0, float("nan"), 3.0]}, master), ()),
            ("Inf in a tensor", False, folder(root, "inf", {**good, "param/b": [float("inf"), -0.25]}, master), ()),
            ("NaN in a master", False, folder(root, "nanm", good, {"master/w": (0, 2, 2, [1.0, float("nan"), 3.0, 4.0])}), ()),
            ("a longer tensor", False, folder(root, "long", {**good, "param/a": [1.0, 2.0, 3.0, 4.0]}, master), ()),
            ("a tensor missing", False, folder(root, "missing", {"param/a": good["param/a"]}, master), ()),
            ("an extra tensor", False, folder(root, "extra", {**good, "param/c": [1.0]}, master), ()),
            ("no tensors at all", False, folder(root, "empty", {}), ()),
            ("master rows missing", False, folder(root, "rows", good, {"master/w": (0, 1, 2, [1.0, 2.0])}), ()),
            ("a different value", False, folder(root, "diff", {**good, "param/b": [0.5, -0.3]}, master), ()),
        ]
        truncated = folder(root, "truncated", good, master)
        with open(os.path.join(truncated, "state.safetensors"), "r+b") as f:
            f.truncate(os.path.getsize(f.name) - 4)
        cases.append(("a truncated file", False, truncated, ()))
        failures = 0
        for script in ("compare_states.py", "compare_bits.py"):
            for label, should_pass, other, extra in cases:
                for a, b in ((other, ref), (ref, other)):
                    status, last = run(script, a, b, *extra)
                    right = (status == 0) == should_pass
                    failures += not right
                    verdict = "passes" if status == 0 else f"fails ({last[0][:100]})"
                    print(f"  {'ok  ' if right else 'FAIL'}  {script} {label} {'(A)' if a == other else '(B)'}: {verdict}")
        # Both sides alike but broken: NaN == NaN bytes, nothing on either side, a filter that selects nothing.
        nan, empty = os.path.join(root, "nan"), os.path.join(root, "empty")
        for script, label, a, b, extra in [
                ("compare_states.py", "the same NaN on both sides", nan, nan, ()),
                ("compare_bits.py", "the same NaN on both sides", nan, nan, ()),
                ("compare_states.py", "two folders without tensors", empty, empty, ()),
                ("compare_bits.py", "two folders without tensors", empty, empty, ()),
                ("compare_states.py", "a prefix that matches nothing", ref, ref, ("--prefix", "nothing/"))]:
            status, last = run(script, a, b, *extra)
            failures += status == 0
            print(f"  {'ok  ' if status else 'FAIL'}  {script} {label}: exit {status} ({last[0][:100]})")
    print(f"compare scripts: {'all cases right' if failures == 0 else f'{failures} cases wrong'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
