"""Ask questions of a corpus of documents and get answers that cite their sources.

>>> import assistant
>>> report = assistant.build_index("corpus", "index")                  # doctest: +SKIP
>>> passages = assistant.retrieve("Qu'est-ce que l'ADS+ ?", k=5)       # doctest: +SKIP
>>> answer = assistant.ask("Qu'est-ce que l'ADS+ ?")                   # doctest: +SKIP
"""

from assistant.answers import ask
from assistant.api import build_index, retrieve
from assistant.errors import (
    AssistantError,
    CorpusNotFoundError,
    DocumentError,
    IndexBusyError,
    IndexMismatchError,
    IndexNotFoundError,
    LLMError,
)
from assistant.records import Answer, BuildReport, Chunk, Citation, Document, Passage
from assistant.settings import Settings

__all__ = [
    "Answer",
    "AssistantError",
    "BuildReport",
    "Chunk",
    "Citation",
    "CorpusNotFoundError",
    "Document",
    "DocumentError",
    "IndexBusyError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "LLMError",
    "Passage",
    "Settings",
    "ask",
    "build_index",
    "retrieve",
]
