"""PDF text extraction, page by page, with pypdf (run in a bounded child process: see assistant.readers.isolated)."""

from __future__ import annotations


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
    if sum(len(page.strip()) for page in pages) < 20:
        return {"error": "no text layer (scanned or image-only PDF; OCR is not supported)"}
    return {"title": title, "pages": pages}
