"""The Embedder interface: batching, length sorting, progress and the query cache, shared by every backend."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

import numpy as np

QUERY_CACHE = 64  # query vectors kept per embedder


class Embedder:
    """Turns texts into unit-length float32 vectors. The model loads on first use, not in the constructor.

    A backend implements ``_load()`` (return the model) and ``_encode(texts, query)`` (return vectors).
    """

    backend = ""

    def __init__(
        self, model: str, query_prompt: str = "", document_prompt: str = "", batch_size: int = 16, quantize: str = ""
    ) -> None:
        self.model_name = model
        self.quantize = quantize
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._queries: dict[str, np.ndarray] = {}

    def _load(self):
        raise NotImplementedError

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        raise NotImplementedError

    def _dimension(self) -> int:
        raise NotImplementedError

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    @property
    def dimension(self) -> int:
        return self._dimension()

    def embed_documents(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Vectors for document texts, batch by batch; ``progress(done, total)`` after each batch. ``out``, if
        given, receives them (in its own dtype: float16 halves what a large build holds) and is returned."""
        encoded = ((rows, self._encode([texts[i] for i in rows], False)) for rows in self.batches(texts))
        return self.collect(len(texts), encoded, progress, out)

    def collect(
        self,
        total: int,
        encoded: Iterable[tuple[np.ndarray, np.ndarray]],
        progress: Callable[[int, int], None] | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """The vectors of ``total`` texts from (rows, vectors) batches as they come, into ``out`` if given;
        ``progress(done, total)`` before the first batch and after each. Local and Ray embedding share it."""
        vectors = np.zeros((total, self.dimension), dtype=np.float32) if out is None else out
        if total == 0:
            return vectors
        if progress:
            progress(0, total)
        done = 0
        for rows, batch in encoded:
            vectors[rows] = batch
            done += len(rows)
            if progress:
                progress(done, total)
        return vectors

    def batches(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The rows of ``texts`` in the batches they are embedded in. Sorting by length keeps padding low inside
        each batch (and threads evenly loaded); the same batches give the same vectors wherever they run."""
        order = np.argsort([len(t) for t in texts], kind="stable")
        step = self.batch_size * 8
        return [order[begin : begin + step] for begin in range(0, len(texts), step)]

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; the last few are kept, since retrieving and answering ask for the same one."""
        with self._lock:
            cached = self._queries.get(text)
        if cached is not None:
            return cached
        vector = np.asarray(self._encode([text], True)[0], dtype=np.float32)
        vector.setflags(write=False)
        with self._lock:
            if len(self._queries) >= QUERY_CACHE:
                self._queries.pop(next(iter(self._queries)))
            self._queries[text] = vector
        return vector

    def forget_queries(self) -> None:
        """Drop the kept query vectors (benchmarks measure a question's time from scratch)."""
        with self._lock:
            self._queries.clear()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), True)
