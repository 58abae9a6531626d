#!/usr/bin/env python3
"""A function-preserving rescaling of a Hugging Face decoder's attention weights (issue 15's direct test of the
step-size hypothesis): in every layer W_q and W_v are multiplied by S and W_k and W_o divided by S (their biases
alike). Attention scores q·k (RoPE is linear) and the output o_proj(softmax(·)·v) are unchanged, so the model
computes the same function, while the adapted matrices q_proj and v_proj have S times the scale. With S a power
of two and fp32 weights the scaling is exact, so the rescaled model scores the same up to the rounding of the
products it computes.

    python3 launch/rescale_attention.py IN_FOLDER OUT_FOLDER S

Standard library only. Reads fp32 safetensors (one file or sharded with model.safetensors.index.json); every
other file of the folder is copied as it is. Refuses a tensor of another dtype among those it must scale.
"""
import array
import json
import os
import shutil
import struct
import sys

SCALED = {"q_proj": 1, "v_proj": 1, "k_proj": -1, "o_proj": -1}


def factor(name, s):
    """S, 1/S or None (left alone) for a tensor name."""
    parts = name.split(".")
    if len(parts) >= 2 and parts[-1] in ("weight", "bias") and parts[-2] in SCALED:
        return s if SCALED[parts[-2]] > 0 else 1.0 / s
    return None


def rescale_file(src, dst, s):
    with open(src, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit(f"rescale_attention: {src}: shorter than a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        sys.exit(f"rescale_attention: {src}: header length {n} runs past the file's {len(raw)} bytes")
    header = json.loads(raw[8:8 + n])
    data = bytearray(raw[8 + n:])
    count = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        k = factor(name, s)
        if k is None:
            continue
        if info["dtype"] != "F32":
            sys.exit(f"rescale_attention: {src}: tensor {name} is {info['dtype']}, not F32 (export with --dtype fp32)")
        begin, end = info["data_offsets"]
        values = array.array("f")
        values.frombytes(bytes(data[begin:end]))
        if sys.byteorder != "little":
            values.byteswap()
        scaled = array.array("f", (v * k for v in values))
        if sys.byteorder != "little":
            scaled.byteswap()
        data[begin:end] = scaled.tobytes()
        count += 1
    with open(dst, "wb") as f:
        f.write(raw[:8 + n])
        f.write(data)
    return count


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: rescale_attention.py IN_FOLDER OUT_FOLDER S")
    src, dst, s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if not (s > 0) or s != s or s == float("inf"):
        sys.exit(f"rescale_attention: S must be a positive finite number, not {sys.argv[3]}")
    if not os.path.isdir(src):
        sys.exit(f"rescale_attention: {src} is not a folder")
    if os.path.abspath(src) == os.path.abspath(dst):
        sys.exit("rescale_attention: the output folder must differ from the input folder")
    os.makedirs(dst, exist_ok=True)
    scaled = 0
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if not os.path.isfile(path):
            continue
        if entry.endswith(".safetensors"):
            scaled += rescale_file(path, os.path.join(dst, entry), s)
        else:
            shutil.copyfile(path, os.path.join(dst, entry))
    if scaled == 0:
        sys.exit(f"rescale_attention: no q/k/v/o_proj tensor found in {src}")
    print(f"rescale_attention: {scaled} tensors scaled (q, v by {s:g}; k, o by {1 / s:g}) into {dst}")


if __name__ == "__main__":
    main()
