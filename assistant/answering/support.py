"""Does a sentence answer the question? What the question asks for, and how well each sentence supports it.

A sentence that shares the question's topic is not an answer. Support weighs, for each candidate sentence
(FEATURES): its cosine to the question (the dense model carries synonyms and paraphrase), and to its passage and
to the sentence before; the idf-weighted share of the question's terms it holds, and its passage holds (title and
heading included); whether it holds the kind of answer the question words call for (a number for "combien", a date
for "quand", a name for "qui" or "comment s'appelle"...), whether what "combien de ..." counts is named, whether the
question's rarest terms are in its passage, how much of the question the corpus knows at all, its passage's rank;
and the evidence against it: the share of the names and figures the question gives that its document lacks, a
closed question it gives no fitting answer to, a question about the future it answers with the past (or the other
way round). One logistic model weighs them all, fitted per embedding model (``assistant.calibration``, recorded in
``assistant/calibrations/``): no rule sets a support to zero on its own. The words that say all this are data
(``assistant/languages/``, read by ``lexicon``).

>>> needs = question_needs("Combien de membres compte le Forum des Jeunes ?")
>>> needs.kind, needs.entities, needs.counted
('count', ('forum des jeunes',), ('membr', 'compt'))
>>> answers_kind(needs, "Il compte près de 4400 membres."), answers_kind(needs, "Il compte des membres.")
(True, False)
>>> answers_kind(needs, "Du 20 au 26 novembre se tient la semaine, avec 40 ateliers.")
False
>>> telework = question_needs("Combien de jours de télétravail sont autorisés ?")  # days of telework, not any days
>>> answers_kind(telework, "À raison de 2 jours par semaine."), answers_kind(telework, "2 jours de télétravail.")
(False, True)
>>> minister = question_needs("Qui était ministre de la Fonction publique en 2019 ?")
>>> answers_kind(minister, "L'association Fonction Publique est née en 2017.")
False
>>> answers_kind(minister, "Annick Girardin.")
True

A question that asks for what something is called wants a name the question does not give: quoted, or capitalised.

>>> lab = question_needs("Comment s'appelle le laboratoire d'innovation de la Gironde ?")
>>> lab.kind, answers_kind(lab, "La Gironde promeut son laboratoire « LaBase »."), answers_kind(
...     lab, "La Gironde promeut son laboratoire d'innovation.")
('name', True, False)

Names keep their accents, as the keyword index reads them ("Université" and "Universite" stem apart).

>>> question_needs("Que dit l'Université de Sherbrooke ?").entities
('université de sherbrooke',)

A place may be a site: "où trouver la vidéo ?" is answered "sur tube.numerique.gouv.fr".

>>> answers_kind(question_needs("Où peut-on voir la vidéo ?"), "Elle est disponible sur tube.numerique.gouv.fr")
True
>>> answers_kind(question_needs("Combien de temps dure la construction ?"), "Elle occupe les 6 à 12 premiers mois.")
True

Kinds come from the asking words, not from any word: these ask for no number, date or name.

>>> [question_needs(q).kind for q in ("A-t-on droit au prêt à taux zéro ?", "Que faire quand un logement est squatté ?",
...  "Qui est responsable des dégradations ?")]
[None, None, None]
>>> [question_needs(q).kind for q in ("Pendant quels mois les ateliers ont-ils eu lieu ?", "Dans quel lieu parisien ?",
...  "Quelles villes ont adopté l'ADS+ ?", "C'est quand la semaine ?", "Et sinon, qui l'organise ?")]
['date', 'place', 'place', 'date', 'person']
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from assistant.answering.lexicon import (
    ANSWER,
    COUNTED,
    COUNTED_OF,
    FIGURE,
    FUTURE,
    FUTURE_QUESTION,
    FUTURE_VERB,
    KINDS,
    LEADING_CONJUNCTION,
    NAME,
    NOT_COUNTS,
    NOT_NAMES,
    OF,
    OPEN,
    PAST,
    PAST_QUESTION,
    SCAFFOLDING,
    SITE,
    YES_NO,
)
from assistant.keywords import analyze, fold

FEATURES = (
    "cosine",
    "sentence_terms",
    "passage_terms",
    "kind",
    "counted",
    "focus",
    "known",
    "rank",
    "names_missing",  # the share of the names and figures the question gives that the sentence's document lacks
    "unfit",  # a closed question, and the sentence holds no answer of its kind or says nothing asked of its names
    "untimely",  # it asks what is to come and the sentence tells what was, or the other way round
    "passage_cosine",  # the question's cosine to the whole passage
    "previous_cosine",  # its cosine to the sentence before, which may say what this one is about
)

_WORD = re.compile(r"[^\W\d_][\w’'-]*")


@dataclass(frozen=True)
class QuestionNeeds:
    """What a question asks for: its terms, the kind of answer, the names and figures it mentions."""

    terms: tuple[str, ...]
    kind: str | None
    entities: tuple[str, ...]  # names, acronyms and figures, lower case: a passage that lacks one cannot answer
    open: bool
    counted: tuple[str, ...] = ()  # the terms of what "combien de ..." counts
    counted_of: tuple[str, ...] = ()  # and of its kind, "combien de jours de télétravail": the sentence names it
    future: bool = False  # it asks about what is still to come
    past: bool = False  # it asks about what happened

    def said_of_names(self) -> set[str]:
        """The question's terms outside the names and years it gives: what it asks about them."""
        named = {term for entity in self.entities for term in analyze(entity)}
        return {term for term in self.terms if term not in named and not term.isdigit()}


