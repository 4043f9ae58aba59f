"""The sentences an answer may quote, each with its support for the question.

Every quotable sentence of the retrieved passages gets the features of ``support.FEATURES``, computed from the
question, the index's idf weights and the sentence vectors stored at build time (nothing is embedded but the
question), and the support the model profile's logistic model gives them. A sentence has no support at all when
its document lacks a name or figure the question gives, or when the question asks for a number, a date, a name
or a place and the sentence holds none that fits. A passage that ends announcing a list is followed into the
next chunk for the list's items.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace

import numpy as np

from assistant.answering.language import detect_language
from assistant.answering.support import FEATURES, QuestionNeeds, answers_kind, question_needs
from assistant.chunking import is_quotable
from assistant.keywords import analyze
from assistant.records import Passage
from assistant.retrieval import Retriever

KIND = FEATURES.index("kind")
# Questions whose answer is a number, a date, a name or a place: a sentence without one answers nothing.
CLOSED_KINDS = frozenset({"rate", "duration", "time", "count", "amount", "date", "place", "person"})
_LIST_ITEM = re.compile(r"^\s*([•●▪■◦*\-–]|\d+[.)]|[a-z][.)])\s")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage that could be quoted, with its support features (support.FEATURES)."""

    passage: Passage
    text: str
    features: tuple[float, ...]
    support: float = 0.0


class TermWeights:
    """Inverse document frequencies of index terms, for idf-weighted query coverage."""

    def __init__(self, retriever: Retriever) -> None:
        keyword = retriever.index.keyword
        self.total = max(1, keyword.size)
        self.df = keyword.document_frequencies()

    def idf(self, term: str) -> float:
        return float(np.log(1 + (self.total - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5)))

    def known_share(self, query_terms) -> float:
        """The idf-weighted share of the query's terms that occur somewhere in the corpus."""
        return self.coverage(query_terms, {term for term in query_terms if self.df.get(term)})

    def coverage(self, query_terms, text_terms: set[str]) -> float:
        weights = {t: self.idf(t) for t in set(query_terms)}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in text_terms) / total if total else 0.0


_weights_cache: dict[tuple, TermWeights] = {}
_weights_lock = threading.Lock()


def term_weights(retriever: Retriever) -> TermWeights:
    """The term weights of the retriever's index generation, computed once per generation (thread-safe)."""
    key = (str(retriever.index.directory), retriever.index.generation)
    with _weights_lock:
        weights = _weights_cache.get(key)
        if weights is None:
            _weights_cache.clear()
            weights = _weights_cache[key] = TermWeights(retriever)
        return weights


