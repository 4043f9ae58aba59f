"""The build's reading stage: a file read and chunked, or the reason it could not be.

The same function runs in the build's threads (``read_locally``) and on Ray's workers (``assistant.distributed``),
which both sit above this module.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.chunking import chunk_document
from assistant.errors import DocumentError
from assistant.readers.documents import read_document
from assistant.records import Chunk, Document
from assistant.settings import Settings

log = logging.getLogger(__name__)


def read_one(path: Path, source: str, settings: Settings) -> tuple[Document, list[Chunk]] | str:
    """One file read and chunked, or the reason it could not be: whatever goes wrong is this file's failure."""
    try:
        document = read_document(path, source, settings)
        return document, chunk_document(document, settings.chunk_size, settings.chunk_overlap)
    except DocumentError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad file must never break a build
        log.exception("unexpected failure reading %s", source)
        return f"could not be read ({type(exc).__name__}: {exc})"


Reader = Callable[[dict[str, Path], list[str], Settings], Iterable[tuple[str, "tuple[Document, list[Chunk]] | str"]]]


def read_locally(files: dict[str, Path], to_read: list[str], settings: Settings):
    """Several files at a time (every format but plain text is parsed in a child process)."""
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        yield from zip(to_read, pool.map(lambda source: read_one(files[source], source, settings), to_read))
