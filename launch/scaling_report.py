#!/usr/bin/env python3
"""Tables and plots of launch/experiment-scaling.sh (issue 12, item 6).

Reads FOLDER/runs/{strong,weak}-HxR.json (each run's summary.json), FOLDER/runs/strong-HxR.identity (the
byte-for-byte comparison with the first configuration) and FOLDER/machine.txt; writes FOLDER/scaling.csv,
FOLDER/scaling.md and FOLDER/scaling.png (if matplotlib is importable). If FOLDER/network/network.md exists
(launch/bench-network.sh), scaling.md ends with it.

Efficiency is (tokens/s with p ranks) / (p × tokens/s of the first configuration) in both modes: in strong
scaling the tokens of a step are fixed, in weak scaling they grow with p.
"""
import csv
import glob
import json
import os
import re
import sys

import plotting  # launch/plotting.py, beside this script


def load_runs(folder):
    runs = []
    for path in glob.glob(os.path.join(folder, "runs", "*.json")):
        m = re.fullmatch(r"(strong|weak)-(\d+)x(\d+)\.json", os.path.basename(path))
        if not m:
            continue
        s = json.load(open(path))
        hosts, per_host = int(m.group(2)), int(m.group(3))
        if s["ranks"] != hosts * per_host or s["nodes"] != hosts:
            sys.exit(f"{path}: {s['ranks']} ranks on {s['nodes']} hosts, expected {hosts * per_host} on {hosts}")
        identity = None
        if m.group(1) == "strong":
            verdict = os.path.join(folder, "runs", f"strong-{hosts}x{per_host}.identity")
            if os.path.exists(verdict):
                text = open(verdict).read().strip()
                identity = ("bit-identical (" + text.split("(")[0].split(": ", 1)[1].strip() + ")") if text.startswith("identical:") \
                    else "DIFFERS: " + text[-200:]
        by_host = s.get("pss_peak_by_host_mib") or {}
        runs.append(dict(mode=m.group(1), hosts=hosts, ranks_per_host=per_host, ranks=s["ranks"],
                         global_batch=s["batch_size"], steps=s["steps_run"], seconds_per_step=s["seconds_per_step"],
                         tokens_per_second=s["tokens_per_second"], allreduce_share=s["allreduce_share"],
                         merge_share=s["merge_share"], allreduce_seconds_per_step=s.get("allreduce_seconds_per_step"),
                         merge_seconds_per_step=s.get("merge_seconds_per_step"), allreduce_values=s.get("allreduce_values"),
                         pss_peak_per_host_mib=max(by_host.values()) if by_host else None,
                         final_loss=s.get("final_loss"), identity_with_first=identity))
    if not runs:
        sys.exit(f"{folder}/runs: no strong-HxR.json or weak-HxR.json summaries")
    runs.sort(key=lambda r: (r["mode"] != "strong", r["ranks"], r["hosts"]))
    for mode in ("strong", "weak"):
        rows = [r for r in runs if r["mode"] == mode]
        if not rows:
            continue
        base = min(rows, key=lambda r: (r["ranks"], r["hosts"]))
        for r in rows:
            r["speedup"] = r["tokens_per_second"] / base["tokens_per_second"]
            r["efficiency"] = r["speedup"] / (r["ranks"] / base["ranks"])
    return runs


def main(folder):
    runs = load_runs(folder)
    fields = list(runs[0])
    with open(os.path.join(folder, "scaling.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(runs)
    machine = open(os.path.join(folder, "machine.txt")).read().strip() if os.path.exists(os.path.join(folder, "machine.txt")) else ""
    md = ["### Runs (SmolLM2 SECURA-M1; each row from the run's summary.json)", "", "```", machine, "```", "",
          "| mode | hosts × ranks | global batch | s/step | tokens/s | speedup | efficiency | all-reduce | merges "
          "| all-reduce s/step | PSS peak per host | final state vs first config |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        md.append(f"| {r['mode']} | {r['hosts']} × {r['ranks_per_host']} | {r['global_batch']} | {r['seconds_per_step']:.2f} | "
                  f"{r['tokens_per_second']:.0f} | {r['speedup']:.2f} | {100 * r['efficiency']:.0f} % | "
                  f"{100 * r['allreduce_share']:.1f} % | {100 * r['merge_share']:.1f} % | "
                  f"{r['allreduce_seconds_per_step']:.3f} | "
                  f"{(str(round(r['pss_peak_per_host_mib'])) + ' MiB') if r['pss_peak_per_host_mib'] else '—'} | "
                  f"{r['identity_with_first'] or ('reference' if r['mode'] == 'strong' else '—')} |")
    network = os.path.join(folder, "network", "network.md")
    if os.path.exists(network):
        md += ["", "## The all-reduce over emulated links (launch/bench-network.sh)", "", open(network).read()]
    open(os.path.join(folder, "scaling.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md[:len(runs) + 8]))

    plt = plotting.pyplot("scaling.png")
    if plt is None:
        return
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for mode, marker in (("strong", "o-"), ("weak", "s--")):
        rows = [r for r in runs if r["mode"] == mode]
        if not rows:
            continue
        xs = [r["ranks"] for r in rows]
        labels = [f"{r['hosts']}×{r['ranks_per_host']}" for r in rows]
        axes[0][0].plot(xs, [r["seconds_per_step"] for r in rows], marker, label=mode)
        axes[0][1].plot(xs, [r["tokens_per_second"] for r in rows], marker, label=mode)
        axes[0][1].plot(xs, [rows[0]["tokens_per_second"] * x / rows[0]["ranks"] for x in xs], ":", color="grey")
        axes[1][0].plot(xs, [100 * r["efficiency"] for r in rows], marker, label=mode)
        for x, label, r in zip(xs, labels, rows):
            axes[0][0].annotate(label, (x, r["seconds_per_step"]), fontsize=7)
    bars = [r for r in runs]
    names = [f"{r['mode'][0]} {r['hosts']}×{r['ranks_per_host']}" for r in bars]
    ar = [100 * r["allreduce_share"] for r in bars]
    mg = [100 * r["merge_share"] for r in bars]
    axes[1][1].bar(names, ar, label="all-reduce")
    axes[1][1].bar(names, mg, bottom=ar, label="merges")
    axes[1][1].set_ylabel("% of step time"); axes[1][1].legend(fontsize=8); axes[1][1].tick_params(axis="x", labelsize=7, rotation=45)
    axes[0][0].set_ylabel("s/step"); axes[0][1].set_ylabel("tokens/s (grey: ideal)"); axes[1][0].set_ylabel("efficiency %")
    for ax in (axes[0][0], axes[0][1], axes[1][0]):
        ax.set_xlabel("ranks"); ax.legend(fontsize=8)
    fig.suptitle("SmolLM2 SECURA-M1 over namespace hosts on one 2-core machine (times beyond 2 ranks are time-sharing)", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "scaling.png"), dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: scaling_report.py FOLDER")
    main(sys.argv[1])
