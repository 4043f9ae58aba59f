"""Managing the corpus folder: what is in it and how it is indexed, adding uploads safely, deleting."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError
from assistant.index import current_generation, current_manifest, read_manifest, sentences_pending
from assistant.readers.documents import SUPPORTED, list_sources


@dataclass(frozen=True)
class CorpusEntry:
    source: str
    kind: str
    size: int
    status: str  # "indexed", "failed", "not indexed yet"
    title: str = ""
    pages: int | None = None
    chunks: int = 0
    reason: str = ""


def list_documents(corpus_dir: Path, index_dir: Path) -> list[CorpusEntry]:
    """Every file of the corpus with its state in the current index."""
    manifest = read_manifest(index_dir) or {"sources": {}, "failed": {}}
    entries = []
    for source, path in list_sources(Path(corpus_dir)):
        kind = path.suffix.lower().lstrip(".")
        size = path.stat().st_size
        if source in manifest["sources"]:
            meta = manifest["sources"][source]
            entries.append(
                CorpusEntry(
                    source, kind, size, "indexed", meta.get("title", ""), meta.get("pages"), len(meta.get("chunks", []))
                )
            )
        elif source in manifest.get("failed", {}):
            entries.append(CorpusEntry(source, kind, size, "failed", reason=manifest["failed"][source]["reason"]))
        else:
            entries.append(CorpusEntry(source, kind, size, "not indexed yet"))
    return entries


@dataclass(frozen=True)
class IndexOverview:
    """The current index at a glance, for a status line: its generation (None before the first build), how many
    documents and passages it holds, when it was built, the files left out with their reason, and the pages read by
    OCR with their mean word confidence."""

    generation: str | None
    documents: int = 0
    passages: int = 0
    built_at: str = ""
    failed: dict = field(default_factory=dict)  # source -> reason
    recognized: tuple = ()  # (source, page, confidence), every page read by OCR
    # published by a build before its sentences' vectors: it answers, embedding the few sentences it reads
    sentences_pending: bool = False


def index_overview(index_dir: Path) -> IndexOverview:
    """The current index at a glance (its manifest is read again only when a build swapped it)."""
    generation = current_generation(index_dir)
    manifest = current_manifest(index_dir) if generation else {}
    sources = manifest.get("sources", {})
    recognized = tuple(
        (source, read[0], float(read[1])) for source, meta in sorted(sources.items()) for read in meta.get("ocr", ())
    )
    return IndexOverview(
        generation,
        len(sources),
        int(manifest.get("chunk_count", 0)),
        str(manifest.get("built_at", "")),
        {source: entry.get("reason", "") for source, entry in manifest.get("failed", {}).items()},
        recognized,
        sentences_pending(manifest),
    )


def safe_name(name: str) -> str:
    """A file name that cannot leave the folder it is written to: no separators, no leading dots, no oddities."""
    base = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    stem, dot, suffix = base.rpartition(".")
    stem = stem if dot else base
    stem = re.sub(r"[^\w\- ()']+", "_", stem, flags=re.UNICODE).strip(" ._")[:100] or "document"
    suffix = re.sub(r"[^\w]+", "", suffix.lower())[:10] if dot else ""
    return f"{stem}.{suffix}" if suffix else stem


def add_file(corpus_dir: Path, upload: Path, original_name: str, max_mb: float) -> str:
    """Copy an uploaded file into the corpus under a safe, unused name; return its source path."""
    corpus = Path(corpus_dir).resolve()
    name = safe_name(original_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise AssistantError(f"{original_name}: type {suffix or '(none)'} is not accepted ({', '.join(SUPPORTED)})")
    size = Path(upload).stat().st_size
    if size > max_mb * 1024 * 1024:
        raise AssistantError(f"{original_name}: {size / 1e6:.1f} MB is over the {max_mb:g} MB limit")
    if size == 0:
        raise AssistantError(f"{original_name}: the file is empty")
    corpus.mkdir(parents=True, exist_ok=True)
    for counter in range(1, 1000):
        target = corpus / (name if counter == 1 else f"{Path(name).stem} ({counter}){suffix}")
        if target.resolve().parent != corpus:
            raise AssistantError(f"{original_name}: refused name")
        try:
            # Claiming the name and creating the file are one step: two uploads of one name never overwrite.
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        try:
            with os.fdopen(descriptor, "wb") as out, open(upload, "rb") as source:
                shutil.copyfileobj(source, out)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target.name
    raise AssistantError(f"{original_name}: too many files of this name in the corpus")


def delete_file(corpus_dir: Path, source: str, trash_dir: Path | None = None) -> str:
    """Delete one document of the corpus (a path as listed by list_documents). With ``trash_dir``, the file moves
    there and can be restored (restore_file); returns the trash entry's id ("" when deleted outright)."""
    corpus = Path(corpus_dir).resolve()
    target = (corpus / source).resolve()
    if corpus not in target.parents or not target.is_file():
        raise AssistantError(f"no document {source!r} in the corpus")
    if trash_dir is None:
        target.unlink()
        return ""
    entry = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    folder = Path(trash_dir) / entry
    folder.mkdir(parents=True)
    relative = target.relative_to(corpus).as_posix()
    shutil.move(str(target), folder / "file")
    record = {"source": relative, "deleted_at": time.time()}
    (folder / "entry.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return entry


@dataclass(frozen=True)
class TrashEntry:
    id: str
    source: str
    deleted_at: float


def list_trash(trash_dir: Path) -> list[TrashEntry]:
    """The deleted documents that can still be restored, newest first."""
    entries = []
    for folder in Path(trash_dir).glob("*/entry.json"):
        try:
            record = json.loads(folder.read_text(encoding="utf-8"))
            entries.append(TrashEntry(folder.parent.name, str(record["source"]), float(record["deleted_at"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written: a delete interrupted; purge_trash clears it
    return sorted(entries, key=lambda entry: -entry.deleted_at)


def restore_file(corpus_dir: Path, trash_dir: Path, entry_id: str) -> str:
    """Put a deleted document back where it was; returns its source path. Refused when a file has taken its name."""
    entry = next((e for e in list_trash(trash_dir) if e.id == entry_id), None)
    if entry is None:
        raise AssistantError(f"nothing to restore under {entry_id!r}: it may have been emptied from the trash")
    corpus = Path(corpus_dir).resolve()
    target = (corpus / entry.source).resolve()
    if corpus not in target.parents:
        raise AssistantError(f"refused: {entry.source!r} is outside the corpus")
    if target.exists():
        raise AssistantError(f"{entry.source} exists again in the corpus: rename or delete it first")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(Path(trash_dir) / entry.id / "file"), target)
    shutil.rmtree(Path(trash_dir) / entry.id, ignore_errors=True)
    return entry.source


def purge_trash(trash_dir: Path, days: float) -> int:
    """Empty the trash of what was deleted more than ``days`` ago (and of interrupted deletes); how many went."""
    kept = {entry.id for entry in list_trash(trash_dir) if time.time() - entry.deleted_at < days * 86400}
    gone = 0
    for folder in Path(trash_dir).glob("*"):
        if folder.is_dir() and folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone
