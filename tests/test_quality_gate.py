"""The CI gate: gold-set figures on the default corpus must not fall below the thresholds recorded in the repo."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from assistant.evaluation import check, evaluate, load_gold

pytestmark = pytest.mark.model


def test_gold_set_is_complete_and_its_snippets_are_in_the_documents():
    from helpers import DEFAULT_CORPUS

    from assistant.evaluation import normalize
    from assistant.readers.documents import read_document

    gold = load_gold()
    english = [q for q in gold["answerable"] if q["question"].split()[0] in ("How", "What", "Which", "When", "Who")]
    assert len(gold["answerable"]) >= 45 and len(english) >= 8
    in_domain = [q for q in gold["unanswerable"] if q["kind"] == "in_domain"]
    assert len(in_domain) >= 20 and len(gold["open"]) >= 20 and len(gold["follow_ups"]) >= 5
    for item in gold["answerable"] + gold["follow_ups"] + gold["open"]:
        text = read_document(DEFAULT_CORPUS / item["source"], item["source"]).text
        for snippet in item.get("snippets") or [item["snippet"]]:
            assert normalize(snippet) in normalize(text), item
    for name in ("answerable", "unanswerable", "open", "follow_ups"):
        splits = [item["split"] for item in gold[name]]
        # later batches went to dev to give the calibration more questions: test keeps at least a fifth
        assert set(splits) == {"dev", "test"} and splits.count("test") >= len(splits) // 5, name


@pytest.mark.parametrize("split", ["dev", "test"])
def test_quality_does_not_regress(built_default, split):
    thresholds = json.loads(resources.files("assistant").joinpath("gold/thresholds.json").read_text("utf-8"))
    figures = evaluate(load_gold(), built_default, split=split)
    assert check(figures, thresholds[split]) == []


def test_check_reports_figures_below_their_threshold():
    assert check({"hit@1": 0.5, "abstained_answerable": 0.2}, {"hit@1": 0.7, "abstained_answerable": 0.05}) == [
        "hit@1 = 0.500, below the required 0.7",
        "abstained_answerable = 0.200, above the allowed 0.05",
    ]
