"""Grouped bars from a forgetting experiment's results.csv: for each fine-tuning task, each method's
task score after fine-tuning and its mean retention-suite score, with the base model's as lines."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(path, out):
    rows = list(csv.DictReader(open(path)))
    tasks = sorted({r["task"] for r in rows}, key=[r["task"] for r in rows].index)
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 4.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        sub = [r for r in rows if r["task"] == task]
        methods = [f'{r["method"]}\nlr {r["lr"]}' for r in sub]
        x = range(len(sub))
        value = lambda r, k: float(r[k]) if r[k] else 0.0
        ax.bar([i - 0.2 for i in x], [value(r, "task_after") for r in sub], 0.4, label=f'task ({sub[0]["task_metric"]})')
        ax.bar([i + 0.2 for i in x], [value(r, "suite_mean_after") for r in sub], 0.4, label="retention suite mean")
        ax.axhline(value(sub[0], "task_before"), color="C0", linestyle="--", linewidth=1, label="task, base model")
        ax.axhline(value(sub[0], "suite_mean_before"), color="C1", linestyle="--", linewidth=1, label="suite, base model")
        ax.set_xticks(list(x))
        ax.set_xticklabels(methods, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(task)
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
