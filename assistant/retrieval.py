"""Hybrid retrieval: BM25 on French-analyzed text and dense cosine similarity, fused after min-max scaling."""

from __future__ import annotations

import fnmatch
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.builder import build_index
from assistant.chunking import is_compared
from assistant.chunktable import SOURCE
from assistant.embeddings import Embedder, embedder_for, get_embedder
from assistant.errors import IndexMismatchError, IndexNotFoundError
from assistant.index import LoadedIndex, cached_index, current_generation
from assistant.keywords import analyze
from assistant.profiles import ModelProfile, profile_for
from assistant.records import Passage
from assistant.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Timings:
    """Where a query's time went, in seconds (for benchmarks)."""

    embedding: float = 0.0
    dense: float = 0.0
    keyword: float = 0.0
    fusion: float = 0.0
    steps: dict = field(default_factory=dict)


def _scale(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def source_rows(index: LoadedIndex, source: str) -> np.ndarray:
    """Rows of the chunks whose source path equals ``source`` or matches it as a glob."""
    names = index.chunks.strings["sources"]
    matching = [code for code, name in enumerate(names) if name == source or fnmatch.fnmatchcase(name, source)]
    return np.flatnonzero(np.isin(index.chunks.numbers[:, SOURCE], matching)).astype(np.int64)


# A question is read whole by the query encoder, whose window is about 512 tokens: past this many characters it
# would be cut anyway, and encoding a megabyte takes minutes. Longer questions are refused at once.
MAX_QUERY_CHARS = 2000


def check_query(text: object, k: object, what: str = "query") -> None:
    """Raise ValueError, saying what is wrong, for a query that is not text (or longer than MAX_QUERY_CHARS) or a
    k that is not a whole number >= 1.

    >>> check_query("Qui ?", 2.5)
    Traceback (most recent call last):
    ValueError: k must be a whole number >= 1, got 2.5
    >>> check_query("Qui " * 600, 5, what="question")
    Traceback (most recent call last):
    ValueError: the question is too long: 2,400 characters, at most 2,000 are read; shorten it
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a whole number >= 1, got {k!r}")
    if isinstance(text, bytes):
        raise ValueError(f"the {what} must be text (str), not bytes: decode it first")
    if not isinstance(text, str):
        raise ValueError(f"the {what} must be text (str), got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"the {what} is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(
            f"the {what} is too long: {len(text):,} characters, at most {MAX_QUERY_CHARS:,} are read; shorten it"
        )
    if _SURROGATE.search(text):
        raise ValueError(f"the {what} holds a lone surrogate (\\ud800-\\udfff): it is not valid text")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _first_given(*values: float | None) -> float:
    return next(value for value in values if value is not None)


def _describe(model: str, quantization: str) -> str:
    return repr(model) + (f" ({quantization})" if quantization else "")


class Retriever:
    """Searches one loaded index. Cheap to make; the embedding model is shared and loaded on first query."""

    def __init__(self, index: LoadedIndex, settings: Settings | None = None, embedder: Embedder | None = None):
        self.index = index
        self.settings = settings or Settings.from_env()
        built = (index.model, index.manifest.get("quantization", ""))
        if embedder is None:
            query_prompt, document_prompt = index.manifest.get("prompts", ["", ""])
            embedder = get_embedder(index.model, query_prompt, document_prompt, self.settings.batch_size, built[1])
        configured = (embedder.model_name, embedder.quantize)
        if built != configured:
            raise IndexMismatchError(
                f"the index was built with the model {_describe(*built)} but {_describe(*configured)} is configured:"
                " rebuild it with `assistant build --full`, or set ASSISTANT_EMBEDDING_MODEL and ASSISTANT_QUANTIZE"
                " back to what the index was built with"
            )
        self.embedder = embedder
        # the support model fitted on this corpus's questions, if it is the corpus a calibration was fitted on
        self.profile: ModelProfile = profile_for(index.model, index.directory).for_index(index.manifest)
        self.last = Timings()

    def search(
        self,
        query: str,
        k: int = 5,
        source: str | None = None,
        keyword_weight: float | None = None,
        document_weight: float | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first, optionally only from sources matching ``source``."""
        check_query(query, k)
        chunks = self.index.chunks
        if not chunks:
            return []
        weight = _first_given(keyword_weight, self.settings.keyword_weight, self.profile.keyword_weight)
        document_weight = _first_given(document_weight, self.settings.document_weight, self.profile.document_weight)
        timings = self.last = Timings()

        allowed = source_rows(self.index, source) if source else None
        if allowed is not None and not len(allowed):
            return []

        t0 = time.perf_counter()
        query_vector = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        terms = analyze(query)
        keyword_scores = self.index.keyword.scores(terms)
        t2 = time.perf_counter()
        pool = max(self.settings.candidates, 4 * k)
        if allowed is None:
            dense_rows = self.index.dense.search(query_vector, min(pool, len(chunks)))
            keyword_rows = np.argpartition(-keyword_scores, min(pool, len(chunks)) - 1)[:pool]
        else:
            sims = np.asarray(self.index.vectors[allowed]) @ query_vector
            dense_rows = allowed[np.argsort(-sims)[:pool]]
            keyword_rows = allowed[np.argsort(-keyword_scores[allowed])[:pool]]
        keyword_rows = keyword_rows[keyword_scores[keyword_rows] > 0]
        t3 = time.perf_counter()

        candidates = np.unique(np.concatenate([dense_rows, keyword_rows]).astype(np.int64))
        dense = np.asarray(self.index.vectors[candidates]) @ query_vector
        keyword = keyword_scores[candidates]
        fused = (1 - weight) * _scale(dense) + weight * _scale(keyword)
        if document_weight:
            whole = self.index.documents.scores(terms)[self.index.chunk_document[candidates]]
            fused = (1 - document_weight) * fused + document_weight * _scale(whole)
        order = np.argsort(-fused, kind="stable")

        passages: list[Passage] = []
        sources = self.index.manifest.get("sources", {})
        seen_texts: set[str] = set()
        for position in order:
            chunk = chunks[int(candidates[position])]
            if chunk.text in seen_texts:
                continue
            seen_texts.add(chunk.text)
            passages.append(
                Passage.from_chunk(
                    chunk,
                    float(fused[position]),
                    float(dense[position]),
                    float(keyword[position]),
                    sources.get(chunk.source, {}).get("hash", ""),
                    self.index.generation,
                )
            )
            if len(passages) == k:
                break
        t4 = time.perf_counter()
        timings.embedding, timings.keyword, timings.dense, timings.fusion = t1 - t0, t2 - t1, t3 - t2, t4 - t3
        return passages

    # --- what answering needs of the index (assistant.answering.evidence.Evidence) ------------------------------

    @property
    def key(self) -> tuple:
        return (str(self.index.directory), self.index.generation)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)

    def embed_document(self, text: str) -> np.ndarray:
        return self.embedder.embed_documents([text])[0]

    def sentences(self, passage: Passage) -> tuple[int, np.ndarray, np.ndarray] | None:
        """The passage's document row, its sentences' offsets in its text and their stored vectors (float16)."""
        row = self.index.chunk_row.get(passage.id)
        if row is None:
            return None
        rows = self.index.sentence_rows(row)
        spans = np.asarray(self.index.sentences[rows.start : rows.stop][:, 1:], dtype=np.int64)
        vectors = self.index.sentence_vectors[rows.start : rows.stop]
        if self.index.pending is not None:
            self._fill(passage.text, rows, spans, vectors)
        return int(self.index.chunk_document[row]), spans, vectors

    def _fill(self, text: str, rows: range, spans: np.ndarray, vectors: np.ndarray) -> None:
        """In an index published before its sentences' vectors, those of a passage that have none yet: embedded
        now (only those answering compares), and kept with the loaded index for the next question."""
        index, missing = self.index, {}
        for row, (start, end) in zip(rows, spans.tolist()):
            if index.pending[row] and row not in index.embedded and is_compared(text[start:end]):
                missing[row] = text[start:end]
        if missing:
            made = self.embedder.embed_documents(list(missing.values()))
            for row, vector in zip(missing, made):
                index.embedded[row] = vector.astype(np.float16)
        for position, row in enumerate(rows):
            if row in index.embedded:
                vectors[position] = index.embedded[row]

    def term_frequencies(self) -> tuple[int, dict[str, int]]:
        keyword = self.index.keyword
        return keyword.size, keyword.document_frequencies()

    def document_count(self) -> int:
        return self.index.documents.size

    def documents_holding(self, term: str) -> np.ndarray:
        return self.index.documents.holding(term)

    def following(self, passage: Passage) -> Passage | None:
        """The chunk after ``passage`` in its document, scored as ``passage`` (it is reached through it)."""
        row = self.index.chunk_row.get(passage.id)
        if row is None or row + 1 >= len(self.index.chunks) or self.index.chunks[row + 1].source != passage.source:
            return None
        return Passage.from_chunk(
            self.index.chunks[row + 1],
            passage.score,
            passage.dense_score,
            passage.keyword_score,
            passage.document_hash,
            passage.generation,
        )


def open_retriever(settings: Settings) -> Retriever:
    """A Retriever on the current index, building the index first when there is none yet."""
    if current_generation(settings.index_dir) is None:
        if not Path(settings.corpus_dir).is_dir():
            raise IndexNotFoundError(
                f"no index in {settings.index_dir} and no corpus folder {settings.corpus_dir} to build one from"
            )
        log.info("no index in %s yet: building it from %s", settings.index_dir, settings.corpus_dir)
        build_index(settings=settings)
    index = cached_index(settings.index_dir)
    return Retriever(index, settings, embedder_for(settings))
