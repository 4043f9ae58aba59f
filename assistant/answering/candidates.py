"""The sentences an answer may quote, each with its support for the question.

Every quotable sentence of the retrieved passages gets the features of ``support.FEATURES``, computed from the
question, the index's idf weights and the sentence vectors stored at build time (nothing is embedded but the
question), and the support the model profile's logistic model gives them. What once vetoed a sentence is a
feature among the others, with its fitted weight: its document lacks a name or figure the question gives, the
question asks for a number, a date, a name or a place and the sentence holds none that fits, or the question asks
what is still to come ("la prochaine édition") and the sentence tells only what was. A passage that ends
announcing a list is followed into the next chunk for the list's items.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from assistant.answering.evidence import Evidence
from assistant.answering.language import detect_language
from assistant.answering.lexicon import LIST_ITEM
from assistant.answering.support import FEATURES, QuestionNeeds, answers_kind, fits_in_time, question_needs
from assistant.chunking import is_quotable
from assistant.keywords import analyze, lucene_idf
from assistant.records import Passage

KIND = FEATURES.index("kind")
SHORT_LINE_WORDS = 8  # a line this short ("Vendredi 16 mars à partir de 18h30") reads with the lines above it
# Questions whose answer is a number, a date, a name or a place: a sentence without one answers nothing.
CLOSED_KINDS = frozenset({"rate", "duration", "time", "count", "amount", "date", "place", "person", "name"})
_LIST_ITEM = LIST_ITEM


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage that could be quoted, with its support features (support.FEATURES)."""

    passage: Passage
    text: str
    features: tuple[float, ...]
    support: float = 0.0


class TermWeights:
    """Inverse document frequencies of index terms, for idf-weighted query coverage."""

    def __init__(self, evidence: Evidence) -> None:
        total, self.df = evidence.term_frequencies()
        self.total = max(1, total)

    def idf(self, term: str) -> float:
        return float(lucene_idf(self.total, self.df.get(term, 0)))

    def known_share(self, query_terms) -> float:
        """The idf-weighted share of the query's terms that occur somewhere in the corpus."""
        return self.coverage(query_terms, {term for term in query_terms if self.df.get(term)})

    def coverage(self, query_terms, text_terms: set[str]) -> float:
        weights = {t: self.idf(t) for t in set(query_terms)}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in text_terms) / total if total else 0.0


_weights_cache: dict[tuple, TermWeights] = {}
_weights_lock = threading.Lock()


def term_weights(evidence: Evidence) -> TermWeights:
    """The term weights of the evidence's index generation, computed once per generation (thread-safe)."""
    key = evidence.key
    with _weights_lock:
        weights = _weights_cache.get(key)
        if weights is None:
            _weights_cache.clear()
            weights = _weights_cache[key] = TermWeights(evidence)
        return weights


def candidates(
    evidence: Evidence, question: str, passages: list[Passage], needs: QuestionNeeds | None = None
) -> list[Candidate]:
    """Every quotable sentence of the passages with its support features; vectors come from the index.

    A passage that ends by announcing a list ("... autour de trois notions :"), or inside the list's items, is
    followed into the next chunk of its document for the (other) items, which answer what it announces.
    A sentence whose passage lacks a name, acronym or figure the question gives has no support at all.
    ``needs`` is what the question asks for, when the caller has it already.
    """
    gathering = _Gathering(evidence, question, passages, needs or question_needs(question))
    pending: list[tuple[Passage, _Continued | None]] = [(passage, None) for passage in passages]
    position = 0
    while position < len(pending):
        passage, continued = pending[position]
        position += 1
        announced = gathering.add(passage, continued)
        following = evidence.following(passage) if announced else None
        # the next chunk's list items are read now, as items, even when the chunk was retrieved too: its own turn
        # then takes the rest of it
        if following is not None and all(following.id != done.id for done, _ in pending[:position]):
            pending.insert(position, (following, announced))
    return gathering.scored()


