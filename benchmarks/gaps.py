"""How well the gaps report groups questions by subject, and the bar it groups with (``gap_cosine``).

Questions come from benchmarks/gap-paraphrases.json (groups of three paraphrases, plus a question on the same topic
that asks something else; dev and test groups) and, as a second held-out set, the answerable questions of
assistant/gold/default.json, one subject per expected snippet. For each bar, the clustering of
assistant.feedback.gaps is run on the questions' real vectors and scored pair by pair:
- precision: of the pairs put in one group, the share that ask the same thing;
- recall: of the pairs that ask the same thing, the share put in one group;
- whole: the share of paraphrase groups found as exactly one group, with nothing else in it.

The bar is fitted on the dev groups (best pairwise F1, ties to the higher bar) and reported on the test groups
and the gold set. ``--write`` stores it in the model's calibration file with what it was fitted on.

    python benchmarks/gaps.py [--model multilingual-e5-small] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from common import table  # noqa: E402

from assistant.embeddings import embedder_for  # noqa: E402
from assistant.feedback.gaps import group  # noqa: E402
from assistant.profiles import profile_for  # noqa: E402
from assistant.settings import Settings  # noqa: E402

BARS = [round(0.50 + 0.01 * step, 2) for step in range(49)]


def labelled(split: str) -> tuple[list[str], list[int], list[bool]]:
    """Questions, their subject, and whether they belong to a paraphrase group (near questions are alone)."""
    data = json.loads((ROOT / "benchmarks" / "gap-paraphrases.json").read_text(encoding="utf-8"))
    questions, subjects, grouped = [], [], []
    for number, item in enumerate(g for g in data["groups"] if g["split"] == split):
        for question in item["questions"]:
            questions.append(question)
            subjects.append(2 * number)
            grouped.append(True)
        for question in item["near"]:
            questions.append(question)
            subjects.append(2 * number + 1)
            grouped.append(False)
    return questions, subjects, grouped


def gold_labelled() -> tuple[list[str], list[int], list[bool]]:
    gold = json.loads((ROOT / "assistant" / "gold" / "default.json").read_text(encoding="utf-8"))
    keys: dict = {}
    questions, subjects = [], []
    for item in gold["answerable"]:
        questions.append(item["question"])
        subjects.append(keys.setdefault((item["source"], item["snippet"]), len(keys)))
    counts = np.bincount(subjects)
    return questions, subjects, [counts[s] > 1 for s in subjects]


def scores(labels: np.ndarray, subjects: list[int], grouped: list[bool]) -> tuple[float, float, float]:
    together = same = both = 0
    for i, j in combinations(range(len(subjects)), 2):
        a, b = labels[i] == labels[j], subjects[i] == subjects[j]
        together += a
        same += b
        both += a and b
    precision = both / together if together else 1.0
    recall = both / same if same else 1.0
    wanted = {s for s, g in zip(subjects, grouped) if g}
    whole = 0
    for subject in wanted:
        found = {labels[i] for i, s in enumerate(subjects) if s == subject}
        members = {i for i, s in enumerate(subjects) if s == subject}
        whole += len(found) == 1 and {i for i, label in enumerate(labels) if label in found} == members
    return precision, recall, whole / len(wanted) if wanted else 1.0


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=Settings().embedding_model)
    parser.add_argument("--write", action="store_true", help="store the fitted bar in the model's calibration file")
    args = parser.parse_args()
    embedder = embedder_for(Settings(embedding_model=args.model))
    sets = {"dev": labelled("dev"), "test": labelled("test"), "gold": gold_labelled()}
    vectors = {name: np.asarray(embedder.embed_queries(qs), dtype=np.float32) for name, (qs, _, _) in sets.items()}
    rows, fitted = [], {}
    for bar in BARS:
        row = [bar]
        for name, (_, subjects, grouped) in sets.items():
            precision, recall, whole = scores(group(vectors[name], bar), subjects, grouped)
            row += [precision, recall, whole]
            if name == "dev":
                fitted[bar] = f1(precision, recall)
        rows.append(row)
    best = max(fitted, key=lambda bar: (round(fitted[bar], 6), bar))
    headers = ["bar"] + [f"{name} {what}" for name in sets for what in ("precision", "recall", "whole")]
    print(f"model {args.model}; questions: " + ", ".join(f"{n} {len(s[0])}" for n, s in sets.items()))
    print(table(headers, rows))
    shipped = profile_for(args.model).gap_cosine
    print(f"\nfitted bar (best pairwise F1 on dev): {best}; shipped: {shipped}")
    if args.write:
        family = profile_for(args.model).family
        path = ROOT / "assistant" / "calibrations" / f"{family}.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        record["gap_cosine"] = best
        record["gap_cosine_fitted_on"] = (
            "benchmarks/gaps.py: best pairwise F1 on the dev groups of benchmarks/gap-paraphrases.json"
        )
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"written to {path}")


if __name__ == "__main__":
    main()
