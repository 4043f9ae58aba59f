"""The dense index past the size threshold: an inverted file that a build changes in place, by chunk."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.builder import build_index
from assistant.dense import RETRAIN_FACTOR, dense_for, list_count
from assistant.errors import IndexDamagedError
from assistant.index import current_generation, load_index
from assistant.settings import Settings

WORDS = "agent atelier budget commune données équipe forum jeune mairie produit service usager ville".split()
SMALL = Settings(approximate_above=2, chunk_size=120, chunk_overlap=0)


def write_file(corpus, number: int, version: int = 0) -> None:
    rng = np.random.default_rng(number * 1000 + version)
    paragraphs = [" ".join(rng.choice(WORDS, 12)) + f" fiche {number} version {version} partie {p}." for p in range(4)]
    (corpus / f"fiche-{number:03}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for number in range(30):
        write_file(folder, number)
    return folder


def nearest_is_itself(index) -> bool:
    """Every chunk's own vector finds that chunk first: the ids of the inverted file point at the right rows."""
    for row in range(len(index.chunks)):
        found = index.dense.search(np.asarray(index.vectors[row]), 3)
        if not np.allclose(index.vectors[found[0]], index.vectors[row]):
            return False
    return True


def test_past_the_threshold_the_dense_index_is_an_inverted_file_with_ids(corpus, tmp_path, fake_embedder):
    build_index(corpus, tmp_path / "index", embedder=fake_embedder, settings=SMALL)
    index = load_index(tmp_path / "index")
    assert index.manifest["dense_index"] == "ivf" and index.dense.kind == "ivf"
    assert index.dense.size == len(index.chunks) == index.manifest["dense_trained_on"]
    assert nearest_is_itself(index)
    build_index(corpus, tmp_path / "flat", embedder=fake_embedder, settings=SMALL.with_(approximate_above=10**6))
    assert load_index(tmp_path / "flat").dense.kind == "flat"


def test_a_one_file_change_updates_the_inverted_file_in_place(corpus, tmp_path, fake_embedder):
    build_index(corpus, tmp_path / "index", embedder=fake_embedder, settings=SMALL)
    before = load_index(tmp_path / "index")
    ids_before = dict(zip((c.id for c in before.chunks), before.dense.ids))
    write_file(corpus, 3, version=1)
    (corpus / "fiche-007.txt").unlink()
    write_file(corpus, 31)
    report = build_index(corpus, tmp_path / "index", embedder=fake_embedder, settings=SMALL)
    assert not report.full and report.updated == ["fiche-003.txt"] and report.removed == ["fiche-007.txt"]
    after = load_index(tmp_path / "index")
    assert after.dense.kind == "ivf" and after.dense.size == len(after.chunks)
    assert after.manifest["dense_trained_on"] == before.manifest["dense_trained_on"]  # not trained again
    ids_after = dict(zip((c.id for c in after.chunks), after.dense.ids))
    kept = set(ids_before) & set(ids_after)
    assert kept and all(ids_before[c] == ids_after[c] for c in kept)  # unchanged chunks keep their entry
    new = set(ids_after) - set(ids_before)
    assert {after.chunks[after.chunk_row[c]].source for c in new} == {"fiche-003.txt", "fiche-031.txt"}
    assert len(set(ids_after.values())) == len(ids_after) and not set(ids_after.values()) & {
        ids_before[c] for c in set(ids_before) - kept
    }
    assert nearest_is_itself(after)
    after.dense.index.nprobe = after.dense.index.nlist  # every list: all that the index holds
    sources = {after.chunks[r].source for r in after.dense.search(np.asarray(after.vectors[0]), after.dense.size)}
    assert "fiche-007.txt" not in sources and len(sources) == 30


def test_the_inverted_file_is_trained_again_once_the_index_has_grown_enough(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first = dense_for(vectors[:90], approximate_above=10)
    assert first.kind == "ivf" and first.trained_on == 90 and first.index.nlist == list_count(90)
    rows = np.concatenate([np.arange(90), np.full(90 * (RETRAIN_FACTOR - 1), -1)])  # 90 kept, the rest new
    grown = dense_for(vectors[: 90 * RETRAIN_FACTOR], 10, first, rows)
    assert grown.trained_on == 90 and grown.size == 90 * RETRAIN_FACTOR  # updated in place
    rows = np.concatenate([np.arange(90 * RETRAIN_FACTOR), np.full(400 - 90 * RETRAIN_FACTOR, -1)])
    again = dense_for(vectors, 10, grown, rows)
    assert again.trained_on == 400 and again.index.nlist == list_count(400) and again.size == 400


@pytest.mark.parametrize("part", ["dense.faiss", "dense_ids.npy", "dense_lists.npy"])
def test_a_damaged_inverted_file_is_named_and_a_plain_build_repairs_it(corpus, tmp_path, fake_embedder, part):
    build_index(corpus, tmp_path / "index", embedder=fake_embedder, settings=SMALL)
    path = tmp_path / "index" / current_generation(tmp_path / "index") / part
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(IndexDamagedError, match="dense"):
        load_index(tmp_path / "index")
    report = build_index(corpus, tmp_path / "index", embedder=fake_embedder, settings=SMALL)
    assert report.full and "repairing" in report.reason and report.embedded == 0
    assert nearest_is_itself(load_index(tmp_path / "index"))
