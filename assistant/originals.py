"""The original of a cited passage, found by the passage's id in the current index (never by a path from outside):
its page as an image with the quote marked (PDF pages, scanned pages, images), or its document's text around it.

A passage id may carry its quote's span, "<id>#<start>-<end>" (offsets within the passage), as the page's source
cards and the API's links give it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.index import cached_index
from assistant.readers import marks, ocr
from assistant.readers.documents import read_document
from assistant.readers.isolated import RENDER_SCALE, render_page_isolated
from assistant.readers.ocr import IMAGE_KINDS
from assistant.records import Chunk, content_hash
from assistant.settings import Settings

CONTEXT_CHARS = 1500  # text shown around a cited passage of an original that is not a page image


@dataclass(frozen=True)
class Original:
    """Where a passage comes from, and how to show it: ``image`` (its page, the quote marked when found there), or
    the document's text ``before``, ``quote`` and ``after`` it (the quote is the whole passage without a span)."""

    source: str
    page: int | None
    image: Path | None = None
    before: str = ""
    quote: str = ""
    after: str = ""


def quote_span(quoted: str, length: int) -> tuple[int, int]:
    """The quote's span in a passage of ``length`` characters, from "<start>-<end>"; the whole passage if none.

    >>> quote_span("12-40", 100), quote_span("", 100), quote_span("90-140", 100), quote_span("x-y", 100)
    ((12, 40), (0, 100), (0, 100), (0, 100))
    """
    first, _, last = quoted.partition("-")
    if first.isdigit() and last.isdigit() and int(first) < int(last) <= length:
        return int(first), int(last)
    return 0, length


def rendered_prefix(source: str) -> str:
    """The start of the name of every page image rendered from ``source``, so that they can be found again."""
    return f"original-{content_hash(source)}-p"


def original(passage_id: str, settings: Settings, images: Path) -> Original | None:
    """The original of a passage of the current index, or None when the index no longer holds it. Page images are
    rendered into ``images`` (once a document version). Raises AssistantError when the index or the file cannot
    be read."""
    index = cached_index(settings.index_dir)
    passage_id, _, quoted = (passage_id or "").strip().partition("#")
    row = index.chunk_row.get(passage_id)
    if row is None:
        return None
    chunk = index.chunks[row]
    path = Path(settings.corpus_dir) / chunk.source
    if path.suffix.lower() in (".pdf", *IMAGE_KINDS) and chunk.page:
        first, last = quote_span(quoted, len(chunk.text))
        quote = chunk.text[first:last] if quoted else ""
        meta = index.manifest["sources"].get(chunk.source, {})
        return Original(chunk.source, chunk.page, image=page_image(path, chunk, meta, quote, settings, images))
    document = read_document(path, chunk.source, settings)
    start, end = chunk.start, chunk.end
    first, last = quote_span(quoted, end - start)  # within the passage; the whole passage without a quote
    return Original(
        chunk.source,
        chunk.page,
        before=document.text[max(0, start - CONTEXT_CHARS) : start + first],
        quote=document.text[start + first : start + last],
        after=document.text[start + last : end + CONTEXT_CHARS],
    )


def page_image(path: Path, chunk: Chunk, meta: dict, quote: str, settings: Settings, images: Path) -> Path:
    """The image of a cited page, with the quote marked on it when it is found there: from the PDF's characters,
    or from the OCR's word boxes for a page read by OCR (an image file is its one page)."""
    out = Path(images) / f"{rendered_prefix(chunk.source)}{chunk.page}-{meta.get('hash', '')[:12]}.png"
    limits = settings.parse_timeout, settings.parse_memory_mb
    recognized = {read[0]: read[2] for read in meta.get("ocr", ()) if len(read) > 2}  # page -> OCR key
    image_file = path.suffix.lower() in IMAGE_KINDS
    placed: dict = {}
    if image_file:
        if not out.exists():
            marks.draw(str(path), [], str(out))  # a PNG copy, that a delete removes with the rest
    elif not out.exists() or (quote and chunk.page not in recognized):  # rendered once a version
        located = quote if chunk.page not in recognized else ""
        placed = render_page_isolated(path, chunk.page, out, *limits, quote=located)
    if not quote:
        return out
    marked = out.with_name(f"{out.stem}-{content_hash(quote)[:12]}.png")
    if marked.exists():
        return marked
    if chunk.page in recognized:  # OCR word boxes, in the pixels of the page as OCR read it
        read = ocr.Cache(Path(settings.index_dir) / "ocr").get(recognized[chunk.page]) or {}
        scale = 1.0 if image_file else RENDER_SCALE * 72 / ocr.OCR_DPI
        boxes = [
            (left * scale, top * scale, (left + width) * scale, (top + height) * scale)
            for left, top, width, height in marks.word_boxes(read.get("words", []), quote)
        ]
    else:  # the characters' boxes, in points from the page's bottom left
        height, scale = placed.get("height", 0.0), RENDER_SCALE
        boxes = [
            (left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
            for left, bottom, right, top in placed.get("rects", [])
        ]
    return Path(marks.draw(str(out), boxes, str(marked))) if boxes else out
