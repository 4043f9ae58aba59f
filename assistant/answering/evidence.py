"""What answering needs of an index, and nothing more: the narrow interface between the two.

``Evidence`` is implemented by ``assistant.retrieval.Retriever`` (on a built index) and by ``MemoryEvidence`` (a few
texts in memory, with a hashing embedder), on which answering is tested without an index or a model.

>>> evidence = MemoryEvidence({"forum.txt": "Le Forum des Jeunes compte 40 membres. Il se réunit à Lyon."})
>>> passage = evidence.search("Combien de membres compte le Forum des Jeunes ?", k=1)[0]
>>> spans = evidence.sentences(passage)[1]
>>> [passage.text[start:end] for start, end in spans]
['Le Forum des Jeunes compte 40 membres.', 'Il se réunit à Lyon.']
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import numpy as np

from assistant.chunking import split_sentences
from assistant.keywords import analyze
from assistant.profiles import DEFAULT_MODEL, ModelProfile, profile_for
from assistant.records import Passage, content_hash


class Evidence(Protocol):
    """An index as answering sees it."""

    profile: ModelProfile

    @property
    def key(self) -> tuple:
        """What identifies this state of the index (term statistics are kept per key)."""

    def embed_query(self, text: str) -> np.ndarray:
        """The question's unit vector: the only text answering embeds for extractive answers."""

    def embed_document(self, text: str) -> np.ndarray:
        """A generated claim's unit vector, to check it against a passage's sentences."""

    def search(self, query: str, k: int = 5) -> list[Passage]: ...

    def following(self, passage: Passage) -> Passage | None:
        """The passage after this one in its document, if any."""

    def sentences(self, passage: Passage) -> tuple[int, np.ndarray, np.ndarray] | None:
        """The passage's document number, its sentences' (start, end) offsets in its text, and their stored
        vectors; None for a passage this index does not hold."""

    def term_frequencies(self) -> tuple[int, dict[str, int]]:
        """How many passages there are, and in how many of them each term occurs."""

    def document_count(self) -> int: ...

    def documents_holding(self, term: str) -> np.ndarray:
        """For each document, whether it holds the (analyzed) term."""


class HashEmbedder:
    """Analyzed words hashed into a small space: deterministic, no model, similar texts close."""

    dimension = 64

    def __call__(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for token in analyze(text) or ["<empty>"]:
            digest = hashlib.sha256(token.encode()).digest()
            vector[digest[0] % self.dimension] += 1.0 if digest[1] % 2 else -1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector


class MemoryEvidence:
    """Evidence over a few texts in memory: each paragraph of a document is a passage."""

    def __init__(self, documents: dict[str, str], profile: ModelProfile | None = None) -> None:
        self.profile = profile or profile_for(DEFAULT_MODEL)
        self.embed = HashEmbedder()
        self.passages: list[Passage] = []
        self.document: list[int] = []
        self.sources = list(documents)
        for number, (source, text) in enumerate(documents.items()):
            position = 0
            for paragraph in text.split("\n\n"):
                start = text.index(paragraph, position)
                position = start + len(paragraph)
                if paragraph.strip():
                    chunk_id = content_hash(source, str(start))
                    self.passages.append(Passage(chunk_id, source, source, paragraph, start, position, "", None, 0.0))
                    self.document.append(number)
        self.terms = [set(analyze(p.text)) for p in self.passages]
        self.document_terms = [set().union(*[t for t, d in zip(self.terms, self.document) if d == n] or [set()])
                               for n in range(len(documents))]  # fmt: skip

    @property
    def key(self) -> tuple:
        return ("memory", id(self))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed(text)

    def embed_document(self, text: str) -> np.ndarray:
        return self.embed(text)

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """Passages by the share of the query's terms they hold, then by cosine."""
        terms, vector = set(analyze(query)), self.embed(query)
        scored = []
        for passage, held in zip(self.passages, self.terms):
            cosine = float(self.embed(passage.text) @ vector)
            share = len(terms & held) / len(terms) if terms else 0.0
            scored.append((share + cosine / 2, cosine, passage))
        scored.sort(key=lambda item: -item[0])
        best = scored[0][0] if scored else 1.0
        return [
            Passage(p.id, p.source, p.title, p.text, p.start, p.end, p.heading, p.page, score / best, cosine, 0.0)
            for score, cosine, p in scored[:k]
        ]

    def _row(self, passage: Passage) -> int | None:
        return next((row for row, p in enumerate(self.passages) if p.id == passage.id), None)

    def following(self, passage: Passage) -> Passage | None:
        row = self._row(passage)
        if row is None or row + 1 >= len(self.passages) or self.document[row + 1] != self.document[row]:
            return None
        return self.passages[row + 1]

    def sentences(self, passage: Passage) -> tuple[int, np.ndarray, np.ndarray] | None:
        row = self._row(passage)
        if row is None:
            return None
        spans = np.asarray(split_sentences(passage.text), dtype=np.int64).reshape(-1, 2)
        vectors = np.stack([self.embed(passage.text[s:e]) for s, e in spans]) if len(spans) else np.zeros((0, 64))
        return self.document[row], spans, vectors

    def term_frequencies(self) -> tuple[int, dict[str, int]]:
        frequencies: dict[str, int] = {}
        for held in self.terms:
            for term in held:
                frequencies[term] = frequencies.get(term, 0) + 1
        return len(self.passages), frequencies

    def document_count(self) -> int:
        return len(self.sources)

    def documents_holding(self, term: str) -> np.ndarray:
        return np.asarray([term in held for held in self.document_terms], dtype=bool)
