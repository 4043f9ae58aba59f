"""Calibrate answering on several corpora: leave each corpus out in turn, then fit the shipped calibration on all.

    python benchmarks/calibrate.py [--model NAME] [--ablation] [--write]

The corpora are those of ``corpora.py``: the default corpus with its gold set (its dev split only: the test split
is the CI gate, never fitted on), PIAF-SPF (each question answerable, and again with its fiche left out), and
corpus-beta (``benchmarks/gold-beta.json``).

1. For every question, the candidate sentences of its retrieved passages with their support features
   (``assistant.answering.support.FEATURES``); a candidate is positive when it holds an expected snippet of the
   expected document.
2. The support model and its bar, as ``assistant.calibration.fit`` makes them (logistic regression, every corpus
   weighing the same; the bar keeps answerable questions abstaining at most MAX_ABSTAIN on the corpora fitted on).
3. Leave-one-corpus-out: fit on two corpora, report ``ask()``'s figures on the third (the gold set: its test
   split), for each in turn. ``--ablation``: the same without each feature, one at a time.
4. The fit on all corpora. ``--write`` writes the observations (``assistant/calibrations/<family>-observations.npz``),
   which ``assistant calibrate`` fits on with a user's own questions; ``--ship`` also records the fit in
   ``assistant/calibrations/<family>.json``, with what it was fitted on and when. The other numbers of the
   calibration (fusion weights, the cosine and known-terms gates for questions out of the field, the claim bar) are
   kept as they are.
5. ``--spread N``: how much a left-out figure owes to the questions fitted on: each left-out fit made again on N
   resamples of the other corpora's questions (drawn with replacement), the left-out corpus judged from its
   observations (``assistant.calibration.judge``: the best support against the bar), 10th, 50th and 90th
   percentiles. A change that moves a left-out figure by less than this spread is not told from chance.
6. ``--vetoes``: the shipped model's former vetoes (``FORMER_VETOES``: checks that once set a sentence's support to
   zero) weighed by their decisions on all corpora, the other weights held (``assistant.calibration.
   weigh_by_decisions``: the weight nearest zero among those whose decisions cost least, a wrong answer costing
   ``WRONG_ANSWER_COST`` "not found"), and recorded in the calibration file.
7. ``--general``: the fit on all corpora recorded in the calibration file as its general model, with the content
   hashes of the default corpus's documents (``support_documents``): the shipped support model was fitted on that
   corpus's questions and answers it; an index of other documents is answered with the general model
   (``ModelProfile.for_corpus``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace

import numpy as np
from common import ROOT, machine, table
from corpora import HEADERS, NAMES, Corpus, evaluation_items, figures, load, row

sys.path.insert(0, str(ROOT))

from assistant.answering.support import FEATURES  # noqa: E402
from assistant.calibration import (  # noqa: E402
    DECISION_MARGIN,
    WRONG_ANSWER_COST,
    Observed,
    decision_cost,
    fit,
    judge,
    observe,
    save_observations,
    weigh_by_decisions,
)
from assistant.profiles import ModelProfile, SupportModel  # noqa: E402

FORMER_VETOES = ("names_missing", "unfit", "untimely")


def leave_one_out(corpora: dict[str, Corpus], seen: dict[str, list[Observed]], columns: list[int]) -> dict[str, dict]:
    """For each corpus, the figures of ask() on it with a support model fitted on the others."""
    out = {}
    for name, corpus in corpora.items():
        training = [o for other, rows in seen.items() if other != name for o in rows]
        profile = replace(corpus.retriever().profile, support=fit(training, columns))
        out[name] = measured(corpus, profile)
    return out


def measured(corpus: Corpus, profile: ModelProfile) -> dict:
    retriever = corpus.retriever()
    shipped, retriever.profile = retriever.profile, profile
    try:
        return figures(corpus, evaluation_items(corpus))
    finally:
        retriever.profile = shipped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None, help="embedding model (default: the default one)")
    parser.add_argument("--corpus", nargs="+", default=list(NAMES), choices=NAMES)
    parser.add_argument("--ablation", action="store_true", help="leave-one-corpus-out without each feature too")
    parser.add_argument("--write", action="store_true", help="write the observations that assistant calibrate fits on")
    parser.add_argument("--ship", action="store_true", help="and record the fit on all corpora in the calibration file")
    parser.add_argument("--vetoes", action="store_true", help="weigh the shipped model's former vetoes and record them")
    parser.add_argument("--spread", type=int, default=0, metavar="N", help="left-out figures over N resamples")
    parser.add_argument("--general", action="store_true", help="record the fit on all corpora as the general model")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    corpora = {name: load(name, args.model) for name in args.corpus}
    seen = {}
    for name, corpus in corpora.items():
        items = [i for i in corpus.items if name != "gold" or i.split == "dev"]  # the gold test split is the gate
        seen[name] = observe(name, items, corpus.for_item)
        positives = sum(int(o.right.sum()) for o in seen[name])
        print(f"{name}: {len(items)} questions, {sum(len(o.right) for o in seen[name])} candidates, {positives} right")
    every = list(range(len(FEATURES)))
    print(f"\nMachine: {machine()}.")
    loco = leave_one_out(corpora, seen, every) if len(corpora) > 1 else {}
    if loco:
        print("\n## Leave one corpus out (each row: fitted on the others)\n")
        print(table(HEADERS, [row(name, found) for name, found in loco.items()]))
    if args.spread and len(seen) > 1:
        print(f"\n## Left out in turn, fitted on {args.spread} resamples of the others (observations)\n")
        print(table(["corpus", "figure", "fitted on all", "p10", "median", "p90"], spread(seen, args.spread)))
    shipped = {name: measured(corpus, corpus.retriever().profile) for name, corpus in corpora.items()}
    print("\n## The calibration in use, for comparison\n")
    print(table(HEADERS, [row(name, found) for name, found in shipped.items()]))
    if args.ablation and loco:
        print("\n## Ablation: leave one corpus out without each feature (mean over the corpora)\n")
        keys = ["abstained_answerable", "abstained_in_domain", "expected_quote", "right_document_cited"]

        def mean(found: dict) -> list[float]:
            return [float(np.mean([f[k] for f in found.values() if f[k] is not None])) for k in keys]

        rows = [["all features", *mean(loco)]]
        for dropped in every:
            kept = [c for c in every if c != dropped]
            rows.append([f"without {FEATURES[dropped]}", *mean(leave_one_out(corpora, seen, kept))])
        print(table(["features", *keys], rows))
    everything = [o for rows in seen.values() for o in rows]
    support = fit(everything, every)
    print(f"\nFitted on {', '.join(corpora)}: bar {support.bar}, bias {support.bias}")
    print("weights:", ", ".join(f"{name} {weight:+.3f}" for name, weight in support.weights.items()))
    family = next(iter(corpora.values())).retriever().profile.family
    folder = ROOT / "assistant" / "calibrations"
    if args.write or args.ship:
        save_observations(everything, folder / f"{family}-observations.npz")
        print(f"observations written to {folder / f'{family}-observations.npz'}")
    if args.ship:
        path = folder / f"{family}.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        record["support"] = {"weights": support.weights, "bias": support.bias, "bar": support.bar}
        record["fitted_at"] = time.strftime("%Y-%m-%d")
        described = {"gold": "the gold set's dev split", "piaf": "PIAF-SPF", "beta": "corpus-beta"}
        record["fitted_on"] = (
            "support model and bar: benchmarks/calibrate.py on "
            + ", ".join(described[name] for name in corpora)
            + "; fusion weights: benchmarks/piaf.py --sweep on PIAF-SPF; gates and claim bar: the gold dev split"
        )
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"written to {path}")
    if args.vetoes:
        weigh_vetoes(corpora, everything, folder / f"{family}.json")
    if args.general:
        record_general(corpora, support, folder / f"{family}.json")
    print(f"\n({time.perf_counter() - started:.0f} s)")


def spread(seen: dict[str, list[Observed]], draws: int) -> list[list]:
    """For each corpus left out, its figures (``judge``) under the fit on the others and under fits on ``draws``
    resamples of their questions, each corpus resampled apart: [corpus, figure, fitted on all, p10, median, p90]."""
    rng = np.random.default_rng(0)
    rows = []
    for name, held in seen.items():
        others = [rows_ for other, rows_ in seen.items() if other != name]
        whole = judge(fit([o for kept in others for o in kept]), held)
        drawn = []
        for _ in range(draws):
            sample = [kept[i] for kept in others for i in rng.integers(0, len(kept), len(kept))]
            drawn.append(judge(fit(sample), held))
        for key, value in whole.items():
            values = [found[key] for found in drawn if found[key] is not None]
            if value is not None and values:
                rows.append([name, key, value, *np.percentile(values, [10, 50, 90])])
    return rows


def record_general(corpora: dict[str, Corpus], support, path) -> None:
    """The fit on all corpora, recorded as the calibration's general model (step 7)."""
    if set(corpora) != set(NAMES):
        raise SystemExit(f"--general fits on all the corpora: {', '.join(NAMES)}")
    record = json.loads(path.read_text(encoding="utf-8"))
    described = {"gold": "the gold set's dev split", "piaf": "PIAF-SPF", "beta": "corpus-beta"}
    record["general"] = {
        "weights": support.weights,
        "bias": support.bias,
        "bar": support.bar,
        "fitted_on": "benchmarks/calibrate.py --general: " + ", ".join(described[name] for name in corpora),
        "fitted_at": time.strftime("%Y-%m-%d"),
    }
    sources = corpora["gold"].retriever().index.manifest["sources"]
    record["support_documents"] = sorted(meta["hash"] for meta in sources.values())
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"general model written to {path}")


