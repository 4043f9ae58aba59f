"""Readers: files of the corpus to Documents (text, title, pages, sections), each format in its own module.

``documents`` lists the corpus and dispatches by type; ``markdown``, ``html``, ``pdf`` and the DOCX reader turn
each format into text; ``isolated`` runs them in a child process bounded in time and memory; ``text`` decodes
bytes and builds text with section offsets. A file that cannot be read raises DocumentError with the reason.
"""

from assistant.readers.documents import SUPPORTED, list_sources, read_document

__all__ = ["SUPPORTED", "list_sources", "read_document"]
