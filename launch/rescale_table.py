#!/usr/bin/env python3
"""The table of launch/study-rescale.sh: per scale S and method, the task score, the retention suite after, its mean,
the weight movement and the final training loss (from each OUT/scale-S/results.csv).

    python3 launch/rescale_table.py OUT S...
"""
import csv
import os
import sys

if len(sys.argv) < 3:
    sys.exit("usage: rescale_table.py OUT S...")
print("| S (W_q, W_v ×S; W_k, W_o ÷S) | method | task after (base 0/40) | GSM8K / MultiRC / MRPC / ROPES after | suite mean after (base 0.433) | weight movement | final train loss |")
print("|---|---|---|---|---|---|---|")
for s in sys.argv[2:]:
    f = os.path.join(sys.argv[1], f"scale-{s}", "results.csv")
    if not os.path.exists(f):
        sys.exit(f"rescale_table: no {f}")
    for r in csv.DictReader(open(f)):
        suite = " / ".join(f"{float(r[k+'_after']):.2f}" for k in ["gsm8k_test","multirc_test","mrpc_test","ropes_test"])
        print(f"| {s} | {r['method']} | {float(r['task_after']):.3f} | {suite} | {float(r['suite_mean_after']):.3f} | {float(r['weight_movement']):.1e} | {float(r['final_loss']):.2f} |")
