"""Building the index from the corpus, incrementally: only new or changed text is ever embedded."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.chunking import is_compared, split_sentences
from assistant.chunktable import ChunkTable
from assistant.dense import dense_for
from assistant.distributed import RayCluster
from assistant.embeddings import Embedder, embedder_for
from assistant.errors import AssistantError, CorpusNotFoundError, IndexDamagedError
from assistant.index import (
    CURRENT,
    FORMAT_VERSION,
    LOAD_ERRORS,
    Generation,
    LoadedIndex,
    build_lock,
    current_generation,
    fill_sentence_vectors,
    load_index,
    read_manifest,
    salvage,
    sentences_pending,
    write_index,
)
from assistant.keywords import Counted, analyze, carried_layout
from assistant.postings import TermRows, ranges
from assistant.readers.documents import list_sources
from assistant.reading import Reader, read_locally
from assistant.records import BuildReport, Chunk, Document, content_hash
from assistant.settings import Settings
from assistant.stores import Rows, Scratch, slices

log = logging.getLogger(__name__)

# Bump when chunking or the indexed text changes, to force a full rebuild (vectors of unchanged text are carried over).
# 5: tables written row by row, scanned pages and images read by OCR. 6: items of lists written "• " (Markdown,
# HTML, DOCX), as the text of a PDF or a page shows them.
CHUNK_RECIPE = 6
# a file changed within this long before a build's scan is read again by the next build (coarse file times)
STAT_SLACK_NS = 2_000_000_000

Progress = Callable[[str, int, int], None]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _scan(files: dict[str, Path], previous: dict | None, report: BuildReport) -> tuple[dict, dict]:
    """The content hash of every file, and its stat signature (size, mtime, ctime, inode).

    A file whose signature is the one recorded by the previous build, and whose times are older than that build's
    scan by STAT_SLACK_NS, keeps its recorded hash without being read (what git does): ctime cannot be set back,
    so a file written since, even with its size and mtime restored, is read again.
    """
    since = (previous or {}).get("scanned_at_ns", 0) - STAT_SLACK_NS
    recorded = {**(previous or {}).get("failed", {}), **(previous or {}).get("sources", {})}
    hashes, stats = {}, {}
    for source, path in files.items():
        try:
            stat = path.stat()
            stats[source] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
            old = recorded.get(source, {})
            if old.get("stat") == stats[source] and max(stat.st_mtime_ns, stat.st_ctime_ns) < since:
                hashes[source] = old["hash"]
            else:
                hashes[source] = file_hash(path)
        except OSError as exc:
            report.failed[source] = f"cannot read the file ({exc.strerror or exc})"
            hashes[source] = ""
    return hashes, stats


def _index_settings(settings: Settings, embedder: Embedder) -> dict:
    return {
        "embedding_model": embedder.model_name,
        "embedding_backend": getattr(embedder, "backend", ""),
        "quantization": embedder.quantize,
        "prompts": [embedder.query_prompt, embedder.document_prompt],
        "chunking": {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "recipe": CHUNK_RECIPE},
    }


def _load_current(target: Path) -> tuple[LoadedIndex | None, str]:
    """The current generation, loaded (and so checked), or None with why it is damaged ("" when it is absent
    or of another format: the usual rules decide)."""
    try:
        return load_index(target, searchable=False), ""
    except IndexDamagedError as exc:
        return None, exc.damage
    except AssistantError:
        return None, ""


def _full_rebuild_reason(previous: dict | None, wanted: dict) -> str:
    if previous is None:
        return "no previous index"
    if previous.get("format_version") != FORMAT_VERSION:
        return f"index format changed ({previous.get('format_version')} -> {FORMAT_VERSION})"
    return _settings_changed(previous, wanted)


def _settings_changed(previous: dict, wanted: dict) -> str:
    """What changed of what the vectors depend on (model, prompts, chunking), or ""."""
    for key, value in wanted.items():
        if previous.get(key) != value:
            return f"{key} changed ({previous.get(key)} -> {value})"
    return ""


def build_index(
    corpus_dir: Path | str | None = None,
    index_dir: Path | str | None = None,
    *,
    full: bool = False,
    retry_failed: bool = False,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    ray: str | None = None,
    workers: int = 0,
) -> BuildReport:
    """Bring the index up to date with the corpus and return what was done.

    Unchanged files keep their chunks and vectors; changed and new files are read, chunked and embedded;
    removed files are dropped. A file that cannot be read is left out with its reason in ``report.failed``,
    and is tried again when it changes, when the reading limits change, or with ``retry_failed``.

    With ``ray`` (a Ray address, "auto", or "" for the setting ``ray_address``), the reading and embedding of
    new and changed files run on Ray, ``workers`` embedding actors (default: one per CPU); see
    assistant.distributed. The index written is the same.
    """
    settings = (settings or Settings.from_env()).with_(corpus_dir=corpus_dir, index_dir=index_dir)
    corpus, target = Path(settings.corpus_dir), Path(settings.index_dir)
    if not corpus.is_dir():
        raise CorpusNotFoundError(f"corpus folder not found: {corpus}")
    embedder = embedder or embedder_for(settings)
    started = time.perf_counter()
    with build_lock(target), contextlib.ExitStack() as stack:
        read: Reader = read_locally
        if ray is not None:
            cluster = RayCluster(settings, ray or settings.ray_address, workers)
            stack.callback(cluster.close)
            read, embedder = (lambda files, to_read, _: cluster.read(files, to_read)), cluster.embedder(embedder)
        report = _build(corpus, target, settings, embedder, full, retry_failed, progress or (lambda *_: None), read)
    report.seconds = time.perf_counter() - started
    log.info("build done: %s", report.summary().replace("\n", "; "))
    return report


def _reading_limits(settings: Settings) -> dict:
    """The settings a file can fail under: a file that failed is tried again when they change."""
    return {
        "parse_timeout": settings.parse_timeout,
        "parse_memory_mb": settings.parse_memory_mb,
        "max_file_mb": settings.max_file_mb,
    }


@dataclass
class _Plan:
    """What the build starts from: the settings the vectors depend on, the previous manifest (None for a full
    rebuild), the current index when it loads, whether its vectors may be reused, and what it recorded."""

    wanted: dict
    previous: dict | None
    current: LoadedIndex | None
    reusable: bool
    old_sources: dict
    old_failed: dict


def _plan(target: Path, settings: Settings, embedder: Embedder, full: bool, retry_failed: bool, report) -> _Plan:
    wanted = _index_settings(settings, embedder)
    current, damage = _load_current(target)
    previous = current.manifest if current is not None else read_manifest(target)
    # A damaged index, or one of an earlier format, built with the same model and chunking still lends whatever
    # vectors can be read.
    reusable = not full and previous is not None and not _settings_changed(previous, wanted)
    reason = "asked for (--full)" if full else (f"repairing: {damage}" if damage else "")
    reason = reason or _full_rebuild_reason(previous, wanted)
    if current_generation(target) is None and (Path(target) / CURRENT).exists():
        reason = "repairing: the index's CURRENT pointer names no readable generation"
    if reason:
        if previous is not None or damage:
            log.warning("full rebuild: %s", reason)
        report.full, report.reason, previous = True, reason, None
    old_sources = previous["sources"] if previous else {}
    old_failed = previous.get("failed", {}) if previous else {}
    if retry_failed or (previous and previous.get("reading_limits") != _reading_limits(settings)):
        old_failed = {}  # read the files that failed again: they may pass now
    return _Plan(wanted, previous, current, reusable, old_sources, old_failed)


@dataclass
class _Scan:
    """The corpus as the build found it: its files, their hashes and stat signatures, and those to read."""

    files: dict[str, Path]
    hashes: dict[str, str]
    stats: dict[str, list]
    to_read: list[str]
    scanned_at: int


def _scan_corpus(corpus: Path, plan: _Plan, report: BuildReport) -> _Scan:
    """Which files are new, changed, unchanged, removed or still failing (recorded in ``report``)."""
    scanned_at = time.time_ns()
    files = {source: path for source, path in list_sources(corpus)}
    hashes, stats = _scan(files, plan.previous, report)
    to_read = []
    for source in files:
        if source in report.failed:
            continue
        old = plan.old_sources.get(source) or plan.old_failed.get(source)
        if old and old["hash"] == hashes[source]:
            if source in plan.old_sources:
                report.unchanged.append(source)
            else:
                report.failed[source] = plan.old_failed[source]["reason"]
        else:
            to_read.append(source)
            (report.updated if source in plan.old_sources else report.added).append(source)
    report.removed = sorted(set(plan.old_sources) - set(files))
    return _Scan(files, hashes, stats, to_read, scanned_at)


def _build(
    corpus: Path,
    target: Path,
    settings: Settings,
    embedder: Embedder,
    full: bool,
    retry_failed: bool,
    progress: Progress,
    read: Reader,
) -> BuildReport:
    """The build's stages, top to bottom: plan, scan, read and chunk, lay out, embed or carry over, count terms,
    write a generation. With many sentences to embed, the generation is written before them, then again with them."""
    started, report = time.perf_counter(), BuildReport()
    plan = _plan(target, settings, embedder, full, retry_failed, report)
    progress("scanning", 0, 0)
    scan = _scan_corpus(corpus, plan, report)
    unchanged = not scan.to_read and not report.removed and set(report.failed) == set(plan.old_failed)
    if plan.previous and unchanged and not sentences_pending(plan.previous):
        report.chunks = plan.previous.get("chunk_count", 0)
        return report  # nothing changed: the index on disk is already right (a pending one gets its sentences)
    fresh = _read_all(read(scan.files, scan.to_read, settings), len(scan.to_read), report, progress)
    layout = _lay_out(scan, fresh, plan, report)
    chunks = layout.chunks
    scratches = _Scratches()  # the vectors made, in files until written
    try:
        generation, sentences = _generation(layout, plan, scan, target, settings, embedder, report, progress, scratches)
        # many sentences to embed in a changed corpus: answer now, the sentences' vectors follow
        if len(sentences) > settings.publish_early_above and report.changed:
            progress("writing", 0, len(chunks))
            published = write_index(target, generation)  # its new sentences have no vector yet
            del generation
            report.searchable_after = time.perf_counter() - started
            vectors = sentences.made(embedder, report, progress, "filling")
            progress("writing", 0, len(chunks))
            fill_sentence_vectors(target, published, vectors)
        else:
            generation = replace(generation, sentence_vectors=sentences.made(embedder, report, progress, "sentences"))
            progress("writing", 0, len(chunks))
            write_index(target, generation)
            del generation
    finally:
        scratches.close()
    report.chunks = len(chunks)
    return report


class _Scratches(list):
    """The scratch files of a build's new vectors: removed when it ends (one that became a segment stays)."""

    def add(self, scratch: Scratch) -> Scratch:
        self.append(scratch)
        return scratch

    def close(self) -> None:
        for scratch in self:
            scratch.close()


