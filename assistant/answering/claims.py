"""Does the passage a generated sentence cites state it? Likeness and agreement of facts, weighed by one model.

A language model's sentence that resembles its cited passage may still contradict it: another number, date, name or
place, or a negation. Each sentence of the passage is read as a window (it and its neighbours), and the claim gets,
against each window, the features of CLAIM_FEATURES: its cosine to the sentence (stored vectors), the idf-weighted
share of its terms the window and the passage hold (numbers read in digits on both sides: "six propositions" is what
"6 propositions" says), and the evidence against: a number (written in digits or words, "une quarantaine", "3e") or
a month of the claim that the window lacks, the share of its names the passage lacks, and whether one of the two
says "not" where the other does not (a word made its opposite by a prefix, "inutile" for "utile", says "not" too),
or the two exchange roles ("aux usagers d'informer les gendarmes" for "aux gendarmes d'informer les usagers").
A logistic model fitted on the claim set's dev split (``benchmarks/claims.py --fit``, recorded in the calibration
file as ``claim``) weighs them; the claim is backed by its best window when that window's support reaches the
model's bar, and the window's sentence is then the quote its marker points to.

>>> sorted(facts("Le barcamp a réuni une quarantaine d'agents le 17 novembre 2016.").numbers)
['17', '2016', '40']
>>> sorted(facts("La quatrième semaine, du 20 au 26 novembre.").numbers), facts("La 3e édition").numbers
(['20', '26', '4'], frozenset({'3'}))
>>> sorted(facts("Le barcamp organisé par le SGMAP à la Gaité lyrique à Paris.").names)
['gaite', 'paris', 'sgmap']
>>> facts("Le SGMAP n'a pas organisé le barcamp.").negated, facts("Le SGMAP a organisé le barcamp.").negated
(True, False)

A month written short next to a day or a year is the month; "sept" alone is seven.

>>> facts("14 sept. 2016 Contenu disponible").months, sorted(facts("14 sept. 2016 Contenu disponible").numbers)
(frozenset({'septembre'}), ['14', '2016'])
>>> facts("Ils étaient sept.").months, facts("Ils étaient sept.").numbers
(frozenset(), frozenset({'7'}))

A date written in figures, day first, states its month: "le 1er mars 2017" is what "le 01/03/2017" says.

>>> written = facts("Le dossier est à déposer avant le 01/03/2017.")
>>> written.months, sorted(written.numbers), sorted(facts("avant le 1er mars 2017").numbers)
(frozenset({'mars'}), ['1', '2017'], ['1', '2017'])
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
from text_to_num import alpha2digit

from assistant.answering.candidates import term_weights
from assistant.answering.evidence import Evidence
from assistant.answering.language import detect_language
from assistant.answering.lexicon import (
    ACRONYM,
    APPROXIMATE,
    APPROXIMATE_WORD,
    CAPITALISED,
    CAPITALISED_MONTHS,
    CLAIM_NUMBER,
    CLAIM_TOKEN,
    DECIMAL_MARK,
    DETERMINERS,
    ELISION,
    LANGUAGES,
    MONTH_NAMES,
    MONTH_OF,
    MONTH_SHORT,
    MONTHS_ABBREVIATED,
    NEGATION,
    NOT_NAMES,
    NUMERIC_DATE,
    OPPOSITE_PREFIXES,
    OPPOSITE_STEM,
    ORDINAL,
    ROLE_TOKEN,
    SENTENCE_END,
    SYMMETRIC,
    THOUSANDS_SEPARATOR,
    words,
)
from assistant.keywords import analyze, fold
from assistant.profiles import SupportModel
from assistant.records import Passage

CLAIM_FEATURES = (
    "cosine",  # the claim's cosine to the sentence
    "window_terms",  # the idf-weighted share of its terms the sentence and its neighbours hold
    "passage_terms",  # and the passage, with its title and heading
    "numbers_missing",  # 1 when a number of the claim is not in the window
    "months_missing",  # 1 when a month of the claim is not in the window
    "names_missing",  # the share of its names the passage lacks
    "negation",  # the window's sentence holding most of the claim says it reversed: "not", a word's opposite, roles
)
# The sign each feature's weight must have: evidence for a claim cannot count against it, nor the other way round.
CLAIM_SIGNS = (1, 1, 1, -1, -1, -1, -1)

_MONTHS = frozenset(fold(month) for month in words("months"))


@dataclass(frozen=True)
class Facts:
    """What a text states that a paraphrase must keep: its numbers, months and names (folded), and its polarity;
    and its terms, read with its numbers in digits ("six" and "6", "premier" and "1er" are the same term)."""

    numbers: frozenset[str]
    months: frozenset[str]
    names: frozenset[str]
    negated: bool
    terms: frozenset[str]
    roles: tuple[tuple[str, str], ...] = ()  # each term with the word that governs it (``roles``)


def in_digits(text: str) -> str:
    """``text`` with its numbers written in digits: "une quarantaine" -> 40, "vingt-cinq" -> 25, "3e" -> 3.

    >>> in_digits("Le premier atelier a réuni une quarantaine d'agents et six équipes.")
    "Le 1 atelier a réuni 40 d'agents et 6 équipes."
    """
    spelled = APPROXIMATE_WORD.sub(lambda m: str(APPROXIMATE[m.group(1).lower()]), text)
    for language in LANGUAGES:  # "vingt-cinq" -> 25, "twelve" -> 12, "deux" -> 2 ("un" stays a word)
        spelled = alpha2digit(spelled, language, threshold=1)
    return ORDINAL.sub(r"\1", spelled)


@functools.lru_cache(maxsize=1024)
def facts(text: str) -> Facts:
    """What ``text`` states (a Facts: immutable, so read once per text: the claims of an answer that cite one passage
    read its sentences once, and the quote's choice reads them again for free)."""
    text = MONTH_SHORT.sub(lambda m: MONTHS_ABBREVIATED[(m.group(1) or m.group(2)).lower()], text)
    text = NUMERIC_DATE.sub(_date_in_words, text)
    spelled = in_digits(text)
    numbers = frozenset(_number(n) for n in CLAIM_NUMBER.findall(spelled))
    months = frozenset(
        MONTH_OF.get(folded, folded)
        for written in CLAIM_TOKEN.findall(text)
        if (folded := fold(written).strip(".'-")) in _MONTHS
        and (folded not in CAPITALISED_MONTHS or written[:1].isupper())
    )
    negated = bool(NEGATION.search(text))
    return Facts(numbers, months, _names(text), negated, frozenset(analyze(spelled)), tuple(roles(spelled).items()))


def roles(text: str) -> dict[str, str]:
    """Each term of ``text`` with the word that governs its first occurrence: the word before it, articles and
    possessives read past (the language files' ``determiners``), in lower case. Who does what to whom, roughly.

    >>> roles("Permettre aux gendarmes d'informer les usagers")
    {'permettr': '', 'gendarm': 'aux', 'inform': 'd', 'usager': 'informer'}
    >>> roles("qui préfère l'horizontalité à la verticalité")["verticalit"]
    'à'
    """
    governed: dict[str, str] = {}
    before = ""
    for token in ROLE_TOKEN.findall(text):
        word = token.lower().rstrip("'’")
        if word in DETERMINERS:
            continue
        for term in analyze(token)[:1]:
            governed.setdefault(term, before)
        before = word
    return governed


def swapped(one: Facts, other: Facts) -> bool:
    """Whether two terms both texts hold have exchanged the words that govern them ("aux usagers d'informer les
    gendarmes" for "aux gendarmes d'informer les usagers"; "préfère la verticalité à l'horizontalité" for "préfère
    l'horizontalité à la verticalité"), one of the two a word that is no term (a preposition: two names that follow
    each other's words in a sentence reordered are no swap); not around a word that ranks nothing ("A et B").

    >>> swapped(facts("Permettre aux usagers d'informer les gendarmes."),
    ...         facts("Permettre aux gendarmes d'informer les usagers."))
    True
    >>> swapped(facts("Les femmes et les hommes qui innovent."), facts("Les hommes et les femmes qui innovent."))
    False
    >>> swapped(facts("Le SGMAP a organisé le barcamp Futurs Publics le jeudi 17 novembre."),
    ...         facts("Le barcamp Futurs Publics organisé par le SGMAP jeudi 17 novembre."))
    False
    """
    mine, theirs = dict(one.roles), dict(other.roles)
    shared = [term for term in mine if term in theirs]
    for position, first in enumerate(shared):
        for second in shared[position + 1 :]:
            a, b = mine[first], mine[second]
            if a == b or not (a and b) or {a, b} & SYMMETRIC or (a, b) != (theirs[second], theirs[first]):
                continue
            if not (analyze(a) and analyze(b)):
                return True
    return False


def _date_in_words(date: re.Match) -> str:
    """A date written in figures, with its month named: "01/03/2017" -> "1 mars 2017"."""
    month = int(date["month"])
    if not 1 <= month <= len(MONTH_NAMES):
        return date[0]
    return f"{int(date['day'])} {MONTH_NAMES[month - 1]} {date['year']}"


def _number(written: str) -> str:
    """A number as a claim and its passage compare it, without its separators and leading zeros.

    >>> [_number(n) for n in ("1 200", "2,5", "09", "0,5", "00")]
    ['1200', '2.5', '9', '0.5', '0']
    """
    whole, point, fraction = written.replace(THOUSANDS_SEPARATOR, "").replace(DECIMAL_MARK, ".").partition(".")
    return (whole.lstrip("0") or "0") + point + fraction


def _names(text: str) -> frozenset[str]:
    """Capitalised words that are not a sentence's first (unless written like an acronym), folded; no months."""
    names = set()
    for sentence in SENTENCE_END.split(text):
        for position, match in enumerate(CAPITALISED.finditer(sentence.strip(' •>-–«»"('))):
            word = match.group(0).rstrip(".’'-")
            if position == 0 and match.start() == 0 and not ACRONYM.match(word):
                continue
            word = ELISION.sub("", word)
            folded = fold(word)
            if len(folded) > 1 and folded not in NOT_NAMES and folded not in _MONTHS:
                names.add(folded)
    return frozenset(names)


def opposed(one: frozenset[str], other: frozenset[str]) -> bool:
    """Whether a term of ``one`` that ``other`` lacks is, by a prefix, the opposite of a term of ``other`` that ``one``
    lacks ("inutil" of "util", "decourag" of "encourag": the language files' ``opposite_prefixes``), or the reverse.

    >>> opposed(facts("Les participants l'ont jugé inutile.").terms, facts("Les participants l'ont jugé utile.").terms)
    True
    >>> opposed(facts("Il faut encourager le changement.").terms, facts("Il faut décourager le changement.").terms)
    True
    >>> opposed(facts("Il faut valoriser nos métiers.").terms, facts("Il faut valoriser nos agents.").terms)
    False
    """
    only_one, only_other = one - other, other - one
    for word, opposite in OPPOSITE_PREFIXES:
        for these, those in ((only_one, only_other), (only_other, only_one)):
            for term in these:
                stem = term[len(opposite) :]
                if term.startswith(opposite) and len(stem) >= OPPOSITE_STEM and word + stem in those:
                    return True
    return False


def _missing(names: frozenset[str], text: str) -> float:
    """The share of ``names`` that ``text`` (folded) does not hold as words."""
    if not names:
        return 0.0
    return sum(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is None for name in names) / len(names)


@dataclass(frozen=True)
class ClaimCheck:
    """The best window of a passage for a claim: its support, its sentence (verbatim) and its features."""

    support: float
    quote: str
    features: tuple[float, ...]


def claim_windows(evidence: Evidence, claim: str, passage: Passage) -> list[tuple[str, tuple[float, ...]]]:
    """Each sentence of ``passage`` (verbatim) with the claim's features against it (CLAIM_FEATURES)."""
    found = evidence.sentences(passage)
    if found is None:
        return []
    _, spans, stored = found
    sentences = [passage.text[int(start) : int(end)] for start, end in spans]
    if not sentences:
        return []
    vector = evidence.embed_document(claim)
    cosines = np.asarray(stored, dtype=np.float32) @ vector
    weights = term_weights(evidence)
    said = facts(claim)
    terms = said.terms
    if detect_language(claim) != detect_language(passage.text):
        # a claim in another language than its passage shares with it only its names, numbers and months
        terms = frozenset(analyze(" ".join(sorted(said.names | said.numbers | said.months))))
    context = f"{passage.title} {passage.heading} {passage.text}"
    passage_terms = weights.coverage(terms, set(analyze(in_digits(context))))
    names_missing = _missing(said.names, fold(context))
    read = [facts(sentence) for sentence in sentences]  # each sentence once, not once a window it is in
    holds = [weights.coverage(terms, sentence.terms) for sentence in read]

    def holder(around: slice, centre: int) -> int:
        """The window's sentence that holds most of the claim, whose polarity the claim's must agree with: a window
        whose terms come from a neighbour is read with that neighbour's "not", not its own sentence's."""
        positions = range(len(sentences))[around]
        return max(positions, key=lambda position: (holds[position], position == centre))

    # whether each sentence says the claim reversed: "not" on one side only, a word's opposite, two roles exchanged
    reverses = [(said.negated != held.negated) != opposed(terms, held.terms) or swapped(said, held) for held in read]
    # the passage's sentence that holds most of the claim: when it says the claim reversed, no window of the passage
    # backs the claim (a window that holds a third of its words is no escape from the one that holds it all)
    reversed_here = reverses[max(range(len(read)), key=holds.__getitem__)]
    windows = []
    for position, sentence in enumerate(sentences):
        around = slice(max(0, position - 1), position + 2)
        numbers = frozenset().union(*(held.numbers for held in read[around]))
        months = frozenset().union(*(held.months for held in read[around]))
        features = (
            float(cosines[position]),
            weights.coverage(terms, set().union(*(held.terms for held in read[around]))),
            passage_terms,
            float(bool(said.numbers - numbers)),
            float(bool(said.months - months)),
            names_missing,
            float(reversed_here or reverses[holder(around, position)]),
        )
        windows.append((sentence, features))
    return windows


def check_claim(evidence: Evidence, claim: str, passage: Passage, model: SupportModel) -> ClaimCheck:
    """How well ``passage`` states ``claim``: the support of its best window under ``model``. Among windows that
    score alike (neighbours share a window's words), the quote is the sentence that holds most of the claim."""
    windows = claim_windows(evidence, claim, passage)
    if not windows:
        return ClaimCheck(0.0, "", ())
    scores = model.score(np.asarray([f for _, f in windows], dtype=np.float64), CLAIM_FEATURES)
    weights, terms = term_weights(evidence), facts(claim).terms

    def rank(position: int) -> tuple[float, float]:
        own = weights.coverage(terms, facts(windows[position][0]).terms)
        return round(float(scores[position]), 3), own

    best = max(range(len(windows)), key=rank)
    return ClaimCheck(float(scores[best]), windows[best][0], windows[best][1])
