"""Calibrate answering for an embedding model on the gold set's dev split, and check it on the test split.

    python benchmarks/calibrate.py [--model NAME] [--test]

Fits the support model (a logistic regression over assistant.answering.support.FEATURES: a candidate sentence is
positive when it holds the gold snippet) on the dev questions, then sets the bars:
- min_dense / min_dense_en: under the best passage's cosine of every answerable dev question, and over that of
  the out-of-domain ones where possible;
- the support bar: the highest that keeps answerable dev questions abstaining at most MAX_ABSTAIN.
Prints the values to record in assistant/profiles.py, then the gold-set figures of the dev split with them, and of
the test split with ``--test``. The test split is never used to choose anything, and stays out of sight while
choosing: look at it once, when the choices are made.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from dataclasses import dataclass, replace

import numpy as np
from common import CACHE, ROOT

sys.path.insert(0, str(ROOT))

from assistant.answering import answers  # noqa: E402
from assistant.answering import candidates as sentences  # noqa: E402
from assistant.answering.language import detect_language  # noqa: E402
from assistant.answering.support import FEATURES, question_needs  # noqa: E402
from assistant.api import build_index, open_retriever  # noqa: E402
from assistant.evaluation import evaluate, format_table, load_gold, normalize  # noqa: E402
from assistant.profiles import SupportModel  # noqa: E402
from assistant.settings import Settings  # noqa: E402

MAX_ABSTAIN = 0.02  # on dev, so that test stays under the 4% target
# The cosine gate only turns away questions about nothing in the documents: it sits well under every answerable
# dev question, since e5 cosines of answerable and unrelated questions lie close together.
DENSE_MARGIN = 0.03


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 4000) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression by gradient descent on standardised features; weights for raw ones."""
    mean, scale = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / scale
    sample = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        gradient = sample * (p - y)
        w -= 0.5 * (z.T @ gradient / len(y) + l2 * w)
        b -= 0.5 * gradient.mean()
    weights = w / scale
    return weights, float(b - weights @ mean)


@dataclass
class Seen:
    """One dev question as the current pipeline sees it."""

    item: dict
    kind: str  # "answerable", "in_domain", "out_of_domain"
    language: str
    best_dense: float
    found: list  # candidates.Candidate, best first
    right: list[bool]  # whether each candidate holds a gold snippet from the gold source
    known: float


