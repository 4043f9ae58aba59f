"""Does a sentence answer the question? What the question asks for, and how well each sentence supports it.

A sentence that shares the question's topic is not an answer. Support weighs, for each candidate sentence:
its cosine to the question (the dense model carries synonyms and paraphrase), the idf-weighted share of the
question's terms it holds, the same share in its passage (title and heading included), whether it holds the
kind of answer the question words call for (a number for "combien", a date for "quand", a name for "qui" or
"comment s'appelle"...), whether what "combien de ..." counts is named, whether the question's rarest terms are in
its passage, how much of the question the corpus knows at all, and its passage's rank (FEATURES). The weights and
the bar are calibrated per embedding model on the gold set's dev split (``benchmarks/calibrate.py``) and recorded
in ``assistant.profiles``. Separately, a sentence has no support at all when its document lacks a name, acronym
or figure the question gives, when the question asks for a number, a date, a name or a place and the sentence
holds none that fits, when the question asks what is still to come and the sentence tells only what was, or
asks what happened and the sentence only announces it (``candidates``).

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
import unicodedata
from dataclasses import dataclass

from assistant.keywords import analyze

FEATURES = ("cosine", "sentence_terms", "passage_terms", "kind", "counted", "focus", "known", "rank")

# Question words -> the kind of answer they call for (French and English); first match wins.
_KINDS = [
    ("rate", r"\b(taux|pourcentage|proportion)\b|\bwhat (share|percentage)\b"),
    ("duration", r"\bcombien de temps\b|\bhow long\b|\bdurée\b"),
    ("time", r"\bà quelle heure\b|\bwhat time\b"),
    ("amount", r"\bcombien (co[uû]t|d['’]argent|d['’]euros)"),
    (
        "name",
        r"\b(quel|sous quel) nom\b|\bquel est (le|son|leur) nom\b|\bcomment s['’]appell|\bwhat is the name\b"
        r"|\bcalled\b",
    ),
    ("count", r"\bcombien\b|\bnombre de\b|\bhow many\b"),
    (
        "date",
        r"^\s*quand\b|\bc['’]est quand\b|\b(depuis|jusqu['’]à|à partir de) quand\b|\ben quelle année\b"
        r"|\bà quelle (date|époque)\b|\bdates?\b|^\s*when\b|\bwhat year\b|\bquel(le)?s? (mois|année|années)\b"
        r"|\b(what|which) (month|year)\b",
    ),
    # "prix" alone names awards as often as prices
    ("amount", r"\b(budget|montant|co[uû]te?|co[uû]t|salaire|tarif|financement)\b|\b(quel|le|au) prix\b|\bhow much\b"),
    (
        "place",
        r"^\s*(d['’]|par |jusqu['’])?où\b|\bc['’]est où\b"
        r"|\b(dans|en|à) quel(le)?s? (ville|salle|région|lieu|pays|département)s?\b|\bquel(le)?s? (ville|pays)s?\b"
        r"|\bà quelle adresse\b|^\s*where\b|\bin which (city|country|town|venue)\b",
    ),
    # "qui peut ...", "qui doit ...", "qui est responsable ...": a category of people, not a name, may answer
    (
        "person",
        r"^\s*(qui|who|c['’]est qui)\b(?!\s+(peut|peuvent|doit|doivent|faut|a droit|ont droit"
        r"|(est|sont) (responsable|chargé|compétent)))|\bpar qui\b|\bà qui\b|\bavec qui\b",
    ),
    ("reason", r"\bpourquoi\b|\bwhy\b|\bdans quel but\b|\bà quoi (sert|servent)\b"),
]
# A question that opens on its verb ("Peut-on ...", "A-t-on ...", "Est-ce que ...") asks yes or no: its words
# ("taux", "quand", "budget"...) call for no kind of answer.
_YES_NO = re.compile(
    r"^\s*(est-ce qu|y a-t-il\b|[\w’']+(-t)?-(il|elle|on|je|ils|elles|vous|nous)\b|\w+ t-(il|elle|on)\b)"
)
_LEADING_CONJUNCTION = re.compile(r"^\s*(?:(?:et|mais|alors|sinon|donc|au fait|and|but|so)\b[\s,]*)+")
_OPEN = re.compile(
    r"^\s*(quel(le)?s\b|comment\b|pourquoi\b|que\b|qu['’]|à quoi\b|what (are|did|does|do)\b|how\b(?! (many|much)))",
    re.I,
)
_NUMBER_WORDS = (
    r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quinze|vingt|trente|quarante|"
    r"cinquante|soixante|cent|cents|mille|million|millions|milliard|dizaine|douzaine|quinzaine|vingtaine|"
    r"trentaine|quarantaine|cinquantaine|centaine|two|three|four|five|ten|twelve|hundred|thousand"
)
_MONTHS = (
    r"janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|"
    r"decembre|january|february|march|april|may|june|july|august|september|october|november|december"
)
_ANSWER = {
    "rate": re.compile(r"\d\s*%|\bpour ?cent\b|\bpercent\b|\b\d+ sur \d+\b", re.I),
    "duration": re.compile(
        rf"\b(\d+|{_NUMBER_WORDS}|quatre|une?)\s+(?:(?:premi|derni|prochain)\w*\s+)?"  # "les 6 à 12 premiers mois"
        r"(ans?|années?|mois|semaines?|jours?|journées?|heures?)\b|\bdu \d"
        r"|\bdemi-(journée|heure)",
        re.I,
    ),
    "time": re.compile(r"\b\d{1,2}\s?h\s?\d{0,2}\b|\b\d{1,2}:\d\d\b|\bmidi\b|\bminuit\b", re.I),
    "count": re.compile(rf"\b(?!(?:19|20)\d\d\b)\d|\b({_NUMBER_WORDS})\b", re.I),  # a year counts nothing
    "amount": re.compile(r"\d\s*(€|euros?|k€|m€|\$|dollars?)|\b(millions?|milliards?) d['’]euros\b|€", re.I),
    "date": re.compile(rf"\b(1[89]|20)\d\d\b|\b({_MONTHS})\b|\bdernier\b|\bdepuis\b|\d+\s*(ans|jours|mois)", re.I),
    "place": re.compile(r"\b(?:à|au|en|dans|at|in)\s+(?:la |le |l['’])?([A-ZÀ-Ý][\w'’-]+)|\d+,? (rue [\w'’ -]+)"),
    "person": re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ]+(?:[- ][A-ZÀ-Ý][a-zà-ÿ]+)+|\b[A-Z]{2,}\b"),
    # a quoted phrase, or capitalised words after the sentence's first
    "name": re.compile(
        r"[«“\"]\s*([^»”\"]{2,60}?)\s*[»”\"]|(?<=[\w,;:)][\s’'])((?:[A-ZÀ-Ý][\w’'.+-]*)(?:\s+[A-ZÀ-Ý][\w’'.+-]*)*)"
    ),
    "reason": re.compile(
        r"\b(pour|afin|car|parce|objectifs?|but|vise|permet|permettre|because|to|in order|aim)\b", re.I
    ),
}
# Capitalised words that start questions, or name months and days (which the documents may write otherwise).
_NOT_NAMES = frozenset(
    """qui que quoi quel quelle quels quelles combien comment pourquoi ou quand est sont le la les un une des
    en dans selon pour the what which who how why where when is are does did do and l d de du et mais ou donc ni
    car puis alors aussi sinon
    janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre january february march
    april may june july august september october november december lundi mardi mercredi jeudi vendredi samedi
    dimanche monday tuesday wednesday thursday friday saturday sunday""".split()
)
_NAME = re.compile(r"\b(?:[A-ZÉÈÀ][\w’'.-]*[A-Za-zéèà0-9])(?:\s+(?:des|de|du|d['’]|la|le|l['’])?\s*[A-ZÉÈÀ][\w’'-]+)*")
# Stems of the words questions are built with ("à quoi sert", "en quoi consiste", "que faut-il"): no topic.
_SCAFFOLDING = frozenset("sert servent consist signifi design agit faut peut doivent doit fait font veut".split())
_FIGURE = re.compile(r"\b(?!(?:19|20)\d\d\b)\d{2,}\b")  # years excepted: documents date themselves loosely
# What "combien de ..." counts: the two words after it (French only: an English question's words are not the
# documents' words).
_HOW_MANY = r"\b(?:combien|nombre)\s+(?:de\s+|d['’])"
_COUNTED = re.compile(_HOW_MANY + r"([\w-]+(?:\s+[\w-]+)?)", re.I)
# What kind of it, when "combien de jours de télétravail" says: days of telework are not any days.
_COUNTED_OF = re.compile(_HOW_MANY + r"[\w-]+\s+(?:de\s+|d['’])([\w-]+)", re.I)
# Numbers that count nothing: days of a date ("du 20 au 26 novembre") and ordinals ("le 2e groupe").
_NOT_COUNTS = re.compile(
    rf"\b\d{{1,2}}(?:er)?(?:\s*(?:au|et|-)\s*\d{{1,2}}(?:er)?)?\s+(?:{_MONTHS})\b|\b\d+(?:e|er|ère|ème|eme|nd|rd|th|st)\b",
    re.I,
)
# A question about what is still to come ("la prochaine édition", "où se tiendra ...") is not answered by a sentence
# that tells what happened: the sentence must speak of the future too (a verb in the future tense, "prochain"...).
_FUTURE_QUESTION = re.compile(
    r"\bprochain(e|s|es)?\b|\bà venir\b|\b(sera|seront|aura|auront|tiendra|tiendront|fera|feront|deviendra)\b"
    r"|\bnext\b|\bwill\b",
    re.I,
)
_FUTURE = re.compile(r"\bprochain(e|s|es)?\b|\bà venir\b|\b\w{2,}(ra|ront)\b|\bnext\b|\bwill\b", re.I)
# And the other way: what happened ("quels résultats ont donné ...", "qui a remporté ...") is not told by a sentence
# that only announces it ("les propositions seront expérimentées"): a future verb, and no verb of the past.
_PAST_QUESTION = re.compile(
    r"\b(?:a|ont)(?:-t-(?:il|elle|on|ils|elles))?\s+(?:\w+\s+)?\w+(?:é|ée|és|ées|i|is|it|u|us)\b|\bdid\b", re.I
)
_FUTURE_VERB = re.compile(r"\b(?:sera|seront|aura|auront|\w{2,}(?:era|eront|ira|iront|dra|dront))\b|\bwill\b", re.I)
_PAST = re.compile(r"\b(?:a|ont|avait|avaient|eu|été|fut|furent|\w{2,}(?:ait|aient))\b|\bdernier\b", re.I)
_WORD = re.compile(r"[^\W\d_][\w’'-]*")
_SITE = re.compile(r"\bhttps?://[^\s)\]>]+|\bwww\.[\w.-]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:fr|com|org|net|eu|io)\b")
_OF = re.compile(r"^(?:de|des|du|d['’]|of)\s*", re.I)


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces: how names are compared."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


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
    lowered = _LEADING_CONJUNCTION.sub("", question.lower())
    kind = None
    if not _YES_NO.search(lowered):  # "A-t-on droit au prêt à taux zéro ?" asks for no rate
        kind = next((name for name, pattern in _KINDS if re.search(pattern, lowered)), None)
    entities = []
    # A capitalised word that starts a sentence says nothing of being a name: blank those out.
    body = re.sub(r"(^|[.?!]\s+)[\w’'-]+", lambda m: m.group(1) + "_", question)
    for match in _NAME.finditer(body):
        name = re.sub(r"['’]s$", "", match.group(0).strip(" .?!"))  # "Revenu Québec's directorate"
        if fold(name) not in _NOT_NAMES and len(name) > 1:
            # accents stay: the keyword index stems "Université" and "Universite" apart
            entities.append(" ".join(name.replace("’", "'").lower().split()))
    entities += _FIGURE.findall(question)
    is_open = bool(_OPEN.search(lowered)) and kind in (None, "reason")
    counted = _COUNTED.search(question) if kind == "count" else None
    terms = tuple(term for term in analyze(question) if term not in _SCAFFOLDING)
    stems = tuple(analyze(counted.group(1))) if counted else ()
    of = _COUNTED_OF.search(question) if kind == "count" else None
    of_stems = tuple(analyze(of.group(1))) if of else ()
    future = bool(_FUTURE_QUESTION.search(question))
    past = not future and bool(_PAST_QUESTION.search(question))
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
        return bool(_FUTURE.search(sentence))
    if needs.past:
        return not _FUTURE_VERB.search(sentence) or bool(_PAST.search(sentence))
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
    if kind == "place" and any(fold(site) not in fold(" ".join(needs.entities)) for site in _SITE.findall(sentence)):
        return True  # "où trouver la vidéo ?": on a site ("sur tube.numerique.gouv.fr")
    if kind in ("person", "place", "name"):
        names = (match.group(match.lastindex or 0) for match in _ANSWER[kind].finditer(sentence))
        return any(_is_new_name(name, needs, context or sentence) for name in names)
    if kind == "count":
        named = not needs.counted_of or bool(set(needs.counted_of) & set(analyze(sentence)))
        return named and _counts(needs.counted, _NOT_COUNTS.sub(" ", sentence))
    return bool(_ANSWER[kind].search(sentence))


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
        return bool(_ANSWER["count"].search(sentence))
    for match in _ANSWER["count"].finditer(sentence):
        after = _OF.sub("", sentence[match.end() :].lstrip(" «»\"’'").lstrip())
        words = _WORD.findall(" ".join(after.split()[:3]))[:2]
        attached = set(analyze(" ".join(words)))
        if not attached or attached & set(counted):
            return True
    return False
