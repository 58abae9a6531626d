#!/usr/bin/env python3
"""Helper of launch/bench-decode.sh (see its --help). Two subcommands:

  torch  --model-dir D --gguf F --prompt-ids J --new-tokens N ...   greedy decoding with transformers (the same
                                            prompt ids as secura-dist's run, exactly N new tokens), one JSON
                                            object on stdout; runs in the reference venv
  report --manifest M --settings S --out D  gathers the runs into D/raw.json and prints the markdown table
                                            (also D/table.md)

Prefill rate, for both systems: prompt tokens / the median seconds of the forward over the prompt (secura-dist's
prefill_seconds; for transformers one forward with logits_to_keep=1, timed alone).

Decode rate, for both systems: (new tokens − 1) / seconds from the first new token's logits to the last new
token, i.e. the N − 1 one-token forward passes with the KV cache (secura-dist's `generate --json` reports that
interval as decode_seconds; for transformers it is generate(N) − generate(1), whose difference is those passes).
`report` needs only the standard library; `torch` needs torch, transformers, gguf, numpy.
"""
import argparse
import json
import os
import statistics
import sys
import time


def cmd_torch(a):
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(a.threads)
    prompt = json.load(open(a.prompt_ids))
    if not isinstance(prompt, list) or not prompt or not all(isinstance(t, int) for t in prompt):
        sys.exit(f"bench_decode.py: {a.prompt_ids} must hold a non-empty JSON list of token ids")
    if a.new_tokens < 2:
        sys.exit("bench_decode.py: --new-tokens must be at least 2 (the rate needs two timed lengths)")
    dtype_key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(a.model_dir, gguf_file=a.gguf, **{dtype_key: torch.float32})
    model.eval()
    load_seconds = time.perf_counter() - t0
    ids = torch.tensor([prompt], dtype=torch.long)
    mask = torch.ones_like(ids)

    def run(n):
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                 do_sample=False, num_beams=1, use_cache=True, pad_token_id=model.config.eos_token_id)
        return time.perf_counter() - start, out[0, len(prompt):].tolist()

    def prefill():
        start = time.perf_counter()
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask, logits_to_keep=1, use_cache=False)
        return time.perf_counter() - start

    run(a.new_tokens)  # warm-up: allocations, thread pool
    prefill()
    repeats = []
    tokens = []
    for _ in range(a.repeats):
        prefill_seconds = prefill()
        first, _ = run(1)
        whole, tokens = run(a.new_tokens)
        if len(tokens) != a.new_tokens:
            sys.exit(f"bench_decode.py: transformers returned {len(tokens)} new tokens, asked for {a.new_tokens}")
        decode = whole - first
        repeats.append({"prefill_seconds": prefill_seconds, "prefill_and_first_seconds": first,
                        "total_seconds": whole, "decode_seconds": decode,
                        "decode_tokens_per_second": (a.new_tokens - 1) / decode if decode > 0 else None})
    print(json.dumps({
        "system": "transformers", "threads": a.threads, "prompt_tokens": len(prompt), "new_tokens": a.new_tokens,
        "repeats": repeats, "tokens": tokens, "load_seconds": load_seconds,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "torch_threads": torch.get_num_threads(),
    }))


def median_rate(repeats):
    rates = [r["decode_tokens_per_second"] for r in repeats if r.get("decode_tokens_per_second")]
    if not rates:
        raise ValueError("no timed repeat")
    return statistics.median(rates), min(rates), max(rates)


def prefill_rate(repeats, prompt_tokens):
    """Prompt tokens per second of the median prefill (None for runs made before prefill was timed)."""
    seconds = [r["prefill_seconds"] for r in repeats if r.get("prefill_seconds")]
    return prompt_tokens / statistics.median(seconds) if seconds else None


