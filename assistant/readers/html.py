"""HTML to its visible text, with its title and headings. Scripts, styles and hidden parts are dropped."""

from __future__ import annotations

from html.parser import HTMLParser

from assistant.readers.text import ITEM, TextBuilder

_INVISIBLE = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "nav",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "hr",
    "form",
    "aside",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"}


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = TextBuilder()
        self.title = ""
        self.first_h1 = ""
        self._open: list[tuple[str, bool]] = []  # open elements, and whether each hides its content
        self._open_names: dict[str, int] = {}  # how many of each are open: no scan of the stack per tag
        self._hiding = 0  # how many open elements hide their content
        self._in_title = False
        self._heading: list[str] | None = None
        self._line: list[str] = []
        self._tables: list[list[list[str]]] = []  # the tables open (nested ones too), each a list of rows
        self._cell: list[str] | None = None  # the text of the cell being read
        self._span = 1  # how many columns it spans

    def _flush(self) -> None:
        text = " ".join("".join(self._line).split())
        self._line = []
        if text and text != ITEM.strip():  # an empty item writes nothing
            self.out.line(text)

    @property
    def _hidden(self) -> bool:
        return self._hiding > 0

    def _push(self, tag: str, hides: bool) -> None:
        self._open.append((tag, hides))
        self._open_names[tag] = self._open_names.get(tag, 0) + 1
        self._hiding += hides

    def _pop(self) -> str:
        tag, hides = self._open.pop()
        self._open_names[tag] -= 1
        self._hiding -= hides
        return tag

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        hides = tag in _INVISIBLE or "hidden" in attributes or attributes.get("aria-hidden") == "true"
        if tag not in _VOID:
            self._push(tag, hides and tag != "title")
        if tag == "title":
            self._in_title = True
        elif hides:
            return
        elif tag == "table":
            self._flush()
            self._tables.append([])
        elif tag == "tr" and self._tables:
            self._tables[-1].append([])
        elif tag in ("td", "th") and self._tables:
            if not self._tables[-1]:
                self._tables[-1].append([])
            self._cell = []
            span = str(attributes.get("colspan") or "1")
            self._span = min(int(span), 50) if span.isdigit() and int(span) > 0 else 1
        elif tag in _HEADINGS and not self._hidden:
            self._flush()
            self._heading = []
        elif tag in _BLOCKS:
            if self._cell is not None:
                self._cell.append(" ")
            else:
                self._flush()
                if tag == "li":
                    self._line.append(ITEM)

    def handle_endtag(self, tag):
        if self._open_names.get(tag):
            while self._open and self._pop() != tag:
                pass
        if tag == "title":
            self._in_title = False
        elif tag in ("td", "th") and self._cell is not None:
            self._tables[-1][-1].extend(["".join(self._cell)] * self._span)  # a merged cell, once per column
            self._cell = None
        elif tag == "table" and self._tables:
            rows = self._tables.pop()
            if self._cell is not None:  # a table inside a cell: its rows are that cell's text
                self._cell.append(" ; ".join(" ".join(cells) for cells in rows))
            else:
                self.out.table(rows)
        elif tag in _HEADINGS and self._heading is not None:
            text = " ".join("".join(self._heading).split())
            self._heading = None
            if text:
                if tag == "h1" and not self.first_h1:
                    self.first_h1 = text
                self.out.heading(text)
        elif tag in _BLOCKS and self._cell is None:
            self._flush()

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif self._hidden:
            return
        elif self._heading is not None:
            self._heading.append(data)
        elif self._cell is not None:
            self._cell.append(data)
        else:
            self._line.append(data)


def html_to_text(source: str) -> tuple[str, str, tuple[tuple[int, str], ...]]:
    """Return (title, visible text, sections) for an HTML page."""
    parser = _Visible()
    parser.feed(source)
    parser.close()
    while parser._tables:  # a table left open at the end of the page
        parser.out.table(parser._tables.pop())
    parser._flush()
    title = " ".join(parser.title.split()) or parser.first_h1
    return title, parser.out.text(), parser.out.sections()
