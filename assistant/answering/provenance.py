"""Answers you can file: which citations went stale since, and a conversation exported as Markdown or JSON.

Every citation carries the content hash of its document and the index generation it came from, so an answer
pasted into a note stays checkable: ``stale_citations`` says which of its sources changed or disappeared since.
The JSON export is described in docs/export.md.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import asdict
from pathlib import Path

from assistant.answering.language import PHRASES
from assistant.builder import file_hash
from assistant.index import current_manifest
from assistant.records import Answer, Citation, Passage
from assistant.settings import Settings

EXPORT_FORMAT = 1


@functools.lru_cache(maxsize=4096)
def _hash_of_version(path: str, modified_ns: int, size: int) -> str:
    return file_hash(Path(path))


def _file_hash(path: Path) -> str | None:
    """The file's sha256, read again only when its modification time or size changed; None when it is gone."""
    try:
        stat = path.stat()
        return _hash_of_version(str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None


def stale_citations(
    answer: Answer,
    index_dir: str | Path | None = None,
    *,
    corpus_dir: str | Path | None = None,
    settings: Settings | None = None,
) -> list[Citation]:
    """The citations of ``answer`` whose document has changed or disappeared since the answer was given.

    A document counts as changed when the current index holds another version of it, or, when the corpus folder
    is known, when the file on disk differs from the version that was cited.

    >>> stale = stale_citations(answer, index_dir="index", corpus_dir="corpus")   # doctest: +SKIP
    """
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir, corpus_dir=corpus_dir)
    sources = current_manifest(settings.index_dir).get("sources", {})
    corpus = Path(settings.corpus_dir)
    on_disk: dict[str, str | None] = {}
    stale = []
    for citation in answer.citations:
        cited, source = citation.document_hash, citation.passage.source
        if not cited:
            continue  # an answer from before versions were recorded: nothing to compare
        if source not in on_disk:
            on_disk[source] = _file_hash(corpus / source) if corpus.is_dir() else cited
        if sources.get(source, {}).get("hash") != cited or on_disk[source] != cited:
            stale.append(citation)
    return stale


def provenance_record(passage: Passage) -> dict:
    """Where a passage comes from, in the export's names (docs/export.md): title, file, page, section, offsets, and
    the versions of its document and index."""
    return {
        "title": passage.title,
        "file": passage.source,
        "page": passage.page,
        "section": passage.heading or None,
        "offsets": [passage.start, passage.end],
        "document_hash": passage.document_hash,
        "index_generation": passage.generation,
    }


def quote_offsets(citation: Citation) -> tuple[int, int]:
    """Start and end of the quote in its document's extracted text (the passage's, if the quote is not found in it).

    >>> passage = Passage("id", "a.txt", "A", "Une phrase. La citée.", 100, 121, "", None, 0.0)
    >>> quote_offsets(Citation(1, passage, "La citée."))
    (112, 121)
    """
    passage = citation.passage
    found = passage.text.find(citation.quote)
    if found < 0:
        return passage.start, passage.end
    return passage.start + found, passage.start + found + len(citation.quote)


def citation_record(citation: Citation) -> dict:
    """A citation in the export's format (docs/export.md): its quote and where it comes from, with versions; its
    offsets are the quote's."""
    record = {"number": citation.number, "quote": citation.quote, **provenance_record(citation.passage)}
    record["offsets"] = list(quote_offsets(citation))
    return record


def answer_record(answer: Answer) -> dict:
    """One answer as a turn of the JSON export (docs/export.md): question, status, text, citations, warnings."""
    return {
        "id": answer.id or None,
        "question": answer.question,
        "understood_as": answer.understood_as or None,
        "status": answer.status,
        "mode": answer.mode,
        "language": answer.language,
        "answer": answer.text,
        "citations": [citation_record(c) for c in answer.citations],
        "warnings": list(answer.warnings),
    }


def answer_from_record(record: dict) -> Answer:
    """An Answer back from a turn of the JSON export, enough to check its citations (``stale_citations``).

    Raises ValueError, naming the field, when the record is not such a turn.
    """
    if not isinstance(record, dict):
        raise ValueError("an answer must be a JSON object (a turn of the export)")
    citations = record.get("citations", [])
    if not isinstance(citations, list):
        raise ValueError("citations must be a list")
    parsed = []
    for position, item in enumerate(citations):
        try:
            start, end = item.get("offsets") or (0, 0)
            passage = Passage(
                "",
                str(item["file"]),
                str(item.get("title") or ""),
                "",
                int(start),
                int(end),
                str(item.get("section") or ""),
                item.get("page"),
                0.0,
                document_hash=str(item.get("document_hash") or ""),
                generation=str(item.get("index_generation") or ""),
            )
            parsed.append(Citation(int(item["number"]), passage, str(item["quote"])))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ValueError(
                f"citations[{position}] must hold number, quote, file and document_hash (docs/export.md)"
            ) from None
    status = str(record.get("status") or "answered")
    return Answer(
        str(record.get("question", "")),
        str(record.get("answer", "")),
        parsed,
        status == "not_found",
        status=status,
        understood_as=str(record.get("understood_as") or ""),
        id=str(record.get("id") or ""),
    )


def to_json(answers: list[Answer], exported_at: str | None = None) -> str:
    """A conversation as JSON (docs/export.md): every question, answer, status and quote with its provenance."""
    record = {
        "format": EXPORT_FORMAT,
        "exported_at": exported_at or time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "turns": [answer_record(answer) for answer in answers],
    }
    return json.dumps(record, ensure_ascii=False, indent=1)


def asked_nothing(answer: Answer) -> bool:
    """Whether the answer is the reply to a greeting or thanks, which asked the documents nothing: it has no status
    to show ("no answer in the documents" would be wrong)."""
    return answer.status == "courtesy"


def to_markdown(answers: list[Answer], exported_at: str | None = None, language: str = "fr") -> str:
    """A conversation as Markdown, to paste into a note: each question, its answer, then its sources in full; its
    own words in ``language`` (the page's)."""
    words = PHRASES[language if language in PHRASES else "fr"]
    exported_at = exported_at or time.strftime("%d/%m/%Y %H:%M")
    lines = [f"# {words['export_title'].format(when=exported_at)}", ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {answer.question}", ""]
        if answer.understood_as:
            lines += [words["export_understood"].format(question=answer.understood_as), ""]
        if not asked_nothing(answer):
            lines += [f"*{words.get(f'export_{answer.status}', answer.status)}*", ""]
        lines += [answer.text, ""]
        seen: set[int] = set()
        for citation in answer.citations:
            if citation.number in seen:
                continue
            seen.add(citation.number)
            passage = citation.passage
            where = passage.source + (f", p. {passage.page}" if passage.page else "")
            version = (
                words["export_version"].format(hash=citation.document_hash[:12])
                if citation.document_hash
                else words["export_no_version"]
            )
            lines.append(f"- [{citation.number}] {passage.title} ({where}; {version}, index {citation.generation})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_from_dict(record: dict) -> Answer:
    """An Answer back from ``dataclasses.asdict`` (what the app keeps in its session state)."""
    passages = [Passage(**p) for p in record.get("passages", [])]
    citations = [Citation(c["number"], Passage(**c["passage"]), c["quote"]) for c in record.get("citations", [])]
    fields = {k: v for k, v in record.items() if k not in ("citations", "passages")}
    return Answer(citations=citations, passages=passages, **fields)


def answer_to_dict(answer: Answer) -> dict:
    return asdict(answer)
