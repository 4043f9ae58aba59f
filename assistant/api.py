"""The public Python API: build_index, retrieve, ask. Paths default to the settings."""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.builder import build_index as _build_index
from assistant.embeddings import embedder_for
from assistant.errors import IndexNotFoundError
from assistant.index import cached_index, current_generation
from assistant.records import BuildReport, Passage
from assistant.retrieval import Retriever, check_query
from assistant.settings import Settings

log = logging.getLogger(__name__)


def build_index(
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    *,
    full: bool = False,
    retry_failed: bool = False,
    settings: Settings | None = None,
    progress=None,
    ray: str | None = None,
    workers: int = 0,
) -> BuildReport:
    """Index the corpus incrementally (only new or changed files are embedded) and return a BuildReport.
    ``ray``: read and embed on Ray ("" a local instance or ASSISTANT_RAY_ADDRESS, "auto", or an address).

    >>> report = build_index("corpus", "index")       # doctest: +SKIP
    >>> report.added, report.failed                   # doctest: +SKIP
    """
    return _build_index(
        corpus_dir,
        index_dir,
        full=full,
        retry_failed=retry_failed,
        settings=settings,
        progress=progress,
        ray=ray,
        workers=workers,
    )


def open_retriever(settings: Settings) -> Retriever:
    """A Retriever on the current index, building the index first when there is none yet."""
    if current_generation(settings.index_dir) is None:
        if not Path(settings.corpus_dir).is_dir():
            raise IndexNotFoundError(
                f"no index in {settings.index_dir} and no corpus folder {settings.corpus_dir} to build one from"
            )
        log.info("no index in %s yet: building it from %s", settings.index_dir, settings.corpus_dir)
        _build_index(settings=settings)
    index = cached_index(settings.index_dir)
    return Retriever(index, settings, embedder_for(settings))


def retrieve(
    query: str,
    k: int = 5,
    index_dir: str | Path | None = None,
    *,
    corpus_dir: str | Path | None = None,
    source: str | None = None,
    settings: Settings | None = None,
) -> list[Passage]:
    """The ``k`` passages that best match ``query``, best first; ``source`` keeps one file or a glob.

    >>> passages = retrieve("Qu'est-ce que l'ADS+ ?", k=5, index_dir="index")   # doctest: +SKIP
    >>> passages[0].source, passages[0].page, passages[0].score                 # doctest: +SKIP
    """
    check_query(query, k)  # before any build: a bad call must not cost one
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir, corpus_dir=corpus_dir)
    return open_retriever(settings).search(query, k=k, source=source)
