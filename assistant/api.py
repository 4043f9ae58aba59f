"""The public Python API: build_index, retrieve, ask, feedback on answers (record_feedback, feedback_log,
unanswered), and what the index holds (index_overview, original). Paths default to the settings."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from assistant import originals
from assistant.answering import answers
from assistant.answering.provenance import answer_record
from assistant.builder import build_index as _build_index
from assistant.corpus import IndexOverview
from assistant.corpus import index_overview as _overview
from assistant.feedback import gaps, gold, store
from assistant.index import current_generation, current_manifest
from assistant.originals import Original, rendered_prefix
from assistant.profiles import profile_for
from assistant.records import STATUSES, Answer, BuildReport, Passage
from assistant.retrieval import Retriever, check_query, open_retriever
from assistant.settings import Settings

log = logging.getLogger(__name__)


def build_index(
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    *,
    full: bool = False,
    retry_failed: bool = False,
    settings: Settings | None = None,
    progress=None,
    ray: str | None = None,
    workers: int = 0,
    recheck: bool = True,
) -> BuildReport:
    """Index the corpus incrementally (only new or changed files are embedded) and return a BuildReport.
    ``ray``: read and embed on Ray ("" a local instance or ASSISTANT_RAY_ADDRESS, "auto", or an address).
    ``recheck``: when the index changed, ask its open questions again (``unanswered``) to mark those it answers.

    >>> report = build_index("corpus", "index")       # doctest: +SKIP
    >>> report.added, report.failed                   # doctest: +SKIP
    """
    report = _build_index(
        corpus_dir,
        index_dir,
        full=full,
        retry_failed=retry_failed,
        settings=settings,
        progress=progress,
        ray=ray,
        workers=workers,
    )
    if recheck and report.changed:
        recheck_questions((settings or Settings.from_env()).with_(index_dir=index_dir, corpus_dir=corpus_dir))
    return report


def recheck_questions(settings: Settings) -> int:
    """Ask the open questions of the feedback log again on the current index; how many were asked."""
    if not store.exists(settings.index_dir):
        return 0
    return gaps.recheck(Path(settings.index_dir), open_retriever(settings), settings)


def retrieve(
    query: str,
    k: int = 5,
    index_dir: str | Path | None = None,
    *,
    corpus_dir: str | Path | None = None,
    source: str | None = None,
    settings: Settings | None = None,
) -> list[Passage]:
    """The ``k`` passages that best match ``query``, best first; ``source`` keeps one file or a glob.

    >>> passages = retrieve("Qu'est-ce que l'ADS+ ?", k=5, index_dir="index")   # doctest: +SKIP
    >>> passages[0].source, passages[0].page, passages[0].score                 # doctest: +SKIP
    """
    check_query(query, k)  # before any build: a bad call must not cost one
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir, corpus_dir=corpus_dir)
    return open_retriever(settings).search(query, k=k, source=source)


def ask(
    question: str,
    k: int = 5,
    index_dir: str | Path | None = None,
    *,
    corpus_dir: str | Path | None = None,
    settings: Settings | None = None,
    retriever: Retriever | None = None,
    log: bool = False,
    **options,
) -> Answer:
    """Answer ``question`` from the documents, every sentence backed by a numbered citation. ``log``: record the
    question and its answer in the feedback log (the answer's ``id`` then names it for ``record_feedback``).
    ``options``: ``history`` (the conversation's messages) and ``mode`` ("extractive" or "llm").

    >>> answer = ask("Combien de propositions le groupe de travail a-t-il formulées ?")   # doctest: +SKIP
    >>> answer.text, [c.quote for c in answer.citations], answer.abstained                # doctest: +SKIP
    """
    check_query(question, k, what="question")
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir, corpus_dir=corpus_dir)
    retriever = retriever or open_retriever(settings)
    answer = answers.ask(question, k, settings=settings, retriever=retriever, **options)
    return log_answer(answer, settings, retriever) if log else answer


def log_answer(answer: Answer, settings: Settings, retriever: Retriever) -> Answer:
    """Record an answer in the feedback log; the answer back, with the ``id`` it is logged under."""
    answer = replace(answer, id=store.new_id())
    entry = store.Asked(
        id=answer.id,
        asked_at=time.time(),
        question=answer.question,
        status=answer.status,
        answer=answer_record(answer),
        passages=[{"id": p.id, "file": p.source, "title": p.title, "page": p.page} for p in answer.passages[:3]],
        generation=retriever.index.generation,
        model=retriever.index.model,
        calibration=retriever.profile.calibration,
        vector=retriever.embed_query(answer.understood_as or answer.question),  # the query cache has it
        vector_model=retriever.index.model,
    )
    store.add_asked(Path(settings.index_dir), entry)
    return answer


def record_feedback(
    answer: Answer | dict,
    helpful: bool,
    comment: str = "",
    index_dir: str | Path | None = None,
    *,
    wrong_citation: int | None = None,
    feedback_id: str | None = None,
    settings: Settings | None = None,
) -> str:
    """Record whether ``answer`` (an Answer, or its record as exported) helped, with an optional comment and the
    number of the citation that is wrong; returns the feedback's id. Giving the same ``feedback_id`` again (a
    retry) stores it once. An answer that was not logged is logged with it.

    >>> record_feedback(answer, helpful=False, comment="Le chiffre date de 2016")   # doctest: +SKIP
    """
    if not isinstance(helpful, bool):
        raise ValueError(f"helpful must be true or false, got {helpful!r}")
    if not isinstance(comment, str):
        raise ValueError("comment must be text")
    record = answer_record(answer) if isinstance(answer, Answer) else dict(answer)
    if not isinstance(record.get("question"), str) or not record["question"].strip():
        raise ValueError("the answer must hold its question (an Answer, or a turn of the JSON export)")
    numbers = {citation.get("number") for citation in record.get("citations", [])}
    if wrong_citation is not None and wrong_citation not in numbers:
        raise ValueError(f"the answer has no citation [{wrong_citation}]")
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir)
    folder = Path(settings.index_dir)
    manifest = current_manifest(folder)
    model = manifest.get("embedding_model", settings.embedding_model)
    calibration = profile_for(model, folder).for_index(manifest).calibration
    generations = [c.get("index_generation") for c in record.get("citations", []) if c.get("index_generation")]
    generation = generations[0] if generations else current_generation(folder) or ""
    answer_id = record.get("id") or None
    if answer_id is None or store.asked_entry(folder, answer_id) is None:
        answer_id = answer_id or store.new_id()
        record["id"] = answer_id
        status = record.get("status") if record.get("status") in STATUSES else "answered"
        passages = [
            {"id": "", "file": c["file"], "title": c.get("title", ""), "page": c.get("page")}
            for c in record.get("citations", [])
        ]
        entry = store.Asked(
            answer_id, time.time(), record["question"], status, record, passages, generation, model, calibration
        )
        store.add_asked(folder, entry)
    feedback = store.Feedback(
        id=feedback_id or store.new_id(),
        answer_id=answer_id,
        given_at=time.time(),
        helpful=helpful,
        comment=comment.strip(),
        wrong_citation=wrong_citation,
        answer=record,
        generation=generation,
        model=model,
        calibration=calibration,
    )
    store.add_feedback(folder, feedback)
    return feedback.id


def feedback_log(index_dir: str | Path | None = None, *, settings: Settings | None = None) -> list[store.Feedback]:
    """Every judgement recorded, oldest first, each with the whole answer it judges."""
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir)
    return store.feedback_entries(Path(settings.index_dir))


def unanswered(
    index_dir: str | Path | None = None, *, settings: Settings | None = None, retriever: Retriever | None = None
) -> list[gaps.Gap]:
    """What the documents do not answer: the questions answered "not found" or "partial" and those marked wrong,
    grouped by subject, open groups first and most asked first. Each group has its ``questions``, ``first_seen``,
    ``last_seen`` and ``answered`` (a later build answers most of its questions).

    >>> for gap in unanswered("index"):                                   # doctest: +SKIP
    ...     print(gap.asked, gap.examples, gap.answered)
    """
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir)
    if not store.exists(settings.index_dir):
        return []
    return gaps.gaps(Path(settings.index_dir), retriever or open_retriever(settings))


def gold_from_feedback(index_dir: str | Path | None = None, *, settings: Settings | None = None) -> dict:
    """Gold-set candidates from the feedback log, in the gold file's format (``assistant.feedback.gold``)."""
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir)
    return gold.candidates(Path(settings.index_dir))


