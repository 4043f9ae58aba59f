"""How many of your own questions ``assistant calibrate`` needs: a corpus the shipped calibration was not fitted on
plays your documents.

    python benchmarks/your_questions.py [--sizes 10 20 40] [--draws 20] [--corpus beta piaf]

For corpus-beta and PIAF-SPF in turn (``corpora.py``; the shipped calibration was fitted on the default corpus):
every question's candidates as the code reads them now, then, ``--draws`` times, n questions drawn at random as
"yours" (answerable and unanswerable alike, a PIAF question with both its readings) and the others held out. What
``assistant calibrate`` would fit on them (``assistant.calibration.fit``, on yours and the shipped observations of the
corpora other than this one) is judged on the held-out questions beside the support model fitted on the default
corpus and the general one as it would be without this corpus (fitted on the other corpora's observations, as a
corpus of yours is answered before you calibrate): answerable questions
abstained, unanswerable ones abstained, and answerable ones answered with a sentence that holds the expected answer
quoted first. Means over the draws, read off the candidates (the best support against the bar), so the gate of
questions out of the field plays no part.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace

import numpy as np
from common import ROOT, machine, table
from corpora import load

sys.path.insert(0, str(ROOT))

from assistant.calibration import Observed, fit, judge, observe, shipped_observations  # noqa: E402
from assistant.profiles import DEFAULT_MODEL, SupportModel, profile_for  # noqa: E402

CORPORA = ("beta", "piaf")  # corpora the shipped support model was not fitted on


FIGURES = ("abstained_answerable", "abstained_unanswerable", "right_sentence_first")


def judged(model: SupportModel, observed: list[Observed]) -> list[float]:
    figures = judge(model, observed)
    return [figures[name] for name in FIGURES]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 20, 40], help="how many questions are yours")
    parser.add_argument("--draws", type=int, default=20, help="random draws per size")
    parser.add_argument("--corpus", nargs="+", default=list(CORPORA), choices=CORPORA)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for name in args.corpus:
        corpus = load(name)
        profile = corpus.retriever().profile
        default = profile_for(profile.family if profile.family != "e5" else DEFAULT_MODEL).support  # the gold fit
        by_question: dict[str, list[Observed]] = {}
        for item, seen in zip(corpus.items, observe(name, corpus.items, corpus.for_item)):
            if item.kind != "out_of_domain" and seen.language == "fr" and len(seen.features):
                by_question.setdefault(item.question, []).append(seen)
        questions = sorted(by_question)
        others = [o for o in shipped_observations(profile.family) if o.corpus != name]
        general = fit(others)  # the general model, without this corpus
        rng = np.random.default_rng(0)
        for size in args.sizes:
            before, without, after = [], [], []
            for _ in range(args.draws):
                drawn = set(rng.choice(len(questions), size=size, replace=False).tolist())
                mine = [o for i, q in enumerate(questions) if i in drawn for o in by_question[q]]
                held = [o for i, q in enumerate(questions) if i not in drawn for o in by_question[q]]
                yours = [replace(o, corpus="yours") for o in mine]
                if not any(o.right.any() for o in yours):
                    continue  # nothing to fit on: assistant calibrate refuses such a file
                before.append(judged(default, held))
                without.append(judged(general, held))
                after.append(judged(fit(yours + others), held))
            label = f"{name} ({len(questions)} questions)"
            rows.append([label, size, len(after), "the default corpus's", *np.mean(before, axis=0)])
            rows.append([label, size, len(after), "general (without it)", *np.mean(without, axis=0)])
            rows.append([label, size, len(after), "calibrated on yours", *np.mean(after, axis=0)])
    print(f"Machine: {machine()}.\n")
    headers = ["your documents", "your questions", "draws", "calibration", "answerable abstained"]
    headers += ["unanswerable abstained", "answered, right sentence first"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