@dataclass
class _Layout:
    """The chunks of the new generation, each source's manifest entry, and each chunk's row in the current index
    (-1 for a chunk of a file read now)."""

    chunks: ChunkTable
    sources_meta: dict[str, dict]
    origin: np.ndarray


def _lay_out(scan: _Scan, fresh: dict, plan: _Plan, report: BuildReport) -> _Layout:
    """The chunks of the new generation, grouped by source in order: those of files read now, the current index's
    rows for the others (a run of rows a source, looked up by chunk id only when its rows are not one run)."""
    new_tables: list[ChunkTable] = []  # of the files read now
    origin: list[np.ndarray] = []
    sources_meta: dict[str, dict] = {}
    runs = plan.current.chunks.runs_by_source() if plan.current is not None else {}
    for source in sorted(scan.files):
        if source in report.failed:
            continue
        if source in fresh:
            meta, table = fresh.pop(source)  # each document's chunks go once into the new table
            ids = list(table.ids)
            new_tables.append(table)
            origin.append(np.full(len(table), -1, np.int64))
        else:
            ids = plan.old_sources[source]["chunks"]
            origin.append(_rows_of(plan.current, runs.get(source), ids))
            meta = {k: v for k, v in plan.old_sources[source].items() if k not in ("hash", "stat", "chunks")}
        sources_meta[source] = {"hash": scan.hashes[source], "stat": scan.stats.get(source), **meta, "chunks": ids}
    origin_rows = np.concatenate(origin) if origin else np.zeros(0, np.int64)
    current = plan.current.chunks if plan.current is not None else None
    return _Layout(_assemble(current, origin_rows, ChunkTable.concat(new_tables)), sources_meta, origin_rows)


