#!/usr/bin/env python3
"""Helper of launch/bench-compare.sh (see its --help). Three subcommands:

  data   OUT.jsonl --records N --tokens T   training records ({"input","output"}) long enough that every
                                            one is cut at --max-length T, so each sequence is exactly T tokens
  torch  --model-dir D --gguf F ...         PyTorch + PEFT training-step throughput (LoRA or DoRA), one JSON
                                            object on stdout; runs in the reference venv
  report --manifest M --settings S --out D  gathers the results into D/raw.json and prints the markdown table
                                            (also D/table.md)

`data` and `report` need only the standard library; `torch` needs torch, transformers, peft, gguf, numpy.
"""
import argparse
import json
import os
import random
import sys
import time

WORDS = ("the a of and to in is was for on that with as by at from it this be are or an which his her they "
         "one two three time year people way day man thing woman life child world school state family student "
         "group country problem hand part place case week company system program question work government "
         "number night point home water room mother area money story fact month lot right study book eye job "
         "word business issue side kind head house service friend father power hour game line end member law "
         "car city community name president team minute idea kid body information back parent face others level "
         "office door health person art war history party result change morning reason research girl guy moment "
         "air teacher force education").split()


def cmd_data(a):
    rng = random.Random(a.seed)
    with open(a.out, "w") as f:
        for i in range(a.records):
            # Short prompt, long answer: the loss covers (almost) every position, as in the PyTorch run.
            text = " ".join(rng.choice(WORDS) for _ in range(2 * a.tokens + 16))
            f.write(json.dumps({"input": f"Record {i}:", "output": text}) + "\n")


def cmd_torch(a):
    threads = a.threads
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch
    import transformers
    import peft
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model

    torch.set_num_threads(threads)
    torch.manual_seed(a.seed)
    t0 = time.perf_counter()
    # transformers dequantises the GGUF's blocks to fp32, as secura-dist does (`dtype` from transformers 5 on).
    dtype_key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    model = AutoModelForCausalLM.from_pretrained(a.model_dir, gguf_file=a.gguf, **{dtype_key: torch.float32})
    load_seconds = time.perf_counter() - t0

    # Same parameter shapes as secura-dist reads from the GGUF (`secura-dist inspect --json`).
    shape_check = "not checked"
    if a.expect_shapes:
        expected = {t["name"]: list(t["shape"]) for t in json.load(open(a.expect_shapes))["tensors"]}
        mine = {k: list(v.shape) for k, v in model.state_dict().items() if k != "lm_head.weight"}
        missing = sorted(set(expected) - set(mine))
        extra = sorted(set(mine) - set(expected))
        differ = sorted(k for k in set(expected) & set(mine) if expected[k] != mine[k])
        if missing or extra or differ:
            sys.exit(f"bench_compare.py: transformers' model differs from secura-dist's: missing {missing[:5]}, "
                     f"extra {extra[:5]}, other shapes {differ[:5]}")
        shape_check = f"{len(expected)} tensors, same shapes"

    config = LoraConfig(r=a.rank, lora_alpha=a.alpha, lora_dropout=a.dropout, target_modules=a.targets.split(","),
                        use_dora=(a.method == "dora"), bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    model.train()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if a.expect_trainable is not None and trainable != a.expect_trainable:
        sys.exit(f"bench_compare.py: PEFT {a.method} has {trainable} trainable values, secura-dist {a.expect_trainable}")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01)

    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(a.seed)
    times = []
    losses = []
    for i in range(a.warmup + a.steps):
        ids = torch.randint(0, vocab, (a.batch, a.tokens), generator=gen)
        start = time.perf_counter()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - start
        losses.append(out.loss.detach().item())
        if i >= a.warmup:
            times.append(seconds)
    total = sum(times)
    print(json.dumps({
        "system": "pytorch+peft", "method": a.method, "threads": threads, "batch": a.batch, "tokens": a.tokens,
        "warmup_steps": a.warmup, "steps": a.steps, "step_seconds": times, "losses": losses,
        "tokens_per_second": a.batch * a.tokens * len(times) / total,
        "trainable": trainable, "load_seconds": load_seconds, "shape_check": shape_check,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "torch_threads": torch.get_num_threads(), "torch_config": torch.__config__.parallel_info(),
    }))


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def train_numbers(folder, warmup):
    """tokens/s of a `secura-dist train` run over its steps after `warmup` (OUTPUT/metrics.jsonl)."""
    steps = [json.loads(l) for l in open(os.path.join(folder, "metrics.jsonl")) if l.strip()]
    steps = [r for r in steps if "seconds" in r]
    timed = [r for r in steps if r["step"] > warmup]
    seconds = sum(r["seconds"] for r in timed)
    tokens = sum(r["processed_tokens"] for r in timed)
    return {"step_seconds": [r["seconds"] for r in timed],
            "tokens_per_step": sorted({r["processed_tokens"] for r in timed}),
            "merge_seconds": [r["merge_seconds"] for r in timed],
            "allreduce_seconds": [r["allreduce_seconds"] for r in timed],
            "tokens_per_second": tokens / seconds if seconds > 0 else None,
            "summary": json.load(open(os.path.join(folder, "summary.json")))}


def last_json(path):
    """The last line of a file that parses as a JSON object (the tools print one; mpirun may add noise)."""
    found = None
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                found = json.loads(line)
            except ValueError:
                pass
    if found is None:
        sys.exit(f"bench_compare.py: no JSON object in {path}")
    return found


