"""The index on disk, and loading it back.

An index folder holds generations; the file ``CURRENT`` names the live one::

    index/CURRENT                 "gen-20261122T101500-3fa9c1"
    index/gen-.../manifest.json   format version, model, dimension, settings, per-source hashes
    index/gen-.../chunks/         the chunks by column: numbers, ids and names (assistant/chunktable.py); their
                                  text in segments of index/stores/ that generations share
    index/gen-.../sentences.npy   int32 rows (chunk row, start, end): the sentences of every chunk, in chunk order
    index/gen-.../stores.json     the segment files it reads in index/stores/ (vectors: assistant/stores.py; text;
                                  terms):
    index/gen-.../vectors.rows.npy           chunk i's row among them (float32 unit vectors)
    index/gen-.../sentence_vectors.rows.npy  sentence j's (float16: answering embeds only the question), or -1 in
                                             a generation published before its new sentences' vectors (below)
    index/gen-.../dense.faiss     FAISS's own format (exact inner product, or an inverted file past a size)
    index/gen-.../dense_ids.npy   past a size: the inverted file's id and list of each chunk row (assistant/dense.py)
    index/gen-.../dense_lists.npy
    index/gen-.../vocabulary.json the analyzed terms: their ids in the terms segments
    index/gen-.../terms.rows.npy  chunk i's entry among the segments of counted terms in index/stores/
                                  (assistant/postings.py), from which BM25 is scored when a question is asked
    index/gen-.../document_terms.rows.npy  document i's, likewise: BM25 over whole documents, one per source

A build writes a new generation into a hidden temporary folder, fsyncs it, renames it into place,
then swaps ``CURRENT`` with ``os.replace``: a crash at any point leaves the previous index loadable. Segments
(vectors, text, terms) are shared by generations and never changed: a build adds one of each kind with what it
read and made.
No pickle anywhere.

A build with many new sentences publishes its generation as soon as the chunk vectors are written, its manifest
saying ``"sentence_vectors": "pending"``: it searches and answers (answering embeds the few sentences it reads
that have no vector yet, and keeps them with the loaded index). The build then embeds the sentences and publishes
the same generation again with them (``fill_sentence_vectors``: the other files are linked, not copied).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant import stores
from assistant.chunktable import SOURCE, ChunkTable
from assistant.dense import DenseIndex
from assistant.errors import IndexBusyError, IndexDamagedError, IndexMismatchError, IndexNotFoundError, first_line
from assistant.postings import Keywords, TermRows
from assistant.records import Chunk
from assistant.stores import Rows

log = logging.getLogger(__name__)

FORMAT_VERSION = 6  # 6: text and terms in shared segments, BM25 scored when asked (vectors carry over)
CURRENT = "CURRENT"
LOAD_ATTEMPTS = 5  # loads tried again when a build swapped generations meanwhile
GRACE_SECONDS = 120  # a generation replaced twice is kept this long for readers still loading it


@dataclass
class LoadedIndex:
    """An index in memory, ready to search."""

    directory: Path
    generation: str
    manifest: dict
    chunks: ChunkTable
    vectors: Rows  # chunk i's vector is vectors[i]
    dense: DenseIndex
    keyword: Keywords  # BM25 over the chunks
    documents: Keywords  # one entry per source, in manifest["documents"] order
    chunk_document: np.ndarray  # row of each chunk's document in ``documents``
    sentences: np.ndarray  # (chunk row, start, end) per sentence, ordered by chunk row
    sentence_vectors: Rows  # float16, one row per sentence
    first_sentence: np.ndarray  # chunk i's sentences are rows first_sentence[i] to first_sentence[i + 1]
    chunk_row: dict[str, int]  # chunk id -> row
    # published before its sentence vectors: the rows that have none yet, and those answering embedded since
    pending: np.ndarray | None = None
    embedded: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.manifest["embedding_model"]

    def sentence_rows(self, chunk_row: int) -> range:
        """The rows of ``sentences`` (and ``sentence_vectors``) that belong to one chunk."""
        return range(int(self.first_sentence[chunk_row]), int(self.first_sentence[chunk_row + 1]))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(path: Path) -> None:
    for item in sorted(path.rglob("*")):
        if item.is_file():
            with open(item, "rb+") as handle:
                os.fsync(handle.fileno())
    for folder in [path, *[p for p in path.rglob("*") if p.is_dir()]]:
        _fsync_dir(folder)


def sentences_pending(manifest: dict) -> bool:
    """Whether this generation was published before its new sentences' vectors were made."""
    return manifest.get("sentence_vectors") == "pending"


