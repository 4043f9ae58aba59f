"""Reading files into Documents: txt, md, pdf, html, docx, and images. A file that cannot be read raises
DocumentError. Scanned PDF pages and images are read by OCR (assistant.readers.ocr), once per page content."""

from __future__ import annotations

import fnmatch
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import DocumentError
from assistant.readers.formats import first_line, usable_title
from assistant.readers.isolated import parse_isolated
from assistant.readers.ocr import IMAGE_KINDS, Cache, file_key, unavailable
from assistant.readers.text import decode
from assistant.records import Document

if TYPE_CHECKING:  # imported when needed: the bounded child that parses files needs none of the settings
    from assistant.settings import Settings

KINDS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    **IMAGE_KINDS,
}
SUPPORTED = tuple(KINDS)
IGNORE_FILE = ".assistantignore"

_HYPHENATED = re.compile(r"(\w)-\n(?=[a-zà-ÿ])")
_SOFT_BREAK = re.compile(r"(?<![.!?:;»\"”)\n])\n(?![\n•●▪■◦\-–*]|\d+[.)]\s|[A-ZÀ-Ý][A-ZÀ-Ý ]+\n)")


def list_sources(corpus_dir: Path) -> Iterator[tuple[str, Path]]:
    """(relative path with "/", path) of every file of the corpus, in a stable order.

    Hidden files and folders are skipped, and so are the patterns listed in ``.assistantignore``.
    """
    ignore_file = corpus_dir / IGNORE_FILE
    patterns = []
    if ignore_file.is_file():
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    found = sorted(_walk(str(corpus_dir), ()))  # by path parts, as pathlib sorts paths
    for parts, path in found:
        relative = "/".join(parts)
        if any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns):
            continue
        yield relative, Path(path)


def _walk(folder: str, parts: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path parts under the corpus, path) of every file below ``folder`` that is not hidden nor in a hidden
    folder; symbolic links to files count, links to folders are not followed, and a folder that cannot be read
    (or is missing) is passed over, as pathlib's glob does."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_folder, is_file = entry.is_dir(follow_symlinks=False), entry.is_file()
        except OSError:
            continue
        if is_folder:
            yield from _walk(entry.path, (*parts, entry.name))
        elif is_file:
            yield (*parts, entry.name), entry.path


def _title_line(text: str) -> str:
    """A plain-text title: the first of the first ten lines that reads like one (4+ words, no final stop)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:10]
    for line in lines:
        if 4 <= len(line.split()) <= 25 and not line.endswith((".", ":", ";", ",")):
            return line
    return ""


_UNENCODABLE = re.compile(r"[\ud800-\udfff\x00]")


def _clean(text: str) -> str:
    """Lone surrogates (from broken PDF fonts) and NUL characters cannot be stored or hashed: replace them."""
    return _UNENCODABLE.sub("\ufffd", text)


def _join_pdf_lines(page: str) -> str:
    """PDF text breaks lines inside sentences; join them, keeping breaks that end a sentence or a list item."""
    page = _HYPHENATED.sub(r"\1", page.replace("\r", ""))
    return _SOFT_BREAK.sub(" ", page).strip()


def _pdf_text(meta_title: str, pages: list[str], tables: dict | None = None) -> tuple[str, str, tuple, tuple]:
    """The text of a PDF's pages, each followed by its tables' rows (one line each: ``tables``, by page)."""
    parts, offsets, length = [], [], 0
    for number, page in enumerate(pages, start=1):
        text = _join_pdf_lines(unicodedata.normalize("NFKC", page))  # NFKC: "ﬁ" ligatures become "fi"
        if rows := (tables or {}).get(str(number)):
            text = text + "\n\n" + "\n".join(unicodedata.normalize("NFKC", row) for row in rows)
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            length += 2
        offsets.append((length, number))
        parts.append(text)
        length += len(text)
    text = "".join(parts)
    return usable_title(meta_title) or first_line(text), text, tuple(offsets), ()


def read_document(path: Path, source: str, settings: Settings | None = None) -> Document:
    """Read one file. ``source`` is its path relative to the corpus, kept on every chunk.

    Every format but plain text is parsed in a child process bounded in time and memory (assistant.readers.isolated).
    """
    if settings is None:
        from assistant.settings import Settings

        settings = Settings()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DocumentError(f"unsupported file type {suffix or '(no extension)'}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"cannot read the file ({exc.strerror})") from None
    if size == 0:
        raise DocumentError("empty file")
    if size > settings.max_file_mb * 1024 * 1024:
        raise DocumentError(f"file too large ({size / 1e6:.0f} MB; the limit is {settings.max_file_mb:g} MB)")

    kind = KINDS[suffix]
    read = {}  # page number -> (content key, OCR result), for the pages read by OCR
    if kind == "txt":
        text = decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n").strip()
        title, pages, sections = _title_line(text) or path.stem.replace("-", " ").replace("_", " "), (), ()
    elif kind == "image":
        key = file_key(path)
        read[1] = key, _recognized("ocr-image", key, path, settings)
        text = read[1][1]["text"]
        title, pages, sections = first_line(text), ((0, 1),), ()
    else:
        parsed = parse_isolated(kind, path, settings.parse_timeout, settings.parse_memory_mb)
        if kind == "pdf":
            texts = list(parsed["pages"])
            for number, key in sorted(parsed.get("scanned", {}).items(), key=lambda item: int(item[0])):
                if unavailable() and sum(len(t.strip()) for t in texts) >= MIN_TEXT_CHARS:
                    break  # no OCR here: the pages with text are indexed, the scanned ones left out
                read[int(number)] = key, _recognized(f"ocr-pdf:{number}", key, path, settings)
                texts[int(number) - 1] = read[int(number)][1]["text"]
            title, text, pages, sections = _pdf_text(parsed["title"], texts, parsed.get("tables"))
        else:
            title, text = parsed["title"], parsed["text"]
            pages = tuple(tuple(p) for p in parsed["pages"])
            sections = tuple(tuple(s) for s in parsed["sections"])
    text, title = _clean(text), _clean(title)
    if not text.strip():
        raise DocumentError("no text in the document (empty once markup is removed)")
    title = " ".join(title.split()) or path.stem
    ocr = tuple((number, result["confidence"], key) for number, (key, result) in sorted(read.items()))
    return Document(source=source, title=title, text=text, kind=kind, pages=pages, sections=sections, ocr=ocr)


MIN_TEXT_CHARS = 20  # a document with less text than this, OCR aside, is read by OCR or not at all


def _recognized(kind: str, key: str, path: Path, settings: Settings) -> dict:
    """The OCR result of one page: from the cache when this page content was read before, else read now (in the
    bounded child) and kept."""
    if reason := unavailable():
        raise DocumentError(f"no text layer (scanned pages or image): {reason}")
    cache = Cache(Path(settings.index_dir) / "ocr")
    result = cache.get(key)
    if result is None:
        result = parse_isolated(kind, path, settings.parse_timeout, settings.parse_memory_mb)
        cache.put(key, result)
    return result
