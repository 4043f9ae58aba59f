"""How well generated claims are checked against the passage they cite (benchmarks/claims.json).

Every claim of the set cites the passage of the default index that holds its sentence. A faithful claim must be
accepted (the passage states it), a perturbed one rejected (one fact changed). Prints, for each split, the share of
faithful claims accepted and of perturbed claims rejected (by batch of the set, and over both), then the rejected
share by kind of change.

    python benchmarks/claims.py [--test] [--show] [--fit] [--likeness] [--english] [--index DIR]

``--test`` adds the test split (to look at once choices are made); ``--show`` lists the claims judged wrongly;
``--likeness`` judges as before agreement was checked (cosine and terms against the profile's min_claim).
``--english`` judges the English claims of ``benchmarks/claims-english.json`` instead (a language model answering an
English question about French passages); ``--fit`` always fits on the French set's dev split.
``--fit`` fits the claim model (assistant.answering.claims) on the dev split and writes it into the calibration
file of the index's model family, then reports with it: for each faithful claim, the window of its own sentence
is a positive and the windows away from it negatives; every window of a perturbed claim is a negative, and so is
every window for a faithful claim of another item (a marker put on the wrong source). A feature whose weight comes
out with the wrong sign (evidence against a claim counting for it) is dropped and the model fitted again. The bar
is the one that judges most dev claims rightly (faithful accepted plus perturbed rejected, each kind weighing the
same).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import ROOT, table

sys.path.insert(0, str(ROOT))

from assistant.answering.answers import claim_support  # noqa: E402
from assistant.answering.claims import CLAIM_FEATURES, CLAIM_SIGNS, check_claim, claim_windows  # noqa: E402
from assistant.keywords import analyze  # noqa: E402
from assistant.profiles import SupportModel  # noqa: E402
from assistant.retrieval import open_retriever  # noqa: E402
from assistant.settings import Settings  # noqa: E402

CLAIMS = ROOT / "benchmarks" / "claims.json"
ENGLISH = ROOT / "benchmarks" / "claims-english.json"


def passage_of(retriever, source: str, sentence: str):
    """The retrieved passage of ``source`` that holds ``sentence`` (whitespace folded)."""
    for passage in retriever.search(sentence, k=20, source=source):
        if sentence in " ".join(passage.text.split()):
            return passage
    raise SystemExit(f"no passage of {source} holds: {sentence[:80]}")


def judged(retriever, items: list[dict], likeness: bool = False) -> list[tuple[str, str, str, bool, int]]:
    """(split, change or "faithful", claim, accepted, batch) for every claim of ``items``."""
    profile = retriever.profile
    if likeness or profile.claim is None:

        def supported(claim, passage):
            return claim_support(retriever, claim, passage) >= profile.min_claim
    else:

        def supported(claim, passage):
            return check_claim(retriever, claim, passage, profile.claim).support >= profile.claim.bar

    rows = []
    for item in items:
        passage = passage_of(retriever, item["source"], item["sentence"])
        batch = item.get("batch", 1)
        for claim in item["faithful"]:
            rows.append((item["split"], "faithful", claim, supported(claim, passage), batch))
        for perturbed in item["perturbed"]:
            claim = perturbed["claim"]
            rows.append((item["split"], perturbed["change"], claim, supported(claim, passage), batch))
    return rows


def _own_window(windows: list, sentence: str) -> int:
    """The window whose sentence is most of the item's sentence."""
    wanted = set(analyze(sentence))

    def share(position: int) -> float:
        terms = set(analyze(windows[position][0]))
        return len(terms & wanted) / (len(terms) or 1)

    return max(range(len(windows)), key=share)


def fit(retriever, items: list[dict]) -> SupportModel:
    """The claim model fitted on the dev items (see the module's text)."""
    from sklearn.linear_model import LogisticRegression

    x, y, groups = [], [], []
    dev = [item for item in items if item["split"] == "dev"]
    for item in dev:
        passage = passage_of(retriever, item["source"], item["sentence"])
        for claim in item["faithful"]:
            windows = claim_windows(retriever, claim, passage)
            own = _own_window(windows, item["sentence"])
            for position, (_, features) in enumerate(windows):
                if abs(position - own) > 1 or position == own:
                    x.append(features), y.append(int(position == own)), groups.append("faithful")
        for perturbed in item["perturbed"]:
            for _, features in claim_windows(retriever, perturbed["claim"], passage):
                x.append(features), y.append(0), groups.append("perturbed")
        # a claim about another document, citing this passage (a marker put on the wrong source)
        for other in dev[(dev.index(item) + 7) % len(dev)]["faithful"]:
            for _, features in claim_windows(retriever, other, passage):
                x.append(features), y.append(0), groups.append("elsewhere")
    x, y = np.asarray(x), np.asarray(y)
    weight = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    kept = list(range(len(CLAIM_FEATURES)))
    while True:  # a feature whose weight comes out with the wrong sign is dropped, and the model fitted again
        mean, scale = x[:, kept].mean(0), x[:, kept].std(0) + 1e-9
        model = LogisticRegression(C=1.0, max_iter=2000).fit((x[:, kept] - mean) / scale, y, sample_weight=weight)
        raw = model.coef_[0] / scale
        wrong = [c for c, w in zip(kept, raw) if w * CLAIM_SIGNS[c] < 0]
        if not wrong:
            break
        kept.remove(wrong[0])
    weights = {CLAIM_FEATURES[c]: round(float(w), 4) for c, w in zip(kept, raw)}
    claim = SupportModel(weights, round(float(model.intercept_[0] - raw @ mean), 4), 0.5)
    return choose_bar(retriever, items, claim)


