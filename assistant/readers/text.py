"""Helpers shared by the readers: decoding bytes to text, and building text with section offsets."""

from __future__ import annotations

import re

from assistant.errors import DocumentError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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
