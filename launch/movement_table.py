#!/usr/bin/env python3
"""The table of launch/study-movement.sh: per model, the RMS of its adapted weights (q_proj, v_proj over all
layers) and, per learning rate, each method's mean relative weight movement ‖W_after − W_before‖/‖W_before‖
(from the runs' summary.json) and the ratio SECURA-M1 / LoRA.

    python3 launch/movement_table.py OUT MODEL_FOLDER...     (runs under OUT/runs/<folder name>/<method>-lr<lr>)

Standard library only; reads F32 and BF16 safetensors (one file or sharded).
"""
import array
import json
import math
import os
import struct
import sys


def tensors(folder):
    """(name, dtype, bytes) of every tensor of the folder's safetensors files whose name is a q/v projection."""
    for entry in sorted(os.listdir(folder)):
        if not entry.endswith(".safetensors"):
            continue
        with open(os.path.join(folder, entry), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            base = 8 + n
            for name, info in header.items():
                if name == "__metadata__" or not (name.endswith("q_proj.weight") or name.endswith("v_proj.weight")):
                    continue
                begin, end = info["data_offsets"]
                f.seek(base + begin)
                yield name, info["dtype"], f.read(end - begin)


def rms_by_projection(folder):
    sums = {}
    for name, dtype, raw in tensors(folder):
        if dtype == "F32":
            values = array.array("f")
            values.frombytes(raw)
        elif dtype == "BF16":
            halves = array.array("H")
            halves.frombytes(raw)
            values = array.array("f")
            values.frombytes(b"".join(struct.pack("<I", h << 16) for h in halves))
        else:
            sys.exit(f"movement_table: {folder}: {name} is {dtype}, not F32 or BF16")
        key = "q_proj" if "q_proj" in name else "v_proj"
        s, c = sums.get(key, (0.0, 0))
        sums[key] = (s + math.fsum(v * v for v in values), c + len(values))
    if not sums:
        sys.exit(f"movement_table: no q_proj/v_proj weight in {folder}")
    return {k: math.sqrt(s / c) for k, (s, c) in sums.items()}


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: movement_table.py OUT MODEL_FOLDER...")
    out, models = sys.argv[1], sys.argv[2:]
    print("| model | RMS q / v | lr | method | movement q | movement v | mean | final loss | SECURA-M1 / LoRA |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in models:
        name = os.path.basename(model.rstrip("/"))
        rms = rms_by_projection(model)
        runs = os.path.join(out, "runs", name)
        if not os.path.isdir(runs):
            sys.exit(f"movement_table: no runs under {runs}")
        rows = {}
        for entry in sorted(os.listdir(runs)):
            path = os.path.join(runs, entry, "summary.json")
            if not os.path.isfile(path):
                continue
            method, lr = entry.rsplit("-lr", 1)
            with open(path) as f:
                summary = json.load(f)
            movement = summary.get("weight_movement")
            if movement is None:
                sys.exit(f"movement_table: {path} has no weight_movement")
            rows[(float(lr), method)] = (lr, movement, summary.get("final_loss"))
        for lr_value in sorted({k[0] for k in rows}):
            lora = rows.get((lr_value, "lora"))
            m1 = rows.get((lr_value, "secura-m1"))
            ratio = f"{m1[1]['mean'] / lora[1]['mean']:.2g}" if lora and m1 and lora[1]["mean"] > 0 else "–"
            for (lr, method), row in sorted(rows.items()):
                if lr != lr_value:
                    continue
                text, movement, loss = row
                by = movement["mean_by_projection"]
                cells = [name, f"{rms['q_proj']:.3f} / {rms['v_proj']:.3f}", text, method,
                         f"{by.get('q_proj', float('nan')):.2e}", f"{by.get('v_proj', float('nan')):.2e}",
                         f"{movement['mean']:.2e}", f"{loss:.3f}" if isinstance(loss, (int, float)) else "–",
                         ratio if method == "secura-m1" else ""]
                print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
