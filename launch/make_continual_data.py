#!/usr/bin/env python3
"""Builds the continual-learning task set (the SECURA paper's 16 tasks, issue 14) from the bigbench==1.0.0
source archive on PyPI. Python standard library only; the archive is read once, nothing else is downloaded.

The eleven BIG-bench tasks of the paper are sampled to at most 1,000 examples each with a fixed seed (a
task's own seed is derived from --seed and its file name, so adding or dropping a task changes no other).
The five tasks that are not in BIG-bench are replaced by tasks of the same archive (see SUBSTITUTES and the
README's "Continual learning" section). Every file is a BIG-bench task.json: the source task's top-level
fields unchanged (prefixes, metrics, canary) and `examples` replaced by the sample, in the source's order.
Also written: manifest.json (per file: paper task, source, examples, kind) and tasks.txt (the files, one
per line, in the order below: what `experiment continual --tasks` takes, joined with commas).

    python3 launch/make_continual_data.py ARCHIVE OUTPUT_DIR [--seed 42] [--examples 1000]
"""
import argparse
import json
import os
import random
import sys
import tarfile

ROOT = "bigbench-1.0.0/bigbench/benchmark_tasks/"

# (file name, source task.json under benchmark_tasks/, the paper's task, note)
BIGBENCH = [
    ("abstract_narrative_understanding", "abstract_narrative_understanding/4_distractors", "abstract_narrative_understanding", "subtask 4_distractors (5 proverbs to choose from)"),
    ("disfl_qa", "disfl_qa", "disfl_qa", ""),
    ("language_identification", "language_identification", "language_identification", ""),
    ("linguistics_puzzles", "linguistics_puzzles", "linguistics_puzzles", ""),
    ("logical_deduction", "logical_deduction/three_objects", "logical_deduction", "subtask three_objects (300 examples in all)"),
    ("object_counting", "object_counting", "object_counting", ""),
    ("play_dialog_same_or_different", "play_dialog_same_or_different", "play_dialog_same_or_different", ""),
    ("question_selection", "question_selection", "question_selection", ""),
    ("reasoning_about_colored_objects", "reasoning_about_colored_objects", "reasoning_about_colored_objects", ""),
    ("strategyqa", "strategyqa", "strategyqa", "scored as multiple choice (target_scores Yes/No); the explanation in 'target' is unused"),
    ("tracking_shuffled_objects", "tracking_shuffled_objects/three_objects", "tracking_shuffled_objects", "subtask three_objects (750 examples in all)"),
]

WIKILINGUA = "gem/wikilingua_multilingual"
NATURAL_INSTRUCTIONS = "natural_instructions"
# Longest instruction + input (characters) kept in the natural_instructions mixture: about 250 tokens, so that
# an example fits --max-length 512 whole (94 of the 1,000 still lose their answer at 256).
INSTRUCTION_CHARS = 1000

# The articles of the summarisation substitutes are cut to their first ARTICLE_CHARS characters (at a word
# boundary): whole, most of them do not fit --max-length 512 with their summary (WikiLingua's median article is
# ~2,300 characters, ~700 tokens), and a training example whose answer is cut off is dropped.
ARTICLE_CHARS = 1000

# (file name, how it is built, the paper's task, note)
SUBSTITUTES = [
    ("xsum", "gem/xsum", "CNN/DailyMail (summarisation)",
     f"GEM XSum: one-sentence summary of a BBC news article (its first {ARTICLE_CHARS} characters)"),
    ("wikilingua_de_en", "wikilingua:german_de", "NewsCommentary de-en (translation)",
     f"GEM WikiLingua: English summary of a German wikiHow article (its first {ARTICLE_CHARS} characters; cross-lingual generation into English)"),
    ("wikilingua_es_en", "wikilingua:spanish_es", "NewsCommentary es-en (translation)",
     f"GEM WikiLingua: English summary of a Spanish wikiHow article (its first {ARTICLE_CHARS} characters; 24 English targets shared with de, 24 with it)"),
    ("wikilingua_it_en", "wikilingua:italian_it", "NewsCommentary it-en (translation)",
     f"GEM WikiLingua: English summary of an Italian wikiHow article (its first {ARTICLE_CHARS} characters; 77 English targets shared with de, 24 with es)"),
    ("natural_instructions", "natural_instructions", "Alpaca (instruction following)",
     "Natural Instructions v1 (61 crowdsourcing tasks): the task's instruction + input -> output, drawn "
     f"round-robin over the tasks, instruction + input at most {INSTRUCTION_CHARS} characters"),
]


