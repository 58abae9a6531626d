#!/usr/bin/env python3
"""Checks secura-dist's exports with the reference libraries (run by developers in a venv with torch,
transformers and peft; CI does not run it).

    # a merged Hugging Face folder written by `secura-dist export --format merged`
    python launch/check_export.py merged EXPORT_DIR --tokens 1,2,3 --expected-loss 2.345
    # a PEFT folder written by `secura-dist export --format peft` (or train's OUTPUT/adapter-peft) on a base model
    python launch/check_export.py peft PEFT_DIR --base BASE (HF folder or .gguf) --tokens 1,2,3 --expected-loss 2.345
    # a GGUF file written by `secura-dist export --format gguf` (--text: the file's own tokenizer, loaded by
    # transformers, must give the ids of --tokens)
    python launch/check_export.py gguf EXPORT.gguf --tokens 1,2,3 --expected-loss 2.345 [--text "..."]
    # the same file run by llama.cpp itself (pip install llama-cpp-python; it builds llama.cpp from source)
    python launch/check_export.py llama-cpp EXPORT.gguf --tokens 1,2,3 --expected-loss 2.345 --rtol 1e-2 [--text "..."]

It loads the model with transformers (and peft), computes the mean next-token loss of the token ids
in float32 (position t scores token t+1, as `secura-dist score` does), prints both losses and their
relative difference, and exits non-zero when that exceeds --rtol (default 1e-4).
"""
import argparse
import os
import sys


def load_base(path):
    import torch
    from transformers import AutoModelForCausalLM
    if path.endswith(".gguf"):
        return AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(path)),
                                                    gguf_file=os.path.basename(path), torch_dtype=torch.float32)
    return AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)


def check_llama_cpp(a, ids):
    """Mean next-token loss of `ids` from llama.cpp's logits (float64 log-softmax); 0 when within --rtol."""
    import numpy as np
    from llama_cpp import Llama
    llm = Llama(model_path=a.path, n_ctx=max(64, len(ids)), logits_all=True, verbose=False)
    if a.text is not None:
        encoded = llm.tokenize(a.text.encode(), add_bos=False, special=False)
        print(f"llama.cpp tokenizer: {len(encoded)} ids, {'equal to' if encoded == ids else 'DIFFERENT from'} --tokens")
        if encoded != ids:
            return 1
    llm.eval(ids)
    logits = np.array(llm.scores[:len(ids)], dtype=np.float64)
    top = logits.max(axis=1, keepdims=True)
    logz = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    loss = float(np.mean([logz[t] - logits[t, ids[t + 1]] for t in range(len(ids) - 1)]))
    rel = abs(loss - a.expected_loss) / abs(a.expected_loss)
    print(f"llama-cpp: llama.cpp loss {loss:.8f}, secura-dist {a.expected_loss:.8f}, relative difference {rel:.2e}")
    return 0 if rel <= a.rtol else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["merged", "peft", "gguf", "llama-cpp"])
    p.add_argument("path")
    p.add_argument("--base", help="base model for a PEFT folder")
    p.add_argument("--tokens", required=True, help="comma-separated token ids")
    p.add_argument("--expected-loss", type=float, required=True, help="secura-dist score's loss")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--text", help="gguf: the text --tokens encodes, checked with the file's own tokenizer")
    a = p.parse_args()
    ids = [int(t) for t in a.tokens.split(",")]
    if a.kind == "llama-cpp":
        sys.exit(check_llama_cpp(a, ids))
    import torch   # the other kinds need torch and transformers; llama-cpp does not
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if a.kind == "merged":
        model = AutoModelForCausalLM.from_pretrained(a.path, torch_dtype=torch.float32)
    elif a.kind == "gguf":
        model = load_base(a.path)
        if a.text is not None:
            from transformers import AutoTokenizer
            tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(a.path)), gguf_file=os.path.basename(a.path))
            encoded = tok(a.text)["input_ids"]
            print(f"gguf tokenizer: {len(encoded)} ids, {'equal to' if encoded == ids else 'DIFFERENT from'} --tokens")
            if encoded != ids:
                sys.exit(1)
    else:
        from peft import PeftModel
        if not a.base:
            sys.exit("peft needs --base")
        model = PeftModel.from_pretrained(load_base(a.base), a.path)
    model.eval()
    ids = torch.tensor([ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    loss = torch.nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:]).item()
    rel = abs(loss - a.expected_loss) / abs(a.expected_loss)
    print(f"{a.kind}: transformers loss {loss:.8f}, secura-dist {a.expected_loss:.8f}, relative difference {rel:.2e}")
    sys.exit(0 if rel <= a.rtol else 1)


if __name__ == "__main__":
    main()