def candidates(
    retriever: Retriever, question: str, passages: list[Passage], needs: QuestionNeeds | None = None
) -> list[Candidate]:
    """Every quotable sentence of the passages with its support features; vectors come from the index.

    A passage that ends by announcing a list ("... autour de trois notions :") is followed into the next chunk of
    its document for the list's items, which answer what it announces.
    A sentence whose passage lacks a name, acronym or figure the question gives has no support at all.
    ``needs`` is what the question asks for, when the caller has it already.
    """
    index, profile = retriever.index, retriever.profile
    needs = needs or question_needs(question)
    english = detect_language(question) == "en"
    weights = term_weights(retriever)
    query_vector = retriever.embedder.embed_query(question)
    best_passage = max((p.score for p in passages), default=1.0) or 1.0
    # the two rarest terms, and any as rare as the second: a cut inside a tie would depend on set order
    idfs = {term: weights.idf(term) for term in needs.terms}
    second = sorted(idfs.values(), reverse=True)[1:2] or list(idfs.values())
    rarest = [term for term, idf in idfs.items() if idf >= min(second, default=0.0)]
    known = weights.known_share(needs.terms)
    missing_entity = _documents_missing(index, needs.entities)
    asked = None if english else needs.said_of_names() or None  # an English question's words are not the documents'
    out: list[Candidate] = []
    vetoed: set[int] = set()
    seen: set[str] = set()
    # (passage, what it continues): the passage-level features and the list announced where the passage before ended
    pending: list[tuple[Passage, tuple | None]] = [(passage, None) for passage in passages]
    announced_by: dict[int, int] = {}  # a list item from a following chunk -> the candidate that announced it
    position = 0
    while position < len(pending):
        passage, continued = pending[position]
        position += 1
        row = index.chunk_row.get(passage.id)
        if row is None:
            continue
        context = f"{passage.title}\n{passage.heading}\n{passage.text}"
        context_terms = set(analyze(context))
        passage_terms = weights.coverage(needs.terms, context_terms)
        focus = sum(term in context_terms for term in rarest) / len(rarest) if rarest else 1.0
        intro: tuple[float, float] | None = None  # (cosine, terms) of a sentence that announces a list
        announcer: int | None = None  # where that sentence is in ``out``, if it is a candidate
        if continued:
            passage_terms, focus, intro, announcer = continued
        labels = {" ".join(passage.title.split()), " ".join(passage.heading.split())}
        rows = index.sentence_rows(row)
        cosines = np.asarray(index.sentence_vectors[rows.start : rows.stop], dtype=np.float32) @ query_vector
        for (_, start, end), cosine in zip(index.sentences[rows.start : rows.stop], cosines):
            sentence = passage.text[start:end]
            folded = " ".join(sentence.split())
            item = intro is not None and bool(_LIST_ITEM.match(sentence))
            if continued and not item and folded not in seen:
                break  # past the overlap and the list's items, the next chunk is another passage
            terms = set(analyze(sentence))
            sentence_terms = weights.coverage(needs.terms, terms)
            if item:
                # "... plusieurs conditions :" announces a list: its items answer what it announces
                cosine, sentence_terms = max(float(cosine), intro[0]), max(sentence_terms, intro[1])
            else:
                intro = (float(cosine), sentence_terms) if sentence.endswith(":") else None
                announcer = announcer if continued else None  # the overlap may repeat the announcing sentence
            if folded in seen or folded in labels or sentence.endswith("?"):
                continue  # overlap between chunks repeats sentences; titles and questions are no answers
            seen.add(folded)
            if not is_quotable(sentence):
                continue
            features = (
                float(cosine),
                sentence_terms,
                passage_terms,
                float(answers_kind(needs, sentence, passage.text)),
                float(not needs.counted or bool(terms & set(needs.counted))),
                focus,
                known,
                passage.score / best_passage,
            )
            if english:
                features = (
                    features[0],
                    *profile.english_terms[:2],
                    *features[3:5],
                    *profile.english_terms[2:],
                    features[7],
                )
            # a closed question's answer holds the kind asked for and says something the question asks of its names
            unfit = needs.kind in CLOSED_KINDS and not (features[KIND] and (asked is None or terms & asked))
            if missing_entity[index.chunk_document[row]] or unfit:
                vetoed.add(len(out))
            if continued:
                announced_by[len(out)] = announcer
            elif intro is not None and not item:
                announcer = len(out)
            out.append(Candidate(passage, sentence, features))
        if not continued and announcer is not None and announcer == len(out) - 1:
            # the passage ends on a sentence announcing a list ("... trois notions :"): its items are in the next chunk
            following = retriever.following(passage)
            if following is not None and all(following.id != queued.id for queued, _ in pending):
                pending.insert(position, (following, (passage_terms, focus, intro, announcer)))
    if out:
        support = profile.support.score(np.asarray([c.features for c in out], dtype=np.float64))
        for item, announcer in announced_by.items():  # items quoted from the next chunk answer no more than
            support[item] = min(support[item], support[announcer])  # the sentence that announced them
        support[list(vetoed)] = 0.0
        out = [replace(c, support=float(value)) for c, value in zip(out, support)]
    return sorted(out, key=lambda c: -c.support)


def _documents_missing(index, entities: tuple[str, ...]) -> np.ndarray:
    """For each document of the index, whether it lacks one of the names or figures the question gives."""
    missing = np.zeros(index.documents.size, dtype=bool)
    for entity in entities:
        present = np.ones(index.documents.size, dtype=bool)
        for term in analyze(entity) or [entity]:
            present &= index.documents.scores([term]) > 0
        missing |= ~present
    return missing