def wanted_members():
    names = {ROOT + src + "/task.json" for _, src, _, _ in BIGBENCH}
    names |= {ROOT + src + "/task.json" for _, src, _, _ in SUBSTITUTES if "/" in src}
    names.add(ROOT + WIKILINGUA + "/task.json")
    return names


def read_archive(path):
    """The task.json files this script needs, parsed, keyed by their folder under benchmark_tasks/."""
    wanted, found = wanted_members(), {}
    prefix_ni = ROOT + NATURAL_INSTRUCTIONS + "/"
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            name = member.name
            is_ni = name.startswith(prefix_ni) and name.endswith("/task.json") and name.count("/") == prefix_ni.count("/") + 1
            if member.isfile() and (name in wanted or is_ni):
                found[name[len(ROOT):-len("/task.json")]] = json.load(tar.extractfile(member))
    missing = sorted(n[len(ROOT):] for n in wanted if n[len(ROOT):-len("/task.json")] not in found)
    if missing:
        sys.exit(f"make_continual_data: not in {path}: {', '.join(missing)}")
    if not any(k.startswith(NATURAL_INSTRUCTIONS + "/") for k in found):
        sys.exit(f"make_continual_data: no natural_instructions subtasks in {path}")
    return found


def sample(examples, count, seed, name):
    """At most `count` examples, chosen with a seed of their own, kept in the source's order."""
    if len(examples) <= count:
        return list(examples)
    chosen = random.Random(f"{seed}/{name}").sample(range(len(examples)), count)
    return [examples[i] for i in sorted(chosen)]


def with_examples(task, examples, **changes):
    """`task`'s top-level fields in their order, `examples` replaced and `changes` applied."""
    out = {k: (examples if k == "examples" else v) for k, v in task.items()}
    out.update(changes)
    return out


