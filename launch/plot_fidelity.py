"""Plots of the fidelity study (launch/study-fidelity.sh): plot_fidelity.py RESULTS_CSV OUTPUT_FOLDER

Writes OUTPUT_FOLDER/frontier.png (one panel per task: the retention suite's mean score after training
against the task's gain, one line per method family through its learning rates, means over seeds with bars
from the lowest to the highest seed, the base model's suite mean dashed), OUTPUT_FOLDER/movement.png (mean
weight movement ‖W_after − W_before‖/‖W_before‖ against the learning rate, first task) and
OUTPUT_FOLDER/study.md (the same numbers as a table, per task, means over seeds). A method family is the
method spec without its lr. The absolute suite mean is plotted rather than the mean of per-task ratios, which
a task with a small base score (ROPES 0.10) dominates.
"""
import csv
import math
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

AUTHORS = "smagnorm=output,merge-precision=bf16,delta-bias=true"


def family_and_lr(method, default_lr):
    base, _, settings = method.partition("@")
    parts = [p for p in settings.split(",") if p]
    lr = default_lr
    rest = []
    for p in parts:
        if p.startswith("lr="):
            lr = float(p[3:])
        else:
            rest.append(p)
    label = base + ("@" + ",".join(rest) if rest else "")
    label = label.replace(AUTHORS, "authors' configuration")
    return label, lr


def number(x):
    try:
        v = float(x)
        return v if math.isfinite(v) else None
    except (TypeError, ValueError):
        return None


def label(ax, xlabel, ylabel, title):
    """Labels `ax` and adds its legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def mean(values):
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def main(path, folder):
    rows = list(csv.DictReader(open(path)))
    if not rows:
        sys.exit(f"{path}: no runs")
    tasks = sorted({r.get("task", "task") for r in rows})
    groups = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))   # task -> family -> lr -> rows
    for r in rows:
        fam, lr = family_and_lr(r["method"], float(r["lr"]))
        groups[r.get("task", "task")][fam][lr].append(r)

    table = ["| task | method | lr | seeds | task before | task after | gain | suite mean before | suite mean after "
             "[lowest, highest seed] | mean retained | weight movement | final train loss |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(7.5 * len(tasks), 5.5), squeeze=False)
    fig2, ax2 = plt.subplots(figsize=(7.5, 5))
    families = sorted({fam for t in tasks for fam in groups[t]})
    colours = {fam: plt.cm.tab10(i % 10) for i, fam in enumerate(families)}
    for ax, task in zip(axes[0], tasks):
        bases = []
        for fam in sorted(groups[task]):
            xs, ys, lows, highs, lrs, moves = [], [], [], [], [], []
            for lr in sorted(groups[task][fam]):
                rs = groups[task][fam][lr]
                before = mean(number(r["task_before"]) for r in rs)
                after = mean(number(r["task_after"]) for r in rs)
                gain = after - before if after is not None and before is not None else None
                suites = [number(r["suite_mean_after"]) for r in rs]
                suites = [v for v in suites if v is not None]
                suite = mean(suites)
                base = mean(number(r["suite_mean_before"]) for r in rs)
                if base is not None:
                    bases.append(base)
                retained = mean(number(r["mean_retained"]) for r in rs)
                move = mean(number(r.get("weight_movement")) for r in rs)
                loss = mean(number(r.get("final_loss")) for r in rs)
                f = lambda v, spec="%.3f": "" if v is None else spec % v
                spread = f" [{min(suites):.3f}, {max(suites):.3f}]" if len(suites) > 1 else ""
                table.append(f"| {task} | {fam} | {lr:g} | {len(rs)} | {f(before)} | {f(after)} | {f(gain, '%+.3f')} | "
                             f"{f(base)} | {f(suite)}{spread} | {f(retained)} | {f(move, '%.2e')} | {f(loss)} |")
                if gain is not None and suite is not None:
                    xs.append(gain)
                    ys.append(suite)
                    lows.append(suite - min(suites))
                    highs.append(max(suites) - suite)
                    lrs.append(lr)
                if move is not None and move > 0:
                    moves.append((lr, move))
            if xs:
                ax.errorbar(xs, ys, yerr=[lows, highs], marker="o", capsize=3, color=colours[fam], label=fam)
                for x, y, lr in zip(xs, ys, lrs):
                    ax.annotate(f"{lr:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
            if moves and task == tasks[0]:
                ax2.plot([m[0] for m in moves], [m[1] for m in moves], marker="o", color=colours[fam], label=fam)
        if bases:
            ax.axhline(mean(bases), color="grey", lw=0.8, ls="--", label="base model's suite mean")
        ax.axvline(0.0, color="grey", lw=0.5)
        label(ax, "task gain (held-out primary metric, after − before)",
              "suite mean after (bars: lowest and highest seed)", f"{task}: retention against task gain; points are lrs")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    save(fig, f"{folder}/frontier.png")
    label(ax2, "learning rate", "mean ‖W_after − W_before‖ / ‖W_before‖ (adapted q/v)",
          f"How far each method moves the weights ({tasks[0]})")
    save(fig2, f"{folder}/movement.png")
    with open(f"{folder}/study.md", "w") as out:
        out.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
