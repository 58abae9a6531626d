"""Plots of the fidelity study (launch/study-fidelity.sh): plot_fidelity.py RESULTS_CSV OUTPUT_FOLDER

Writes OUTPUT_FOLDER/frontier.png (mean retention of the suite against the task's gain, one line per method
family through its learning rates), OUTPUT_FOLDER/movement.png (mean weight movement
‖W_after − W_before‖/‖W_before‖ against the learning rate) and OUTPUT_FOLDER/study.md (the same numbers as
a table, means over seeds). A method family is the method spec without its lr.
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


def save(fig, ax, path, xlabel, ylabel, title):
    """Labels `ax`, adds its legend and writes `fig` to `path`."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(path, folder):
    rows = list(csv.DictReader(open(path)))
    if not rows:
        sys.exit(f"{path}: no runs")
    groups = defaultdict(lambda: defaultdict(list))   # family -> lr -> rows
    for r in rows:
        fam, lr = family_and_lr(r["method"], float(r["lr"]))
        groups[fam][lr].append(r)

    def mean(values):
        vals = [v for v in values if v is not None]
        return sum(vals) / len(vals) if vals else None

    table = ["| method | lr | task before | task after | gain | suite mean before | suite mean after | mean retained | weight movement | final train loss |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    fig2, ax2 = plt.subplots(figsize=(7.5, 5))
    for fam in sorted(groups):
        xs, ys, lrs, moves = [], [], [], []
        for lr in sorted(groups[fam]):
            rs = groups[fam][lr]
            before = mean(number(r["task_before"]) for r in rs)
            after = mean(number(r["task_after"]) for r in rs)
            gain = after - before if after is not None and before is not None else None
            retained = mean(number(r["mean_retained"]) for r in rs)
            move = mean(number(r.get("weight_movement")) for r in rs)
            loss = mean(number(r.get("final_loss")) for r in rs)
            f = lambda v, spec="%.3f": "" if v is None else spec % v
            table.append(f"| {fam} | {lr:g} | {f(before)} | {f(after)} | {f(gain, '%+.3f')} | "
                         f"{f(mean(number(r['suite_mean_before']) for r in rs))} | {f(mean(number(r['suite_mean_after']) for r in rs))} | "
                         f"{f(retained)} | {f(move, '%.2e')} | {f(loss)} |")
            if gain is not None and retained is not None:
                xs.append(gain)
                ys.append(retained)
                lrs.append(lr)
            if move is not None and move > 0:
                moves.append((lr, move))
        if xs:
            ax.plot(xs, ys, marker="o", label=fam)
            for x, y, lr in zip(xs, ys, lrs):
                ax.annotate(f"{lr:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if moves:
            ax2.plot([m[0] for m in moves], [m[1] for m in moves], marker="o", label=fam)
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.axvline(0.0, color="grey", lw=0.5)
    save(fig, ax, f"{folder}/frontier.png", "task gain (held-out primary metric, after − before)",
         "mean retention of the suite (after / before)", "Retention against task gain; points are learning rates")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    save(fig2, ax2, f"{folder}/movement.png", "learning rate", "mean ‖W_after − W_before‖ / ‖W_before‖ (adapted q/v)",
         "How far each method moves the weights")
    with open(f"{folder}/study.md", "w") as out:
        out.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