def current_generation(index_dir: Path) -> str | None:
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name and (Path(index_dir) / name / "manifest.json").is_file() else None


@dataclass(frozen=True)
class Generation:
    """What a build writes as one generation of the index: the manifest and every array and index it lists."""

    manifest: dict
    chunks: ChunkTable
    vectors: Rows  # chunk i's vector is vectors[i]
    terms: TermRows  # each chunk's counted terms: BM25 over the chunks
    document_terms: TermRows  # each document's, in manifest["documents"] order
    dense: DenseIndex
    sentences: np.ndarray  # (chunk row, start, end) per sentence
    sentence_vectors: Rows


def write_index(index_dir: Path, written_generation: Generation) -> str:
    """Write a new generation and make it current, atomically. Returns the generation name."""
    manifest, chunks, vectors = written_generation.manifest, written_generation.chunks, written_generation.vectors
    terms, document_terms = written_generation.terms, written_generation.document_terms
    dense = written_generation.dense
    sentences, sentence_vectors = written_generation.sentences, written_generation.sentence_vectors
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    generation, staging = _staging(index_dir)
    written: list[Path] = []
    try:
        listed = {"text": chunks.save(staging / "chunks", index_dir, generation, written)}
        np.save(staging / "sentences.npy", np.ascontiguousarray(sentences, dtype=np.int32), allow_pickle=False)
        for name, rows in (("vectors", vectors), ("sentence_vectors", sentence_vectors)):
            listed[name], files = stores.save(rows, index_dir, staging, name, generation)
            written += files
        for name, entries in (("terms", terms), ("document_terms", document_terms)):
            listed[name] = entries.save(index_dir, staging, name, generation, written)
        (staging / "stores.json").write_text(json.dumps(listed), encoding="utf-8")
        (staging / "vocabulary.json").write_text(json.dumps(terms.vocabulary, ensure_ascii=False), encoding="utf-8")
        dense.save(staging)
        manifest = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "chunk_count": len(chunks),
            "sentence_count": len(sentences),
            "dense_index": dense.kind,
            "dense_trained_on": dense.trained_on,
            **({"sentence_vectors": "pending"} if sentence_vectors.missing.any() else {}),
        }
        _write_manifest(staging, manifest)
    except BaseException:
        _discard(staging, written)
        raise
    return _publish(index_dir, staging, generation, written)


def fill_sentence_vectors(index_dir: Path, published: str, sentence_vectors: Rows) -> str:
    """Publish generation ``published`` again, now with every sentence's vector: its other files are linked into
    the new generation, not copied. Returns the new generation's name."""
    index_dir = Path(index_dir)
    source = index_dir / published
    generation, staging = _staging(index_dir)
    written: list[Path] = []
    try:
        shutil.copytree(source, staging, copy_function=_link, dirs_exist_ok=True)
        for name in ("sentence_vectors.rows.npy", "stores.json", "manifest.json"):
            (staging / name).unlink()
        listed = json.loads((source / "stores.json").read_text(encoding="utf-8"))
        listed["sentence_vectors"], written = stores.save(
            sentence_vectors, index_dir, staging, "sentence_vectors", generation
        )
        (staging / "stores.json").write_text(json.dumps(listed), encoding="utf-8")
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
        manifest.pop("sentence_vectors", None)
        _write_manifest(staging, manifest)
    except BaseException:
        _discard(staging, written)
        raise
    return _publish(index_dir, staging, generation, written)