def question_needs(question: str) -> QuestionNeeds:
    # "Et sinon, qui a écrit ... ?" asks as "Qui a écrit ... ?" does
    lowered = LEADING_CONJUNCTION.sub("", question.lower())
    kind = None
    if not YES_NO.search(lowered):  # "A-t-on droit au prêt à taux zéro ?" asks for no rate
        kind = next((name for name, pattern in KINDS if re.search(pattern, lowered)), None)
    entities = []
    # A capitalised word that starts a sentence says nothing of being a name: blank those out.
    body = re.sub(r"(^|[.?!]\s+)[\w’'-]+", lambda m: m.group(1) + "_", question)
    for match in NAME.finditer(body):
        name = re.sub(r"['’]s$", "", match.group(0).strip(" .?!"))  # "Revenu Québec's directorate"
        if fold(name) not in NOT_NAMES and len(name) > 1:
            # accents stay: the keyword index stems "Université" and "Universite" apart
            entities.append(" ".join(name.replace("’", "'").lower().split()))
    entities += FIGURE.findall(question)
    is_open = bool(OPEN.search(lowered)) and kind in (None, "reason")
    counted = COUNTED.search(question) if kind == "count" else None
    terms = tuple(term for term in analyze(question) if term not in SCAFFOLDING)
    stems = tuple(analyze(counted.group(1))) if counted else ()
    of = COUNTED_OF.search(question) if kind == "count" else None
    of_stems = tuple(analyze(of.group(1))) if of else ()
    future = bool(FUTURE_QUESTION.search(question))
    past = not future and bool(PAST_QUESTION.search(question))
    return QuestionNeeds(terms, kind, tuple(dict.fromkeys(entities)), is_open, stems, of_stems, future, past)


def fits_in_time(needs: QuestionNeeds, sentence: str) -> bool:
    """Whether the sentence can answer the question in time: always, unless the question asks what is still to come
    and the sentence speaks only of what was or is, or asks what happened and the sentence only announces it.

    >>> needs = question_needs("Où se tiendra la prochaine conférence de l'ENAP ?")
    >>> fits_in_time(needs, "Le 11 mai dernier, se tenait à l'ENAP à Montréal une conférence."), fits_in_time(
    ...     needs, "La prochaine conférence se tiendra à Québec.")
    (False, True)
    >>> results = question_needs("Quels résultats ont donné les propositions expérimentées ?")
    >>> fits_in_time(results, "D'ici à fin 2014, une partie des propositions seront expérimentées."), fits_in_time(
    ...     results, "Les propositions expérimentées ont réduit les délais.")
    (False, True)
    """
    if needs.future:
        return bool(FUTURE.search(sentence))
    if needs.past:
        return not FUTURE_VERB.search(sentence) or bool(PAST.search(sentence))
    return True


def answers_kind(needs: QuestionNeeds, sentence: str, context: str = "") -> bool:
    """Whether the sentence holds the kind of answer the question asks for (always true when it asks for none).

    A name is no answer to "qui" or "où" when the question gives it, when it is made of the question's own words,
    or when its words are common nouns, written in lower case elsewhere in ``context`` (the sentence's passage).
    A number is no answer to "combien de X" when it counts something other than X, or dates a day.
    """
    kind = needs.kind
    if kind is None:
        return True
    if kind == "place" and any(fold(site) not in fold(" ".join(needs.entities)) for site in SITE.findall(sentence)):
        return True  # "où trouver la vidéo ?": on a site ("sur tube.numerique.gouv.fr")
    if kind in ("person", "place", "name"):
        names = (match.group(match.lastindex or 0) for match in ANSWER[kind].finditer(sentence))
        return any(_is_new_name(name, needs, context or sentence) for name in names)
    if kind == "count":
        named = not needs.counted_of or bool(set(needs.counted_of) & set(analyze(sentence)))
        return named and _counts(needs.counted, NOT_COUNTS.sub(" ", sentence))
    return bool(ANSWER[kind].search(sentence))


def _is_new_name(name: str, needs: QuestionNeeds, context: str) -> bool:
    if fold(name) in map(fold, needs.entities):
        return False
    terms = analyze(name)
    if terms and set(terms) <= set(needs.terms):
        return False
    common = _lower_case_words(context)
    return any(word.lower() not in common for word in _WORD.findall(name))


@functools.lru_cache(maxsize=64)
def _lower_case_words(context: str) -> frozenset[str]:
    """The words written in lower case in a passage: read once per passage, not once per sentence and name."""
    return frozenset(re.findall(r"\b[a-zà-ÿ][\w-]*", re.sub(r"['’]", " ", context)))


def _counts(counted: tuple[str, ...], sentence: str) -> bool:
    """Whether a number of the sentence can count what the question counts: one followed by its words, or by no
    word at all ("ils étaient 40."); a sentence whose numbers all count other things cannot."""
    if not counted:
        return bool(ANSWER["count"].search(sentence))
    for match in ANSWER["count"].finditer(sentence):
        after = OF.sub("", sentence[match.end() :].lstrip(" «»\"’'").lstrip())
        words = _WORD.findall(" ".join(after.split()[:3]))[:2]
        attached = set(analyze(" ".join(words)))
        if not attached or attached & set(counted):
            return True
    return False
