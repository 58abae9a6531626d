"""Per-step gradient variation of every run of an experiment folder (the SECURA paper's Figure 2 reads the
gradient's variation between steps): fidelity_gradients.py EXPERIMENT_FOLDER > gradients.md

For each run's metrics.jsonl: the median and largest global gradient norm (after the all-reduce, before
clipping) and the mean |‖g_t‖ − ‖g_{t−1}‖| between consecutive steps.
"""
import glob
import json
import os
import statistics
import sys

folder = sys.argv[1]
print("| run | steps | median ‖g‖ | max ‖g‖ | mean step-to-step change of ‖g‖ |")
print("|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(folder, "*", "*", "metrics.jsonl"))):
    norms = []
    for line in open(path):
        record = json.loads(line)
        value = record.get("grad_norm")
        if isinstance(value, (int, float)):
            norms.append(float(value))
    if len(norms) < 2:
        continue
    changes = [abs(norms[i] - norms[i - 1]) for i in range(1, len(norms))]
    run = os.path.relpath(os.path.dirname(path), folder)
    print(f"| {run} | {len(norms)} | {statistics.median(norms):.3g} | {max(norms):.3g} | {statistics.mean(changes):.3g} |")