def _link(source: str, target: str) -> None:
    """A file of one generation into another: a hard link (generations never change their files), or a copy
    where the file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _staging(index_dir: Path) -> tuple[str, Path]:
    """A new generation's name, and the hidden folder it is written in."""
    generation = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    staging = index_dir / f".tmp-{generation}"
    staging.mkdir()
    return generation, staging


def _write_manifest(staging: Path, manifest: dict) -> None:
    # compact: at a million chunks the manifest lists a million chunk ids, and indented JSON is written in Python
    (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, separators=(",", ":")), "utf-8")


def _discard(staging: Path, written: list[Path]) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    for path in written:
        path.unlink(missing_ok=True)


def _publish(index_dir: Path, staging: Path, generation: str, written: list[Path]) -> str:
    """Make the generation written in ``staging`` current: synced to disk, renamed into place, ``CURRENT`` swapped.
    The generation it replaces is kept (readers may be loading it); older ones go (see ``_remove_stale``)."""
    previous = current_generation(index_dir)
    try:
        _fsync_tree(staging)
        stores.fsync_files(written)
        _fsync_dir(index_dir / stores.STORES)
        os.rename(staging, index_dir / generation)
        pointer = index_dir / f".{CURRENT}.{generation}"
        pointer.write_text(generation + "\n", encoding="utf-8")
        with open(pointer, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer, index_dir / CURRENT)
        _fsync_dir(index_dir)
    except BaseException:
        _discard(staging, written)
        raise
    _remove_stale(index_dir, keep={generation, previous})
    return generation


def salvage(index_dir: Path) -> tuple[list, Rows, np.ndarray, Rows]:
    """What the current generation embedded, read as far as it can be when the generation does not load (damaged,
    or of format 3): its chunks, their vectors, its sentences and their vectors. Raises one of LOAD_ERRORS."""
    index_dir = Path(index_dir)
    folder = index_dir / current_generation(index_dir)
    with reading_lock:
        dimension = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["dimension"]
        sentences = np.load(folder / "sentences.npy", allow_pickle=False)
        if (folder / "chunks.jsonl").is_file():  # format 3: a chunk record a line, whole vector arrays
            with open(folder / "chunks.jsonl", encoding="utf-8") as handle:
                chunks = [Chunk(**json.loads(line)) for line in handle if line.strip()]
            vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
            sentence_vectors = np.load(folder / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False)
        else:
            chunks = read_chunks(index_dir, folder)
            vectors = Rows.load(index_dir, folder, "vectors", len(chunks), dimension, np.float32)
            sentence_vectors = Rows.load(
                index_dir, folder, "sentence_vectors", len(sentences), dimension, np.float16, missing=True
            )
    if vectors.shape[0] != len(chunks) or sentence_vectors.shape[0] != len(sentences):
        raise ValueError("vectors and texts disagree")
    return chunks, vectors, sentences, sentence_vectors


