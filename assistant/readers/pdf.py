"""PDF text extraction, page by page, with pypdf (run in a bounded child process: see assistant.readers.isolated).

Pages with (almost) no text layer are listed as scanned, each with a hash of its content (its drawing instructions
and images), for OCR (assistant.readers.ocr) to read them once.
"""

from __future__ import annotations

import hashlib

MIN_PAGE_CHARS = 20  # a page with less text than this is read as a scanned page
TABLE_SECONDS = 20.0  # time spent finding tables in one PDF (pdfplumber is slow on long files); past it, the rest
# of the pages keep their text layer only


def table_sentences(path: str, numbers: list[int], budget: float = TABLE_SECONDS) -> dict[int, list[str]]:
    """The tables of the pages ``numbers`` (1-based), each as one sentence a row with its headers, by page."""
    import time

    import pdfplumber

    from assistant.readers.text import table_rows

    found: dict[int, list[str]] = {}
    deadline = time.monotonic() + budget
    try:
        with pdfplumber.open(path) as pdf:
            for number in numbers:
                if time.monotonic() > deadline:
                    break
                page = pdf.pages[number - 1]
                rows = [row for table in page.extract_tables() for row in [None, *table]]
                tables, current = [], []
                for row in rows:  # None starts a new table
                    if row is None:
                        if current:
                            tables.append(current)
                        current = []
                    else:
                        current.append([cell or "" for cell in row])
                if current:
                    tables.append(current)
                sentences = [sentence for table in tables if len(table) > 1 for sentence in table_rows(table)]
                if sentences:
                    found[number] = sentences
    except Exception:  # noqa: BLE001 - tables are a bonus: the text layer stands without them
        return found
    return found


def page_key(page) -> str:
    """A hash of what a page draws: its content streams and the raw data of its images and forms."""
    digest = hashlib.sha256()
    try:
        contents = page.get_contents()
        digest.update(contents.get_data() if contents is not None else b"")
        objects = (page.get("/Resources") or {}).get("/XObject") or {}
        for name in sorted(objects):
            stream = objects[name].get_object()
            digest.update(name.encode() + (getattr(stream, "_data", b"") or b""))
    except Exception:  # noqa: BLE001 - a page we cannot hash is read again each time, no more
        digest.update(repr(page).encode())
    return digest.hexdigest()


def read_pdf_pages(path: str) -> dict:
    """{"title": metadata title, "pages": text of each page}, or {"error": reason}. Run in a bounded child."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    from assistant.errors import first_line

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return {"error": "encrypted PDF (a password is needed to read it)"}
            except (FileNotDecryptedError, NotImplementedError, ImportError):
                return {"error": "encrypted PDF (a password is needed to read it)"}
        pages = [page.extract_text() or "" for page in reader.pages]
        scanned = {
            str(number): page_key(page)
            for number, (page, text) in enumerate(zip(reader.pages, pages), start=1)
            if len(text.strip()) < MIN_PAGE_CHARS
        }
        title = ""
        try:
            title = str((reader.metadata or {}).get("/Title") or "").strip()
        except Exception:  # noqa: BLE001 - metadata is optional and often malformed
            title = ""
    except FileNotDecryptedError:
        return {"error": "encrypted PDF (a password is needed to read it)"}
    except MemoryError:
        return {"error": "PDF parsing ran out of memory"}
    except (PdfReadError, Exception) as exc:  # noqa: BLE001 - any parser failure means a bad file
        reason = first_line(exc)
        return {"error": f"corrupt or unreadable PDF ({reason})"}
    if not pages:
        return {"error": "PDF has no pages"}
    written = [number for number, text in enumerate(pages, start=1) if len(text.strip()) >= MIN_PAGE_CHARS]
    tables = {str(number): rows for number, rows in table_sentences(path, written).items()}
    return {"title": title, "pages": pages, "scanned": scanned, "tables": tables}