def choose_bar(retriever, items: list[dict], claim: SupportModel) -> SupportModel:
    faithful, perturbed = [], []
    for item in items:
        if item["split"] != "dev":
            continue
        passage = passage_of(retriever, item["source"], item["sentence"])
        faithful += [check_claim(retriever, c, passage, claim).support for c in item["faithful"]]
        perturbed += [check_claim(retriever, p["claim"], passage, claim).support for p in item["perturbed"]]
    faithful, perturbed = np.asarray(faithful), np.asarray(perturbed)

    def right(bar: float) -> float:
        return float(np.mean(faithful >= bar) + np.mean(perturbed < bar))

    bars = sorted(set(np.round(np.concatenate([faithful, perturbed]) + 1e-4, 4)))
    best = max(right(bar) for bar in bars)
    chosen = [bar for bar in bars if right(bar) == best]
    return SupportModel(claim.weights, claim.bias, float(chosen[len(chosen) // 2]))


def write(claim: SupportModel, family: str) -> Path:
    path = ROOT / "assistant" / "calibrations" / f"{family}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["claim"] = {
        "weights": claim.weights,
        "bias": claim.bias,
        "bar": claim.bar,
        "fitted_on": "benchmarks/claims.py --fit: the dev split of benchmarks/claims.json on the default corpus",
        "fitted_at": time.strftime("%Y-%m-%d"),
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", action="store_true", help="report the test split too")
    parser.add_argument("--show", action="store_true", help="list the claims judged wrongly")
    parser.add_argument("--fit", action="store_true", help="fit the claim model on dev and write it")
    parser.add_argument("--index", default=str(ROOT / "index"), help="the default corpus's index (of the model set)")
    parser.add_argument("--likeness", action="store_true", help="judge on likeness alone, as before")
    parser.add_argument("--english", action="store_true", help="judge the English claims about French passages")
    options = parser.parse_args()
    logging.disable(logging.WARNING)
    items = json.loads(CLAIMS.read_text(encoding="utf-8"))["items"]
    splits = ["dev", "test"] if options.test else ["dev"]
    retriever = open_retriever(Settings.from_env().with_(corpus_dir=ROOT / "corpus", index_dir=options.index))
    if options.fit:
        claim = fit(retriever, items)
        print(f"fitted: {claim}; written to {write(claim, retriever.profile.family)}")
        retriever.profile = replace(retriever.profile, claim=claim)
    if options.english:
        items = json.loads(ENGLISH.read_text(encoding="utf-8"))["items"]
    rows = judged(retriever, items, options.likeness)
    rows = [row for row in rows if row[0] in splits]
    figures = []
    batches = sorted({row[4] for row in rows})
    for split in splits:
        for batch in [*batches, "all"] if len(batches) > 1 else batches:
            chosen = [row for row in rows if row[0] == split and batch in (row[4], "all")]
            faithful = [accepted for _, change, _, accepted, _ in chosen if change == "faithful"]
            perturbed = [not accepted for _, change, _, accepted, _ in chosen if change != "faithful"]
            accepted, rejected = sum(faithful) / len(faithful), sum(perturbed) / len(perturbed)
            figures.append([split, batch, len(faithful), accepted, len(perturbed), rejected])
    print(table(["split", "batch", "faithful", "accepted", "perturbed", "rejected"], figures))
    by_change = collections.defaultdict(list)
    for _, change, _, accepted, _ in rows:
        if change != "faithful":
            by_change[change].append(not accepted)
    print()
    print(table(["change", "claims", "rejected"], [[c, len(v), sum(v) / len(v)] for c, v in sorted(by_change.items())]))
    if options.show:
        print()
        for split, change, claim, accepted, batch in rows:
            if accepted == (change != "faithful"):
                print(f"{split}\t{batch}\t{change}\t{'accepted' if accepted else 'rejected'}\t{claim}")


if __name__ == "__main__":
    main()