def index_overview(index_dir: str | Path | None = None, *, settings: Settings | None = None) -> IndexOverview:
    """The current index at a glance: generation, documents, passages, build time, files left out, OCR pages.

    >>> index_overview("index").documents                 # doctest: +SKIP
    """
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir)
    return _overview(Path(settings.index_dir))


def original(
    passage_id: str, images_dir: str | Path, index_dir: str | Path | None = None, *, settings: Settings | None = None
) -> Original | None:
    """The original of a passage found by its id (``"<id>#<start>-<end>"`` marks a quote in it): its page as an
    image rendered into ``images_dir`` with the quote marked, or its document's text around it; None when the
    current index no longer holds it.

    >>> shown = original(answer.citations[0].passage.id, "/tmp/pages")    # doctest: +SKIP
    >>> shown.image or (shown.before, shown.quote, shown.after)           # doctest: +SKIP
    """
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir)
    return originals.original(passage_id, settings, Path(images_dir))


def discard_page_images(source: str, *folders: str | Path) -> None:
    """Remove the page images rendered from ``source`` (by ``original``) from ``folders``: a deleted document
    leaves none behind."""
    for folder in folders:
        for path in Path(folder).rglob(f"{rendered_prefix(source)}*.png"):
            path.unlink(missing_ok=True)