def _remove_stale(index_dir: Path, keep: set) -> None:
    """Delete older generations and leftovers of crashed builds (only ever called under the build lock).

    The generation just replaced is kept, and so is the one before it while it is younger than GRACE_SECONDS,
    so that a reader that read ``CURRENT`` before a swap, or two, can finish loading. No more: each generation
    holds its own chunk numbers and rows. Segments go when no generation kept lists them.
    """
    older = sorted(
        (item for item in index_dir.iterdir() if item.name.startswith("gen-") and item.name not in keep),
        key=lambda item: item.stat().st_mtime,
        reverse=True,
    )
    if older and time.time() - older[0].stat().st_mtime < GRACE_SECONDS:
        keep = keep | {older[0].name}
    for item in index_dir.iterdir():
        if item.name not in keep and (item.name.startswith(("gen-", ".tmp-gen-", f".{CURRENT}."))):
            if item.is_dir():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
    stores.remove_unreferenced(index_dir, keep)


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: bool = False):
    """One build at a time per index folder, across processes. Raises IndexBusyError if taken."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise IndexBusyError(f"another build of {index_dir} is running; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(index_dir: Path) -> dict | None:
    """The current generation's manifest; None when there is no index or its manifest cannot be read."""
    generation = current_generation(index_dir)
    if generation is None:
        return None
    try:
        manifest = json.loads((Path(index_dir) / generation / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


_manifests: dict[Path, tuple[tuple, dict]] = {}
_manifests_lock = threading.Lock()


def current_manifest(index_dir: Path) -> dict:
    """The current generation's manifest ({} when there is none), read again only when a build swapped it.

    For what polls it: the app's status line, stale-citation checks. A build reads it afresh (read_manifest).
    """
    key = Path(index_dir).resolve()
    generation = current_generation(key)
    try:
        stamp = (generation, (key / generation / "manifest.json").stat().st_mtime_ns) if generation else None
    except OSError:
        stamp = None
    with _manifests_lock:
        cached = _manifests.get(key)
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]
    manifest = read_manifest(key) or {}
    with _manifests_lock:
        _manifests[key] = (stamp, manifest)
    return manifest


def read_chunks(index_dir: Path, folder: Path, listed: dict | None = None) -> ChunkTable:
    """A generation's chunks; their text in the text segments its ``stores.json`` lists (``listed``, when read
    already), or in the folder's own text.bin for an index of format 5."""
    listed = listed if listed is not None else json.loads((folder / "stores.json").read_text(encoding="utf-8"))
    return ChunkTable.load(folder / "chunks", index_dir, listed.get("text"))


def load_index(index_dir: Path, searchable: bool = True) -> LoadedIndex:
    """Load the current generation. Raises IndexNotFoundError, IndexMismatchError or IndexDamagedError.

    Not ``searchable`` (what a build reads it for: its chunks, vectors and sentences), an exact dense index is not
    filed again from the vectors, and BM25's statistics are not computed.

    A build may swap generations while we read: any failure to load is tried again, from ``CURRENT``, as long as
    the generation has changed meanwhile. A generation that fails to load and is still current is damaged.
    """
    index_dir = Path(index_dir)
    with reading_lock:
        for _ in range(LOAD_ATTEMPTS):
            generation = current_generation(index_dir)
            try:
                return _load(index_dir, generation, searchable)
            except (IndexDamagedError, IndexNotFoundError):
                if current_generation(index_dir) == generation:
                    raise
        return _load(index_dir, current_generation(index_dir), searchable)


# One load at a time in a process: NumPy reads .npy headers with ast.literal_eval, and CPython 3.11 can fail
# ("AST constructor recursion depth mismatch") when two threads parse at once. Loads are rare (one per generation).
reading_lock = threading.RLock()


def chunk_rows(manifest: dict, chunks: ChunkTable) -> np.ndarray:
    """For each chunk, the row of its document in the document-level index."""
    row = {source: i for i, source in enumerate(manifest["documents"])}
    document = np.asarray([row[source] for source in chunks.strings["sources"]], dtype=np.int64)
    return document[chunks.numbers[:, SOURCE]] if len(chunks) else np.zeros(0, np.int64)


# What a damaged file makes the loaders raise: truncated JSON, random bytes in a .npy, a bad faiss file...
LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError, IndexError, EOFError, AttributeError)


def _load(index_dir: Path, generation: str | None, searchable: bool = True) -> LoadedIndex:
    if generation is None:
        raise IndexNotFoundError(f"no index in {index_dir}: build one with `assistant build --index {index_dir}`")
    reading = ["manifest.json"]  # the part being read, for the message
    try:
        manifest = json.loads((index_dir / generation / "manifest.json").read_text(encoding="utf-8"))
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"the index in {index_dir} has format version {version}, this version reads {FORMAT_VERSION}:"
                f" rebuild it with `assistant build --full --index {index_dir}`"
            )
        return _read_parts(index_dir, generation, manifest, reading, searchable)
    except IndexMismatchError:
        raise
    except LOAD_ERRORS as exc:
        damage = f"the index in {index_dir} is damaged ({reading[-1]}: {first_line(exc)})"
        raise IndexDamagedError(
            f"{damage}: rebuild it with `assistant build --full --index {index_dir}`"
            " (a plain `assistant build` repairs it too)",
            damage,
        ) from None