def _rows_of(current: LoadedIndex, run: range | None, ids: list[str]) -> np.ndarray:
    """The rows of an unchanged source's chunks in the current index: its run of rows when they hold these ids."""
    if run is not None and len(run) == len(ids) and current.chunks.ids[run.start : run.stop] == ids:
        return np.arange(run.start, run.stop, dtype=np.int64)
    return np.fromiter((current.chunk_row[chunk_id] for chunk_id in ids), np.int64, len(ids))


def _generation(
    layout: _Layout,
    plan: _Plan,
    scan: _Scan,
    target: Path,
    settings: Settings,
    embedder: Embedder,
    report: BuildReport,
    progress: Progress,
    scratches: _Scratches,
) -> tuple[Generation, _SentenceVectors]:
    """Everything the new generation holds but its sentences' vectors: chunk vectors (carried over or embedded),
    terms, BM25, the dense index; and the sentences whose vectors are still to be made."""
    chunks, sources_meta = layout.chunks, layout.sources_meta
    carried, old = None, None
    if plan.reusable and plan.current is not None:  # unchanged chunks keep their rows; others' text may have moved
        carried = Carried.of(chunks, plan.current, layout.origin)
        gone = np.ones(len(plan.current.chunks), dtype=bool)
        gone[carried.old_rows[carried.old_rows >= 0]] = False
        current, gone = plan.current, np.flatnonzero(gone)
        old = _stored(current.chunks, current.vectors, current.sentences, current.sentence_vectors, gone)
    elif plan.reusable:  # a damaged index, or one of format 3, lends what can still be read
        old = _previous(target)
    dimension = _dimension(carried, old, embedder)
    sentences = _SentenceVectors(chunks, carried, old, dimension, target, scratches)
    vectors = _chunk_vectors(chunks, carried, old, dimension, embedder, report, progress, target, scratches)
    progress("indexing", 0, len(chunks))
    terms = _terms_for(chunks, carried)
    # chunks come grouped by source: document i's are chunks bounds[i] to bounds[i + 1]
    bounds = np.concatenate([[0], np.cumsum([len(meta["chunks"]) for meta in sources_meta.values()])])
    document_terms = _document_terms_for(terms, bounds, list(sources_meta), set(report.unchanged), carried)
    progress("dense", 0, len(chunks))
    previous_dense, old_rows = (carried.current.dense, carried.old_rows) if carried else (None, None)
    dense = dense_for(vectors, settings.approximate_above, previous_dense, old_rows, filled=False)
    manifest = {
        **plan.wanted,
        "dimension": int(vectors.shape[1]),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sources": sources_meta,
        "documents": list(sources_meta),
        "failed": {
            s: {"hash": scan.hashes[s], "stat": scan.stats.get(s), "reason": r} for s, r in report.failed.items()
        },
        "scanned_at_ns": scan.scanned_at,
        "reading_limits": _reading_limits(settings),
    }
    table, pending = sentences.table, sentences.pending()
    generation = Generation(manifest, chunks, vectors, terms, document_terms, dense, table, pending)
    return generation, sentences


