"""The gates of questions out of the documents' field: how close the nearest passage is, and how much of a question
the documents know at all.

    python benchmarks/gates.py [--test] [--ship]

The cosine gate (``min_dense``): a French question whose best retrieved passage's cosine is under the bar is about
nothing in the documents. Its bar is the highest that turns away no answerable French question of the corpora it is
fitted on: the gold set's dev split, corpus-beta and PIAF-SPF (``corpora.py``), since the level of the cosines of
answerable questions changes from one corpus to the next; left out in turn, the bar fitted on the two others says
what it would turn away on a corpus it never saw. Prints what it turns away by corpus, split and kind (the gold set's
out-of-domain questions of everyday life among them); ``--test`` adds the gold test split.

The known-terms gate of English questions:
A question whose terms the whole corpus does not hold (the idf-weighted share of its terms found anywhere in the
corpus under a bar) asks about something the documents do not discuss, and is answered "not found" before any
sentence is weighed. French questions have had that gate (``min_known``); English ones had none, and an English
question on French documents is read by the dense model alone, which finds a "training" in "How do I train for a
half marathon?". English words are seldom in French documents, so the English bar is its own: the highest that
keeps the English answerable and open questions of the gold set's dev split turned away at most ``MAX_TURNED_AWAY``:
none (a bar that allowed the gold gate's 0.04 cost an answerable test question). Prints the share of known terms of
every English dev question by kind, and what the bar turns away, there and among English renderings of PIAF
questions (``benchmarks/piaf-english.json``, a corpus the bar was not fitted on); ``--test`` adds the test split
(once the bar is chosen); ``--ship`` writes the bar into the calibration files (the share is lexical: the same for
every embedding model).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time

import numpy as np
from common import ROOT, machine, table
from corpora import load

sys.path.insert(0, str(ROOT))

from assistant.answering.candidates import term_weights  # noqa: E402
from assistant.answering.language import core_question, detect_language  # noqa: E402
from assistant.answering.support import question_needs  # noqa: E402

MAX_TURNED_AWAY = 0.0  # share of the English answerable dev questions, and of the French answerable questions
CORPORA = ("gold", "beta", "piaf")  # what the cosine gate is fitted on


def highest_bar(values: list[float], share: float) -> float:
    """The highest bar that leaves at most ``share`` of ``values`` under it.

    >>> highest_bar([0.0, 0.04, 0.3, 0.5], 0.25), highest_bar([0.0, 0.04, 0.3, 0.5], 0.2)
    (0.04, 0.0)
    """
    ordered = sorted(values)
    return ordered[int(share * len(ordered))] if ordered else 0.0


def known_share(weights, question: str) -> float:
    """The idf-weighted share of the question's terms the corpus holds, the question read as ``ask()`` reads it."""
    return weights.known_share(question_needs(core_question(question)).terms)


def turned_away(values: list[float], bar: float) -> list:
    under = np.asarray(values) < bar
    return [len(values), float(np.median(values)), f"{under.sum()} ({under.mean():.3f})"]


def best_cosine(retriever, question: str) -> float:
    """The cosine of the question's nearest retrieved passage, the question read as ``ask()`` reads it."""
    passages = retriever.search(core_question(question), k=5)
    return max((passage.dense_score for passage in passages), default=0.0)


def french_cosines(names: tuple[str, ...]) -> dict[tuple[str, str, str], list[float]]:
    """Every French question's best cosine, by (corpus, split, kind); a PIAF question left out of its fiche is in
    the field but its answer is gone (in_domain)."""
    found: dict[tuple[str, str, str], list[float]] = {}
    for name in names:
        corpus = load(name)
        for item in corpus.items:
            if detect_language(core_question(item.question)) != "fr":
                continue
            split = item.split if name == "gold" else "all"
            found.setdefault((name, split, item.kind), []).append(best_cosine(corpus.for_item(item), item.question))
    return found


