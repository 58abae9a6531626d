#!/usr/bin/env python3
"""Makes the golden values that SecuraMetricsTests compare the Swift metrics against.

Run by developers when the metrics or this script change (CI only reads the committed output):

    /work/venv-ref/bin/python Tests/Fixtures/metrics/make_golden.py [--data ../shared/data]

Needs: nltk==3.10.4, rouge-score==0.1.2, scikit-learn (any recent version). Everything is built from
the shared task data (../shared/data beside the checkout) with a fixed seed, so a rerun gives a
byte-identical golden.json.

Reference for each metric:
  bleu_char, bleu_word  nltk.translate.bleu_score.sentence_bleu, SmoothingFunction().method4, default
                        weights; char level passes the raw strings, word level str.split() tokens
  rouge1, rougeL        rouge_score RougeScorer(['rouge1', 'rougeL'], use_stemmer=True).score(gold, pred)
                        against the first gold answer, F-measure
  exact_match, contains, token_f1
                        the SQuAD v1.1 evaluation script's normalize_answer / exact match / f1, max over
                        the gold answers (written out below, as the official script has no package)
  mc_accuracy           mc_correct() below (no package exists)
  gsm8k_*               gsm8k_extract() / gsm8k_accuracy() below (no package exists)
  mcc                   sklearn.metrics.matthews_corrcoef
  stems                 nltk.stem.porter.PorterStemmer() (NLTK_EXTENSIONS mode)

Python's own str behaviour the metrics rest on is recorded too: every str.isspace() code point, every
code point re's \w matches, str.lower() of every code point it changes, a few context-dependent
lower() strings, and normalize_answer / rouge-score tokens of every pair's texts (up to 1000 chars).
"""

import argparse
import json
import os
import random
import re
import string
import sys
import unicodedata
import warnings
from collections import Counter

import nltk
import sklearn
from importlib.metadata import version
from nltk.stem.porter import PorterStemmer
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_score import rouge_scorer
from rouge_score import tokenize as rouge_tokenize
from sklearn.metrics import matthews_corrcoef

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
SEED = 20240917

# --------------------------------------------------------------------------------------------------
# Python references for the metrics that have no package.


def normalize_answer(s):
    """SQuAD v1.1 evaluate-v1.1.py normalize_answer, verbatim."""

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def exact_match(pred, golds):
    return max(float(normalize_answer(pred) == normalize_answer(g)) for g in golds)


def contains_answer(pred, golds):
    return max(float(normalize_answer(g) in normalize_answer(pred)) for g in golds)


def f1_single(pred, gold):
    """SQuAD v1.1 f1_score, verbatim (0 when there is no common token, even if both are empty)."""
    prediction_tokens = normalize_answer(pred).split()
    ground_truth_tokens = normalize_answer(gold).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def token_f1(pred, golds):
    return max(f1_single(pred, g) for g in golds)


def mc_correct(pred, gold, choices):
    """Correct when the normalised prediction equals the normalised gold choice, or when the longest
    normalised choice that the normalised prediction starts with (followed by a space) is the gold."""
    p = normalize_answer(pred)
    g = normalize_answer(gold)
    if p == g:
        return 1.0
    best = None
    for c in list(choices) + [gold]:
        n = normalize_answer(c)
        if n and (p == n or p.startswith(n + " ")):
            if best is None or len(n) > len(best):
                best = n
    return 1.0 if best is not None and best == g else 0.0


GSM_NUM = r"-?\$?[0-9][0-9,]*(?:\.[0-9]+)?"
GSM_ANSWER_IS = re.compile(r"the answer is\s*:?\s*(" + GSM_NUM + ")", re.ASCII | re.IGNORECASE)
GSM_NUM_RE = re.compile(GSM_NUM, re.ASCII)


def gsm8k_clean(s):
    s = s.replace(",", "").replace("$", "")
    if s.endswith("."):
        s = s[:-1]
    return s


