"""The headline table of one or more continual experiments: per method, the average score after the last task,
BWT, FWT, forgetting, the retention suite (base, after the last task, its lowest point, and the ratio after/base)
the mean relative weight movement ‖W_after − W_before‖_F/‖W_before‖_F of a task's run (averaged over the trained
matrices and the tasks; their count in brackets) and the training wall time (the tasks' runs, from each run's
summary.json; scoring not included).

    python3 launch/continual_table.py results/continual/lr1e-4 [results/continual/lr1e-5 ...]

Reads DIR/results.json (written by `experiment continual`) and DIR/METHOD-lrLR[-unfused]/K-TASK/summary.json.
Python standard library only.
"""
import glob
import json
import os
import sys


def slug(method):
    """For results.json written before it named each method's "folder": the folder name `experiment continual`
    gives a method spec (MethodSpec.slug in Sources/SecuraRun): the method, "-imsm" or "-imsm-MODE" for
    +imsm[:MODE], then each setting but lr as "key-value"."""
    name, _, settings = method.partition("@")
    base, _, imsm = name.partition("+")
    if imsm:
        _, _, mode = imsm.partition(":")
        base += "-imsm" + (f"-{mode}" if mode else "")
    pairs = [p.split("=", 1) for p in settings.split(",") if p]
    return "-".join([base] + [f"{k}-{v}" for k, v in pairs if k != "lr"])


def run_summaries(folder, result):
    """The summary.json of each of the method's task runs, or None when one is missing."""
    if "folder" in result:   # results.json written since the field was added names the folder
        candidates = [os.path.join(folder, result["folder"])]
    else:
        unfused = not result.get("fused", True)
        candidates = [c for c in glob.glob(os.path.join(folder, slug(result["method"]) + "-lr*"))
                      if os.path.isdir(c) and c.endswith("-unfused") == unfused]
    if len(candidates) != 1:
        return None
    summaries = []
    for k, task in enumerate(result["tasks"], start=1):
        path = os.path.join(candidates[0], f"{k}-{task}", "summary.json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            summaries.append(json.load(f))
    return summaries


def rows(folder):
    path = os.path.join(folder, "results.json")
    try:
        with open(path) as f:
            results = json.load(f)
    except (OSError, ValueError) as error:
        sys.exit(f"continual_table: {path}: {error}")
    for r in results:
        m, suite = r["metrics"], r["suiteMeans"]
        summaries = run_summaries(folder, r)
        seconds = sum(s["wall_seconds"] for s in summaries) if summaries else None
        moves = [s["weight_movement"] for s in summaries or [] if s.get("weight_movement")]
        movement = (f"{sum(w['mean'] for w in moves) / len(moves):.1e} ({len(moves[0]['per_matrix'])})"
                    if summaries and len(moves) == len(summaries) else "—")
        yield (f"| {r['method']} | {r['lr']:g} | {m['average']:.3f} | {m['backwardTransfer']:+.3f} | "
               f"{m['forwardTransfer']:+.3f} | {m['forgetting']:.3f} | {suite[0]:.3f} → {suite[-1]:.3f} | "
               f"{min(suite[1:]):.3f} | {suite[-1] / suite[0]:.2f} | {movement} | "
               + (f"{seconds:,.0f}" if seconds is not None else "—") + " |")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| method | lr | Avg (after last task) | BWT | FWT | forgetting | retention suite base → after last | "
          "suite's lowest after a task | retention (after/base) | weight movement per task (matrices) | training s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for folder in sys.argv[1:]:
        for line in rows(folder):
            print(line)


if __name__ == "__main__":
    main()