def _assemble(current: ChunkTable | None, origin: np.ndarray, new: ChunkTable) -> ChunkTable:
    """The chunks in order: the current index's rows ``origin`` where >= 0, the ``new`` ones, in order, elsewhere.
    Unchanged files come in long runs of rows, carried over by column."""
    breaks = np.flatnonzero(np.diff(origin >= 0)) + 1
    pieces, used = [], 0
    for begin, end in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(origin)]])):
        if begin == end:
            continue
        if origin[begin] >= 0:
            pieces.append(current.take(origin[begin:end]))
        elif end - begin == len(new):  # every chunk is new (a first build): the table as it is
            pieces.append(new)
        else:
            pieces.append(new.take(np.arange(used, used + end - begin)))
            used += end - begin
    return ChunkTable.concat(pieces)


def _terms_for(chunks: Sequence[Chunk], carried: Carried | None) -> TermRows:
    """The analyzed terms of every chunk: unchanged chunks' carried over from the current index, the others
    analyzed now."""
    old = carried.current.keyword.terms if carried is not None else None
    old_rows = _old_rows(carried, len(chunks))
    fresh = Counted(old.vocabulary if old is not None else [])
    for row in np.flatnonzero(old_rows < 0):
        fresh.add(int(row), Counter(analyze(chunks[row].indexed_text())))
    return TermRows.staged(old, old_rows, fresh.vocabulary, fresh.arrays())


