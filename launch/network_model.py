#!/usr/bin/env python3
"""Latency-bandwidth model of the gradient all-reduce (issue 12, item 5).

Reads what launch/bench-network.sh wrote into a folder (allreduce-PROFILE-pP-aA.json from
`secura-dist bench --allreduce --json`, train-PROFILE.json training summaries) and writes, beside them:
  network.csv        every measured size: profile, hosts, algorithm, values, bytes, median/min/max seconds
  model.json         the fitted latency (alpha) and bandwidth per profile and algorithm
  extrapolation.csv  Llama-3-8B SECURA all-reduce time and its share of a step, 8 ... 1024 nodes
  network.md         the tables for results/scaling/README.md
  network.png        measured vs model, and the extrapolated shares (only if matplotlib is importable)

The model (fitted here, used for the extrapolation with a real link's latency): an all-reduce of n Doubles over p nodes costs  T = L(p)·alpha + W(p)·s,  s = 8n / B, where alpha
is the cost of one message (software + wire latency), B the link bandwidth, and L, W count the messages and
message-sized transfers on the algorithm's critical path, with one rank per node, full-duplex links, a
non-blocking switch, and concurrent sends from one node sharing its uplink equally:
  binomial (libnbc's choice below 4 ranks, and for any in-place all-reduce): a binomial-tree reduce
      (k = ceil(log2 p) rounds of a whole message) then a binomial broadcast in which a node posts all its
      sends at once (m children finish after m·s); L and W come from walking that tree;
  ring (libnbc algorithm 1): L = 2(p-1), W = 2(p-1)/p;
  reduce-scatter + allgather (Rabenseifner, libnbc algorithm 3): L = 2·log2 q, W = 2(q-1)/q for the power of
      two q <= p, plus 2 whole-message exchanges when p is not a power of two.
alpha and B are fitted per link profile and algorithm on each size's fastest iteration (the least disturbed
by other jobs on a shared machine): alpha from the small messages, B by least squares over the large ones.
"""
import csv
import glob
import json
import math
import os
import sys

import plotting  # launch/plotting.py, beside this script

GRADIENT_8B = 3_840_002          # q+v SECURA gradient of Llama-3-8B (32 layers) + loss sum + token count
NODES = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
NOMINAL = {"none": None, "1gbit": 1e9, "10gbit": 1e10}
# The extrapolation's per-message latency: typical MPI-over-TCP small-message latency of real Ethernet. Not the
# fitted alpha: on this shared 2-core machine small messages measure the scheduler (0.1-1.5 ms), and no link
# delay could be emulated (no netem in this kernel).
LINK_LATENCY = {"1gbit": 50e-6, "10gbit": 20e-6}
# TCP goodput of a real link; used instead of the fitted bandwidth when the emulation could not reach 80 % of
# the nominal rate (the machine's CPU, not the shaped link, was then the limit).
GOODPUT = 0.94
ALGORITHMS = {2: "binomial tree", 1: "ring", 3: "reduce-scatter+allgather", 0: "libnbc default"}


def binomial_costs(p):
    """(L, W) on the critical path of libnbc's binomial reduce + broadcast (root 0)."""
    k = math.ceil(math.log2(p)) if p > 1 else 0
    reduce_l, reduce_w = k, k
    # Broadcast: vrank v receives from v - 2^r (2^r <= v < 2^(r+1)) and sends to v + 2^r for every r with
    # v < 2^r and v + 2^r < p (the root to every 2^r < p), all of its sends posted together.
    arrive = {0: (0, 0.0)}
    for v in range(p):
        children = [v + (1 << r) for r in range(k) if (v == 0 or v < (1 << r)) and v + (1 << r) < p]
        lat, bw = arrive[v]
        for c in children:
            arrive[c] = (lat + 1, bw + len(children))
    last = max(arrive.values(), key=lambda t: (t[1], t[0]))
    return reduce_l + last[0], reduce_w + last[1]


def costs(algorithm, p):
    if p <= 1:
        return 0.0, 0.0
    if algorithm == 2 or (algorithm == 0 and p < 4):
        return binomial_costs(p)
    if algorithm == 0:   # secura-dist's large sums leave the in-place path from 4 ranks on (MPICommunicator)
        algorithm = 3
    if algorithm == 1:
        return 2 * (p - 1), 2 * (p - 1) / p
    q = 1 << int(math.floor(math.log2(p)))
    l, w = 2 * math.log2(q), 2 * (q - 1) / q
    if q != p:
        l, w = l + 2, w + 2
    return l, w


