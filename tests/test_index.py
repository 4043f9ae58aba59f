"""Building, rebuilding and loading the index with a fake embedder: incremental, atomic, safe."""

from __future__ import annotations

import json
import random
import threading

import numpy as np
import pytest
from helpers import FakeEmbedder, make_blank_pdf, make_pdf

from assistant.api import ask
from assistant.builder import build_index
from assistant.errors import (
    CorpusNotFoundError,
    IndexBusyError,
    IndexDamagedError,
    IndexMismatchError,
    IndexNotFoundError,
)
from assistant.index import build_lock, current_generation, load_index
from assistant.keywords import analyze
from assistant.retrieval import Retriever
from assistant.settings import Settings


def build(corpus, index, embedder, **kw):
    return build_index(corpus, index, embedder=embedder, **kw)


def search(index_dir, embedder, query, **kw):
    return Retriever(load_index(index_dir), Settings(), embedder).search(query, **kw)


def test_first_build_indexes_every_file_and_reports_it(tiny_corpus, tmp_path, fake_embedder):
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert sorted(report.added) == ["ads.md", "forum.txt", "rapport/bilan.txt"]
    assert report.failed == {} and report.chunks >= 3 and report.embedded == report.chunks and report.full
    index = load_index(tmp_path / "index")
    assert len(index.chunks) == report.chunks == index.vectors.shape[0] == index.dense.size
    manifest = index.manifest
    assert manifest["embedding_model"] == "fake-hash-embedder" and manifest["dimension"] == 64
    assert set(manifest["sources"]) == set(report.added)
    assert all(len(entry["hash"]) == 64 for entry in manifest["sources"].values())


