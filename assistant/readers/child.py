"""The bounded child that parses one file: it caps its own memory, parses, and prints one JSON object.

Started by ``assistant.readers.isolated`` (the parent side) as ``python -I -c "... child.main()" kind path MB``.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

MAX_DOCX_EXPANSION_MB = 256  # uncompressed size past which a DOCX is refused before it is opened


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time bound still holds
        return
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _check_docx(path: str) -> None:
    from assistant.errors import DocumentError

    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(f"corrupt or unreadable DOCX ({type(exc).__name__})") from None
    if expanded > MAX_DOCX_EXPANSION_MB * 1024 * 1024:
        raise DocumentError(
            f"DOCX expands to {expanded / 1e6:.0f} MB once unzipped (over {MAX_DOCX_EXPANSION_MB} MB): refused"
        )


RENDER_SCALE = 1.5  # pixels a PDF point in the page images shown


def _render_pdf_page(path: str, page: int, out: str) -> dict:
    """Render a page (once: kept at ``out``) and, when ``out``.quote holds a quote, the boxes of its characters
    on the page, in PDF points from the bottom left."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    if not 1 <= page <= len(document):
        return {"error": f"the PDF has no page {page}"}
    if not os.path.exists(out):
        partial = f"{out}.part"  # renamed once complete: a killed render leaves no half image behind its name
        document[page - 1].render(scale=RENDER_SCALE).to_pil().save(partial, format="PNG")
        os.replace(partial, out)
    rects = []
    quote_file = Path(f"{out}.quote")
    if quote_file.exists():
        from assistant.readers.marks import quote_rects

        rects = quote_rects(document[page - 1].get_textpage(), quote_file.read_text(encoding="utf-8"))
    return {"png": out, "rects": rects, "height": document[page - 1].get_height()}


def _parse(kind: str, path: str) -> dict:
    from assistant.errors import DocumentError
    from assistant.readers.formats import parse

    try:
        if kind.startswith("pdf-page:"):
            _, page, out = kind.split(":", 2)
            return _render_pdf_page(path, int(page), out)
        if kind == "pdf":
            from assistant.readers.pdf import read_pdf_pages

            return read_pdf_pages(path)
        if kind.startswith("ocr-pdf:"):
            from assistant.readers.ocr import read_pdf_page

            return read_pdf_page(path, int(kind.split(":", 1)[1]))
        if kind == "ocr-image":
            from assistant.readers.ocr import read_image

            return read_image(path)
        if kind == "docx":
            _check_docx(path)
        title, text, pages, sections = parse(kind, Path(path))
        return {"title": title, "text": text, "pages": pages, "sections": sections}
    except DocumentError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": "parsing ran out of memory"}


def main() -> None:
    import logging

    from assistant.errors import first_line

    logging.disable(logging.CRITICAL)  # parsers warn on every small defect; the parent reports failures
    kind, path, memory_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    _limit_memory(memory_mb)
    try:
        result = _parse(kind, path)
    except MemoryError:
        result = {"error": "parsing ran out of memory"}
    except Exception as exc:  # noqa: BLE001 - any parser failure means a bad file
        reason = first_line(exc)
        result = {"error": f"could not be parsed ({type(exc).__name__}: {reason})"}
    sys.stdout.write(json.dumps(result, ensure_ascii=True))