def cut_article(example):
    """`example` with its input cut to ARTICLE_CHARS characters, at the last whitespace before the limit."""
    text = example["input"]
    if len(text) > ARTICLE_CHARS:
        head = text[:ARTICLE_CHARS]
        space = max(head.rfind(" "), head.rfind("\n"))
        text = (head[:space] if space > ARTICLE_CHARS // 2 else head).rstrip()
    return dict(example, input=text)


def kind(examples):
    if all("target_scores" in e for e in examples):
        return "multiple choice"
    return "generation (target list)" if all(isinstance(e.get("target"), list) for e in examples) else "generation (target string)"


def check(task, file_name):
    """Fails on anything the project's reader (BigBenchReader) would reject."""
    ex = task.get("examples")
    if not isinstance(ex, list) or not ex:
        sys.exit(f"make_continual_data: {file_name}: no examples")
    for i, e in enumerate(ex, 1):
        ok = isinstance(e.get("input"), str) and (
            (isinstance(e.get("target_scores"), dict) and e["target_scores"]
             and all(isinstance(v, (int, float)) for v in e["target_scores"].values())
             and max(e["target_scores"].values()) > 0)
            or isinstance(e.get("target"), str)
            or (isinstance(e.get("target"), list) and e["target"] and all(isinstance(s, str) for s in e["target"])))
        if not ok:
            sys.exit(f"make_continual_data: {file_name}: example {i} is not a valid BIG-bench example")


def natural_instructions(found, count, seed):
    """Instruction-following examples from every Natural Instructions subtask, round-robin over the subtasks
    (each subtask's eligible examples shuffled with its own seed), the instruction prepended to the input."""
    subtasks = sorted(k for k in found if k.startswith(NATURAL_INSTRUCTIONS + "/"))
    pools = []
    for key in subtasks:
        task = found[key]
        instruction = task.get("task_prefix", "").strip()
        pool = [{"input": f"{instruction}\n\nInput: {e['input']}", "target": list(e["target"]),
                 "comment": key.split("/", 1)[1]}
                for e in task["examples"]
                if isinstance(e.get("target"), list) and e["target"] and len(instruction) + len(e["input"]) <= INSTRUCTION_CHARS]
        random.Random(f"{seed}/natural_instructions/{key}").shuffle(pool)
        if pool:
            pools.append(pool)
    chosen, depth = [], 0
    while len(chosen) < count and any(depth < len(p) for p in pools):
        chosen += [p[depth] for p in pools if depth < len(p)]
        depth += 1
    chosen = chosen[:count]
    task = {"name": "natural_instructions", "description": "Follow a crowdsourcing instruction (Natural Instructions v1, "
            "61 tasks; substitute for Alpaca)", "keywords": ["instructions"], "metrics": ["rouge", "bleu"],
            "preferred_score": "rougeLsum", "example_input_prefix": "", "example_output_prefix": "\nOutput: ",
            "examples": chosen}
    return task, len(pools)


def build(found, out_dir, count, seed):
    manifest, order = [], []

    def write(file_name, task, paper, source, note):
        check(task, file_name)
        with open(os.path.join(out_dir, file_name + ".json"), "w", encoding="utf-8") as f:
            json.dump(task, f, ensure_ascii=False, indent=1)
            f.write("\n")
        manifest.append({"file": file_name + ".json", "paper_task": paper, "source": f"bigbench==1.0.0 {source}",
                         "examples": len(task["examples"]), "kind": kind(task["examples"]), "note": note})
        order.append(file_name + ".json")

    for file_name, src, paper, note in BIGBENCH:
        task = found[src]
        write(file_name, with_examples(task, sample(task["examples"], count, seed, file_name)), paper, src, note)
    wl = found[WIKILINGUA]
    for file_name, how, paper, note in SUBSTITUTES:
        if how.startswith("wikilingua:"):
            lang = how.split(":", 1)[1]
            picked = [e for e in wl["examples"] if e.get("comment", "").startswith(f"wiki_lingua_{lang}-")]
            task = with_examples(wl, [cut_article(e) for e in sample(picked, count, seed, file_name)], name=file_name,
                                 description=f"Summarize a {lang.split('_')[0].capitalize()} wikiHow article in English")
            write(file_name, task, paper, f"{WIKILINGUA} ({lang} examples)", note)
        elif how == NATURAL_INSTRUCTIONS:
            task, n = natural_instructions(found, count, seed)
            write(file_name, task, paper, f"natural_instructions ({n} subtasks)", note)
        else:
            task = found[how]
            write(file_name, with_examples(task, [cut_article(e) for e in sample(task["examples"], count, seed, file_name)]), paper, how, note)
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": seed, "examples_per_task": count, "tasks": manifest}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "tasks.txt"), "w", encoding="utf-8") as f:
        f.write("".join(name + "\n" for name in order))
    return manifest


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("archive", help="bigbench-1.0.0.tar.gz (pip download --no-deps bigbench==1.0.0)")
    p.add_argument("output", help="folder to write (created; must not exist, or be empty)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--examples", type=int, default=1000, help="most examples per task")
    a = p.parse_args()
    if a.examples < 1:
        sys.exit("make_continual_data: --examples must be at least 1")
    os.makedirs(a.output, exist_ok=True)
    if os.listdir(a.output):
        sys.exit(f"make_continual_data: {a.output} is not empty")
    manifest = build(read_archive(a.archive), a.output, a.examples, a.seed)
    for t in manifest:
        print(f"{t['file']:40} {t['examples']:5}  {t['paper_task']}", file=sys.stderr)


if __name__ == "__main__":
    main()
