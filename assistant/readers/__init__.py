"""Readers: files of the corpus to Documents (text, title, pages, sections), each format in its own module.

``documents`` lists the corpus and dispatches by type; ``markdown``, ``html``, ``pdf`` and the DOCX reader turn
each format into text; ``isolated`` runs them in a child process bounded in time and memory; ``text`` decodes
bytes and builds text with section offsets. A file that cannot be read raises DocumentError with the reason.
"""

__all__ = ["SUPPORTED", "list_sources", "read_document"]


def __getattr__(name: str):
    """The names of ``documents``, imported when first asked for: the child that parses one file imports this
    package too, and needs only its parsers."""
    if name in __all__:
        from assistant.readers import documents

        return getattr(documents, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