def test_changed_file_is_reembedded_and_others_are_not(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    fake_embedder.embedded.clear()
    (tiny_corpus / "forum.txt").write_text("Le Forum des Jeunes\n\nLe Forum compte désormais 55 membres.\n")
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert report.updated == ["forum.txt"] and sorted(report.unchanged) == ["ads.md", "rapport/bilan.txt"]
    assert fake_embedder.embedded and all("Forum" in text for text in fake_embedder.embedded)
    assert report.embedded + report.embedded_sentences == len(fake_embedder.embedded)
    assert "55 membres" in search(tmp_path / "index", fake_embedder, "membres du forum", k=1)[0].text


def test_noop_rebuild_embeds_and_writes_nothing(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    generation = current_generation(tmp_path / "index")
    fake_embedder.embedded.clear()
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert fake_embedder.embedded == [] and not report.changed and len(report.unchanged) == 3
    assert current_generation(tmp_path / "index") == generation


def test_removed_file_drops_its_chunks_and_renamed_file_reuses_vectors(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    (tiny_corpus / "rapport" / "bilan.txt").rename(tiny_corpus / "bilan-2024.txt")
    (tiny_corpus / "ads.md").unlink()
    fake_embedder.embedded.clear()
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert sorted(report.removed) == ["ads.md", "rapport/bilan.txt"] and report.added == ["bilan-2024.txt"]
    assert fake_embedder.embedded == []  # same text, new path: the stored vectors serve again
    sources = {chunk.source for chunk in load_index(tmp_path / "index").chunks}
    assert sources == {"bilan-2024.txt", "forum.txt"}


def test_bad_files_are_reported_and_the_rest_is_indexed(tiny_corpus, tmp_path, fake_embedder):
    (tiny_corpus / "vide.txt").write_bytes(b"")
    (tiny_corpus / "photo.png").write_bytes(b"\x89PNG\r\n")  # cut short
    (tiny_corpus / "programme.exe").write_bytes(b"MZ\x90\x00")
    (tiny_corpus / "casse.pdf").write_bytes(b"%PDF-1.7 garbage")
    make_blank_pdf(tiny_corpus / "scan.pdf")
    make_pdf(tiny_corpus / "bon.pdf", ["Le rapport annuel compte 12 pages utiles."])
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert set(report.failed) == {"vide.txt", "photo.png", "programme.exe", "casse.pdf", "scan.pdf"}
    assert "empty" in report.failed["vide.txt"] and "corrupt or unreadable image" in report.failed["photo.png"]
    assert "unsupported" in report.failed["programme.exe"]
    assert "no text" in report.failed["scan.pdf"]
    assert "bon.pdf" in report.added and "vide.txt" not in report.added
    passage = search(tmp_path / "index", fake_embedder, "rapport annuel pages", k=1)[0]
    assert passage.source == "bon.pdf" and passage.page == 1
    # Failed files are remembered: an unchanged failure is not read again, and not a change.
    again = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert not again.changed and set(again.failed) == set(report.failed)


def test_a_build_that_dies_midway_leaves_the_previous_index_loadable(tiny_corpus, tmp_path, fake_embedder, monkeypatch):
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    before = [c.text for c in load_index(tmp_path / "index").chunks]
    (tiny_corpus / "nouveau.txt").write_text("Un nouveau document sur les laboratoires d'innovation.")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut while writing vectors")

    monkeypatch.setattr("assistant.index.np.save", crash)
    with pytest.raises(KeyboardInterrupt):
        build(tiny_corpus, tmp_path / "index", fake_embedder)
    monkeypatch.undo()
    assert [c.text for c in load_index(tmp_path / "index").chunks] == before
    assert not [p for p in (tmp_path / "index").iterdir() if p.name.startswith(".tmp-")]
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert report.added == ["nouveau.txt"]


def test_only_one_build_at_a_time(tiny_corpus, tmp_path, fake_embedder):
    with build_lock(tmp_path / "index"):
        with pytest.raises(IndexBusyError):
            build(tiny_corpus, tmp_path / "index", fake_embedder)


def test_model_or_chunk_settings_change_forces_a_full_rebuild(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    report = build(tiny_corpus, tmp_path / "index", fake_embedder, settings=Settings(chunk_size=300))
    assert report.full and "chunking" in report.reason and len(report.added) == 3


def test_search_with_another_model_says_so(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder)

    class OtherModel(type(fake_embedder)):
        model_name = "intfloat/multilingual-e5-small"

    with pytest.raises(IndexMismatchError, match="rebuild"):
        search(tmp_path / "index", OtherModel(), "forum")


def test_index_files_hold_no_pickle(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    folder = tmp_path / "index" / current_generation(tmp_path / "index")
    for path in folder.rglob("*.npy"):
        np.load(path, allow_pickle=False)
    json.loads((folder / "manifest.json").read_text())
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))


def test_results_are_ranked_unique_and_filterable_by_source(tiny_corpus, tmp_path, fake_embedder):
    (tiny_corpus / "copie.txt").write_text((tiny_corpus / "forum.txt").read_text())
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    passages = search(tmp_path / "index", fake_embedder, "Forum des Jeunes membres", k=10)
    assert passages[0].source in ("forum.txt", "copie.txt")
    assert len({p.text for p in passages}) == len(passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    only = search(tmp_path / "index", fake_embedder, "Forum des Jeunes", k=5, source="rapport/*")
    assert only and {p.source for p in only} == {"rapport/bilan.txt"}


def test_bad_arguments_raise_clear_errors(tiny_corpus, tmp_path, fake_embedder):
    with pytest.raises(CorpusNotFoundError):
        build(tmp_path / "absent", tmp_path / "index", fake_embedder)
    with pytest.raises(IndexNotFoundError, match="assistant build"):
        load_index(tmp_path / "nowhere")
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    with pytest.raises(ValueError, match="k must be a whole number >= 1"):
        search(tmp_path / "index", fake_embedder, "forum", k=0)
    with pytest.raises(ValueError, match="empty"):
        search(tmp_path / "index", fake_embedder, "   ")


def test_readers_keep_answering_while_a_build_swaps_generations(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder)
    errors = []

    def read_many():
        for _ in range(30):
            try:
                Retriever(load_index(tmp_path / "index"), Settings(), fake_embedder).search("forum", k=2)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    reader = threading.Thread(target=read_many)
    reader.start()
    for i in range(5):
        (tiny_corpus / f"n{i}.txt").write_text(f"Document numéro {i} sur le forum.")
        build(tiny_corpus, tmp_path / "index", fake_embedder)
    reader.join()
    assert errors == []


def test_text_with_lone_surrogates_is_indexed_not_fatal(tiny_corpus, tmp_path, fake_embedder, monkeypatch):
    make_pdf(tiny_corpus / "police-cassee.pdf", ["placeholder"])
    from assistant.readers import documents

    real = documents.parse_isolated
    broken = {"title": "", "pages": ["Un glyphe cassé \udce9 dans le rapport sur les labos."]}
    monkeypatch.setattr(documents, "parse_isolated", lambda kind, *a: broken if kind == "pdf" else real(kind, *a))
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert "police-cassee.pdf" in report.added and not report.failed
    texts = [c.text for c in load_index(tmp_path / "index").chunks if c.source == "police-cassee.pdf"]
    assert texts == ["Un glyphe cassé \ufffd dans le rapport sur les labos."]


def test_an_unexpected_crash_on_one_file_fails_that_file_only(tiny_corpus, tmp_path, fake_embedder, monkeypatch):
    from assistant import reading

    real = reading.chunk_document

    def fragile(document, *args):
        if document.source == "forum.txt":
            raise RecursionError("a pathological document")
        return real(document, *args)

    monkeypatch.setattr(reading, "chunk_document", fragile)
    report = build(tiny_corpus, tmp_path / "index", fake_embedder)
    assert list(report.failed) == ["forum.txt"] and "RecursionError" in report.failed["forum.txt"]
    assert sorted(report.added) == ["ads.md", "rapport/bilan.txt"]


def test_document_prior_lifts_passages_of_the_document_that_matches_as_a_whole(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rural.txt").write_text(
        "Le laboratoire rural teste des services.\n\nLe laboratoire rural forme des agents publics.\n\n"
        "Le laboratoire rural publie son bilan annuel.\n\nLe laboratoire rural recrute des designers."
    )
    (corpus / "urbain.txt").write_text(
        "Le laboratoire urbain ouvre ses portes.\n\nIl accueille un laboratoire rural invité pour une journée."
    )
    build(corpus, tmp_path / "index", fake_embedder, settings=Settings(chunk_size=100))
    index = load_index(tmp_path / "index")
    assert index.manifest["documents"] == ["rural.txt", "urbain.txt"]
    retriever = Retriever(index, Settings(), fake_embedder)
    per_source = {s: sum(c.source == s for c in index.chunks) for s in ("rural.txt", "urbain.txt")}
    ranked = [p.source for p in retriever.search("laboratoire rural", k=10, document_weight=1.0)]
    assert ranked == ["rural.txt"] * per_source["rural.txt"] + ["urbain.txt"] * per_source["urbain.txt"]


def test_past_the_size_threshold_the_dense_index_is_approximate_and_says_so(tiny_corpus, tmp_path, fake_embedder):
    build(tiny_corpus, tmp_path / "index", fake_embedder, settings=Settings(approximate_above=2))
    index = load_index(tmp_path / "index")
    assert index.manifest["dense_index"] == "ivf" and index.dense.kind == "ivf"
    assert search(tmp_path / "index", fake_embedder, "Forum des Jeunes membres", k=1)[0].source == "forum.txt"
    build(tiny_corpus, tmp_path / "flat", fake_embedder)
    assert load_index(tmp_path / "flat").manifest["dense_index"] == "flat"


# a part of an index, and how a load names it when it is damaged; "vectors segment" is a file in index/stores/
DAMAGEABLE = {
    "manifest.json": "manifest.json",
    "text segment": "chunks",
    "chunks/numbers.npy": "chunks",
    "chunks/strings.json": "chunks",
    "stores.json": "stores.json",
    "vectors.rows.npy": "vectors",
    "vectors segment": "vectors",
    "dense.faiss": "dense.faiss",
    "sentences.npy": "sentences.npy",
    "sentence_vectors.rows.npy": "sentence_vectors",
    "sentence_vectors segment": "sentence_vectors",
    "vocabulary.json": "vocabulary.json",
    "terms.rows.npy": "terms",
    "terms segment": "terms",
    "document_terms segment": "document_terms",
}
DAMAGE = {
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "random": lambda data: bytes(random.Random(7).randrange(256) for _ in range(max(64, len(data)))),
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("part", DAMAGEABLE)
def test_a_damaged_index_is_explained_then_repaired_by_a_plain_build(
    tiny_corpus, tmp_path, fake_embedder, part, damage
):
    index = tmp_path / "index"
    build(tiny_corpus, index, fake_embedder)
    generation = index / current_generation(index)
    if part.endswith(" segment"):
        target = index / json.loads((generation / "stores.json").read_text())[part.split()[0]][0]
    else:
        target = generation / part
    target.write_bytes(DAMAGE[damage](target.read_bytes()))
    if part == "manifest.json":
        with pytest.raises((IndexDamagedError, IndexMismatchError), match="assistant build --full"):
            load_index(index)
    else:
        with pytest.raises(IndexDamagedError, match=f"damaged \\({DAMAGEABLE[part]}.*assistant build --full"):
            load_index(index)
    report = build(tiny_corpus, index, fake_embedder)
    assert report.full and report.reason and report.chunks == 4
    passages = Retriever(load_index(index), Settings(), fake_embedder).search("Forum des Jeunes", k=1)
    assert passages[0].source == "forum.txt"


@pytest.mark.parametrize("content", ["", "gen-nowhere\n", "\x00\x01"])
def test_a_damaged_current_pointer_is_repaired_by_a_plain_build(tiny_corpus, tmp_path, fake_embedder, content):
    index = tmp_path / "index"
    build(tiny_corpus, index, fake_embedder)
    (index / "CURRENT").write_text(content)
    with pytest.raises(IndexNotFoundError):
        load_index(index)
    report = build(tiny_corpus, index, fake_embedder)
    assert report.full and report.chunks == 4 and load_index(index).manifest["chunk_count"] == 4


def test_loads_never_fail_during_back_to_back_builds(tiny_corpus, tmp_path, fake_embedder):
    index = tmp_path / "index"
    build(tiny_corpus, index, fake_embedder)
    failures, loads, done = [], [0], threading.Event()

    def hammer():
        while not done.is_set():
            try:
                load_index(index)
                loads[0] += 1
            except Exception as exc:  # noqa: BLE001 - every failure counts
                failures.append(exc)

    readers = [threading.Thread(target=hammer) for _ in range(2)]
    for reader in readers:
        reader.start()
    for i in range(100):
        (tiny_corpus / "tour.txt").write_text(f"Le tour numéro {i} du forum.")
        build(tiny_corpus, index, fake_embedder)
    done.set()
    for reader in readers:
        reader.join()
    assert failures == [] and loads[0] > 100


def test_failed_files_are_tried_again_when_the_limits_change_or_when_asked(tiny_corpus, tmp_path, fake_embedder):
    from assistant.readers import documents

    make_pdf(tiny_corpus / "lent.pdf", ["Le rapport du laboratoire tient en une page."])
    index, calls = tmp_path / "index", []
    real = documents.parse_isolated
    documents.parse_isolated = lambda kind, *a: calls.append(kind) or real(kind, *a)
    try:
        strict = Settings(parse_timeout=0.001)
        report = build_index(tiny_corpus, index, embedder=fake_embedder, settings=strict)
        assert "timeout" in report.failed["lent.pdf"]
        calls.clear()
        report = build_index(tiny_corpus, index, embedder=fake_embedder, settings=strict)
        assert "lent.pdf" in report.failed and "pdf" not in calls  # same file, same limits: not read again
        report = build_index(tiny_corpus, index, embedder=fake_embedder, settings=strict, retry_failed=True)
        assert "pdf" in calls and "lent.pdf" in report.failed  # asked for: read again (and still too slow)
        report = build_index(tiny_corpus, index, embedder=fake_embedder, settings=Settings(parse_timeout=60))
        assert "lent.pdf" in report.added and not report.failed  # a limit was raised: read again, and indexed
    finally:
        documents.parse_isolated = real


def test_back_to_back_builds_keep_at_most_three_generations_on_disk(tiny_corpus, tmp_path, fake_embedder):
    index = tmp_path / "index"
    for i in range(10):
        (tiny_corpus / "tour.txt").write_text(f"Le tour numéro {i} du forum.")
        build(tiny_corpus, index, fake_embedder)
    assert 2 <= len([p for p in index.iterdir() if p.name.startswith("gen-")]) <= 3


def test_an_incremental_build_writes_what_a_full_build_of_the_same_files_writes(tiny_corpus, tmp_path, fake_embedder):
    """Unchanged chunks bring their vectors and sentences from the current index: the result must not differ."""
    settings = Settings(chunk_size=100)
    (tiny_corpus / "a-garder.txt").write_text("Une phrase qui reste. Une autre qui reste aussi.\n\n" * 6)
    (tiny_corpus / "renomme-avant.txt").write_text("Le texte de ce fichier change de nom. Il reste le même.\n")
    build(tiny_corpus, tmp_path / "index", fake_embedder, settings=settings)
    (tiny_corpus / "forum.txt").write_text("Le Forum des Jeunes compte 45 membres. Il se réunit à Lyon : le lundi.\n")
    (tiny_corpus / "rapport" / "bilan.txt").unlink()
    (tiny_corpus / "renomme-avant.txt").rename(tiny_corpus / "renomme-apres.txt")
    (tiny_corpus / "nouveau.txt").write_text("Une note nouvelle. Elle parle du laboratoire.\n")
    fake_embedder.embedded.clear()
    report = build(tiny_corpus, tmp_path / "index", fake_embedder, settings=settings)
    assert "Le texte de ce fichier change de nom." not in fake_embedder.embedded  # moved text is not embedded again
    assert not report.full and report.unchanged
    build(tiny_corpus, tmp_path / "full", FakeEmbedder(), settings=settings)
    a, b = load_index(tmp_path / "index"), load_index(tmp_path / "full")
    assert a.chunks == b.chunks
    np.testing.assert_array_equal(a.sentences, b.sentences)
    assert_same_vectors(a, b)
    for query in ("phrase reste", "forum jeunes lyon", "note laboratoire", "texte nom"):
        np.testing.assert_allclose(a.keyword.scores(analyze(query)), b.keyword.scores(analyze(query)), rtol=1e-6)
        np.testing.assert_allclose(a.documents.scores(analyze(query)), b.documents.scores(analyze(query)), rtol=1e-6)
    np.testing.assert_array_equal(a.first_sentence, b.first_sentence)
    for query in ("forum jeunes lyon", "texte nom", "laboratoire note", "phrase reste"):  # terms carried over too
        np.testing.assert_array_equal(a.keyword.scores(analyze(query)), b.keyword.scores(analyze(query)))
        np.testing.assert_array_equal(a.documents.scores(analyze(query)), b.documents.scores(analyze(query)))
    assert a.manifest["documents"] == b.manifest["documents"]


def listed_segments(index):
    return json.loads((index / current_generation(index) / "stores.json").read_text())


def fiches(tmp_path, count):
    """A corpus of ``count`` one-chunk files, and where its index goes."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(count):
        (corpus / f"fiche-{number}.txt").write_text(f"Fiche {number}. Le laboratoire {number} ouvre ses portes.")
    return corpus, tmp_path / "index"


def assert_same_vectors(a, b):
    np.testing.assert_array_equal(np.asarray(a.vectors), np.asarray(b.vectors))
    np.testing.assert_array_equal(np.asarray(a.sentence_vectors), np.asarray(b.sentence_vectors))


def test_a_one_file_change_writes_one_small_segment_and_shares_the_others(tmp_path, fake_embedder):
    corpus, index = fiches(tmp_path, 12)
    build(corpus, index, fake_embedder)
    before = listed_segments(index)
    first = {file: (index / file).stat() for files in before.values() for file in files}
    (corpus / "fiche-3.txt").write_text("Fiche 3. Le laboratoire trois ferme ses portes.")
    report = build(corpus, index, fake_embedder)
    after = listed_segments(index)
    for name in ("vectors", "sentence_vectors", "text", "terms", "document_terms"):
        assert after[name][:-1] == before[name] and len(after[name]) == 2
    assert np.load(index / after["vectors"][-1]).shape[0] == report.embedded == 1
    assert (index / after["text"][-1]).read_bytes() == b"Fiche 3. Le laboratoire trois ferme ses portes."
    for file, stat in first.items():  # shared, never written again
        assert (index / file).stat().st_ino == stat.st_ino and (index / file).stat().st_mtime_ns == stat.st_mtime_ns
    build(corpus, tmp_path / "full", FakeEmbedder())
    assert_same_vectors(load_index(index), load_index(tmp_path / "full"))


def test_segments_are_merged_and_unread_rows_dropped_as_changes_pile_up(tmp_path, fake_embedder):
    from assistant.stores import MAX_SEGMENTS, STORES

    corpus, index = fiches(tmp_path, 20)
    build(corpus, index, fake_embedder)
    counts = []
    for change in range(MAX_SEGMENTS + 14):
        (corpus / f"fiche-{change % 20}.txt").write_text(f"Fiche {change % 20}, version {change}. Le lieu change.")
        build(corpus, index, fake_embedder)
        loaded, listed = load_index(index), listed_segments(index)
        stored = sum(len(np.load(index / file, mmap_mode="r")) for file in listed["vectors"])
        counts.append(len(listed["vectors"]))
        assert len(listed["vectors"]) <= MAX_SEGMENTS and stored <= 2 * len(loaded.chunks)
        assert all(len(listed[name]) <= MAX_SEGMENTS for name in ("text", "terms", "document_terms"))
        text = sum((index / file).stat().st_size for file in listed["text"])
        assert text <= 2 * sum(len(chunk.text.encode()) for chunk in loaded.chunks)
        full = tmp_path / f"full-{change}"
        build(corpus, full, FakeEmbedder())
        assert_same_vectors(loaded, load_index(full))
        assert loaded.chunks == load_index(full).chunks
        for query in ("fiche version lieu", "laboratoire portes", f"version {change}"):
            np.testing.assert_array_equal(
                loaded.keyword.scores(analyze(query)), load_index(full).keyword.scores(analyze(query))
            )
            np.testing.assert_array_equal(
                loaded.documents.scores(analyze(query)), load_index(full).documents.scores(analyze(query))
            )
        kept = [json.loads((g / "stores.json").read_text()) for g in index.iterdir() if g.name.startswith("gen-")]
        on_disk = {f"{STORES}/{item.name}" for item in (index / STORES).iterdir()}
        assert on_disk == {file for listed in kept for files in listed.values() for file in files}
    assert counts[MAX_SEGMENTS - 1] == 2 and 1 in counts  # all but the largest merged; then all rewritten as one


def test_a_build_that_dies_after_writing_a_segment_leaves_no_trace(tiny_corpus, tmp_path, fake_embedder, monkeypatch):
    index = tmp_path / "index"
    build(tiny_corpus, index, fake_embedder)
    before, files = np.asarray(load_index(index).vectors), set((index / "stores").iterdir())
    (tiny_corpus / "nouveau.txt").write_text("Un nouveau document sur les laboratoires d'innovation.")

    def crash(paths):
        assert paths  # the new segments are written
        raise KeyboardInterrupt("power cut before the segments reached the disk")

    monkeypatch.setattr("assistant.index.stores.fsync_files", crash)
    with pytest.raises(KeyboardInterrupt):
        build(tiny_corpus, index, fake_embedder)
    monkeypatch.undo()
    np.testing.assert_array_equal(np.asarray(load_index(index).vectors), before)
    assert set((index / "stores").iterdir()) == files
    assert build(tiny_corpus, index, fake_embedder).added == ["nouveau.txt"]


def test_unchanged_files_are_not_read_again_but_a_rewritten_one_is_even_with_size_and_mtime_kept(
    tiny_corpus, tmp_path, fake_embedder, monkeypatch
):
    import os

    from assistant import builder

    monkeypatch.setattr(builder, "STAT_SLACK_NS", 0)  # the files here are seconds old
    index = tmp_path / "index"
    build(tiny_corpus, index, fake_embedder)
    read = []
    real = builder.file_hash
    monkeypatch.setattr(builder, "file_hash", lambda path: read.append(path.name) or real(path))
    forum = tiny_corpus / "forum.txt"
    before = forum.stat()
    forum.write_text(forum.read_text().replace("40 membres", "45 membres"))  # same size
    os.utime(forum, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same modification time
    assert forum.stat().st_size == before.st_size and forum.stat().st_mtime_ns == before.st_mtime_ns
    report = build(tiny_corpus, index, fake_embedder)
    assert read == ["forum.txt"] and report.updated == ["forum.txt"]
    assert "45 membres" in search(index, fake_embedder, "Forum des Jeunes membres", k=1)[0].text
    read.clear()
    assert not build(tiny_corpus, index, fake_embedder).updated and read == []


def assert_rebuilt_embedding_nothing(corpus, index, folder, version, embedder, full):
    """Generation ``folder``, said to be of format ``version``, is rebuilt in full with every vector it holds: the
    build embeds nothing, and its vectors are those of a build from scratch (made in ``full``)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "format_version": version}))
    embedder.embedded.clear()
    report = build(corpus, index, embedder)
    assert report.full and "format" in report.reason and report.chunks == 4
    assert embedder.embedded == [] and report.embedded == 0
    build(corpus, full, FakeEmbedder())
    assert_same_vectors(load_index(index), load_index(full))


def test_an_index_of_format_3_is_rebuilt_without_embedding_anything_again(tiny_corpus, tmp_path, fake_embedder):
    """Format 3 kept chunk records a line and whole vector arrays; its vectors still serve the rebuild."""
    import shutil
    from dataclasses import asdict

    index = tmp_path / "index"
    build(tiny_corpus, index, fake_embedder)
    loaded = load_index(index)
    folder = index / loaded.generation
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(asdict(chunk), ensure_ascii=False) + "\n" for chunk in loaded.chunks)
    np.save(folder / "vectors.npy", np.asarray(loaded.vectors))
    np.save(folder / "sentence_vectors.npy", np.asarray(loaded.sentence_vectors))
    for part in ("chunks", "stores.json", "vectors.rows.npy", "sentence_vectors.rows.npy"):
        shutil.rmtree(folder / part) if (folder / part).is_dir() else (folder / part).unlink()
    shutil.rmtree(index / "stores")
    assert_rebuilt_embedding_nothing(tiny_corpus, index, folder, 3, fake_embedder, tmp_path / "full")


def test_an_index_of_format_5_is_rebuilt_without_embedding_anything_again(tiny_corpus, tmp_path, fake_embedder):
    """Format 5 kept each generation's chunk text in its own chunks/text.bin: its vectors still serve the rebuild."""
    import zlib

    index = tmp_path / "index"
    build(tiny_corpus, index, fake_embedder)
    loaded = load_index(index)
    folder = index / loaded.generation
    listed = json.loads((folder / "stores.json").read_text())
    text = b"".join((index / file).read_bytes() for file in listed.pop("text"))
    (folder / "chunks" / "text.bin").write_bytes(text)
    strings = json.loads((folder / "chunks" / "strings.json").read_text())
    strings["text_crc32"] = zlib.crc32(text)
    (folder / "chunks" / "strings.json").write_text(json.dumps(strings))
    (folder / "stores.json").write_text(json.dumps(listed))
    assert_rebuilt_embedding_nothing(tiny_corpus, index, folder, 5, fake_embedder, tmp_path / "full")
    assert load_index(index).chunks == load_index(tmp_path / "full").chunks


def sentences_of(index_dir, embedder, query):
    """The best passage for ``query`` and its sentences' vectors, as answering reads them."""
    retriever = Retriever(load_index(index_dir), Settings(), embedder)
    passage = retriever.search(query, k=1)[0]
    return retriever, passage, retriever.sentences(passage)[2]


def test_a_build_answers_before_its_sentences_are_embedded_then_publishes_them(tiny_corpus, tmp_path, fake_embedder):
    """Past ``publish_early_above`` sentences, the generation is published once its chunk vectors are written: it
    answers, embedding the sentences it reads, then it is published again with every sentence's vector."""
    index, early = tmp_path / "index", {}

    def progress(stage, done, total):
        if stage == "filling" and not early:
            loaded = load_index(index)
            early["generation"], early["pending"] = loaded.generation, int(loaded.pending.sum())
            assert loaded.manifest["sentence_vectors"] == "pending" and not np.asarray(loaded.sentence_vectors).any()
            retriever, passage, vectors = sentences_of(index, fake_embedder, "combien de membres au forum des jeunes")
            early["passage"], early["vectors"] = passage.id, vectors
            assert vectors.any() and retriever.index.embedded  # made now, and kept with the loaded index
            answer = ask("Combien de membres compte le Forum des Jeunes ?", retriever=retriever)
            early["answer"] = answer.text

    report = build(tiny_corpus, index, fake_embedder, settings=Settings(publish_early_above=0), progress=progress)
    assert early["pending"] > 0 and report.searchable_after > 0 and "40 membres" in early["answer"]
    loaded = load_index(index)
    assert loaded.pending is None and "sentence_vectors" not in loaded.manifest
    assert loaded.generation != early["generation"]  # published again, its other files linked, not copied
    for name in ("sentences.npy", "dense.faiss"):
        assert (index / early["generation"] / name).stat().st_ino == (index / loaded.generation / name).stat().st_ino
    _, passage, vectors = sentences_of(index, fake_embedder, "combien de membres au forum des jeunes")
    assert passage.id == early["passage"]
    np.testing.assert_array_equal(vectors, early["vectors"])  # what answering made is what the build stored
    at_once = build(tiny_corpus, tmp_path / "at-once", FakeEmbedder())
    assert not at_once.searchable_after and at_once.embedded_sentences == report.embedded_sentences
    assert_same_vectors(loaded, load_index(tmp_path / "at-once"))
    np.testing.assert_array_equal(loaded.sentences, load_index(tmp_path / "at-once").sentences)


def test_a_build_stopped_before_the_sentences_are_published_is_completed_by_the_next(
    tiny_corpus, tmp_path, fake_embedder
):
    index = tmp_path / "index"

    def power_cut(stage, done, total):
        if stage == "filling":
            raise KeyboardInterrupt("power cut while the sentences are embedded")

    with pytest.raises(KeyboardInterrupt):
        build(tiny_corpus, index, fake_embedder, settings=Settings(publish_early_above=0), progress=power_cut)
    pending = load_index(index)
    assert pending.pending.any()
    assert search(index, fake_embedder, "forum jeunes lyon", k=1)[0].source == "forum.txt"  # it answers meanwhile
    fake_embedder.embedded.clear()
    # nothing changed, but sentences have no vector yet: they are made, and the generation written once
    report = build(tiny_corpus, index, fake_embedder, settings=Settings(publish_early_above=0))
    assert report.embedded == 0 and report.embedded_sentences == len(fake_embedder.embedded) > 0
    assert not report.searchable_after
    assert load_index(index).pending is None
    build(tiny_corpus, tmp_path / "full", FakeEmbedder())
    assert_same_vectors(load_index(index), load_index(tmp_path / "full"))

    # a change on top of a generation still waiting for its sentences: those carried over get theirs too
    (tiny_corpus / "nouveau.txt").write_text("Une note nouvelle. Elle parle du laboratoire de Nantes.\n")
    with pytest.raises(KeyboardInterrupt):
        build(tiny_corpus, index, fake_embedder, settings=Settings(publish_early_above=0), progress=power_cut)
    (tiny_corpus / "forum.txt").write_text("Le Forum des Jeunes compte 45 membres. Il se réunit à Lyon.\n")
    build(tiny_corpus, index, fake_embedder)
    build(tiny_corpus, tmp_path / "full-2", FakeEmbedder())
    assert_same_vectors(load_index(index), load_index(tmp_path / "full-2"))


def test_without_hard_links_the_second_publication_copies_the_files(tiny_corpus, tmp_path, fake_embedder, monkeypatch):
    def no_links(source, target):
        raise OSError(1, "Operation not permitted: this file system has no hard links")

    monkeypatch.setattr("assistant.index.os.link", no_links)
    index = tmp_path / "index"
    report = build(tiny_corpus, index, fake_embedder, settings=Settings(publish_early_above=0))
    assert report.searchable_after > 0 and load_index(index).pending is None
    build(tiny_corpus, tmp_path / "at-once", FakeEmbedder())
    assert_same_vectors(load_index(index), load_index(tmp_path / "at-once"))
