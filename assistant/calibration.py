"""Fitting the support model: from questions with known answers to the weights and the bar that decide what is
quoted and when to say "not found".

Every candidate sentence of a question's retrieved passages has the support features of
``assistant.answering.support.FEATURES``; it is a positive example when it holds an expected snippet of the expected
document. The support model is scikit-learn's logistic regression on standardised features, classes balanced within
each corpus and every corpus weighing the same, so that no corpus's size or style dominates. The bar is the highest
best-support threshold that keeps answerable questions (whose answer was retrieved) abstaining at most
``MAX_ABSTAIN`` on average over the corpora.

The shipped calibration is fitted by ``benchmarks/calibrate.py`` on three corpora, whose observations ship too
(``calibrations/<family>-observations.npz``), so that ``assistant calibrate --gold my-questions.json`` fits on a
user's questions together with them and writes ``calibration.json`` beside the index.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from assistant.answering import candidates as sentences
from assistant.answering.language import core_question, detect_language
from assistant.answering.support import FEATURES
from assistant.evaluation import normalize
from assistant.profiles import CALIBRATION, ModelProfile, SupportModel
from assistant.retrieval import Retriever

MAX_ABSTAIN = 0.03  # answerable questions whose answer was retrieved, on average over the corpora fitted on
WRONG_ANSWER_COST = 3.0  # an unanswerable question answered (a citation attached), against an answerable one abstained
DECISION_MARGIN = 0.01  # how far from the bar a support must be for a decision to count as taken (decision_cost)
C = 1.0  # inverse regularisation strength of the logistic regression
KINDS = ("answerable", "in_domain", "out_of_domain")


@dataclass(frozen=True)
class Question:
    """A question with what answers it: ``kind`` is "answerable" (open ones too), "in_domain" or "out_of_domain"."""

    question: str
    kind: str
    source: str = ""
    snippets: tuple[str, ...] = ()


def questions_of(gold: dict) -> list[Question]:
    """The questions of a gold file (the format of benchmarks/gold-beta.json; docs/calibration.md).

    >>> [q.kind for q in questions_of({"answerable": [{"question": "Q ?", "source": "a.md", "snippet": "s"}],
    ...  "unanswerable": [{"question": "R ?"}]})]
    ['answerable', 'in_domain']
    """
    if not isinstance(gold, dict):
        raise ValueError("a gold file is a JSON object with 'answerable', 'open' and 'unanswerable' lists")
    out = []
    for name in ("answerable", "open"):
        for number, entry in enumerate(gold.get(name, [])):
            try:
                snippets = tuple(entry.get("snippets") or [entry["snippet"]])
                out.append(Question(str(entry["question"]), "answerable", str(entry["source"]), snippets))
            except (AttributeError, KeyError, TypeError):
                raise ValueError(f"{name}[{number}] needs question, source and snippet (or snippets)") from None
    for number, entry in enumerate(gold.get("unanswerable", [])):
        kind = entry.get("kind", "in_domain") if isinstance(entry, dict) else None
        if kind not in ("in_domain", "out_of_domain") or "question" not in entry:
            raise ValueError(f"unanswerable[{number}] needs a question, and kind in_domain or out_of_domain")
        out.append(Question(str(entry["question"]), kind))
    return out


@dataclass
class Observed:
    """One question as the answering sees it: its candidates' features, and which hold an expected snippet."""

    corpus: str
    kind: str
    language: str
    features: np.ndarray  # one row per candidate, columns FEATURES
    right: np.ndarray  # bool per candidate


def observe(corpus: str, questions: Iterable, retriever_for: Callable[[object], Retriever]) -> list[Observed]:
    """The candidates of each question (anything with question, kind, source and snippets), as ``ask`` finds them."""
    out = []
    for item in questions:
        retriever = retriever_for(item)
        question = core_question(item.question)
        passages = retriever.search(question, k=5)
        found = sentences.candidates(retriever, question, passages)
        wanted = [normalize(s) for s in item.snippets]
        right = [c.passage.source == item.source and any(w in normalize(c.text) for w in wanted) for c in found]
        rows = np.asarray([c.features for c in found], dtype=np.float64).reshape(-1, len(FEATURES))
        out.append(Observed(corpus, item.kind, detect_language(question), rows, np.asarray(right, dtype=bool)))
    return out


