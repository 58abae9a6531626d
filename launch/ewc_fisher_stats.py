"""The distribution of an EWC Fisher estimate, and the λ at which the penalty's pull matches the loss's.

    bash launch/plot-python.sh launch/ewc_fisher_stats.py RUN/ewc.safetensors [MOVE]

RUN/ewc.safetensors is what a task's run with `ewc-lambda` leaves for the next task (the summed Fisher
diagonal and the anchor). For a value i, the penalty's gradient is λ·F_i·Δθ_i; a single example's loss
gradient has root mean square √F_i (F is the mean of its squares). The two are equal when
λ = 1 / (√F_i · Δθ_i); printed per percentile of F for a movement Δθ = MOVE (default 1e-3, about what
AdamW at lr 1e-4 moves a value in 10–25 steps), together with the penalty's value (λ/2)·ΣF·MOVE² if
every value moved by MOVE. (numpy comes with the plotting venv's matplotlib.)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from state_files import StateError, read_file  # noqa: E402  (the launch scripts' checked safetensors reader)


def fisher(path):
    try:
        tensors, _ = read_file(path)
    except (OSError, StateError) as error:
        sys.exit(f"ewc_fisher_stats: {error}")
    entry = tensors.get("fisher")
    if entry is None or entry[0] != "F32":
        sys.exit(f"{path}: no F32 tensor 'fisher' (not an ewc.safetensors written by secura-dist)")
    values = np.frombuffer(entry[2], dtype=np.float32)
    if not np.all(np.isfinite(values)):
        sys.exit(f"{path}: 'fisher' holds NaN or infinite values")
    return values


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    values = fisher(sys.argv[1])
    move = float(sys.argv[2]) if len(sys.argv) == 3 else 1e-3
    total = values.sum(dtype=np.float64)
    print(f"{values.size:,} values; sum {total:.4g}, mean {total / values.size:.4g}; Δθ = {move:g}")
    print("| percentile of F | F | λ with penalty gradient = loss gradient | penalty at that λ if all move Δθ |")
    print("|---|---|---|---|")
    for q in (50, 90, 99, 99.9, 100):
        f = float(np.percentile(values, q))
        lam = 1 / (np.sqrt(f) * move) if f > 0 else float("inf")
        print(f"| {q} | {f:.3g} | {lam:.3g} | {lam / 2 * total * move * move:.3g} |")


if __name__ == "__main__":
    main()