def secura_repeats(paths):
    """secura-dist's `generate --json` lines → repeats in the same form as the transformers run."""
    out = []
    tokens = None
    for path in paths:
        lines = [l for l in open(path).read().splitlines() if l.strip().startswith("{")]
        if not lines:
            raise ValueError(f"{path}: no JSON line from `secura-dist generate --json`")
        g = json.loads(lines[-1])
        n = len(g["tokens"])
        if n < 2:
            raise ValueError(f"{path}: {n} new tokens; the rate needs at least 2")
        d = g["decode_seconds"]
        out.append({"prefill_seconds": g["prefill_seconds"], "decode_seconds": d,
                    "decode_tokens_per_second": (n - 1) / d if d > 0 else None, "new_tokens": n})
        if tokens is not None and g["tokens"] != tokens:
            raise ValueError(f"{path}: greedy tokens differ between repeats of the same run")
        tokens = g["tokens"]
    return out, tokens


def agreement(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def cmd_report(a):
    settings = json.load(open(a.settings))
    rows = []
    raw = {"settings": settings, "runs": []}
    ours_tokens = None
    for line in open(a.manifest):
        kind, threads, *paths = line.rstrip("\n").split("\t")
        if kind == "secura-dist":
            repeats, tokens = secura_repeats(paths)
            ours_tokens = ours_tokens or tokens
            raw["runs"].append({"system": "secura-dist", "threads": int(threads), "repeats": repeats, "tokens": tokens})
        elif kind == "transformers":
            run = json.load(open(paths[0]))
            repeats, tokens = run["repeats"], run["tokens"]
            raw["runs"].append(run)
        else:
            raise ValueError(f"{a.manifest}: unknown kind {kind!r}")
        rate, low, high = median_rate(repeats)
        rows.append({"system": kind, "threads": int(threads), "rate": rate, "low": low, "high": high,
                     "prefill_rate": prefill_rate(repeats, settings["prompt_tokens"]), "tokens": tokens})
    reference = {r["threads"]: r for r in rows if r["system"] == "transformers"}

    def versus(r, key):
        ref = reference.get(r["threads"])
        return "—" if ref is None or not ref[key] or not r[key] else f"{r[key] / ref[key]:.2f}"

    lines = ["| system | threads | decode tokens/s (median; min–max of %d) | × transformers, same threads | "
             "prefill tokens/s (median) | × transformers | greedy tokens equal to secura-dist's (leading) |"
             % settings["repeats"],
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        agree = agreement(r["tokens"], ours_tokens) if ours_tokens else 0
        prefill = "—" if r["prefill_rate"] is None else f"{r['prefill_rate']:.0f}"
        lines.append(f"| {r['system']} | {r['threads']} | {r['rate']:.1f} ({r['low']:.1f}–{r['high']:.1f}) | "
                     f"{versus(r, 'rate')} | {prefill} | {versus(r, 'prefill_rate')} | {agree} of {len(r['tokens'])} |")
    table = "\n".join(lines)
    s = settings
    header = (f"Greedy decode, {s['model']}, prompt {s['prompt_tokens']} tokens, {s['new_tokens']} new tokens, "
              f"{s['machine']['cpu']} ({s['machine']['cores']} cores), {s['machine']['date']}\n\n")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(header + table + "\n")
    raw["rows"] = [{k: v for k, v in r.items() if k != "tokens"} for r in rows]
    json.dump(raw, open(os.path.join(a.out, "raw.json"), "w"), indent=1)
    print(header + table)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("torch")
    t.add_argument("--model-dir", required=True)
    t.add_argument("--gguf", required=True)
    t.add_argument("--prompt-ids", required=True, help="a JSON file: the prompt's token ids")
    t.add_argument("--new-tokens", type=int, required=True)
    t.add_argument("--threads", type=int, required=True)
    t.add_argument("--repeats", type=int, default=3)
    t.set_defaults(func=cmd_torch)
    r = sub.add_parser("report")
    r.add_argument("--manifest", required=True)
    r.add_argument("--settings", required=True)
    r.add_argument("--out", required=True)
    r.set_defaults(func=cmd_report)
    a = p.parse_args()
    try:
        a.func(a)
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"bench_decode.py: {e}")


if __name__ == "__main__":
    main()