def _read_parts(
    index_dir: Path, generation: str, manifest: dict, reading: list[str], searchable: bool = True
) -> LoadedIndex:
    """Every part of a generation, each checked against the manifest; ``reading`` says which part is being read."""
    folder = index_dir / generation
    count, sentence_count, dimension = manifest["chunk_count"], manifest["sentence_count"], manifest["dimension"]

    def expect(condition: bool, what: str) -> None:
        if not condition:
            raise ValueError(what)

    reading.append("stores.json")
    listed = json.loads((folder / "stores.json").read_text(encoding="utf-8"))
    expect(isinstance(listed, dict), "not a record of segment files")
    reading.append("chunks")
    chunks = read_chunks(index_dir, folder, listed)
    expect(len(chunks) == count, f"{len(chunks)} chunks, the manifest says {count}")
    reading.append("vectors")
    vectors = Rows.load(index_dir, folder, "vectors", count, dimension, np.float32)
    reading.append("dense.faiss")
    dense = DenseIndex.load(folder, manifest, vectors, filled=searchable)
    vectors.release()  # filed into the dense index: searches re-read the few rows they re-rank
    found = f"{dense.size} vectors of {dense.index.d}, expected {count}"
    expect(dense.index.d == dimension and dense.size in (count, 0 if not searchable else count), found)
    reading.append("sentences.npy")
    sentences = np.load(folder / "sentences.npy", allow_pickle=False)
    expect(sentences.shape == (sentence_count, 3), f"shape {sentences.shape}, expected {(sentence_count, 3)}")
    expect(not len(sentences) or 0 <= int(sentences[:, 0].max()) < count, "sentences point to no chunk")
    reading.append("sentence_vectors")
    pending = sentences_pending(manifest)
    sentence_vectors = Rows.load(
        index_dir, folder, "sentence_vectors", sentence_count, dimension, np.float16, missing=pending
    )
    reading.append("vocabulary.json")
    vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
    expect(isinstance(vocabulary, list), "not a list of terms")
    reading.append("terms")
    keyword = Keywords(TermRows.load(index_dir, folder, "terms", count, vocabulary, listed["terms"]))
    reading.append("document_terms")
    entries = TermRows.load(
        index_dir, folder, "document_terms", len(manifest["documents"]), vocabulary, listed["document_terms"]
    )
    documents = Keywords(entries)
    if searchable:  # the statistics of BM25, from every segment: read now, checked now
        reading.append("terms")
        keyword.prepare()
        reading.append("document_terms")
        documents.prepare()
    reading.append("manifest.json")
    return LoadedIndex(
        index_dir,
        generation,
        manifest,
        chunks,
        vectors,
        dense,
        keyword,
        documents,
        chunk_rows(manifest, chunks),
        sentences,
        sentence_vectors,
        np.searchsorted(sentences[:, 0], np.arange(len(chunks) + 1)),
        dict(zip(chunks.ids, range(len(chunks)))),
        sentence_vectors.missing if pending else None,
    )


_loaded: dict[Path, LoadedIndex] = {}
_loaded_lock = threading.Lock()


def cached_index(index_dir: Path) -> LoadedIndex:
    """The current generation, loaded once and reloaded only when a build has swapped in a new one."""
    key = Path(index_dir).resolve()
    with _loaded_lock:
        loaded = _loaded.get(key)
        if loaded is None or loaded.generation != current_generation(key):
            loaded = _loaded[key] = load_index(key)
        return loaded
