"""Parsing a file in a child process bounded in time and memory, whatever its format.

A parser can loop, or a small file can expand to gigabytes (a DOCX zip bomb): a child process can be stopped and
capped, a thread cannot. The child caps its own address space first thing (no ``preexec_fn``, which is unsafe
when the parent runs threads), parses, and prints one JSON object: the parsed parts, or ``{"error": reason}``.
This module is the parent's side; the child's entry point is ``assistant.readers.child``, below it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assistant.readers.child import RENDER_SCALE

__all__ = ["RENDER_SCALE", "parse_isolated", "render_page_isolated"]

ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds the package


def parse_isolated(kind: str, path: Path, timeout: float, memory_mb: int) -> dict:
    """Parse ``path`` as ``kind`` in a child process; DocumentError with the reason on any failure."""
    from assistant.errors import DocumentError

    command = [
        sys.executable,
        "-I",
        "-c",
        f"import sys; sys.path.insert(0, {ROOT!r}); from assistant.readers.child import main; main()",
        kind,
        str(path),
        str(memory_mb),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DocumentError(f"parsing took longer than {timeout:g} s (timeout)") from None
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        if b"MemoryError" in done.stderr:
            raise DocumentError(f"parsing needed more than {memory_mb} MB of memory") from None
        raise DocumentError(f"the parser crashed (exit code {done.returncode})") from None
    if "error" in result:
        raise DocumentError(result["error"])
    return result


def render_page_isolated(path: Path, page: int, out: Path, timeout: float, memory_mb: int, quote: str = "") -> dict:
    """Render one page of a PDF to a PNG file, in the same bounded child as parsing; with ``quote``, where its
    characters lie on the page (``rects``, in points, and the page's ``height``)."""
    marker = Path(f"{out}.quote")
    if quote:
        marker.write_text(quote, encoding="utf-8")
    try:
        return parse_isolated(f"pdf-page:{page}:{out}", path, timeout, memory_mb)
    finally:
        marker.unlink(missing_ok=True)
