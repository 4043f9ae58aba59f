"""PDF text extraction, page by page, in a child process bounded in time and memory.

pypdf has a history of inputs that loop or exhaust memory; a child process can be stopped, a thread cannot.
Run as a script, this file reads one PDF and prints JSON: {"title": ..., "pages": [...]} or {"error": ...}.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _limit_memory(megabytes: int):
    def apply() -> None:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def extract_pdf(path: Path, timeout: float = 60.0, memory_mb: int = 2048) -> tuple[str, list[str]]:
    """Return (metadata title, text of each page). Raises DocumentError with the reason on failure."""
    from assistant.errors import DocumentError  # imported here: the child process runs without the package

    try:
        done = subprocess.run(
            [sys.executable, "-I", __file__, str(path)],
            capture_output=True,
            timeout=timeout,
            preexec_fn=_limit_memory(memory_mb) if sys.platform != "win32" else None,
        )
    except subprocess.TimeoutExpired:
        raise DocumentError(f"PDF parsing took longer than {timeout:g} s (timeout)") from None
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        if b"MemoryError" in done.stderr:
            raise DocumentError(f"PDF parsing needed more than {memory_mb} MB of memory") from None
        raise DocumentError(f"PDF parser crashed (exit code {done.returncode})") from None
    if "error" in result:
        raise DocumentError(result["error"])
    return result.get("title") or "", result["pages"]


def _read(path: str) -> dict:
    import logging

    logging.disable(logging.CRITICAL)  # pypdf warns on every small defect; the parent reports failures
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

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
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return {"error": f"corrupt or unreadable PDF ({reason})"}
    if not pages:
        return {"error": "PDF has no pages"}
    if sum(len(page.strip()) for page in pages) < 20:
        return {"error": "no text layer (scanned or image-only PDF; OCR is not supported)"}
    return {"title": title, "pages": pages}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_read(sys.argv[1])))