def fit(points, algorithm):
    """alpha from the small messages (n <= 1000: the median of t / L), then beta = 1/B by least squares of
    t - L·alpha = W·64n·beta over the large ones (n >= 100,000); returns (alpha, beta in s/bit)."""
    small = sorted(t / costs(algorithm, p)[0] for p, n, t in points if n <= 1000)
    if not small:
        sys.exit(f"algorithm {algorithm}: no message of at most 1000 values to fit the latency on")
    alpha = small[len(small) // 2]
    num = den = 0.0
    for p, n, t in points:
        if n >= 100_000:
            l, w = costs(algorithm, p)
            x = w * 64 * n
            num += x * (t - l * alpha)
            den += x * x
    if den == 0:
        sys.exit(f"algorithm {algorithm}: no message of at least 100,000 values to fit the bandwidth on")
    return alpha, num / den


def predict(algorithm, p, n, alpha, beta):
    l, w = costs(algorithm, p)
    return l * alpha + w * 64 * n * beta


def main(folder):
    rows, points = [], {}
    for path in sorted(glob.glob(os.path.join(folder, "allreduce-*.json"))):
        name = os.path.basename(path)[len("allreduce-"):-len(".json")]
        profile, p_part, a_part = name.rsplit("-", 2)
        p, a = int(p_part[1:]), int(a_part[1:])
        report = json.load(open(path))
        if report["ranks"] != p or report["nodes"] != p:
            sys.exit(f"{path}: {report['ranks']} ranks on {report['nodes']} hosts, expected {p} on {p}")
        for s in report["sizes"]:
            t = s["seconds_median"]
            if not (t > 0 and math.isfinite(t)):
                sys.exit(f"{path}: size {s['values']}: median {t} is not a positive time")
            rows.append(dict(profile=profile, hosts=p, algorithm=a, values=s["values"], bytes=s["bytes"],
                             seconds_median=t, seconds_min=s["seconds_min"], seconds_max=s["seconds_max"],
                             bus_gbit_per_second=s["bus_gbit_per_second"]))
            points.setdefault((profile, a), []).append((p, s["values"], s["seconds_min"]))
    if not rows:
        sys.exit(f"{folder}: no allreduce-*.json files")
    with open(os.path.join(folder, "network.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    models = {}
    for (profile, a), pts in sorted(points.items(), key=lambda kv: (list(NOMINAL).index(kv[0][0]) if kv[0][0] in NOMINAL else 9, list(ALGORITHMS).index(kv[0][1]) if kv[0][1] in ALGORITHMS else 9)):
        alpha, beta = fit(pts, a)
        errors = [abs(predict(a, p, n, alpha, beta) - t) / t for p, n, t in pts]
        big = [abs(predict(a, p, n, alpha, beta) - t) / t for p, n, t in pts if n >= 1_000_000]
        models[f"{profile}/a{a}"] = dict(profile=profile, algorithm=a, algorithm_name=ALGORITHMS.get(a, str(a)),
                                         alpha_seconds=alpha, bandwidth_gbit_per_second=1 / beta / 1e9,
                                         nominal_gbit_per_second=(NOMINAL.get(profile) or 0) / 1e9 or None,
                                         median_relative_error=sorted(errors)[len(errors) // 2],
                                         max_relative_error_large=max(big) if big else None,
                                         points=len(pts))

    trains = {}
    for path in sorted(glob.glob(os.path.join(folder, "train-*.json"))):
        trains[os.path.basename(path)[len("train-"):-len(".json")]] = json.load(open(path))

    # Step compute of Llama-3-8B SECURA-M1 per node (no overlap of the all-reduce with compute in our trainer):
    # measured on this 2-core node (results/scale: 141.9 s for 2 sequences, recompute), and the same work
    # on a node with 16x its sgemm rate (a dual-socket many-core server); weak scaling, 2 sequences per node.
    steps = {"this 2-core node (141.9 s)": 141.9, "a node 16x faster (8.9 s)": 141.9 / 16}
    ext = []
    for profile in ("1gbit", "10gbit"):
        for a in (2, 1, 3):
            m = models.get(f"{profile}/a{a}")
            if not m:
                continue
            alpha = LINK_LATENCY[profile]
            bandwidth, source = m["bandwidth_gbit_per_second"] * 1e9, "fitted"
            if bandwidth < 0.8 * NOMINAL[profile]:
                bandwidth, source = GOODPUT * NOMINAL[profile], "nominal (emulation CPU-bound)"
            m["extrapolation_bandwidth_gbit_per_second"], m["extrapolation_bandwidth_source"] = bandwidth / 1e9, source
            m["extrapolation_alpha_seconds"] = alpha
            for p in NODES:
                t = predict(a, p, GRADIENT_8B, alpha, 1 / bandwidth)
                row = dict(profile=profile, algorithm=a, algorithm_name=ALGORITHMS[a], nodes=p,
                           alpha_seconds=alpha, bandwidth_gbit_per_second=bandwidth / 1e9, bandwidth_source=source,
                           allreduce_seconds=t)
                for label, compute in steps.items():
                    row["share " + label] = t / (compute + t)
                ext.append(row)
    json.dump(models, open(os.path.join(folder, "model.json"), "w"), indent=2, sort_keys=True)
    with open(os.path.join(folder, "extrapolation.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ext[0]))
        w.writeheader()
        w.writerows(ext)

    md = ["### Measured all-reduce times (median of the iterations, slowest rank; one rank per host)", ""]
    sizes = sorted({r["values"] for r in rows})
    md.append("| links | hosts | algorithm | " + " | ".join(f"{v:,} values" for v in sizes) + " |")
    md.append("|---|---|---|" + "---|" * len(sizes))
    for (profile, p, a) in sorted({(r["profile"], r["hosts"], r["algorithm"]) for r in rows},
                                  key=lambda k: (list(NOMINAL).index(k[0]) if k[0] in NOMINAL else 9, list(ALGORITHMS).index(k[2]) if k[2] in ALGORITHMS else 9, k[1])):
        cells = {r["values"]: r["seconds_median"] for r in rows
                 if (r["profile"], r["hosts"], r["algorithm"]) == (profile, p, a)}
        md.append(f"| {profile} | {p} | {ALGORITHMS.get(a, a)} | "
                  + " | ".join(f"{cells[v] * 1e3:.3g} ms" if v in cells else "" for v in sizes) + " |")
    md += ["", "### Fitted model  T = L(p)·α + W(p)·8n/B", "",
           "| links | algorithm | α (fitted) | B (fitted) | nominal B | median error | worst error, n ≥ 1M |",
           "|---|---|---|---|---|---|---|"]
    for m in models.values():
        worst = m["max_relative_error_large"]
        worst = f"{100 * worst:.0f} %" if worst is not None else "—"
        nominal = f"{m['nominal_gbit_per_second']:g} Gbit/s" if m["nominal_gbit_per_second"] else "—"
        md.append(f"| {m['profile']} | {m['algorithm_name']} | {m['alpha_seconds'] * 1e6:.0f} µs | "
                  f"{m['bandwidth_gbit_per_second']:.2f} Gbit/s | "
                  f"{nominal} | {100 * m['median_relative_error']:.0f} % | {worst} |")
    if trains:
        md += ["", "### SmolLM2 SECURA-M1 training, 2 hosts × 1 rank (summary.json)", "",
               "| links | all-reduce values | s/step | all-reduce s/step | all-reduce share | merge share |",
               "|---|---|---|---|---|---|"]
        for profile, s in trains.items():
            md.append(f"| {profile} | {s['allreduce_values']:,} | {s['seconds_per_step']:.3f} | "
                      f"{s['allreduce_seconds_per_step']:.3f} | {100 * s['allreduce_share']:.1f} % | "
                      f"{100 * s['merge_share']:.1f} % |")
    md += ["", f"### Extrapolation: Llama-3-8B SECURA gradient ({GRADIENT_8B:,} Doubles, "
           f"{GRADIENT_8B * 8 / 1e6:.1f} MB), one rank per node", "",
           "α per message: " + ", ".join(f"{k} {v * 1e6:.0f} µs" for k, v in LINK_LATENCY.items())
           + " (assumed, real Ethernet); B: the fitted bandwidth, or the nominal rate × "
           f"{GOODPUT} where the emulation was CPU-bound.", "",
           "| links | algorithm | B used | nodes | all-reduce | share, " + " | share, ".join(steps) + " |",
           "|---|---|---|---|---|" + "---|" * len(steps)]
    for r in ext:
        if r["nodes"] in (8, 32, 128, 1024) or r["nodes"] == 2:
            md.append(f"| {r['profile']} | {r['algorithm_name']} | {r['bandwidth_gbit_per_second']:.2f} Gbit/s "
                      f"({r['bandwidth_source']}) | {r['nodes']} | {r['allreduce_seconds']:.3g} s | "
                      + " | ".join(f"{100 * r['share ' + k]:.1f} %" for k in steps) + " |")
    open(os.path.join(folder, "network.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))

    plt = plotting.pyplot("network.png")
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for (profile, a), pts in sorted(points.items()):
        if a != 2:
            continue
        m = models[f"{profile}/a{a}"]
        for p in sorted({q for q, _, _ in pts}):
            xs = sorted(n for q, n, _ in pts if q == p)
            ys = [t for n in xs for q, n2, t in pts if q == p and n2 == n]
            line = left.loglog([8 * n for n in xs], ys, "o", label=f"{profile}, {p} hosts")[0]
            grid = [10 ** (e / 4) for e in range(0, 4 * 9)]
            left.loglog([8 * n for n in grid], [predict(a, p, n, m["alpha_seconds"], 1e-9 / m["bandwidth_gbit_per_second"])
                                                for n in grid], "-", color=line.get_color(), lw=0.8)
    left.set_xlabel("bytes all-reduced"); left.set_ylabel("seconds")
    left.set_title("binomial all-reduce: measured (dots) and fitted model (lines)")
    left.legend(fontsize=7)
    for profile in ("1gbit", "10gbit"):
        for a in (2, 1, 3):
            rs = [r for r in ext if r["profile"] == profile and r["algorithm"] == a]
            if rs:
                key = "share " + list(steps)[1]
                right.semilogx([r["nodes"] for r in rs], [100 * r[key] for r in rs], "o-" if a == 2 else "s--",
                               label=f"{profile}, {ALGORITHMS[a]}", base=2)
    right.set_xlabel("nodes (one rank each)"); right.set_ylabel("all-reduce share of a step, %")
    right.set_title(f"Llama-3-8B SECURA all-reduce share, {list(steps)[1]}")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "network.png"), dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: network_model.py FOLDER")
    main(sys.argv[1])
