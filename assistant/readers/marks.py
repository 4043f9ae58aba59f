"""Where a quote lies on a page, to mark it there and nothing else: from the PDF's characters for a page with a
text layer (pypdfium2's text page), from Tesseract's word boxes for a page read by OCR.

The quote is found in the page's text as the index reads it: whitespace folded, NFKC, words hyphenated across a
line joined again.

>>> text, index = normalized("Une inno-\\nvation  publique ﬁne.")
>>> text, text.find("innovation publique"), index[text.find("innovation")]
('Une innovation publique fine.', 4, 4)
"""

from __future__ import annotations

import re
import unicodedata

_LINE_HYPHEN = re.compile(r"(?<=\w)-\s*\n\s*(?=[a-zà-ÿ])")


def normalized(text: str) -> tuple[str, list[int]]:
    """``text`` as the index reads it, and for each of its characters the index of the original one."""
    keep = [True] * len(text)
    for match in _LINE_HYPHEN.finditer(text):
        for position in range(match.start(), match.end()):
            keep[position] = False
    out: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        if not keep[position]:
            continue
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                index.append(position)
            continue
        for piece in unicodedata.normalize("NFKC", char):
            out.append(piece)
            index.append(position)
    while out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def _wanted(quote: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", quote).split())


def quote_rects(textpage, quote: str) -> list[list[float]]:
    """The boxes (left, bottom, right, top, in points) of the quote's characters on a PDF text page; [] if absent."""
    count = textpage.count_chars()
    text = textpage.get_text_range(0, count)
    page_text, index = normalized(text)
    wanted = _wanted(quote)
    at = page_text.find(wanted) if wanted else -1
    if at < 0:
        return []
    start, end = index[at], index[at + len(wanted) - 1] + 1
    return [list(textpage.get_rect(i)) for i in range(textpage.count_rects(start, end - start))]


def word_boxes(words: list[list], quote: str) -> list[list[int]]:
    """The boxes (left, top, width, height, in the image's pixels) of the OCR words that make the quote."""
    text, owner = "", []
    for number, word in enumerate(words):
        piece = _wanted(str(word[4]))
        if text:
            text += " "
            owner.append(number)
        text += piece
        owner.extend([number] * len(piece))
    wanted = _wanted(quote)
    at = text.find(wanted) if wanted else -1
    if at < 0:
        return []
    chosen = sorted(set(owner[at : at + len(wanted)]))
    return [list(words[number][:4]) for number in chosen]


def draw(image_path: str, boxes: list[tuple[float, float, float, float]], out: str) -> str:
    """The image with ``boxes`` (left, top, right, bottom, in its pixels) marked in translucent yellow."""
    from PIL import Image, ImageDraw

    with Image.open(image_path) as page:
        base = page.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    for left, top, right, bottom in boxes:
        pen.rectangle([left - 1, top - 1, right + 1, bottom + 1], fill=(255, 214, 0, 110))
    Image.alpha_composite(base, layer).convert("RGB").save(out, format="PNG")
    return out
