"""The calibration: a file per model family with what it was fitted on, one beside an index when a user fits on
their own questions (`assistant calibrate`), and a support model in which no rule zeroes a sentence by itself."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from helpers import ROOT

from assistant import calibration
from assistant.answering.support import FEATURES
from assistant.calibration import (
    Observed,
    decision_cost,
    fit,
    held_out,
    judge,
    load_observations,
    questions_of,
    save_observations,
    weigh_by_decisions,
)
from assistant.profiles import CALIBRATION, SupportModel, profile_for


def test_the_shipped_calibration_is_a_file_that_says_what_it_was_fitted_on():
    profile = profile_for("multilingual-e5-small")
    record = json.loads((ROOT / "assistant" / "calibrations" / "e5.json").read_text(encoding="utf-8"))
    assert profile.support.weights == record["support"]["weights"] and profile.support.bar == record["support"]["bar"]
    assert record["fitted_on"] and record["fitted_at"] and "calibrations/e5.json" in profile.calibration
    assert set(profile.support.weights) <= set(FEATURES)


def test_a_calibration_beside_the_index_replaces_the_shipped_one(tmp_path):
    record = json.loads((ROOT / "assistant" / "calibrations" / "e5.json").read_text(encoding="utf-8"))
    record["support"]["bar"] = 0.123
    (tmp_path / CALIBRATION).write_text(json.dumps(record), encoding="utf-8")
    assert profile_for("multilingual-e5-small", tmp_path).support.bar == 0.123
    assert profile_for("multilingual-e5-small", tmp_path / "elsewhere").support.bar != 0.123
    (tmp_path / CALIBRATION).write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a calibration file"):
        profile_for("multilingual-e5-small", tmp_path)


def test_a_gold_file_says_what_is_wrong_with_it():
    with pytest.raises(ValueError, match=r"answerable\[0\] needs question, source and snippet"):
        questions_of({"answerable": [{"question": "Qui ?"}]})
    with pytest.raises(ValueError, match="kind in_domain or out_of_domain"):
        questions_of({"unanswerable": [{"question": "Qui ?", "kind": "ailleurs"}]})


def _observed(corpus: str, rng, right_shift: float) -> list[Observed]:
    out = []
    for number in range(30):
        features = rng.normal(size=(6, len(FEATURES)))
        right = np.zeros(6, dtype=bool)
        if number % 3:
            right[0] = True
            features[0, 0] += right_shift  # the right sentence is the closest in meaning
        out.append(Observed(corpus, "answerable" if number % 3 else "in_domain", "fr", features, right))
    return out


def test_fit_weighs_every_corpus_the_same_and_observations_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    observed = _observed("a", rng, 3.0) + _observed("b", rng, 3.0) * 5  # b five times as large
    model = fit(observed)
    assert model.weights["cosine"] > 0 and 0 < model.bar < 1
    save_observations(observed, tmp_path / "o.npz")
    back = load_observations(tmp_path / "o.npz")
    assert [o.corpus for o in back] == [o.corpus for o in observed]
    assert all(np.allclose(a.features, b.features, atol=1e-5) for a, b in zip(back, observed))
    assert fit(back).weights.keys() == model.weights.keys()


def test_each_of_your_questions_is_judged_by_a_fit_that_did_not_see_it(monkeypatch):
    rng = np.random.default_rng(1)
    mine = [replace(o, corpus="yours") for o in _observed("a", rng, 3.0)]
    shipped = _observed("b", rng, 3.0)
    before = fit(shipped)
    fitted_on: list[list[Observed]] = []

    def recording(observed, columns=None):
        fitted_on.append(observed)
        return fit(observed, columns)

    monkeypatch.setattr(calibration, "fit", recording)
    figures = held_out(mine, shipped, before, folds=5)
    assert len(fitted_on) == 5
    for training in fitted_on:  # every fit holds all the shipped questions and four fifths of yours
        yours = [o for o in training if o.corpus == "yours"]
        assert len(yours) == 24 and sum(o.corpus == "b" for o in training) == 30
    # each question of yours is left out of exactly one fit
    assert all(sum(any(o is q for o in training) for training in fitted_on) == 4 for q in mine)
    assert figures["before"] == judge(before, mine)  # the same questions, all of them
    assert set(figures["after"]) == set(figures["before"])
    assert all(0.0 <= value <= 1.0 for value in figures["after"].values())


def test_judge_reads_the_best_support_against_the_bar():
    right = np.array([True, False])
    near = Observed(
        "a", "answerable", "fr", np.array([[1.0] + [0.0] * (len(FEATURES) - 1), [0.0] * len(FEATURES)]), right
    )
    wrong_first = replace(near, features=near.features[::-1].copy())
    gone = Observed("a", "in_domain", "fr", np.zeros((1, len(FEATURES))), np.array([False]))
    model = SupportModel({"cosine": 4.0}, -2.0, 0.5)  # the first row of near: 0.88, a row of zeros: 0.12
    assert judge(model, [near, wrong_first, gone]) == {
        "abstained_answerable": 0.0,
        "right_sentence_first": 0.5,
        "abstained_unanswerable": 1.0,
    }


def test_a_former_veto_gets_the_weakest_weight_that_decides_best():
    unfit = FEATURES.index("unfit")

    def question(kind: str, cosine: float, fires: bool, right: bool) -> Observed:
        features = np.zeros((1, len(FEATURES)))
        features[0, 0], features[0, unfit] = cosine, float(fires)
        return Observed("a", kind, "fr", features, np.array([right]))

    # an unanswerable question whose best sentence looks like an answer (cosine 1.0) but is of the wrong kind, and
    # an answerable one whose right sentence (cosine 0.6) passes the bar only if the feature is not allowed to veto it
    observed = [question("in_domain", 1.0, True, False), question("answerable", 0.6, False, True)]
    model = SupportModel({"cosine": 4.0, "unfit": -50.0}, -2.0, 0.5)  # support 0.5 at cosine 0.5
    weighed = weigh_by_decisions(model, observed, ["unfit"], grid=[-0.5, -1.0, -2.0, -4.0, -50.0])
    assert weighed.weights["unfit"] == -4.0  # -2.0 leaves 0.5: answered; -4.0 is the weakest that turns it away
    assert decision_cost(weighed, observed) == decision_cost(model, observed) == 0.0
    assert decision_cost(replace(model, weights={"cosine": 4.0, "unfit": -1.0}), observed) == 3.0  # answered wrongly
    # a feature that fires on the only right sentence is weighed as little as the grid allows
    firing = [question("answerable", 0.6, True, True)]
    assert weigh_by_decisions(model, firing, ["unfit"], grid=[-0.5, -1.0, -50.0]).weights["unfit"] == -0.5


@pytest.mark.model
def test_the_default_corpus_is_answered_with_its_own_fit_and_another_corpus_with_the_general_one(
    built_default, tiny_corpus, tmp_path
):
    from assistant.api import build_index
    from assistant.retrieval import open_retriever
    from assistant.settings import Settings

    record = json.loads((ROOT / "assistant" / "calibrations" / "e5.json").read_text(encoding="utf-8"))
    general = record["general"]
    assert general["fitted_on"] and general["fitted_at"] and set(general["weights"]) <= set(FEATURES)
    assert open_retriever(built_default).profile.support.weights == record["support"]["weights"]
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index")
    build_index(settings=settings)
    other = open_retriever(settings).profile
    assert other.support.weights == general["weights"] and other.support.bar == general["bar"]
    assert "general model" in other.calibration
    # a calibration fitted on your questions, beside your index, is used for your corpus: it has no general model
    mine = {**record, "support": {**record["support"], "bar": 0.321}}
    del mine["general"]
    (settings.index_dir / CALIBRATION).write_text(json.dumps(mine), encoding="utf-8")
    assert open_retriever(settings).profile.support.bar == 0.321


@pytest.mark.model
def test_no_rule_zeroes_a_sentence_on_its_own(built_default):
    from assistant.answering.candidates import candidates
    from assistant.retrieval import open_retriever

    retriever = open_retriever(built_default)
    question = "Combien de ministres ont participé au barcamp Futurs Publics ?"  # no sentence counts ministers
    found = candidates(retriever, question, retriever.search(question, k=5))
    unfit = [c for c in found if c.features[FEATURES.index("unfit")]]
    assert unfit and all(c.support > 0 for c in unfit)
    assert max(c.support for c in unfit) < retriever.profile.support.bar  # ... and none of them is quoted


@pytest.mark.model
def test_calibrate_on_your_own_questions_writes_a_calibration_that_ask_then_uses(built_default, tmp_path, capsys):
    from assistant.answering.answers import ask
    from assistant.cli import main

    index = tmp_path / "index"
    shutil.copytree(built_default.index_dir, index, ignore=shutil.ignore_patterns(".lock"))
    paths = ["--corpus", str(built_default.corpus_dir), "--index", str(index)]
    assert main(["calibrate", "--gold", str(ROOT / "docs" / "example-questions.json"), *paths]) == 0
    printed = capsys.readouterr().out
    unseen = printed[printed.index("judged by a fit that did not see it") :]  # the figures no fit has flattered
    assert all(name in unseen for name in ("abstained_answerable", "right_sentence_first", "abstained_unanswerable"))
    written = json.loads((index / CALIBRATION).read_text(encoding="utf-8"))
    assert "your 10 questions" in written["fitted_on"] and set(written["support"]["weights"]) == set(FEATURES)
    settings = built_default.with_(index_dir=index)
    answer = ask("Où s'est tenu le barcamp Futurs Publics en 2016 ?", settings=settings)
    assert not answer.abstained
    assert main(["calibrate", "--reset", *paths]) == 0 and not (index / CALIBRATION).exists()
