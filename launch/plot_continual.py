"""Plots of a continual experiment's results.json (written by `secura-dist experiment continual`):

    python3 launch/plot_continual.py DIR/results.json DIR

retention.png: the retention suite's mean score before training and after each task, one line per method (the
SECURA paper's Figure 4); matrices.png: each method's accuracy matrix a[i][j] as a heatmap (row: after task i,
column: scored on task j), with the numbers written in the cells.
"""
import json
import os
import sys

import plotting  # launch/plotting.py, beside this script


def main(path, folder):
    results = json.load(open(path), parse_constant=float)
    if not results:
        sys.exit(f"{path}: no methods")
    plt = plotting.pyplot("retention.png and matrices.png")
    if plt is None:
        return
    tasks = results[0]["tasks"]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for r in results:
        ax.plot(range(len(r["suiteMeans"])), r["suiteMeans"], marker="o", label=r["method"])
    ax.set_xticks(range(len(tasks) + 1))
    ax.set_xticklabels(["base"] + [f"{i + 1}. {t}" for i, t in enumerate(tasks)], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("retention suite mean (primary metrics)")
    ax.set_title("Retention over the task sequence")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "retention.png"), dpi=110)
    fig, axes = plt.subplots(1, len(results), figsize=(3.8 * len(results), 3.6), squeeze=False)
    for ax, r in zip(axes[0], results):
        a = r["accuracy"]
        ax.imshow(a, vmin=0, vmax=1, cmap="viridis")
        for i, row in enumerate(a):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.6 else "black")
        ax.set_xticks(range(len(tasks)))
        ax.set_xticklabels(tasks, rotation=30, ha="right", fontsize=7)
        ax.set_yticks(range(len(tasks)))
        ax.set_yticklabels([f"after {t}" for t in tasks], fontsize=7)
        m = r["metrics"]
        bwt = m.get("backwardTransfer")
        ax.set_title(f'{r["method"]}\navg {m["average"]:.2f}' + (f", BWT {bwt:+.2f}" if isinstance(bwt, (int, float)) else ""), fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "matrices.png"), dpi=110)
    print(f"wrote {folder}/retention.png and {folder}/matrices.png")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