def fit(observed: list[Observed], columns: list[int] | None = None) -> SupportModel:
    """The support model, with its bar, fitted on the French candidates of ``observed``; ``columns`` keeps some
    features only (the others weigh nothing)."""
    from sklearn.linear_model import LogisticRegression

    columns = list(range(len(FEATURES))) if columns is None else columns
    french = [o for o in observed if o.language == "fr" and len(o.features)]
    x = np.concatenate([o.features[:, columns] for o in french])
    y = np.concatenate([o.right for o in french]).astype(int)
    if len(set(y)) < 2:
        raise ValueError("no candidate sentence holds an expected snippet: nothing to fit on")
    groups = np.concatenate([[o.corpus] * len(o.features) for o in french])
    weight = np.zeros(len(y))
    names = sorted(set(groups))
    for name in names:
        for label in (0, 1):
            chosen = (groups == name) & (y == label)
            if chosen.any():
                weight[chosen] = len(y) / (2 * len(names) * chosen.sum())
    mean, scale = x.mean(0), x.std(0) + 1e-9
    model = LogisticRegression(C=C, max_iter=2000).fit((x - mean) / scale, y, sample_weight=weight)
    raw = model.coef_[0] / scale
    weights = {FEATURES[c]: round(float(w), 4) for c, w in zip(columns, raw)}
    support = SupportModel(weights, round(float(model.intercept_[0] - raw @ mean), 4), 0.0)
    return replace(support, bar=choose_bar(support, observed))


def best_support(model: SupportModel, observed: Observed) -> float:
    return float(model.score(observed.features, FEATURES).max()) if len(observed.features) else 0.0


def choose_bar(model: SupportModel, observed: list[Observed]) -> float:
    """The highest bar that keeps answerable questions whose answer was retrieved abstaining at most MAX_ABSTAIN
    on average over the corpora (each weighing the same)."""
    supports: dict[str, list[float]] = {}
    for o in observed:
        if o.kind == "answerable" and o.right.any():
            supports.setdefault(o.corpus, []).append(best_support(model, o))

    def abstained(bar: float) -> float:
        return float(np.mean([np.mean(np.asarray(values) < bar) for values in supports.values()]))

    bars = sorted({round(b - 1e-4, 4) for values in supports.values() for b in values} | {0.0})
    return max(b for b in bars if abstained(b) <= MAX_ABSTAIN)


def _decision(model: SupportModel, observed: Observed) -> tuple[bool, bool]:
    """Whether ``model`` answers the question, and whether it quotes first a sentence holding the expected answer."""
    if not len(observed.features):
        return False, False
    supports = model.score(observed.features, FEATURES)
    best = int(np.argmax(supports))
    answered = bool(supports[best] >= model.bar)
    return answered, answered and bool(observed.right[best])


def _figures(decided: list[tuple[Observed, tuple[bool, bool]]]) -> dict[str, float | None]:
    answerable = [decision for observed, decision in decided if observed.kind == "answerable"]
    unanswerable = [answered for observed, (answered, _) in decided if observed.kind != "answerable"]

    def share(values: list[bool]) -> float | None:
        return float(np.mean(values)) if values else None

    return {
        "abstained_answerable": share([not answered for answered, _ in answerable]),
        "right_sentence_first": share([right for _, right in answerable]),
        "abstained_unanswerable": share([not answered for answered in unanswerable]),
    }


def judge(model: SupportModel, observed: list[Observed]) -> dict[str, float | None]:
    """How ``model`` decides on the questions of ``observed``, read off their candidates (the best support against the
    bar; the gates of questions out of the field play no part): answerable questions abstained, those answered with
    a sentence holding the expected answer quoted first, and unanswerable questions abstained."""
    return _figures([(o, _decision(model, o)) for o in observed])


def decision_cost(model: SupportModel, observed: list[Observed]) -> float:
    """What ``model``'s decisions cost on ``observed``: over its corpora (each weighing the same), the share of
    answerable questions abstained plus WRONG_ANSWER_COST times the share of unanswerable ones answered. Decisions
    are read pessimistically, as if every best support stood DECISION_MARGIN on the wrong side of where it is: a
    decision that a rounding would turn is not counted on."""
    costs = []
    for corpus in sorted({o.corpus for o in observed}):
        mine = [o for o in observed if o.corpus == corpus]
        abstained = [best_support(model, o) < model.bar + DECISION_MARGIN for o in mine if o.kind == "answerable"]
        answered = [best_support(model, o) >= model.bar - DECISION_MARGIN for o in mine if o.kind != "answerable"]
        cost = float(np.mean(abstained)) if abstained else 0.0
        costs.append(cost + (WRONG_ANSWER_COST * float(np.mean(answered)) if answered else 0.0))
    return float(np.mean(costs))


def weigh_by_decisions(
    model: SupportModel, observed: list[Observed], features: Iterable[str], grid: Iterable[float] | None = None
) -> SupportModel:
    """``model`` with each of ``features`` weighed in turn, the other weights held: of the weights of ``grid``
    (negative: evidence against), the one nearest zero among those whose decisions cost least (``decision_cost``).

    For evidence that nearly never fires on a sentence holding the answer (a name the question gives that the document
    lacks), a logistic fit cannot tell one strong weight from another; the decisions can.
    """
    grid = sorted({round(-float(g), 2) for g in np.geomspace(0.25, 50, 48)} if grid is None else set(grid))
    for feature in features:
        costs = [
            (round(decision_cost(replace(model, weights={**model.weights, feature: g}), observed), 9), g) for g in grid
        ]
        lowest = min(cost for cost, _ in costs)
        chosen = min((g for cost, g in costs if cost == lowest), key=abs)
        model = replace(model, weights={**model.weights, feature: chosen})
    return model


