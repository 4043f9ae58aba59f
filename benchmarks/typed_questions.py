"""The gold set's questions as people type them: without accents, in lower case, without the question mark, with
a greeting or thanks around them. Each variant is asked of the default corpus and index, as `assistant eval` asks
the questions as written.

    python benchmarks/typed_questions.py [--test]

Prints, for each variant, the answer figures of the dev split (and of the test split with ``--test``, to look at
once choices are made).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys

from common import ROOT, table

sys.path.insert(0, str(ROOT))

from assistant.answering.language import detect_language  # noqa: E402
from assistant.api import build_index
from assistant.evaluation import evaluate, load_gold  # noqa: E402
from assistant.keywords import fold_accents  # noqa: E402
from assistant.retrieval import open_retriever  # noqa: E402
from assistant.settings import Settings  # noqa: E402

FIGURES = (
    "gold_in_answer",
    "abstained_answerable",
    "abstained_in_domain",
    "abstained_out_of_domain",
    "follow_up_hit@5",
)
FRENCH_COURTESIES = (
    "Bonjour, {lower}",
    "Pourriez-vous me dire {lower}",
    "{question} Merci !",
    "Bonjour ! Je voudrais savoir : {lower}",
    "{question} Merci d'avance",
    "Bonsoir, une question : {question}",
)
ENGLISH_COURTESIES = ("Hi, could you tell me {lower}", "{question} Thanks!", "Hello! {question}")


def courteous():
    """Each question wrapped in a greeting, a request or thanks, in turn."""
    turns = itertools.count()

    def wrap(question: str) -> str:
        forms = ENGLISH_COURTESIES if detect_language(question) == "en" else FRENCH_COURTESIES
        lower = question[:1].lower() + question[1:]
        return forms[next(turns) % len(forms)].format(question=question, lower=lower)

    return wrap


VARIANTS = {
    "as written": lambda: str,
    "without accents": lambda: fold_accents,
    "in lower case": lambda: str.lower,
    "without the question mark": lambda: lambda question: question.rstrip(" ?"),
    "with a greeting or thanks": courteous,
}


def rewritten(gold: dict, change) -> dict:
    out = dict(gold)
    for part in ("answerable", "open", "unanswerable", "follow_ups"):
        out[part] = []
        for item in gold.get(part, []):
            item = {**item, "question": change(item["question"])}
            if "first" in item:  # a follow-up's first question is typed the same way
                item["first"] = change(item["first"])
            out[part].append(item)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--test", action="store_true", help="also the test split")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env().with_(corpus_dir=ROOT / "corpus", index_dir=ROOT / "index")
    build_index(settings=settings)
    retriever = open_retriever(settings)
    gold = load_gold()
    for split in ("dev", "test") if args.test else ("dev",):
        rows = []
        for name, variant in VARIANTS.items():
            figures = evaluate(rewritten(gold, variant()), settings, split=split, retriever=retriever)
            rows.append([name, *(figures[figure] for figure in FIGURES)])
        print(f"## {split}\n")
        print(table(["questions typed", *FIGURES], rows))
        print()


if __name__ == "__main__":
    main()
