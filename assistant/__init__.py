"""Ask questions of a corpus of documents and get answers that cite their sources.

>>> import assistant
>>> report = assistant.build_index("corpus", "index")                  # doctest: +SKIP
>>> passages = assistant.retrieve("Qu'est-ce que l'ADS+ ?", k=5)       # doctest: +SKIP
>>> answer = assistant.ask("Qu'est-ce que l'ADS+ ?")                   # doctest: +SKIP

Names load on first use, so that a module of the package (a reader in a child process, say) can be imported
without the models and indexes behind the rest.
"""

from importlib import import_module

_EXPORTS = {
    **{
        name: "assistant.api"
        for name in (
            "ask",
            "build_index",
            "retrieve",
            "record_feedback",
            "feedback_log",
            "unanswered",
            "gold_from_feedback",
            "index_overview",
            "original",
        )
    },
    "stale_citations": "assistant.answering.provenance",
    "to_json": "assistant.answering.provenance",
    "to_markdown": "assistant.answering.provenance",
    "Settings": "assistant.settings",
    **{name: "assistant.records" for name in ("Answer", "BuildReport", "Chunk", "Citation", "Document", "Passage")},
    **{
        name: "assistant.errors"
        for name in (
            "AssistantError",
            "CorpusNotFoundError",
            "DocumentError",
            "EmbeddingError",
            "IndexBusyError",
            "IndexDamagedError",
            "IndexMismatchError",
            "IndexNotFoundError",
            "LLMError",
        )
    },
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
