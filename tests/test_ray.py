"""Building on a local Ray instance: the same index as a local build, workers killed mid-build, bad files."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import DEFAULT_CORPUS
from helpers import copy_index, make_pdf

from assistant.builder import build_index
from assistant.errors import AssistantError, EmbeddingError
from assistant.index import current_generation, load_index
from assistant.settings import Settings

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


def embedding_workers() -> list[int]:
    """The pids of the embedding actors' processes on this machine."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::EmbeddingWorker"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def same_index(left: Path, right: Path) -> None:
    a, b = load_index(left), load_index(right)
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks] and a.chunks == b.chunks
    np.testing.assert_allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-5)
    np.testing.assert_array_equal(a.sentences, b.sentences)
    np.testing.assert_allclose(
        np.asarray(a.sentence_vectors, np.float32), np.asarray(b.sentence_vectors, np.float32), atol=2e-3
    )
    assert a.manifest["sources"] == b.manifest["sources"] and a.manifest["failed"] == b.manifest["failed"]


@pytest.fixture
def corpus(tmp_path) -> Path:
    """The default corpus, a PDF, and files no build can read."""
    folder = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, folder)
    make_pdf(folder / "rapport.pdf", ["Le laboratoire a ouvert en 2019.", "Il accompagne douze équipes."])
    (folder / "vide.txt").write_bytes(b"")
    (folder / "casse.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(3000))
    (folder / "binaire.md").write_bytes(bytes(range(256)) * 40)
    return folder


def test_a_ray_build_writes_the_index_a_local_build_writes(corpus, tmp_path):
    local = build_index(corpus, tmp_path / "local")
    on_ray = build_index(corpus, tmp_path / "ray", ray="")
    assert sorted(on_ray.added) == sorted(local.added) and on_ray.chunks == local.chunks
    assert set(on_ray.failed) == {"vide.txt", "casse.pdf", "binaire.md"} and on_ray.failed == local.failed
    same_index(tmp_path / "local", tmp_path / "ray")

    # Incremental on Ray too: only the changed file's new text is sent out to be embedded.
    (corpus / "rapport.pdf").unlink()
    make_pdf(corpus / "rapport.pdf", ["Le laboratoire a ouvert en 2019.", "Il accompagne quinze équipes."])
    local = build_index(corpus, tmp_path / "local")
    on_ray = build_index(corpus, tmp_path / "ray", ray="")
    assert on_ray.updated == local.updated == ["rapport.pdf"] and not on_ray.full
    assert on_ray.embedded == local.embedded <= 2 and on_ray.embedded_sentences == local.embedded_sentences
    same_index(tmp_path / "local", tmp_path / "ray")


def test_an_embedding_worker_killed_mid_build_has_its_batch_done_again(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    settings = Settings(batch_size=1)  # batches of 8 texts: many batches, so a kill lands mid-build
    killed: list[int] = []

    def kill_one(stage, done, total):
        if stage == "sentences" and 0 < done < total and not killed:
            workers = embedding_workers()
            assert workers, "no embedding worker found to kill"
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    report = build_index(corpus, tmp_path / "ray", settings=settings, ray="", progress=kill_one)
    assert killed and report.failed == {}
    build_index(corpus, tmp_path / "local", settings=settings)
    same_index(tmp_path / "local", tmp_path / "ray")


def test_a_ray_build_that_fails_leaves_the_previous_index(tmp_path, built_default):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    copy_index(built_default.index_dir, tmp_path / "index")  # the previous index: the default corpus's
    before = current_generation(tmp_path / "index")
    (corpus / "nouveau.txt").write_text("Une note nouvelle sur le laboratoire. " * 200, encoding="utf-8")
    stop = threading.Event()

    def keep_killing():  # every embedding worker, as soon as it is up, more times than Ray restarts it
        while not stop.is_set():
            for pid in embedding_workers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            stop.wait(0.05)

    killer = threading.Thread(target=keep_killing, daemon=True)
    killer.start()
    try:
        with pytest.raises(EmbeddingError, match="index is as it was"):
            build_index(corpus, tmp_path / "index", settings=Settings(batch_size=1), ray="")
    finally:
        stop.set()
        killer.join()
    assert current_generation(tmp_path / "index") == before
    assert "nouveau.txt" not in load_index(tmp_path / "index").manifest["sources"]


def test_without_ray_installed_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    from assistant.distributed import RayCluster

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(AssistantError, match=r"pip install -e '\.\[ray\]'"):
        RayCluster(Settings())


def test_a_cluster_that_cannot_be_reached_gets_a_clear_error(monkeypatch):
    from assistant.distributed import RayCluster

    def unreachable(*args, **kwargs):  # what ray.init raises when `auto` finds no cluster
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", unreachable)
    with pytest.raises(AssistantError, match=r"cannot start or reach the Ray cluster at auto .*ray start --head"):
        RayCluster(Settings(), address="auto")