def cmd_report(a):
    settings = json.load(open(a.settings))
    raw = {"settings": settings["settings"], "machine": settings["machine"],
           "limits": [], "secura": [], "frozen": [], "torch": [], "skipped": []}
    for line in open(a.manifest):
        kind, method, layout, path, extra = (line.rstrip("\n").split("\t") + [""])[:5]
        if kind == "limit":
            raw["limits"].append({"method": method, "layout": layout, "report": last_json(path)})
        elif kind == "train":
            raw["secura"].append({"method": method, "layout": layout, **train_numbers(path, settings["settings"]["warmup"])})
        elif kind == "frozen":
            r = last_json(path)
            # `bench` is not collective: each rank times its own passes and rank 0 prints; the node's rate is
            # rank 0's times the ranks (the ranks run at once, as in training).
            raw["frozen"].append({"layout": layout, "ranks": int(extra), "result": r,
                                  "tokens_per_second": r["tokens_per_second"] * int(extra)})
        elif kind == "torch":
            raw["torch"].append({"method": method, "layout": layout, "limit_layout": extra, "result": last_json(path)})
        elif kind == "skipped":
            raw["skipped"].append({"system": method, "layout": layout, "reason": path})
    with open(os.path.join(a.out, "raw.json"), "w") as f:
        json.dump(raw, f, indent=1)

    s = raw["settings"]
    # The machine's sgemm rate in a layout is the best of the layout's `bench --limit` runs (one per method):
    # a disturbed run only ever measures a lower rate, and each method's limit is its FLOPs at that rate.
    best_rate = {}
    for l in raw["limits"]:
        best_rate[l["layout"]] = max(best_rate.get(l["layout"], 0), l["report"]["sgemm_gflops_total"])
    limits = {(l["method"], l["layout"]): l["report"]["sequences"] * l["report"]["tokens"]
              / (l["report"]["flops_total"] / (best_rate[l["layout"]] * 1e9)) for l in raw["limits"]}
    rows = []   # (system, layout, tokens/s, limit tokens/s)
    for r in raw["secura"]:
        rows.append((f"secura-dist {r['method']}", r["layout"], r["tokens_per_second"], limits.get((r["method"], r["layout"]))))
    for r in raw["frozen"]:
        rows.append(("secura-dist frozen model, no adapter (`bench --gradients inputs`)", r["layout"], r["tokens_per_second"], None))
    torch_lora = None
    for r in raw["torch"]:
        tps = r["result"]["tokens_per_second"]
        if r["method"] == "lora":
            torch_lora = tps
        rows.append((f"PyTorch {r['result']['versions']['torch'].split('+')[0]} + PEFT {r['result']['versions']['peft']} "
                     f"{r['method']}", r["layout"], tps, limits.get((r["method"], r["limit_layout"]))))
    for sk in raw["skipped"]:
        rows.append((f"{sk['system']} (skipped: {sk['reason']})", sk["layout"], None, None))
    m = raw["machine"]
    lines = [f"{os.path.basename(s['model'])} (dequantised to fp32 on both sides), T = {s['seq_len']}, "
             f"{s['batch']} sequence(s) per optimizer step, {s['steps']} timed steps after {s['warmup']} warm-up, "
             f"adapters on {s['targets']} (LoRA/DoRA r {s['rank']}); {m['cores']} cores, {m['cpu']}, "
             f"OPENBLAS_CORETYPE={m['openblas_coretype']}; {m['date']}.", "",
             "| system | layout | tokens/s | % of limit | ratio to PyTorch LoRA |", "|---|---|---|---|---|"]
    for system, layout, tps, limit in rows:
        pct = 100 * tps / limit if tps is not None and limit else None
        ratio = tps / torch_lora if tps is not None and torch_lora else None
        lines.append(f"| {system} | {layout} | {fmt(tps, '.1f')} | {fmt(pct, '.0f')} | {fmt(ratio, '.2f')} |")
    lines += ["", "Limit: the step's FLOPs for the method (`secura-dist bench --limit --method M`) divided by the best sgemm "
              "rate measured at the model's shapes in the same layout (over the layout's `bench --limit` runs), in this "
              "run; PyTorch rows use secura-dist's limit of the same method on 1 rank × 2 threads. A dash: not "
              "measured or not applicable."]
    want = s["batch"] * s["seq_len"]
    bad = [f"{r['method']} {r['layout']}: {r['tokens_per_step']}" for r in raw["secura"] if r["tokens_per_step"] != [want]]
    if bad:
        lines += ["", f"**Warning**: secura-dist steps did not all process {want} tokens: " + "; ".join(bad)]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data")
    d.add_argument("out")
    d.add_argument("--records", type=int, required=True)
    d.add_argument("--tokens", type=int, required=True)
    d.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("torch")
    t.add_argument("--model-dir", required=True)
    t.add_argument("--gguf", required=True)
    t.add_argument("--method", choices=["lora", "dora"], default="lora")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--batch", type=int, default=1)
    t.add_argument("--tokens", type=int, default=256)
    t.add_argument("--steps", type=int, default=8)
    t.add_argument("--warmup", type=int, default=2)
    t.add_argument("--rank", type=int, default=8)
    t.add_argument("--alpha", type=float, default=16.0)
    t.add_argument("--dropout", type=float, default=0.05)
    t.add_argument("--targets", default="q_proj,v_proj")
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--expect-shapes", help="`secura-dist inspect --json` output: fail unless the shapes match")
    t.add_argument("--expect-trainable", type=int, help="fail unless PEFT trains this many values")
    r = sub.add_parser("report")
    r.add_argument("--manifest", required=True, help="kind<TAB>method<TAB>layout<TAB>path[<TAB>extra] per result")
    r.add_argument("--settings", required=True, help="JSON: {settings: {...}, machine: {...}}")
    r.add_argument("--out", required=True, help="folder for raw.json and table.md")
    a = p.parse_args()
    {"data": cmd_data, "torch": cmd_torch, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
