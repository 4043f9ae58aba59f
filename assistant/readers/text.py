"""Helpers shared by the readers: decoding bytes to text, and building text with section offsets."""

from __future__ import annotations

import re

from assistant.errors import DocumentError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# How an item of a list without numbers is written, whatever marked it (a Markdown "-" or "*", an HTML <li>, a
# Word bullet): "• ". A quote of it reads as an item, and answering reads the items a sentence announces (":").
ITEM = "• "


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252/latin-1.

    Raises DocumentError for content that is not text at all (a binary file posing as text).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DocumentError("invalid UTF-16 text") from None
    if b"\x00" in data[:65536]:
        raise DocumentError("binary content, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise DocumentError("binary content, not text")
    return text


class TextBuilder:
    """Accumulates lines into a document's text, remembering where each heading starts."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._sections: list[tuple[int, str]] = []
        self._blank = True

    def _write(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)

    def line(self, text: str) -> None:
        if not text:
            if not self._blank and self._parts:
                self._write("\n")
            self._blank = True
            return
        self._write(text + "\n")
        self._blank = False

    def table(self, rows: list[list[str]]) -> None:
        """A table as one line a row, each row with its headers (``table_rows``), apart from what surrounds it."""
        self.line("")
        for row in table_rows(rows):
            self.line(row)
        self.line("")

    def paragraph(self, text: str) -> None:
        self.line(text)
        self.line("")

    def heading(self, text: str) -> None:
        if self._parts and not self._blank:
            self._write("\n")
        self._sections.append((self._length, text))
        self._write(text + "\n\n")
        self._blank = True

    def text(self) -> str:
        return "".join(self._parts).rstrip()

    def sections(self) -> tuple[tuple[int, str], ...]:
        end = len(self.text())
        return tuple((offset, heading) for offset, heading in self._sections if offset < end)


def table_rows(rows: list[list[str]]) -> list[str]:
    """Each row of a table as one sentence that names its columns: the first row gives the headers, the first cell
    of a row names it. A cell repeated beside itself (a merged cell) counts once; empty cells are left out.

    >>> table_rows([["Action", "Budget", "Porteur"], ["Action 3", "120 000 €", "DINUM"], ["Action 4", "", "ANCT"]])
    ['Action 3 — Budget : 120 000 € — Porteur : DINUM', 'Action 4 — Porteur : ANCT']
    >>> table_rows([["Seule ligne", "de deux cellules"]])
    ['Seule ligne — de deux cellules']
    """
    cleaned = [[" ".join(cell.split()) for cell in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return []
    if len(cleaned) == 1:
        return [" — ".join(_distinct(cleaned[0]))]
    headers, out = cleaned[0], []
    for row in cleaned[1:]:
        label, parts = "", []
        for column, value in enumerate(row):
            if not value or (column and value == row[column - 1]):
                continue
            header = headers[column] if column < len(headers) else ""
            if not label and column == 0:
                label = value
            elif header and header != value:
                parts.append(f"{header} : {value}")
            else:
                parts.append(value)
        out.append(" — ".join(([label] if label else []) + parts))
    return [row for row in out if row]


def _distinct(cells: list[str]) -> list[str]:
    return [cell for column, cell in enumerate(cells) if cell and (not column or cell != cells[column - 1])]