def gsm8k_extract(text):
    """The number after the last "The answer is", else the first number after the last "####", else
    the last number in the text; None when there is no number."""
    found = GSM_ANSWER_IS.findall(text)
    if found:
        return gsm8k_clean(found[-1])
    if "####" in text:
        m = GSM_NUM_RE.search(text.rsplit("####", 1)[1])
        if m:
            return gsm8k_clean(m.group(0))
    found = GSM_NUM_RE.findall(text)
    if found:
        return gsm8k_clean(found[-1])
    return None


def gsm8k_accuracy(pred, gold):
    p, g = gsm8k_extract(pred), gsm8k_extract(gold)
    if p is None or g is None:
        return 0.0
    return 1.0 if float(p) == float(g) else 0.0


# --------------------------------------------------------------------------------------------------
# Package references.

SCORER = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
SMOOTH = SmoothingFunction().method4
STEMMER = PorterStemmer()


def bleu(references, hypothesis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(sentence_bleu(references, hypothesis, smoothing_function=SMOOTH))


def all_metrics(pred, golds, choices):
    rouge = SCORER.score(golds[0], pred)
    return {
        "bleu_char": bleu(list(golds), pred),
        "bleu_word": bleu([g.split() for g in golds], pred.split()),
        "rouge1": float(rouge["rouge1"].fmeasure),
        "rougeL": float(rouge["rougeL"].fmeasure),
        "exact_match": exact_match(pred, golds),
        "contains": contains_answer(pred, golds),
        "token_f1": token_f1(pred, golds),
        "mc_accuracy": mc_correct(pred, golds[0], choices),
        "gsm8k_prediction": gsm8k_extract(pred),
        "gsm8k_gold": gsm8k_extract(golds[0]),
        "gsm8k_accuracy": gsm8k_accuracy(pred, golds[0]),
    }


# --------------------------------------------------------------------------------------------------
# Data.


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_bigbench(data, name):
    with open(os.path.join(data, "bigbench", name + ".json"), encoding="utf-8") as f:
        return json.load(f)["examples"]


class PairBuilder:
    def __init__(self, rng):
        self.rng = rng
        self.pairs = []
        self.distractors = ["yes", "no", "maybe", "The answer is 4.", "Team A", "different"]

    def add(self, source, pred, golds, choices=None):
        if isinstance(golds, str):
            golds = [golds]
        golds = list(golds)
        if choices is None:
            # Every pair gets a choice list so the multiple-choice metric runs on every pair.
            picks = self.rng.sample(self.distractors, 2)
            choices = [golds[0]] + [p for p in picks if p != golds[0]]
        entry = {"source": source, "prediction": pred, "golds": golds, "choices": list(choices)}
        entry.update(all_metrics(pred, golds, choices))
        self.pairs.append(entry)


def perturb(rng, text, kind, other):
    words = text.split()
    if kind == "identical":
        return text
    if kind == "drop_word" and len(words) > 1:
        i = rng.randrange(len(words))
        return " ".join(words[:i] + words[i + 1:])
    if kind == "swap_words" and len(words) > 1:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    if kind == "truncate_half":
        return text[: len(text) // 2]
    if kind == "truncate_3":
        return text[:3]
    if kind == "upper":
        return text.upper()
    if kind == "punctuate":
        return "\"" + text.replace(" ", ", ", 1) + "!\""
    if kind == "replace_word" and words:
        i = rng.randrange(len(words))
        ow = other.split() or ["x"]
        words[i] = ow[rng.randrange(len(ow))]
        return " ".join(words)
    if kind == "reverse_words":
        return " ".join(reversed(words))
    if kind == "duplicate":
        return text + " " + text
    if kind == "prefix":
        return "Answer: " + text
    if kind == "other":
        return other
    if kind == "digits":
        return re.sub(r"[aeiou]", lambda m: str("aeiou".index(m.group(0))), text)
    if kind == "whitespace":
        return "  " + text.replace(" ", "\t \n", 2) + "\n"
    return text


KINDS = ["identical", "drop_word", "swap_words", "truncate_half", "truncate_3", "upper", "punctuate",
         "replace_word", "reverse_words", "duplicate", "prefix", "other", "digits", "whitespace"]


def build_pairs(data, rng):
    b = PairBuilder(rng)

    # Generation targets (linguistics_puzzles): the BLEU/ROUGE task of the SECURA paper.
    puzzles = [e["target"] for e in load_bigbench(data, "linguistics_puzzles")]
    picks = rng.sample(range(len(puzzles)), 40)
    for n, i in enumerate(picks):
        kind = KINDS[n % len(KINDS)]
        other = puzzles[picks[(n + 7) % len(picks)]]
        b.add("linguistics_puzzles/%d/%s" % (i, kind), perturb(rng, puzzles[i], kind, other), puzzles[i])

    # Extractive spans (disfl_qa) and short answers (ropes).
    disfl = [e["target"] for e in load_bigbench(data, "disfl_qa")]
    picks = rng.sample(range(len(disfl)), 16)
    for n, i in enumerate(picks):
        kind = KINDS[(n * 3) % len(KINDS)]
        other = disfl[picks[(n + 3) % len(picks)]]
        b.add("disfl_qa/%d/%s" % (i, kind), perturb(rng, disfl[i], kind, other), disfl[i])
    ropes = [r["output"] for r in load_jsonl(os.path.join(data, "glue-qa", "ropes_test.jsonl"))]
    b.distractors += ropes[:6]
    picks = rng.sample(range(len(ropes)), 14)
    for n, i in enumerate(picks):
        gold = ropes[i]
        preds = [gold, "the " + gold, gold.lower() + ".", "The answer is " + gold + ".",
                 ropes[picks[(n + 1) % len(picks)]], gold + " and " + ropes[picks[(n + 2) % len(picks)]],
                 "I think it is " + gold.upper(), ""]
        pred = preds[n % len(preds)]
        b.add("ropes/%d" % i, pred, gold)

    # Several acceptable answers (object_counting: ["three", "3"]).
    counting = load_bigbench(data, "object_counting")
    picks = rng.sample(range(len(counting)), 8)
    forms = ["{w}", "{d}", "There are {d} objects.", "{W}.", "I count {w} items, so {d}", "{x}", "the {w}",
             "#### {d}"]
    for n, i in enumerate(picks):
        word, digit = counting[i]["target"][:2]
        pred = forms[n % len(forms)].format(w=word, d=digit, W=word.capitalize(), x=int(digit) + 1)
        b.add("object_counting/%d" % i, pred, counting[i]["target"])

    # Multiple choice with the real choice lists.
    for task, count in [("abstract_narrative_understanding", 6), ("logical_deduction", 8),
                        ("reasoning_about_colored_objects", 8), ("play_dialog_same_or_different", 4),
                        ("language_identification", 6)]:
        examples = load_bigbench(data, task)
        picks = rng.sample(range(len(examples)), count)
        for n, i in enumerate(picks):
            scores = examples[i]["target_scores"]
            choices = list(scores)
            gold = max(choices, key=lambda c: scores[c])
            wrong = [c for c in choices if c != gold]
            preds = [gold, gold.lower() + ".", gold + " because the text says so",
                     wrong[0] if wrong else "none", "The " + gold, gold[: max(1, len(gold) // 2)],
                     (wrong[0] + " " + gold) if wrong else gold, "  " + gold.upper() + "!!"]
            pred = preds[n % len(preds)]
            b.add("%s/%d" % (task, i), pred, [gold], choices)

    # Yes/no classification outputs (CoLA, MRPC, MultiRC).
    yn = ["Yes", "no.", "yes, it is acceptable", "No", "maybe", "", "YES!", "n", "not sure", "no, yes"]
    for n, task in enumerate(["cola_test", "mrpc_test", "multirc_test"]):
        rows = load_jsonl(os.path.join(data, "glue-qa", task + ".jsonl"))
        picks = rng.sample(range(len(rows)), 5)
        for m, i in enumerate(picks):
            b.add("%s/%d" % (task, i), yn[(n * 5 + m) % len(yn)], rows[i]["output"], ["yes", "no"])

    # GSM8K: predictions with the final-answer formats a model produces.
    gsm = [r["output"] for r in load_jsonl(os.path.join(data, "glue-qa", "gsm8k_test.jsonl"))]
    picks = rng.sample(range(len(gsm)), 18)
    for n, i in enumerate(picks):
        gold = gsm[i]
        answer = gsm8k_extract(gold)
        body = gold.rsplit("The answer is", 1)[0]
        value = float(answer)
        big = "{:,}".format(int(value)) if value == int(value) else answer
        preds = [gold, body + "The answer is $" + big + ".", body + "#### " + answer,
                 body + "The answer is " + answer + ".0", body + "The answer is " + str(int(value) + 1) + ".",
                 body.strip(), "The answer is: -" + answer, body + "So it is " + answer + " dollars.",
                 "The answer is " + answer + ". Wait, the answer is 7.", "No idea.",
                 "#### " + big + " #### ", body + "THE ANSWER IS\n" + answer,
                 "The answer is -$" + answer + ".", answer + "." + answer + " then 1,2,3 and $4.50",
                 "the answer is ,5 or 12", "", body + "The answer is " + answer + "0", "####\n$" + big]
        b.add("gsm8k/%d" % i, preds[n % len(preds)], gold)

    # Edge cases: empty, identical, single characters, unicode, whitespace, long strings.
    lang = [e["input"] for e in load_bigbench(data, "language_identification")]
    accented = [s for s in lang if any(ord(c) > 127 for c in s)][:6]
    long_text = " ".join(puzzles[:60])
    edge = [
        ("empty-both", "", [""]),
        ("empty-pred", "", ["the excellent child"]),
        ("empty-gold", "the excellent child", [""]),
        ("identical", "the excellent child will hit fast people", ["the excellent child will hit fast people"]),
        ("one-char-same", "a", ["a"]),
        ("one-char-diff", "b", ["a"]),
        ("one-char-vs-word", "x", ["xylophone"]),
        ("two-chars", "ab", ["abc"]),
        ("three-chars", "abc", ["abc"]),
        ("four-chars", "abcd", ["abdc"]),
        ("one-word-same", "hello", ["hello"]),
        ("one-word-vs-two", "hello", ["hello world"]),
        ("two-words", "hello world", ["hello world"]),
        ("three-words", "hello big world", ["hello big world"]),
        ("articles-only", "The a an", ["the"]),
        ("punct-only", "?!...", ["..."]),
        ("case-punct", "THE Excellent, child!", ["the excellent child"]),
        ("repeated", "the the the the the the the", ["the cat is on the mat"]),
        ("repeated-char", "aaaaaaa", ["aaa"]),
        ("digits", "In 2023, 1,234 people came; 56.7% stayed.", ["1234 people came in 2023"]),
        ("accents", "Máirtín Ó Cadhain is ea", ["mairtin o cadhain is ea"]),
        ("combining", "cafe\u0301 na\u0131ve", ["caf\u00e9 naive"]),
        ("greek-sigma", "ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ", ["οδυσσευς σοφος"]),
        ("turkish-i", "İstanbul IŞIK", ["istanbul ışık"]),
        ("kelvin-ligature", "\u212a\u212b \ufb01ne", ["kå fine"]),
        ("unicode-space", "a\u00a0b\u2003c\u3000d\u200be", ["a b c d e"]),
        ("emoji", "I ❤️ NLP 🙂", ["i love nlp"]),
        ("underscore-article", "the_a an-the a.b", ["an"]),
        ("hyphen", "state-of-the-art model", ["state of the art model"]),
        ("newlines", "line one\nline two\r\nline three", ["line one line two line three"]),
        ("stem-variants", "The generalizations were relational and conditional", ["generalization relate conditions"]),
        ("stem-variants-2", "hopping falling dying lying skies", ["hop fall die lie sky"]),
        ("long-identical", long_text, [long_text]),
        ("long-truncated", long_text[: len(long_text) * 2 // 3], [long_text]),
        ("long-vs-short", long_text, [puzzles[0]]),
        ("short-vs-long", puzzles[0], [long_text]),
        ("multi-ref", "three objects", ["3", "three", "three objects in total"]),
        ("multi-ref-tie", "abcde", ["abcd", "abcdef"]),
    ]
    for i, s in enumerate(accented):
        edge.append(("language_identification-%d" % i, s, [unicodedata.normalize("NFD", s)]))
        edge.append(("language_identification-lower-%d" % i, s.lower(), [s]))
    for name, pred, golds in edge:
        b.add("edge/" + name, pred, golds)
    return b.pairs, puzzles, gsm, disfl


# --------------------------------------------------------------------------------------------------
# Stemmer words, lowercase cases, whitespace, MCC.

TRICKY_WORDS = """
generalizations generalization relational conditional rational hopping hopped falling fallen sky skies
dying lying tying news innings inning outings outing cannings canning howe proceed exceed succeed
agreed feed bleed need speed seeded happily happy abaisse ponies caresses caress cats ties dies flies
spied cried died tied ied eed ed ing s ss sses ies a is as us ow owed owing y yy yyy yyyy by ay toy
syzygy enjoy enjoyment spy fly try motoring sing plastered bled conflated troubled sized tanned hissing
fizzed failing filing valenci valency hesitanci hesitancy digitizer conformabli conformably radicalli
radically differentli differently vileli vilely analogousli analogously vietnamization predication
operator feudalism decisiveness hopefulness callousness formaliti formality sensitiviti sensitivity
sensibiliti sensibility triplicate formative formalize electriciti electricity electrical hopeful
goodness revival allowance inference airliner gyroscopic adjustable defensible irritant replacement
adjustment dependent adoption homologou communism activate angulariti angularity homologous effective
bowdlerize probate rate cease controll controlling roll fully carefully beautifully archaeology
biology geology fulli logi alli bli abli generically Running CAPITALS 3rds 123 2000s
agreement disagreeable cries crying trying relating related relativity national nationality
sensational sensationalism anticipation reorganizations unconditionally irrationally
cafés naïvely Sky SKIES Dying ab abc abcd aed aing bing thing king ring string
"""


def stem_words(puzzles, gsm, disfl, rng):
    words = set()
    for text in puzzles + gsm + disfl:
        for w in rouge_tokenize.tokenize(text, None):
            words.add(w)
    data_words = sorted(words)
    chosen = rng.sample(data_words, 330)
    tricky = TRICKY_WORDS.split() + [""]
    out = []
    seen = set()
    for w in tricky + sorted(chosen):
        if w in seen:
            continue
        seen.add(w)
        out.append([w, STEMMER.stem(w)])
    return out


LOWERCASE_CASES = ["Hello World", "ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ", "ΣΑ Σ", "AΣ.", "ΑΣ'Α", "İstanbul", "\u212a\u212b",
                   "STRASSE Straße", "ǅemal ǈ ǋ", "ÀÉÎÕÜ Ñ", "ΆΈΉ", "ĲSSEL", "Ωmega", ""]


def python_whitespace():
    return [cp for cp in range(0x110000) if chr(cp).isspace()]


def python_lowercase_map():
    """Every code point whose str.lower() differs from itself, as [code point, lowercase]."""
    out = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or cp == 0x3A3:  # surrogates; capital sigma depends on context
            continue
        c = chr(cp)
        if c.lower() != c:
            out.append([cp, c.lower()])
    return out


def python_word_character_ranges():
    """Every code point re's \\w matches in a str pattern, as inclusive [first, last] ranges."""
    ranges = []
    word = re.compile(r"\w")
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if word.match(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return ranges


def python_word_characters_sample():
    """A sample of characters with the \\w flag Python's re gives them (str patterns)."""
    sample = "aZ09_ -.'éßÆ\u0301\u0300ªº²³½Ⅻ一〇٣߀\u200b\u00a0ǅʰ"
    return [[ord(c), int(bool(re.match(r"\w", c)))] for c in sample]


def mcc(labels, preds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when only one label occurs
        return float(matthews_corrcoef(labels, preds))


def mcc_cases(data, rng):
    cola = [r["output"] == "yes" for r in load_jsonl(os.path.join(data, "glue-qa", "cola_test.jsonl"))]
    cases = []

    def add(name, labels, preds):
        labels = [bool(x) for x in labels]
        preds = [bool(x) for x in preds]
        # Label vectors as strings of 1 (yes) and 0 (no), to keep the file small.
        cases.append({"name": name, "labels": "".join("1" if x else "0" for x in labels),
                      "predictions": "".join("1" if x else "0" for x in preds),
                      "mcc": mcc(labels, preds)})

    add("cola-perfect", cola, cola)
    add("cola-inverted", cola, [not x for x in cola])
    add("cola-all-yes", cola, [True] * len(cola))
    add("cola-all-no", cola, [False] * len(cola))
    for p in (0.05, 0.2, 0.5):
        add("cola-flip-%g" % p, cola, [(not x) if rng.random() < p else x for x in cola])
    add("cola-random", cola, [rng.random() < 0.7 for _ in cola])
    add("cola-first-50", cola[:50], [rng.random() < 0.5 for _ in range(50)])
    add("all-same-both", [True] * 10, [True] * 10)
    add("labels-constant", [False] * 8, [True, False, True, False, False, False, True, False])
    add("single", [True], [False])
    add("single-correct", [False], [False])
    add("two", [True, False], [False, True])
    add("two-correct", [True, False], [True, False])
    add("small", [True, True, False, False, True], [True, False, False, True, True])
    return cases


def multiclass_case():
    labels = ["yes", "no", "yes", "yes", "no", "no", "yes", "no"]
    preds = ["yes", "no", "other", "yes", "yes", "no", "other", "no"]
    return {"labels": labels, "predictions": preds, "mcc": mcc(labels, preds)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--out", default=os.path.join(HERE, "golden.json"))
    args = parser.parse_args()

    rng = random.Random(SEED)
    pairs, puzzles, gsm, disfl = build_pairs(args.data, rng)
    golden = {
        "versions": {
            "python": sys.version.split()[0],
            "nltk": nltk.__version__,
            "rouge_score": version("rouge-score"),
            "scikit_learn": sklearn.__version__,
            "unicodedata": unicodedata.unidata_version,
        },
        "python_whitespace": python_whitespace(),
        "word_characters": python_word_characters_sample(),
        "word_character_ranges": python_word_character_ranges(),
        "lowercase_map": python_lowercase_map(),
        "lowercase": [[s, s.lower()] for s in LOWERCASE_CASES],
        "pairs": pairs,
        "stems": stem_words(puzzles, gsm, disfl, rng),
        "mcc": mcc_cases(args.data, rng),
        "mcc_multiclass": multiclass_case(),
    }
    # Normalisations and ROUGE tokens of every distinct prediction and gold up to 1000 characters, to
    # localise a failure to the normaliser or the tokenizer.
    texts = []
    for p in pairs:
        for t in [p["prediction"]] + p["golds"]:
            if t not in texts and len(t) <= 1000:
                texts.append(t)
    golden["normalized"] = [[t, normalize_answer(t)] for t in texts]
    golden["rouge_tokens"] = [[t, SCORER._tokenizer.tokenize(t)] for t in texts]

    text = json.dumps(golden, ensure_ascii=False, indent=None, separators=(",", ":"))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print("%s: %d pairs, %d stems, %d mcc cases, %d bytes" % (
        args.out, len(pairs), len(golden["stems"]), len(golden["mcc"]), len(text.encode("utf-8"))))


if __name__ == "__main__":
    main()
