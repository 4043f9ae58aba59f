"""Markdown (including GitBook's ``{% ... %}`` tags and inline HTML) to plain text with its headings."""

from __future__ import annotations

import html
import re

from assistant.readers.text import ITEM, TextBuilder

_FRONT_MATTER = re.compile(r"\A---\n(.{0,20000}?)\n---\n", re.S)
_TAB_TITLE = re.compile(r'^\s*tab\s+title="([^"]*)"\s*$')
_CAPTION = re.compile(r'^\s*embed\b.*?caption="([^"]*)"')
# Inline patterns have bounded repeats, so each runs in linear time; lines past this keep their inline markup.
MAX_INLINE_LINE = 20000
_BLOCK_HTML = re.compile(r"<(?:br|/p|/tr|/li|/h[1-6]|/div|/summary|/figcaption|/table|/ul|/ol)\s*/?>", re.I)
_CELL_HTML = re.compile(r"</t[dh]\s*>", re.I)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,2000}>")
_IMAGE = re.compile(r"!\[[^\]]{0,500}\]\([^)]{0,2000}\)")
_LINK = re.compile(r"\[([^\]]{0,500})\]\([^)]{0,2000}\)")
_REF_LINK = re.compile(r"\[([^\]]{1,500})\]\[[^\]]{0,200}\]")
_FILE_NAME = re.compile(r"^[\w .,'’()-]+\.(?:md|png|jpe?g|gif|svg|pdf|docx?|xlsx?|pptx?|webp)$", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ANCHOR = re.compile(r"\s*{#[^}]*}\s*$")
_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|`)(?=\S)(.{1,500}?)(?<=\S)\1")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")


def _link_text(match: re.Match) -> str:
    text = match.group(1).strip()
    return "" if _FILE_NAME.match(text) else text


def _gitbook_tag(tag: str) -> str:
    """What a GitBook ``{% ... %}`` tag leaves in the text: a tab's title, an embed's caption, or nothing."""
    match = _TAB_TITLE.match(tag) or _CAPTION.match(tag)
    return f"{match.group(1)}\n" if match else ""


def _strip_tags_and_comments(body: str) -> str:
    """Remove GitBook tags (content-ref blocks whole) and HTML comments, in one linear pass.

    An unclosed ``{%`` stays as text; an unclosed ``<!--`` hides the rest, as in a browser.
    """
    out, position = [], 0
    while True:
        tag, comment = body.find("{%", position), body.find("<!--", position)
        starts = [i for i in (tag, comment) if i >= 0]
        if not starts:
            break
        start = min(starts)
        out.append(body[position:start])
        if start == comment:
            end = body.find("-->", start + 4)
            if end < 0:
                return "".join(out)
            position = end + 3
            continue
        end = body.find("%}", start + 2)
        if end < 0:
            out.append(body[start:])
            return "".join(out)
        content = body[start + 2 : end]
        position = end + 2
        if content.strip().startswith("content-ref"):
            closing = re.compile(r"{%\s*endcontent-ref\s*%}").search(body, position)
            position = closing.end() if closing else position
            continue
        out.append(_gitbook_tag(content))
    out.append(body[position:])
    return "".join(out)


def _inline(line: str) -> str:
    if len(line) > MAX_INLINE_LINE:
        return line
    line = _IMAGE.sub("", line)
    line = _LINK.sub(_link_text, line)
    line = _REF_LINK.sub(r"\1", line)
    for _ in range(2):  # nested emphasis such as **_x_**
        line = _EMPHASIS.sub(r"\2", line)
    return _ESCAPE.sub(r"\1", line)


def _front_matter(text: str) -> tuple[str, dict[str, str]]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    meta = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        if value.strip() and not line.startswith(" "):
            meta[key.strip()] = value.strip().strip("'\"")
    return text[match.end() :], meta


def markdown_to_text(source: str) -> tuple[str, str, tuple[tuple[int, str], ...]]:
    """Return (title, text, sections) for Markdown ``source``; the title is the first H1, if any."""
    body, meta = _front_matter(source.replace("\r\n", "\n"))
    body = _strip_tags_and_comments(body)
    body = _BLOCK_HTML.sub("\n", body)
    body = _CELL_HTML.sub(" ", body)
    body = _HTML_TAG.sub("", body)

    out = TextBuilder()
    title = meta.get("title", "")
    if meta.get("description"):
        out.paragraph(html.unescape(meta["description"]))
    in_fence = False
    table: list[list[str]] = []  # the rows of the table being read
    for raw in body.split("\n"):
        if table and not raw.strip().startswith("|"):
            out.table(table)
            table = []
        if raw.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            out.line(raw)
            continue
        heading = _HEADING.match(raw)
        if heading:
            text = html.unescape(_inline(_ANCHOR.sub("", heading.group(2)))).strip()
            if text:
                if len(heading.group(1)) == 1 and not title:
                    title = text
                out.heading(text)
            continue
        if _TABLE_RULE.match(raw) and "-" in raw and set(raw.strip()) <= set("|:- "):
            continue
        line = raw.strip()
        line = line.lstrip(">").strip() if line.startswith(">") else line
        if line.startswith("|"):
            table.append([html.unescape(_inline(cell)).strip() for cell in line.strip().strip("|").split("|")])
            continue
        line = _BULLET.sub(ITEM, line) if not re.match(r"^\d+[.)]\s", line) else line
        out.line(html.unescape(_inline(line)).strip())
    if table:
        out.table(table)
    return title, out.text(), out.sections()
