"""The typed records that flow between stages: files -> Document -> Chunk -> Passage -> Answer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def content_hash(*parts: str) -> str:
    """A short, stable id for some text (sha256, hex, 16 characters)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Document:
    """The text of one file, with where its pages and sections start (character offsets)."""

    source: str  # path relative to the corpus folder, with "/" separators
    title: str
    text: str
    kind: str  # "txt", "md", "pdf", "html", "docx", "image"
    pages: tuple[tuple[int, int], ...] = ()  # (offset, page number), PDF only
    sections: tuple[tuple[int, str], ...] = ()  # (offset, heading)
    ocr: tuple[tuple[int, float, str], ...] = ()  # (page, mean word confidence, content key) of pages read by OCR


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, the unit that is indexed and retrieved."""

    id: str
    source: str
    title: str
    text: str
    start: int  # offsets of the chunk in the document's extracted text
    end: int
    heading: str = ""
    page: int | None = None

    def indexed_text(self) -> str:
        """What the index sees: the chunk with its document title and section heading in front."""
        head = self.title if not self.heading or self.heading == self.title else f"{self.title} — {self.heading}"
        return f"{head}\n{self.text}"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores; ``score`` is the fused one, between 0 and 1."""

    id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    heading: str
    page: int | None
    score: float
    dense_score: float = 0.0  # cosine similarity to the query
    keyword_score: float = 0.0  # raw BM25 score
    document_hash: str = ""  # sha256 of the file the passage was read from, when it was indexed
    generation: str = ""  # the index generation it was retrieved from

    @classmethod
    def from_chunk(
        cls, chunk: Chunk, score: float, dense: float, keyword: float, document_hash: str = "", generation: str = ""
    ) -> Passage:
        return cls(
            chunk.id,
            chunk.source,
            chunk.title,
            chunk.text,
            chunk.start,
            chunk.end,
            chunk.heading,
            chunk.page,
            score,
            dense,
            keyword,
            document_hash,
            generation,
        )


@dataclass(frozen=True)
class Citation:
    """Source ``number`` of an answer: the passage, and the sentence of it the answer quotes verbatim."""

    number: int
    passage: Passage
    quote: str

    @property
    def document_hash(self) -> str:
        """The content hash of the cited file as it was when answered: assistant.stale_citations compares it."""
        return self.passage.document_hash

    @property
    def generation(self) -> str:
        return self.passage.generation


STATUSES = ("answered", "partial", "not_found", "courtesy")  # what an answer's status may be (Answer.status)


@dataclass(frozen=True)
class Answer:
    """An answer in Markdown with inline markers [n], each backed by a citation."""

    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    passages: list[Passage] = field(default_factory=list)
    language: str = "fr"
    mode: str = "extractive"
    warnings: list[str] = field(default_factory=list)
    # "answered", "partial" (some of what the question asks is not in the documents), "not_found", or "courtesy" (a
    # greeting or thanks, which asked the documents nothing)
    status: str = "answered"
    support: float = 0.0  # the best quoted sentence's support (0 when nothing is quoted)
    understood_as: str = ""  # the question as read with the conversation, when it was
    id: str = ""  # set when the answer is logged (feedback refers to it)

    def __post_init__(self) -> None:
        if self.abstained:
            object.__setattr__(self, "status", "not_found")


@dataclass
class BuildReport:
    """What a build did: source paths (relative to the corpus) by fate, and the files left out with why."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    embedded: int = 0  # chunks whose vectors were computed in this build (the rest were reused)
    embedded_sentences: int = 0  # likewise for the sentences answers quote from
    seconds: float = 0.0
    searchable_after: float = 0.0  # seconds to a generation that answers, when it was published before the sentences
    full: bool = False
    reason: str = ""  # why a full rebuild happened, when it did

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        lines = [
            f"{self.chunks} chunks from {len(self.added) + len(self.updated) + len(self.unchanged)} documents"
            f" in {self.seconds:.1f} s ({self.embedded} chunks and {self.embedded_sentences} sentences embedded)",
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)},"
            f" unchanged {len(self.unchanged)}, failed {len(self.failed)}",
        ]
        if self.searchable_after:
            lines.append(f"searchable after {self.searchable_after:.1f} s, before the sentences' vectors were made")
        if self.full and self.reason:
            lines.append(f"full rebuild: {self.reason}")
        lines += [f"  failed: {source}: {reason}" for source, reason in sorted(self.failed.items())]
        return "\n".join(lines)