def _document_terms_for(
    terms: TermRows, bounds: np.ndarray, sources: list[str], kept: set[str], carried: Carried | None
) -> TermRows:
    """The terms of every document (its chunks' summed): documents in ``kept`` (unchanged files) bring theirs from
    the current index, the others are summed now."""
    import scipy.sparse as sp

    old = carried.current.documents.terms if carried is not None else None
    row = {source: i for i, source in enumerate(carried.current.manifest["documents"])} if old is not None else {}
    old_rows = np.asarray([row.get(source, -1) if source in kept else -1 for source in sources], dtype=np.int64)
    summed = np.flatnonzero(old_rows < 0)
    sizes = bounds[summed + 1] - bounds[summed]
    starts, ids, counts = terms.gather(ranges(bounds[summed], sizes)[1])
    document = np.repeat(np.repeat(np.arange(len(summed)), sizes), np.diff(starts))
    matrix = sp.csr_matrix((counts, (document, ids)), shape=(len(summed), len(terms.vocabulary)))
    matrix.sum_duplicates()
    fresh = (matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data.astype(np.int32))
    return TermRows.staged(old, old_rows, terms.vocabulary, fresh)


def _read_all(results, total: int, report: BuildReport, progress: Progress) -> dict[str, tuple[dict, ChunkTable]]:
    """Each document read, by source: its manifest entry and its chunks, by column (its text is not kept: the
    chunks hold what the index needs). The files that failed go to ``report.failed`` with their reason."""
    documents: dict[str, tuple[dict, ChunkTable]] = {}
    for done, (source, result) in enumerate(results, start=1):
        if isinstance(result, str):
            log.warning("left out %s: %s", source, result)
            report.failed[source] = result
            for fate in (report.added, report.updated):
                if source in fate:
                    fate.remove(source)
        else:
            document, chunks = result
            documents[source] = (_source_meta(document), ChunkTable.of(chunks))
        progress("reading", done, total)
    return documents


def _source_meta(document: Document) -> dict:
    meta = {
        "title": document.title,
        "kind": document.kind,
        "pages": len(document.pages) or None,
        "characters": len(document.text),
    }
    if document.ocr:  # the pages read by OCR, with their confidence
        meta["ocr"] = [list(page) for page in document.ocr]
    return meta


class _Keys:
    """Where texts were embedded before: their content hashes as 64-bit numbers, sorted, with the stored row of
    each (numbers in arrays, not a dict of strings: a salvaged index of a million chunks lends five million)."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys, self.rows = keys[order], rows[order]

    @classmethod
    def none(cls) -> _Keys:
        return cls(np.empty(0, np.uint64), np.empty(0, np.int64))

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The stored row of each key, -1 where none."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.rows[at], -1)


def _key(text: str) -> int:
    return int(content_hash(text), 16)


@dataclass
class _Stored:
    """The previous generation's vectors, by the content hash of the text they embed."""

    chunk_keys: _Keys
    vectors: Rows
    sentence_keys: _Keys
    sentence_vectors: Rows


def _previous(target: Path) -> _Stored | None:
    """What a damaged current generation, or one of format 3, embedded, as far as it can be read."""
    try:
        return _stored(*salvage(target))
    except LOAD_ERRORS as exc:
        log.warning("the previous index cannot be reused, every text is embedded again: %s", exc)
        return None


def _stored(chunks: Sequence[Chunk], vectors, sentences, sentence_vectors, rows: np.ndarray | None = None) -> _Stored:
    """Stored vectors by the content hash of the text they embed: of every chunk, or of the chunk ``rows`` only."""
    rows = np.arange(len(chunks)) if rows is None else np.asarray(rows, dtype=np.int64)
    chunk_keys = np.fromiter((_key(chunks[int(row)].indexed_text()) for row in rows), np.uint64, len(rows))
    chosen = np.flatnonzero(np.isin(sentences[:, 0], rows)) if len(rows) < len(chunks) else np.arange(len(sentences))
    if isinstance(sentence_vectors, Rows):  # not those with no vector yet (an index of format 3 has them all)
        chosen = chosen[~sentence_vectors.missing[chosen]]
    text_of = _SentenceTexts(chunks, sentences)
    sentence_keys = np.fromiter((_key(text_of(int(row))) for row in chosen), np.uint64, len(chosen))
    return _Stored(_Keys(chunk_keys, rows), vectors, _Keys(sentence_keys, chosen.astype(np.int64)), sentence_vectors)


