"""The French analyzer behind the keyword index, and BM25 built from stored term ids."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from assistant.keywords import Counted, KeywordIndex, analyze
from assistant.postings import Keywords, TermRows


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


def _counted(lists: list[list[str]], vocabulary: list[str]) -> Counted:
    counted = Counted(vocabulary)
    for row, tokens in enumerate(lists):
        counted.add(row, Counter(tokens))
    return counted


def _assert_scores_as_bm25s(built: Keywords, lists: list[list[str]]) -> None:
    expected = KeywordIndex.build(lists)
    assert built.size == expected.size == len(lists)
    for query in (["t1"], ["t3", "t40", "t299"], ["absent"], ["t0", "t0"], [""]):
        np.testing.assert_array_equal(built.scores(query), expected.scores(query))
    for term in ("t1", "t299", "absent", ""):
        np.testing.assert_array_equal(built.holding(term), expected.scores([term]) > 0)


def test_bm25_from_stored_terms_scores_exactly_as_bm25s_builds_it(tmp_path):
    """Chunk by chunk and grouped into documents, staged, written and read back, and after a build that drops and
    adds entries (a new segment beside the first, which keeps the entries that left): scores equal bm25s's built
    on the entries the index holds."""
    rng = random.Random(1)
    vocabulary = [f"t{i}" for i in range(300)]
    lists = [[rng.choice(vocabulary[: rng.randint(1, 300)]) for _ in range(rng.randint(0, 30))] for _ in range(800)]
    counted = _counted(lists, [])
    first = TermRows.staged(None, np.full(len(lists), -1), counted.vocabulary, counted.arrays())
    _assert_scores_as_bm25s(Keywords(first), lists)
    staging = tmp_path / "gen-1"
    staging.mkdir()
    files = first.save(tmp_path, staging, "terms", "gen-1", [])
    stored = TermRows.load(tmp_path, staging, "terms", len(lists), counted.vocabulary, files)
    _assert_scores_as_bm25s(Keywords(stored), lists)
    bounds = np.array([0, 10, 10, 300, 800])  # documents of 10, 0, 290 and 500 chunks
    groups = [sum(lists[start:end], []) for start, end in zip(bounds[:-1], bounds[1:])]
    _assert_scores_as_bm25s(Keywords(TermRows.staged(None, np.full(4, -1), *_grouped(stored, bounds))), groups)
    # entries 100 to 199 leave, 50 new ones come at the end, with terms the vocabulary did not hold
    new = [[rng.choice(["t7", "t8", "new1", "new2"]) for _ in range(rng.randint(0, 9))] for _ in range(50)]
    origin = np.concatenate([np.arange(100), np.arange(200, 800), np.full(50, -1)])
    added = _counted(new, counted.vocabulary)
    second = TermRows.staged(stored, origin, added.vocabulary, added.arrays())
    changed = lists[:100] + lists[200:] + new
    _assert_scores_as_bm25s(Keywords(second), changed)
    staging = tmp_path / "gen-2"
    staging.mkdir()
    files = second.save(tmp_path, staging, "terms", "gen-2", [])
    assert len(files) == 2  # the first segment is shared, not written again
    stored = TermRows.load(tmp_path, staging, "terms", len(changed), added.vocabulary, files)
    _assert_scores_as_bm25s(Keywords(stored), changed)
    assert Keywords(stored).document_frequencies() == dict(Counter(t for tokens in changed for t in set(tokens)))


def _grouped(terms: TermRows, bounds: np.ndarray) -> tuple[list[str], tuple]:
    """The terms of groups of consecutive entries, summed (as a build sums a document's chunks)."""
    starts, ids, counts = terms.gather(np.arange(int(bounds[-1])))
    pairs = [Counter() for _ in range(len(bounds) - 1)]
    group = np.searchsorted(bounds, np.arange(int(bounds[-1])), side="right") - 1
    for entry, (begin, end) in enumerate(zip(starts[:-1], starts[1:])):
        for term, count in zip(ids[begin:end].tolist(), counts[begin:end].tolist()):
            pairs[group[entry]][terms.vocabulary[term]] += count
    counted = Counted(terms.vocabulary)
    for row, summed in enumerate(pairs):
        counted.add(row, summed)
    return counted.vocabulary, counted.arrays()
