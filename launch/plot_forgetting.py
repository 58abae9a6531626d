"""Grouped bars from a forgetting experiment's results.csv: for each fine-tuning task, each method's
task score after fine-tuning and its mean retention-suite score (means over seeds, with the runs' spread as
error bars when there are several), with the base model's as lines."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def mean_and_spread(values):
    """Mean and half the min–max spread of one method's runs (one per seed)."""
    xs = [v for v in values if v is not None]
    if not xs:
        return 0.0, 0.0
    return sum(xs) / len(xs), (max(xs) - min(xs)) / 2


def main(path, out):
    rows = list(csv.DictReader(open(path)))
    tasks = sorted({r["task"] for r in rows}, key=[r["task"] for r in rows].index)
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 4.2), squeeze=False)
    value = lambda r, k: float(r[k]) if r.get(k) else None
    for ax, task in zip(axes[0], tasks):
        sub = [r for r in rows if r["task"] == task]
        # One group per method and learning rate; several seeds give a mean with the runs' spread as error bars.
        keys = sorted({(r["method"], r["lr"]) for r in sub}, key=[(r["method"], r["lr"]) for r in sub].index)
        groups = [[r for r in sub if (r["method"], r["lr"]) == k] for k in keys]
        seeds = max(len(g) for g in groups)
        x = range(len(groups))
        task_bars = [mean_and_spread([value(r, "task_after") for r in g]) for g in groups]
        suite_bars = [mean_and_spread([value(r, "suite_mean_after") for r in g]) for g in groups]
        ax.bar([i - 0.2 for i in x], [m for m, _ in task_bars], 0.4, yerr=[e for _, e in task_bars] if seeds > 1 else None,
               label=f'task ({sub[0]["task_metric"]})')
        ax.bar([i + 0.2 for i in x], [m for m, _ in suite_bars], 0.4, yerr=[e for _, e in suite_bars] if seeds > 1 else None,
               label="retention suite mean")
        ax.axhline(mean_and_spread([value(r, "task_before") for r in sub])[0], color="C0", linestyle="--", linewidth=1, label="task, base model")
        ax.axhline(mean_and_spread([value(r, "suite_mean_before") for r in sub])[0], color="C1", linestyle="--", linewidth=1,
                   label="suite, base model")
        ax.set_xticks(list(x))
        ax.set_xticklabels([f"{m}\nlr {lr}" for m, lr in keys], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(task + (f" ({seeds} seeds)" if seeds > 1 else ""))
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