class _Continued(NamedTuple):
    """What the next chunk inherits from a passage that ends announcing a list: the passage's features, the
    announcing sentence's (cosine, terms), and where that sentence is among the candidates."""

    passage_terms: float
    focus: float
    intro: tuple[float, float]
    announcer: int


class _Gathering:
    """The candidates of one question, gathered passage after passage, then scored."""

    def __init__(self, evidence: Evidence, question: str, passages: list[Passage], needs: QuestionNeeds) -> None:
        self.evidence, self.profile, self.needs = evidence, evidence.profile, needs
        self.english = detect_language(question) == "en"
        self.weights = term_weights(evidence)
        self.query_vector = evidence.embed_query(question)
        self.best_passage = max((p.score for p in passages), default=1.0) or 1.0
        # the two rarest terms, and any as rare as the second: a cut inside a tie would depend on set order
        idfs = {term: self.weights.idf(term) for term in needs.terms}
        second = sorted(idfs.values(), reverse=True)[1:2] or list(idfs.values())
        self.rarest = [term for term, idf in idfs.items() if idf >= min(second, default=0.0)]
        self.known = self.weights.known_share(needs.terms)
        self.names_missing, self.names_held = _documents_holding(evidence, needs.entities)
        # what the question asks of the names it gives; an English question's words are not the documents'
        self.asked = None if self.english else needs.said_of_names() or None
        self.out: list[Candidate] = []
        self.seen: set[str] = set()  # overlap between chunks repeats sentences
        self.announced_by: dict[int, int] = {}  # a list item from a following chunk -> the candidate announcing it
        self.items: set[str] = set()  # those items: a retrieved chunk scores them again on their own

    def add(self, passage: Passage, continued: _Continued | None) -> _Continued | None:
        """Add the passage's candidates (only the list items it opens with, if it continues a list); returns what
        the next chunk continues, when the passage ends on a sentence announcing a list or inside its items."""
        weights, needs = self.weights, self.needs
        found = self.evidence.sentences(passage)
        if found is None:
            return None
        document, spans, vectors = found
        context_terms = set(analyze(f"{passage.title}\n{passage.heading}\n{passage.text}"))
        if needs.open:  # the items that answer "Que recommande l'ENAP ?" may lie chunks away from the name
            context_terms |= self.names_held[document]
        passage_terms = weights.coverage(needs.terms, context_terms)
        focus = sum(term in context_terms for term in self.rarest) / len(self.rarest) if self.rarest else 1.0
        intro: tuple[float, float] | None = None  # (cosine, terms) of a sentence that announces a list
        announcer: int | None = None  # where that sentence is among the candidates, if it is one
        if continued:
            passage_terms, focus, intro, announcer = continued
        labels = {" ".join(passage.title.split()), " ".join(passage.heading.split())}
        cosines = np.asarray(vectors, dtype=np.float32) @ self.query_vector
        above: set[str] = set()  # the terms of the line above, and of the short lines above it up to a longer one
        before = np.concatenate([cosines[:1], cosines[:-1]])  # the cosine of the sentence before (the first: its own)
        for (start, end), cosine, previous in zip(spans, cosines, before):
            sentence = passage.text[start:end]
            folded = " ".join(sentence.split())
            item = intro is not None and bool(_LIST_ITEM.match(sentence))
            if continued and not item and folded not in self.seen:
                break  # past the overlap and the list's items, the next chunk is another passage
            terms = set(analyze(sentence))
            # a line too short to say what it is about ("Vendredi 16 mars à partir de 18h30") says it with the lines
            # above it, when it holds what a closed question asks for
            short, context = len(sentence.split()) <= SHORT_LINE_WORDS, above
            above = above | terms if short else terms
            holds_kind = answers_kind(needs, sentence, passage.text)
            said = terms | context if short and holds_kind and needs.kind in CLOSED_KINDS else terms
            sentence_terms = weights.coverage(needs.terms, said)
            if item:
                # "... plusieurs conditions :" announces a list: its items answer what it announces
                cosine, sentence_terms = max(float(cosine), intro[0]), max(sentence_terms, intro[1])
            else:
                intro = (float(cosine), sentence_terms) if sentence.endswith(":") else None
                announcer = announcer if continued else None  # the overlap may repeat the announcing sentence
            again = not continued and folded in self.items  # an item read with its list, now on its own
            if (folded in self.seen and not again) or folded in labels or sentence.endswith("?"):
                continue  # titles and questions are no answers
            self.seen.add(folded)
            if not is_quotable(sentence):
                continue
            # a closed question's answer holds the kind asked for and says something the question asks of its names
            unfit = needs.kind in CLOSED_KINDS and not (holds_kind and (self.asked is None or said & self.asked))
            evidence = (
                float(self.names_missing[document]),
                float(unfit),
                float(not fits_in_time(needs, sentence)),
                float(passage.dense_score),
                float(previous),
            )
            features = self._features(passage, holds_kind, terms, float(cosine), sentence_terms, passage_terms, focus)
            features += evidence
            if continued:
                self.announced_by[len(self.out)] = announcer
                self.items.add(folded)
            elif intro is not None and not item:
                announcer = len(self.out)
            self.out.append(Candidate(passage, sentence, features))
        if not continued and announcer is not None and intro is not None:
            # the passage ends on a sentence announcing a list, or inside its items: the rest is in the next chunk
            return _Continued(passage_terms, focus, intro, announcer)
        return None

    def _features(
        self,
        passage: Passage,
        holds_kind: bool,
        terms: set[str],
        cosine: float,
        sentence_terms: float,
        passage_terms: float,
        focus: float,
    ) -> tuple[float, ...]:
        """The first eight support.FEATURES of one sentence (the evidence that once vetoed follows them); an
        English question's term features are the profile's typical ones."""
        needs, profile = self.needs, self.profile
        kind = float(holds_kind)
        counted = float(not needs.counted or bool(terms & set(needs.counted)))
        rank = passage.score / self.best_passage
        if self.english:
            typical = profile.english_terms
            terms_features = (typical["sentence_terms"], typical["passage_terms"])
            focus_known = (typical["focus"], typical["known"])
            return (cosine, *terms_features, kind, counted, *focus_known, rank)
        return (cosine, sentence_terms, passage_terms, kind, counted, focus, self.known, rank)

    def scored(self) -> list[Candidate]:
        """The candidates with their support, best first."""
        if not self.out:
            return []
        support = self.profile.support.score(np.asarray([c.features for c in self.out], dtype=np.float64), FEATURES)
        for item, announcer in self.announced_by.items():  # items quoted from the next chunk answer no more than
            support[item] = min(support[item], support[announcer])  # the sentence that announced them
        out = [replace(c, support=float(value)) for c, value in zip(self.out, support)]
        best: dict[str, Candidate] = {}  # an item read twice (with its list, on its own) keeps its better support
        for candidate in sorted(out, key=lambda c: -c.support):
            best.setdefault(candidate.text, candidate)
        return list(best.values())


class _NamesHeld:
    """The terms of the names or figures the question gives that a document holds: ``held[document]``, read for
    the few documents whose passages are read (an index may hold tens of thousands)."""

    def __init__(self) -> None:
        self.found: list[tuple[list[str], np.ndarray]] = []  # a name's terms, and which documents hold them all

    def __getitem__(self, document: int) -> set[str]:
        return {term for terms, present in self.found if present[document] for term in terms}


def _documents_holding(evidence: Evidence, entities: tuple[str, ...]) -> tuple[np.ndarray, _NamesHeld]:
    """For each document of the index, the share of the names or figures the question gives that it lacks, and the
    terms of those it holds."""
    count = evidence.document_count()
    missing = np.zeros(count, dtype=np.float64)
    held = _NamesHeld()
    checked = 0
    for entity in entities:
        terms = analyze(entity)
        if not terms:
            continue  # a name of stop words only ("Sous" of 'Sous le bonnet') checks nothing
        checked += 1
        present = np.ones(count, dtype=bool)
        for term in terms:
            present &= evidence.documents_holding(term)
        missing += ~present
        held.found.append((terms, present))
    return missing / max(checked, 1), held