class _SentenceTexts:
    """Sentence ``i``'s text, from its chunk's (decoded once for the run of its sentences)."""

    def __init__(self, chunks: Sequence[Chunk], sentences: np.ndarray) -> None:
        self.chunks, self.sentences, self.row, self.text = chunks, sentences, -1, ""

    def __call__(self, i: int) -> str:
        row, start, end = self.sentences[i].tolist()
        if row != self.row:
            self.row, self.text = row, self.chunks[row].text
        return self.text[start:end]


@dataclass
class Carried:
    """What unchanged chunks bring from the current index: a chunk id is its source and text, so a chunk that is
    still there has the same vector and sentences. Only the other chunks are split, hashed and looked up."""

    current: LoadedIndex
    old_rows: np.ndarray  # int64, for each new chunk row its row in the current index, -1 for a new chunk

    @classmethod
    def of(cls, chunks: ChunkTable, current: LoadedIndex, origin: np.ndarray) -> Carried:
        """Each chunk's row in ``current``: ``origin``'s where known (>= 0), else looked up by chunk id."""
        rows, old_rows = current.chunk_row, origin.copy()
        for row in np.flatnonzero(old_rows < 0).tolist():
            old_rows[row] = rows.get(chunks.ids[row], -1)
        return cls(current, old_rows)


def _reuse_or_embed(
    count: int,
    text_of: Callable[[int], str],
    rows: np.ndarray,
    target: np.ndarray,
    stored: _Keys,
    stored_vectors,
    embed,
) -> int:
    """``target[rows[i]]`` = the vector of ``text_of(i)`` for ``i`` below ``count``: the stored one where the same
    text was embedded before, else embedded once (``embed(texts, out, done, total)`` fills ``out``). Returns how
    many texts were embedded.

    Texts are made again when needed rather than kept, and embedded a slice at a time into ``target``'s file, each
    slice handed back to the system once written: a first build of a million chunks would otherwise hold five
    million sentences, their keys and their vectors at once.
    """
    scratch, target = target, target.array
    keys = np.fromiter((_key(text_of(i)) for i in range(count)), np.uint64, count)
    found = stored.find(keys)
    missing = np.flatnonzero(found < 0)
    _, first, inverse = np.unique(keys[missing], return_index=True, return_inverse=True)
    order = np.argsort(first)  # the distinct missing texts, embedded in the order they come
    embedded = missing[first[order]]
    for part in slices(len(embedded)):
        chosen = embedded[part]
        out = np.empty((len(chosen), target.shape[1]), target.dtype)
        embed([text_of(int(i)) for i in chosen], out, part.start, len(embedded))
        scratch.write(rows[chosen], out)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    twin = embedded[rank[inverse]]  # for each missing text, the item whose embedding it takes
    copies = np.flatnonzero(twin != missing)
    for part in slices(len(copies)):
        scratch.write(rows[missing[copies[part]]], scratch.read(rows[twin[copies[part]]]))
    kept = np.flatnonzero(found >= 0)
    for part in slices(len(kept)):
        scratch.write(rows[kept[part]], stored_vectors[found[kept[part]]])
    return len(embedded)


def _old_rows(carried: Carried | None, count: int) -> np.ndarray:
    """Each chunk's row in the current index, -1 for a new chunk (every chunk is new without a carry-over)."""
    return carried.old_rows if carried else np.full(count, -1, dtype=np.int64)


