"""Sentence-aware chunking that keeps offsets, page and section of every chunk.

>>> text = "M. Dupont arrive. Il part, etc. Fin."
>>> [text[s:e] for s, e in split_sentences(text)]
['M. Dupont arrive.', 'Il part, etc.', 'Fin.']
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from assistant.records import Chunk, Document, content_hash

# Words after which a full stop does not end a sentence (French and English usage).
ABBREVIATIONS = frozenset(
    """m mm mme mmes mlle dr pr me mgr st ste cf ex p pp art al av apr env etc vol chap fig no n° nº
    tél tel éd ed coll dir op resp min max approx mr mrs ms vs e.g i.e jr sr inc ltd co dept
    janv févr fév avr juil sept oct nov déc""".split()
)
_CANDIDATE = re.compile(r"[.!?…]+[»\"”’)\]]*(?=\s)|\n")
_WORD_BEFORE = re.compile(r"([\w°º.'’-]+)\W*$")


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the punctuation that ends at ``end`` closes a sentence."""
    after = text[end : end + 40].lstrip(" \t")
    if not after or after[0] == "\n":
        return True
    first = after[0]
    if not (first.isupper() or first.isdigit() or first in '«"“(•–—-['):
        return False  # "etc. et la suite", "3. 5" ...
    stop = end
    while stop > 0 and text[stop - 1] in '»"”’)]':
        stop -= 1
    if text[stop - 1] != ".":
        return True  # ! ? … always end
    word = _WORD_BEFORE.search(text[max(0, stop - 30) : stop - 1] + ".")
    token = word.group(1).rstrip(".").lower() if word else ""
    if token in ABBREVIATIONS or token.replace(".", "") in ABBREVIATIONS:
        return token == "etc" and first.isupper()  # "etc. Les suivants" ends; "etc. et" does not
    if len(token) == 1 and token.isalpha():
        return False  # initials: "J. Martin", "A. B."
    return True


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) within ``text[start:end]``, whitespace trimmed, line breaks as bounds."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    begin = start
    for match in _CANDIDATE.finditer(text, start, end):
        stop = match.end()
        if match.group() == "\n" or _ends_sentence(text, stop):
            spans.append((begin, stop))
            begin = stop
    spans.append((begin, end))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return _merge_enumerators(text, trimmed)


MIN_QUOTE_CHARS, MAX_QUOTE_CHARS, MIN_QUOTE_WORDS = 20, 600, 4


def is_quotable(sentence: str) -> bool:
    """Whether an answer may quote this sentence alone: long enough to say something, short enough to read."""
    return MIN_QUOTE_CHARS <= len(sentence) <= MAX_QUOTE_CHARS and len(sentence.split()) >= MIN_QUOTE_WORDS


def is_compared(sentence: str) -> bool:
    """Whether answering ever compares this sentence with a question (and so needs its vector): a sentence it may
    quote, or one that announces a list."""
    return is_quotable(sentence) or sentence.endswith(":")


def _merge_enumerators(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a bare list number ("1." or "a)") to the sentence that follows it on the same line."""
    merged: list[tuple[int, int]] = []
    for span in spans:
        if (
            merged
            and re.fullmatch(r"\(?\w{1,3}[.)]", text[merged[-1][0] : merged[-1][1]])
            and "\n" not in text[merged[-1][1] : span[0]]
        ):
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged


def _split_long(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """Cut a sentence longer than ``size`` at spaces."""
    while end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        cut = cut if cut > start else start + size
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        yield start, end


def _segments(document: Document) -> list[tuple[int, int, str, int | None]]:
    """(start, end, heading, page) stretches of the text that no chunk may cross."""
    bounds = {0, len(document.text)}
    bounds.update(offset for offset, _ in document.sections)
    bounds.update(offset for offset, _ in document.pages)
    ordered = sorted(b for b in bounds if 0 <= b <= len(document.text))
    section_offsets = [offset for offset, _ in document.sections]
    page_offsets = [offset for offset, _ in document.pages]
    segments = []
    for start, end in zip(ordered, ordered[1:]):
        s = bisect.bisect_right(section_offsets, start) - 1
        p = bisect.bisect_right(page_offsets, start) - 1
        heading = document.sections[s][1] if s >= 0 else ""
        page = document.pages[p][1] if p >= 0 else None
        segments.append((start, end, heading, page))
    return segments


def chunk_document(document: Document, size: int = 700, overlap: int = 1) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``size`` characters, repeating ``overlap`` sentences.

    A chunk never crosses a section or page boundary, and never cuts a sentence unless that one
    sentence is longer than ``size``.
    """
    text = document.text
    chunks: list[Chunk] = []
    for seg_start, seg_end, heading, page in _segments(document):
        sentences = [
            piece for s, e in split_sentences(text, seg_start, seg_end) for piece in _split_long(text, s, e, size)
        ]
        if not sentences:
            continue
        if heading and text[sentences[0][0] : sentences[0][1]] == heading and len(sentences) > 1:
            sentences = sentences[1:]  # the heading is already in every chunk's indexed text
        current: list[tuple[int, int]] = []
        for sentence in sentences:
            if current and sentence[1] - current[0][0] > size:
                chunks.append(_make_chunk(document, current, heading, page))
                kept = current[len(current) - overlap :] if overlap else []
                current = [s for s in kept if sentence[1] - s[0] <= size and s[1] - s[0] < size // 2]
            current.append(sentence)
        if current:
            chunks.append(_make_chunk(document, current, heading, page))
    return chunks


def _make_chunk(document: Document, sentences: list[tuple[int, int]], heading: str, page: int | None) -> Chunk:
    start, end = sentences[0][0], sentences[-1][1]
    body = document.text[start:end]
    return Chunk(
        id=content_hash(document.source, str(start), body),
        source=document.source,
        title=document.title,
        text=body,
        start=start,
        end=end,
        heading=heading,
        page=page,
    )