def fitted_on(found: dict, names) -> list[float]:
    """The answerable questions a cosine bar is fitted on: the gold set's dev split, every question elsewhere."""
    return [
        v
        for (name, split, kind), values in found.items()
        if name in names and kind == "answerable" and split != "test"
        for v in values
    ]


def cosine_gate(test: bool) -> float:
    """Fit the French cosine gate on the three corpora, print what it turns away, left out in turn too."""
    found = french_cosines(CORPORA)
    bar = highest_bar(fitted_on(found, CORPORA), MAX_TURNED_AWAY)
    rows = [[*key, *turned_away(values, bar)] for key, values in sorted(found.items()) if test or key[1] != "test"]
    headers = ["corpus", "split", "kind", "French questions", "median best cosine", f"turned away (under {bar:.4f})"]
    print("## The cosine gate, fitted on the three corpora\n")
    print(table(headers, rows))
    print("\n## Left out in turn: the bar fitted on the two other corpora, on the one left out\n")
    rows = []
    for name in CORPORA:
        left_bar = highest_bar(fitted_on(found, [n for n in CORPORA if n != name]), MAX_TURNED_AWAY)
        for (corpus, split, kind), values in sorted(found.items()):
            if corpus == name and (test or split != "test"):
                rows.append([corpus, split, kind, f"{left_bar:.4f}", *turned_away(values, left_bar)[2:]])
    print(table(["left out", "split", "kind", "bar", "turned away"], rows))
    return bar


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--test", action="store_true", help="the test split too, once the bar is chosen")
    parser.add_argument("--ship", action="store_true", help="write the bar into the calibration files")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"Machine: {machine()}.\n")
    dense = cosine_gate(args.test)
    print("\n## The known-terms gate of English questions\n")
    corpus = load("gold")
    weights = term_weights(corpus.retriever())
    known: dict[tuple[str, str], list[float]] = {}
    for item in corpus.items:
        if detect_language(core_question(item.question)) == "en":
            known.setdefault((item.split, item.kind), []).append(known_share(weights, item.question))
    bar = highest_bar(known[("dev", "answerable")], MAX_TURNED_AWAY)
    rows = []
    for (split, kind), values in sorted(known.items()):
        if split == "dev" or args.test:
            rows.append(["gold", split, kind, *turned_away(values, bar)])
    # another corpus, in the field of French administration: English renderings of PIAF questions, all answerable
    piaf = load("piaf")
    weights = term_weights(piaf.retriever())
    english = json.loads((ROOT / "benchmarks" / "piaf-english.json").read_text(encoding="utf-8"))["questions"]
    values = [known_share(weights, entry["question"]) for entry in english]
    rows.append(["PIAF", "held out", "answerable", *turned_away(values, bar)])
    headers = ["corpus", "split", "kind", "English questions", "median share known", f"turned away (under {bar:.4f})"]
    print(table(headers, rows))
    if args.ship:
        for path in sorted((ROOT / "assistant" / "calibrations").glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            if "support" not in record:
                continue
            if record.get("family") == "e5":  # the cosines are the default model's
                record["min_dense"] = math.floor(dense * 1e4) / 1e4
                record["min_dense_fitted_on"] = (
                    f"benchmarks/gates.py on {time.strftime('%Y-%m-%d')}: the French answerable questions of the gold "
                    "set's dev split, corpus-beta and PIAF-SPF, the highest bar that turns away none of them"
                )
            record["min_known_en"] = math.floor(bar * 1e4) / 1e4  # never above the bar
            record["min_known_en_fitted_on"] = (
                f"benchmarks/gates.py on {time.strftime('%Y-%m-%d')}: the English questions of the gold set's dev "
                f"split, the highest bar that turns away at most {MAX_TURNED_AWAY:.0%} of the answerable ones"
            )
            path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            print(f"written to {path}")


if __name__ == "__main__":
    main()
