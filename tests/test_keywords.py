"""The French analyzer behind the keyword index."""

from __future__ import annotations

from assistant.keywords import KeywordIndex, analyze


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