def held_out(
    mine: list[Observed], shipped: list[Observed], before: SupportModel, folds: int = 5
) -> dict[str, dict[str, float | None]]:
    """Your questions, each judged by a fit that did not see it: they are cut into ``folds`` parts, and each part is
    judged by the model fitted on the other parts and the shipped observations (as ``calibrate_on`` fits); beside it,
    ``before`` (the calibration in use) on the same questions. The figures of a calibration on its own questions are
    flattered by the fit: these are not."""
    order = np.random.default_rng(0).permutation(len(mine))
    parts = [[mine[i] for i in order[start::folds]] for start in range(folds)]
    before_decided, after_decided = [], []
    for number, part in enumerate(parts):
        rest = [o for other, kept in enumerate(parts) if other != number for o in kept]
        try:
            model = fit(rest + shipped)
        except ValueError:  # no question of the rest has its answer among its candidates: nothing to fit on
            continue
        before_decided += [(o, _decision(before, o)) for o in part]
        after_decided += [(o, _decision(model, o)) for o in part]
    return {"before": _figures(before_decided), "after": _figures(after_decided)}


# --- the observations that ship with a calibration ------------------------------------------------------------------


def save_observations(observed: list[Observed], path: Path) -> None:
    """Write observations as arrays (no pickle): every candidate's features and label, and whose question it is."""
    sizes = np.asarray([len(o.features) for o in observed], dtype=np.int64)
    np.savez_compressed(
        path,
        features=np.concatenate([o.features for o in observed]).astype(np.float32),
        right=np.concatenate([o.right for o in observed]),
        sizes=sizes,
        corpus=np.asarray([o.corpus for o in observed]),
        kind=np.asarray([o.kind for o in observed]),
        language=np.asarray([o.language for o in observed]),
        names=np.asarray(FEATURES),
    )


def load_observations(path) -> list[Observed]:
    """Observations written by save_observations; features the code has since gained are 0 for them."""
    with np.load(path, allow_pickle=False) as data:
        names, stored = list(data["names"]), data["features"].astype(np.float64)
        features = np.zeros((len(stored), len(FEATURES)))
        for column, name in enumerate(names):
            if name in FEATURES:
                features[:, FEATURES.index(name)] = stored[:, column]
        bounds = np.concatenate([[0], np.cumsum(data["sizes"])])
        return [
            Observed(str(corpus), str(kind), str(language), features[a:b], data["right"][a:b])
            for corpus, kind, language, a, b in zip(data["corpus"], data["kind"], data["language"], bounds, bounds[1:])
        ]


def shipped_observations(family: str) -> list[Observed]:
    source = resources.files("assistant").joinpath(f"calibrations/{family}-observations.npz")
    if not source.is_file():
        return []
    with resources.as_file(source) as path:
        return load_observations(path)


def calibrate_on(
    gold: dict, retriever: Retriever, write_to: Path | None = None, shipped: list[Observed] | None = None
) -> tuple[ModelProfile, list[Observed], str]:
    """Fit the support model on the questions of ``gold`` (asked of ``retriever``'s index) together with the shipped
    corpora's observations (``shipped``, read from the package when not given); with ``write_to``, record it there
    (a calibration file). Returns the new profile, the user's observations and what it was fitted on."""
    questions = questions_of(gold)
    if not any(q.kind == "answerable" for q in questions):
        raise ValueError("the gold file has no answerable question: nothing to fit on")
    mine = observe("yours", questions, lambda _: retriever)
    shipped = shipped_observations(retriever.profile.family) if shipped is None else shipped
    model = fit(mine + shipped)
    corpora = sorted({o.corpus for o in shipped})
    fitted_on = f"your {len(questions)} questions" + (f", and the shipped {', '.join(corpora)}" if corpora else "")
    profile = replace(retriever.profile, support=model, general=None)  # fitted on your corpus: used for it
    if write_to is not None:
        record = {
            "family": profile.family,
            "fitted_at": time.strftime("%Y-%m-%d"),
            "fitted_on": f"assistant calibrate: {fitted_on}",
            "keyword_weight": profile.keyword_weight,
            "document_weight": profile.document_weight,
            "min_dense": profile.min_dense,
            "min_dense_en": profile.min_dense_en,
            "min_known": profile.min_known,
            "min_known_en": profile.min_known_en,
            "english_terms": profile.english_terms,
            "min_claim": profile.min_claim,
            "support": {"weights": model.weights, "bias": model.bias, "bar": model.bar},
        }
        if profile.claim is not None:  # the claim check is not fitted on questions: the shipped one is kept
            claim = profile.claim
            record["claim"] = {"weights": claim.weights, "bias": claim.bias, "bar": claim.bar}
        Path(write_to).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return profile, mine, fitted_on


def calibration_path(index_dir: Path) -> Path:
    return Path(index_dir) / CALIBRATION