def chunk_sentences(chunks: Sequence[Chunk], carried: Carried | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(chunk row, start, end) of every sentence of every chunk, in chunk order: what answers quote from; and, for
    each sentence, its row in the current index (-1 for a sentence of a new chunk)."""
    old_rows = _old_rows(carried, len(chunks))
    new_rows = np.flatnonzero(old_rows < 0)
    spans, ends = array("i"), np.zeros(len(new_rows), dtype=np.int64)  # every new sentence's (start, end), flat
    for position, row in enumerate(new_rows):
        for span in split_sentences(chunks[int(row)].text):
            spans.extend(span)
        ends[position] = len(spans) // 2
    lengths = np.diff(np.concatenate([[0], ends]))
    first = carried.current.first_sentence if carried else None
    starts, runs = carried_layout(first, old_rows, dict(zip(new_rows.tolist(), lengths.tolist())))
    sentences = np.zeros((int(starts[-1]), 3), dtype=np.int32)
    sentences[:, 0] = np.repeat(np.arange(len(chunks)), np.diff(starts))
    source = np.full(len(sentences), -1, dtype=np.int64)
    for begin, origin, length in runs:
        sentences[begin : begin + length, 1:] = carried.current.sentences[origin : origin + length, 1:]
        source[begin : begin + length] = np.arange(origin, origin + length)
    flat = np.frombuffer(spans, dtype=np.int32).reshape(-1, 2)
    for row, end, length in zip(new_rows.tolist(), ends.tolist(), lengths.tolist()):
        if length:
            sentences[starts[row] : starts[row + 1], 1:] = flat[end - length : end]
    return sentences, source


class _SentenceVectors:
    """The new generation's sentences, and their vectors: carried over with their chunks, or found among those
    stored for the same text, or embedded. Only what answering ever compares with a question gets one
    (``is_compared``); the others' rows are zeros."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        carried: Carried | None,
        old: _Stored | None,
        dimension: int,
        target: Path,
        scratches: _Scratches,
    ) -> None:
        self.table, source = chunk_sentences(chunks, carried)
        self.previous = carried.current.sentence_vectors if carried else None
        if self.previous is not None:  # a sentence the current generation has no vector for yet is made now
            kept = np.flatnonzero(source >= 0)
            source[kept[self.previous.missing[source[kept]]]] = -1
        self.source, self.old, self.dimension = source, old, dimension
        self.target, self.scratches = target, scratches
        self.new = np.flatnonzero(source < 0)  # new rows; the others keep theirs
        self.text_of = _SentenceTexts(chunks, self.table)
        compared = (is_compared(self.text_of(int(i))) for i in self.new)
        self.wanted = self.new[np.fromiter(compared, dtype=bool, count=len(self.new))]

    def __len__(self) -> int:
        """How many sentences need a vector (found among those stored for the same text, or embedded)."""
        return len(self.wanted)

    def pending(self) -> Rows:
        """The rows before any is made: the new ones have none yet."""
        return Rows.pending(self.previous, self.source, self.dimension, np.float16)

    def made(self, embedder: Embedder, report: BuildReport, progress: Progress, stage: str) -> Rows:
        """Every row, the new ones made into a scratch file of the index's stores."""
        shape = (len(self.new), self.dimension)
        fresh = self.scratches.add(Scratch(self.target, "sentence_vectors", shape, np.float16))
        report.embedded_sentences = _reuse_or_embed(
            len(self.wanted),
            lambda i: self.text_of(int(self.wanted[i])),
            np.searchsorted(self.new, self.wanted),
            fresh,
            self.old.sentence_keys if self.old else _Keys.none(),
            self.old.sentence_vectors if self.old else None,
            _embedding(embedder, stage, progress),
        )
        return Rows.staged(self.previous, self.source, fresh)


def _chunk_vectors(
    chunks: Sequence[Chunk],
    carried: Carried | None,
    old: _Stored | None,
    dimension: int,
    embedder: Embedder,
    report: BuildReport,
    progress: Progress,
    target: Path,
    scratches: _Scratches,
) -> Rows:
    """Chunk vectors. Unchanged chunks keep theirs (their rows in the current generation's segments); the others
    reuse what was embedded for the same text before (``old``), and only text never embedded before is embedded,
    into a scratch file of ``target``'s stores."""
    old_rows = _old_rows(carried, len(chunks))
    new = np.flatnonzero(old_rows < 0)
    fresh = scratches.add(Scratch(target, "vectors", (len(new), dimension), np.float32))
    vectors = Rows.staged(carried.current.vectors if carried else None, old_rows, fresh)
    report.embedded = _reuse_or_embed(
        len(new),
        lambda i: chunks[int(new[i])].indexed_text(),
        np.arange(len(new)),
        fresh,
        old.chunk_keys if old else _Keys.none(),
        old.vectors if old else None,
        _embedding(embedder, "embedding", progress),
    )
    return vectors


def _dimension(carried: Carried | None, old: _Stored | None, embedder: Embedder) -> int:
    if carried is not None and len(carried.current.vectors):
        return carried.current.vectors.shape[1]
    return old.vectors.shape[1] if old is not None and len(old.vectors) else embedder.dimension


def _embedding(embedder: Embedder, stage: str, progress: Progress):
    """``embed(texts, out, done, total)``: a slice of texts embedded into ``out``, progress counted over all."""

    def embed(texts: list[str], out: np.ndarray, done: int, total: int) -> None:
        embedder.embed_documents(texts, lambda d, _: progress(stage, done + d, total), out)

    return embed
