"""The parsers of Markdown, HTML and DOCX files, and what makes a title; what the bounded child runs.

``assistant.readers.child`` calls ``parse`` in a child process; ``assistant.readers.documents`` reads plain text
and PDF pages, and uses the same title rules.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from assistant.errors import DocumentError
from assistant.readers.html import html_to_text
from assistant.readers.markdown import markdown_to_text
from assistant.readers.text import ITEM, TextBuilder, decode

# Metadata titles that are no titles: tool defaults and file names.
_JUNK_TITLE = re.compile(
    r"^(untitled|microsoft word|word document|document\d*|sans titre|diapositive|slide|présentation powerpoint)"
    r"|\.(pdf|docx?|pptx?|odt|indd)$",
    re.I,
)


def first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if len(line) > 3:
            return line[:150]
    return ""


def usable_title(title: str) -> str:
    title = " ".join(title.split())
    return "" if _JUNK_TITLE.search(title) else title


def _read_docx(path: Path) -> tuple[str, str, tuple, tuple]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable DOCX ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on a damaged package
        raise DocumentError(f"corrupt or unreadable DOCX ({type(exc).__name__})") from None
    out = TextBuilder()
    title = usable_title(document.core_properties.title or "")
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(block, document)
            text = paragraph.text.strip()
            style = (paragraph.style.name if paragraph.style is not None else "").lower()
            if not text:
                out.line("")
            elif style.startswith(("heading", "titre")) or style == "title":
                title = title or text
                out.heading(text)
            else:  # an item of a bulleted or numbered list: Word keeps its marker out of the text
                listed = block.pPr is not None and block.pPr.numPr is not None or style.startswith(("list", "liste"))
                out.line(f"{ITEM}{text}" if listed else text)
        elif tag == "tbl":  # one sentence a row, with its headers (merged cells repeat: counted once)
            out.table([[cell.text for cell in row.cells] for row in Table(block, document).rows])
    text = out.text()
    return title or first_line(text), text, (), out.sections()


def parse(kind: str, path: Path) -> tuple[str, str, tuple, tuple]:
    """(title, text, pages, sections) of a Markdown, HTML or DOCX file; what the bounded child runs."""
    if kind == "docx":
        return _read_docx(path)
    raw = decode(path.read_bytes())
    title, text, sections = markdown_to_text(raw) if kind == "md" else html_to_text(raw)
    return title, text, (), sections