def weigh_vetoes(corpora: dict[str, Corpus], everything: list[Observed], path) -> None:
    """The shipped model's former vetoes weighed by their decisions on all corpora (step 5), shown and recorded."""
    support = json.loads(path.read_text(encoding="utf-8"))["support"]  # the default corpus's model, as shipped
    shipped = SupportModel(support["weights"], support["bias"], support["bar"])
    weighed = weigh_by_decisions(shipped, everything, FORMER_VETOES)
    print("\n## The former vetoes weighed by their decisions (the other weights as shipped)\n")
    keys = ["abstained_answerable", "right_sentence_first", "abstained_unanswerable"]
    rows = []
    for name in corpora:
        mine = [o for o in everything if o.corpus == name]
        rows += [
            [name, label, *judge(model, mine).values()] for label, model in (("shipped", shipped), ("weighed", weighed))
        ]
    print(table(["corpus", "model", *keys], rows))
    print(f"decision cost {decision_cost(shipped, everything):.4f} -> {decision_cost(weighed, everything):.4f}")
    print(
        "weights:",
        ", ".join(f"{name} {shipped.weights.get(name)} -> {weighed.weights[name]}" for name in FORMER_VETOES),
    )
    record = json.loads(path.read_text(encoding="utf-8"))
    record["support"]["weights"] = weighed.weights
    record["former_vetoes_fitted_on"] = (
        f"benchmarks/calibrate.py --vetoes on {time.strftime('%Y-%m-%d')}: {', '.join(FORMER_VETOES)}, each the weight "
        f"nearest zero among those whose decisions on {', '.join(corpora)} cost least (answerable abstained, plus "
        f"{WRONG_ANSWER_COST:g} times unanswerable answered, each corpus weighing the same, a decision counted only "
        f"when the best support stands {DECISION_MARGIN:g} or more from the bar), the other weights held"
    )
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
