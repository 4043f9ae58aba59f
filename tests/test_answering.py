"""Answering on a small in-memory evidence store (assistant.answering.evidence.MemoryEvidence): no index is built
and no model is loaded, so these run in milliseconds and test the answering's logic alone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answering.answers import extractive_answer
from assistant.answering.candidates import candidates
from assistant.answering.evidence import MemoryEvidence
from assistant.answering.support import FEATURES
from assistant.profiles import SupportModel

DOCUMENTS = {
    "forum.txt": "Le Forum des Jeunes au Québec\n\nLe Forum des Jeunes compte près de 4400 membres. "
    "Il se réunit chaque mois à Montréal.\n\nSa présidente a rencontré l'association Fonction Publique.",
    "barcamp.txt": "Le barcamp Futurs Publics\n\nLe barcamp s'est tenu le 17 novembre à la Gaité lyrique. "
    "Une quarantaine d'agents y ont participé.\n\nLa prochaine édition aura lieu à Lyon.",
}


@pytest.fixture(scope="module")
def evidence():
    return MemoryEvidence(DOCUMENTS)


def feature(candidate, name):
    return candidate.features[FEATURES.index(name)]


def test_every_sentence_gets_every_feature_and_quotes_stay_verbatim(evidence):
    question = "Combien de membres compte le Forum des Jeunes ?"
    passages = evidence.search(question, k=3)
    found = candidates(evidence, question, passages)
    assert found and all(len(c.features) == len(FEATURES) for c in found)
    assert all(c.text in c.passage.text for c in found)
    members = next(c for c in found if "4400" in c.text)
    assert feature(members, "kind") == 1 and feature(members, "unfit") == 0 and feature(members, "names_missing") == 0


def test_a_document_that_lacks_a_name_the_question_gives_is_evidence_not_a_veto(evidence):
    question = "Combien d'agents ont participé au barcamp du Forum des Jeunes à Lyon ?"
    found = candidates(evidence, question, evidence.search(question, k=5))
    barcamp = [c for c in found if c.passage.source == "barcamp.txt"]
    assert barcamp and all(0 < feature(c, "names_missing") < 1 for c in barcamp)  # "forum des jeunes" is missing
    assert all(c.support > 0 for c in found)


def test_the_future_and_the_kind_asked_for_are_features(evidence):
    question = "Où aura lieu la prochaine édition du barcamp ?"
    found = {c.text: c for c in candidates(evidence, question, evidence.search(question, k=5))}
    assert feature(found["La prochaine édition aura lieu à Lyon."], "untimely") == 0
    past = found["Le barcamp s'est tenu le 17 novembre à la Gaité lyrique."]
    assert feature(past, "untimely") == 1


def test_the_support_model_decides_with_one_bar():
    question = "Combien de membres compte le Forum des Jeunes ?"
    weights = {"cosine": 2.0, "sentence_terms": 4.0, "kind": 3.0, "unfit": -4.0, "names_missing": -4.0}
    answers = {}
    for bar in (0.5, 0.999):
        evidence = MemoryEvidence(DOCUMENTS)
        model = SupportModel(weights, -5.0, bar)
        evidence.profile = replace(evidence.profile, min_dense=0.0, min_known=0.0, support=model)
        answers[bar] = extractive_answer(evidence, question, evidence.search(question, k=3), "fr")
    assert answers[0.5].status == "answered" and "4400" in answers[0.5].citations[0].quote
    assert answers[0.999].status == "not_found"


def test_an_english_question_none_of_whose_words_the_documents_hold_is_out_of_their_field():
    weights = {"cosine": 2.0, "sentence_terms": 4.0, "kind": 3.0}
    evidence = MemoryEvidence(DOCUMENTS)
    evidence.profile = replace(evidence.profile, min_dense=0.0, min_dense_en=0.0, support=SupportModel(weights, -9, 0))

    def status(question: str, min_known_en: float) -> str:
        evidence.profile = replace(evidence.profile, min_known_en=min_known_en)
        return extractive_answer(evidence, question, evidence.search(question, k=3), "en").status

    recipe = "What is the recipe for ratatouille?"  # no word of it is in the documents
    assert status(recipe, 0.0) == "answered"  # the bar of 0 (no gate), and a support bar that takes anything
    assert status(recipe, 0.01) == "not_found"
    assert status("How many members does the Forum des Jeunes have?", 0.01) == "answered"  # it names what they hold


def test_a_claim_is_stated_only_when_its_facts_agree_with_a_sentence_of_its_passage(evidence):
    from assistant.answering.claims import check_claim

    passage = next(p for p in evidence.search("Forum des Jeunes membres", k=3) if p.source == "forum.txt")
    model = evidence.profile.claim  # the shipped claim model: no cosine in it, so the hashing embedder will do

    def stated(claim: str) -> bool:
        return check_claim(evidence, claim, passage, model).support >= model.bar

    assert stated("Le Forum des Jeunes compte près de 4400 membres.")
    assert stated("Le Forum des Jeunes se réunit chaque mois à Montréal.")
    assert not stated("Le Forum des Jeunes compte près de 440 membres.")  # another number
    assert not stated("Le Forum des Jeunes se réunit chaque mois à Toronto.")  # another place
    assert not stated("Le Forum des Jeunes ne se réunit pas à Montréal.")  # a negation
    quoted = check_claim(evidence, "Le Forum des Jeunes compte près de 4400 membres.", passage, model).quote
    assert quoted == "Le Forum des Jeunes compte près de 4400 membres."  # the sentence that states it, verbatim


def test_numbers_written_in_words_agree_with_their_figures():
    from assistant.answering.claims import facts

    assert facts("une quarantaine d'agents").numbers == facts("40 agents").numbers
    assert facts("vingt-cinq ateliers, la troisième édition").numbers == facts("25 ateliers, la 3e édition").numbers
    assert facts("twelve proposals").numbers == {"12"}


def test_a_date_is_the_same_fact_in_figures_in_words_or_with_its_month_written_short():
    from assistant.answering.claims import CLAIM_FEATURES, check_claim

    evidence = MemoryEvidence(
        {
            "appel.txt": "Appel à projets\n\nLes dossiers sont à déposer avant le 01/03/2017 auprès du laboratoire. "
            "Les résultats seront publiés le 14 sept. 2017 sur le site.",
        }
    )
    passage = evidence.search("dossiers à déposer auprès du laboratoire", k=1)[0]
    model = evidence.profile.claim
    missing = [CLAIM_FEATURES.index("numbers_missing"), CLAIM_FEATURES.index("months_missing")]
    stated = (
        "Les dossiers sont à déposer avant le 1er mars 2017.",  # "le 01/03/2017"
        "Les résultats seront publiés le 14 septembre 2017.",  # "le 14 sept. 2017"
    )
    for claim in stated:
        checked = check_claim(evidence, claim, passage, model)
        assert [checked.features[i] for i in missing] == [0.0, 0.0], claim
    moved = check_claim(evidence, "Les dossiers sont à déposer avant le 1er avril 2017.", passage, model)
    assert moved.features[missing[1]] == 1.0 and moved.support < model.bar


def test_an_english_claim_about_a_french_passage_is_checked_on_its_names_numbers_and_months():
    from assistant.answering.claims import check_claim

    evidence = MemoryEvidence(
        {"barcamp.txt": "Le barcamp\n\nLe SGMAP a organisé le barcamp Futurs Publics le 17 novembre à Paris."}
    )
    passage = evidence.search("barcamp Futurs Publics SGMAP", k=1)[0]
    model = evidence.profile.claim
    # its words are not the passage's: what it shares with it is SGMAP, Futurs Publics, Paris, 17 and November
    stated = check_claim(
        evidence, "The SGMAP organised the Futurs Publics barcamp on 17 November in Paris.", passage, model
    )
    assert stated.support >= model.bar
    for changed in (
        "The SGMAP organised the Futurs Publics barcamp on 17 March in Paris.",
        "The SGMAP organised the Futurs Publics barcamp on 24 November in Paris.",
        "The DINUM organised the Futurs Publics barcamp on 17 November in Marseille.",
        "The SGMAP did not organise the Futurs Publics barcamp on 17 November in Paris.",
    ):
        assert check_claim(evidence, changed, passage, model).support < model.bar, changed


def test_a_negated_claim_is_not_backed_by_the_neighbour_of_the_sentence_it_denies():
    from assistant.answering.claims import check_claim

    evidence = MemoryEvidence(
        {
            "voyage.txt": "Le voyage au Québec\n\nUne délégation du forum des jeunes se rendra en France en mars. "
            "N'hésitez pas à nous écrire !\n\nLa suite du programme viendra plus tard."
        }
    )
    passage = evidence.search("délégation du forum des jeunes en France", k=1)[0]
    model = evidence.profile.claim
    denied = check_claim(evidence, "Aucune délégation du forum des jeunes ne se rendra en France.", passage, model)
    # the window of "N'hésitez pas" holds the claim's words (from the sentence before it) and says "not": the
    # claim's "not" must agree with the sentence its words come from, which says the delegation comes
    assert denied.support < model.bar
    stated = check_claim(evidence, "Une délégation du forum des jeunes se rendra en France.", passage, model)
    assert stated.support >= model.bar and stated.quote.startswith("Une délégation")


def test_a_claim_that_says_the_opposite_by_a_prefix_or_exchanges_two_roles_is_not_backed():
    from assistant.answering.claims import check_claim

    evidence = MemoryEvidence(
        {
            "gendarmerie.txt": "Les propositions\n\nLe groupe veut permettre aux gendarmes d'informer les usagers sur "
            "le traitement des enquêtes. Les participants ont jugé utile de déployer des méthodes agiles. "
            "Le groupe a présenté ses travaux en fin de journée. Les échanges ont été nombreux.",
        }
    )
    passage = evidence.search("gendarmes informer les usagers méthodes agiles", k=1)[0]
    model = evidence.profile.claim
    for stated in (
        "Le groupe veut permettre aux gendarmes d'informer les usagers sur le traitement des enquêtes.",
        "Les participants n'ont pas jugé inutile de déployer des méthodes agiles.",  # two reversals: it agrees
    ):
        assert check_claim(evidence, stated, passage, model).support >= model.bar, stated
    for reversed_ in (
        "Les participants ont jugé inutile de déployer des méthodes agiles.",  # "inutile" is "utile" with "not"
        "Le groupe veut permettre aux usagers d'informer les gendarmes sur le traitement des enquêtes.",
    ):
        # the sentence that holds all its words says it reversed: a window holding some of them is no escape
        assert check_claim(evidence, reversed_, passage, model).support < model.bar, reversed_
