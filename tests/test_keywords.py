"""The French analyzer behind the keyword index, and BM25 built from stored term ids."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from assistant.keywords import KeywordIndex, Terms, analyze


def test_elisions_stop_words_and_case_are_removed():
    assert analyze("L'État et d’autres administrations qu'on connaît") == analyze("état autres administration connaît")


def test_plural_and_inflected_forms_share_a_stem():
    assert analyze("innovations")[0] == analyze("innovation")[0]
    assert analyze("participatives")[0] == analyze("participative")[0]
    assert analyze("ministères") == analyze("ministère")


def test_accents_are_folded_after_stemming():
    assert analyze("Québec") == analyze("quebec")
    assert analyze("éducation nationale") == analyze("education nationale")


def test_bm25_ranks_the_chunk_with_the_inflected_query_terms_first():
    texts = ["Les recommandations du groupe de travail.", "Le barcamp a réuni des agents.", "Un atelier de cuisine."]
    index = KeywordIndex.build([analyze(t) for t in texts])
    scores = index.scores(analyze("Quelle recommandation pour le groupe ?"))
    assert scores.argmax() == 0 and scores[2] == 0
    assert not index.scores(analyze("zzz inconnu")).any()


def test_bm25_from_term_ids_scores_exactly_as_bm25s_builds_it(tmp_path):
    """The array-built index (what builds use) against bm25s's own build, chunk by chunk and grouped."""
    rng = random.Random(1)
    vocabulary = [f"t{i}" for i in range(300)]
    lists = [[rng.choice(vocabulary[: rng.randint(1, 300)]) for _ in range(rng.randint(0, 30))] for _ in range(800)]
    terms = Terms.gather({i: Counter(tokens) for i, tokens in enumerate(lists)}, np.full(len(lists), -1), None)
    bounds = np.array([0, 10, 10, 300, 800])  # documents of 10, 0, 290 and 500 chunks
    groups = [sum(lists[start:end], []) for start, end in zip(bounds[:-1], bounds[1:])]
    pairs = [(KeywordIndex.build(lists), KeywordIndex.from_terms(terms))]
    pairs.append((KeywordIndex.build(groups), KeywordIndex.from_terms(terms.grouped(bounds))))
    # a group's terms summed one by one, carried over from an earlier gathering, or not
    one_by_one = Terms.gather(
        {i: terms.counted(bounds[i], bounds[i + 1]) for i in (0, 2)}, np.array([-1, 1, -1, 3]), terms.grouped(bounds)
    )
    pairs.append((pairs[1][0], KeywordIndex.from_terms(one_by_one)))
    pairs[1][1].save(tmp_path / "saved")
    pairs.append((pairs[1][0], KeywordIndex.load(tmp_path / "saved")))
    for expected, built in pairs:
        assert built.size == expected.size
        for query in (["t1"], ["t3", "t40", "t299"], ["absent"], ["t0", "t0"], [""]):
            np.testing.assert_array_equal(built.scores(query), expected.scores(query))