def calibrate_claims(retriever, gold, splits: tuple[str, ...]) -> float:
    """The bar of answers.claim_support: a claim ("question : gold snippet") against its gold passage (backed) and
    against the best passage of another document (not backed), on dev; accuracy on each split in ``splits`` printed."""
    pairs = {"dev": [], "test": []}
    for item in gold["answerable"]:
        claim = f"{item['question'].rstrip(' ?')} : {item['snippet']}"
        passages = retriever.search(item["question"], k=10)
        right = [p for p in passages if p.source == item["source"] and normalize(item["snippet"]) in normalize(p.text)]
        other = [p for p in passages if p.source != item["source"]]
        if right and other:
            pairs[item["split"]] += [(answers.claim_support(retriever, claim, right[0]), 1)]
            pairs[item["split"]] += [(answers.claim_support(retriever, claim, other[0]), 0)]

    def accuracy(bar, split):
        return sum((score >= bar) == bool(label) for score, label in pairs[split]) / len(pairs[split])

    bars = sorted(score for score, _ in pairs["dev"])
    bar = max(bars, key=lambda b: (accuracy(b, "dev"), -b))
    print(f"claim bar {bar:.3f}: accuracy", ", ".join(f"{split} {accuracy(bar, split):.3f}" for split in splits))
    return round(bar, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None, help="embedding model (default: the default one)")
    parser.add_argument("--test", action="store_true", help="report the test split too (once the choices are made)")
    args = parser.parse_args()
    splits = ("dev", "test") if args.test else ("dev",)
    logging.basicConfig(level=logging.WARNING)
    gold = load_gold()
    root = CACHE / "calibrate" / (args.model or "default").replace("/", "_")
    if not (root / "corpus").exists():
        shutil.copytree(ROOT / "corpus", root / "corpus")
    settings = Settings.from_env(corpus_dir=root / "corpus", index_dir=root / "index", embedding_model=args.model)
    build_index(settings=settings)
    retriever = open_retriever(settings)
    profile = retriever.profile
    weights_of = sentences.term_weights(retriever)

    def dev(name):
        return [item for item in gold.get(name, []) if item.get("split") == "dev"]

    retriever.profile = profile = replace(profile, min_known=0.0)
    seen: list[Seen] = []
    for item, kind in [(i, "answerable") for i in dev("answerable") + dev("open")] + [
        (i, i.get("kind", "in_domain")) for i in dev("unanswerable")
    ]:
        passages = retriever.search(item["question"], k=5)
        wanted = [normalize(s) for s in item.get("snippets") or ([item["snippet"]] if "snippet" in item else [])]
        found = sentences.candidates(retriever, item["question"], passages)
        right = [c.passage.source == item.get("source") and any(w in normalize(c.text) for w in wanted) for c in found]
        seen.append(
            Seen(
                item,
                kind,
                detect_language(item["question"]),
                max(p.dense_score for p in passages),
                found,
                right,
                weights_of.known_share(question_needs(item["question"]).terms),
            )
        )
    french = [s for s in seen if s.language == "fr"]
    x = np.asarray([c.features for s in french for c in s.found], dtype=np.float64)
    y = np.asarray([label for s in french for label in s.right], dtype=np.float64)
    weights, bias = fit_logistic(x, y)
    print(f"{len(y)} candidate sentences of French dev questions, {int(y.sum())} holding a gold answer")
    print("weights:", ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, weights)), f"bias {bias:+.2f}")
    model = SupportModel(tuple(round(float(w), 3) for w in weights), round(bias, 3), 0.0)

    def lowest(values):
        return min(values, default=1.0)

    def cosines(language, kind):
        return sorted(round(s.best_dense, 3) for s in seen if s.language == language and s.kind == kind)

    min_dense = round(lowest(cosines("fr", "answerable")) - DENSE_MARGIN, 3)
    min_dense_en = round(lowest(cosines("en", "answerable")) - DENSE_MARGIN, 3)
    for language in ("fr", "en"):
        print(
            f"{language} best cosine: answerable >= {lowest(cosines(language, 'answerable')):.3f},"
            f" out of domain {cosines(language, 'out_of_domain')}, in domain unanswerable"
            f" {cosines(language, 'in_domain')}"
        )
    french_known = [s.known for s in french if s.kind == "answerable"]
    min_known = round(lowest(french_known) - 0.05, 3)
    # English term features: the medians of the best gold-holding candidate of each answered French question.
    best_gold = [next(c for c, r in zip(s.found, s.right) if r).features for s in french if any(s.right)]
    typical = np.median(np.asarray(best_gold), axis=0)
    english_terms = tuple(
        round(float(typical[FEATURES.index(n)]), 3) for n in ("sentence_terms", "passage_terms", "focus", "known")
    )
    retriever.profile = profile = replace(
        profile,
        min_known=min_known,
        english_terms=english_terms,
        support=model,
        min_dense=min_dense,
        min_dense_en=min_dense_en,
    )

    def best_support(item) -> float:
        found = sentences.candidates(retriever, item["question"], retriever.search(item["question"], k=5))
        return max((c.support for c in found), default=0.0)

    supports = {kind: [] for kind in ("answerable", "in_domain", "out_of_domain")}
    for s in seen:
        if s.kind != "answerable" or any(s.right):  # an answerable question whose answer was not retrieved abstains
            supports[s.kind].append(best_support(s.item))
    ordered = sorted(supports["answerable"])
    bar = round(ordered[int(MAX_ABSTAIN * len(ordered))] - 1e-3, 3)
    print(f"known share of French answerable questions >= {lowest(french_known):.3f}: min_known {min_known}")
    print(
        f"{len(supports['answerable'])} answerable dev questions with their answer retrieved; lowest best supports:"
        f" {np.round(ordered[:10], 3).tolist()}"
    )
    print(f"in-domain unanswerable best supports: {np.round(sorted(supports['in_domain']), 3).tolist()}")
    retriever.profile = profile = replace(profile, support=replace(model, bar=bar))
    print(f"\nRecord in assistant/profiles.py ({profile.family}):")
    print(f"    min_dense={min_dense},\n    min_dense_en={min_dense_en},\n    min_known={min_known},")
    print(f"    english_terms={english_terms},\n    support=SupportModel({model.weights}, {model.bias}, {bar}),")
    min_claim = calibrate_claims(retriever, gold, splits)
    print(f"    min_claim={min_claim},")
    retriever.profile = replace(retriever.profile, min_claim=min_claim)
    figures = {split: evaluate(gold, settings, split=split, retriever=retriever) for split in splits}
    print()
    print(format_table(figures))


if __name__ == "__main__":
    main()
