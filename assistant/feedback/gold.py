"""Gold-set candidates from what people said of the answers, in the gold file's format (docs/evaluation.md).

Answers marked right become answerable questions, with the quote they gave as the snippet to find; answers marked
wrong, and questions answered "not found" or "partial", become items to ``review``: a person decides whether the
documents answer them, and where, before they join ``answerable`` or ``unanswerable``. The file loads in
``assistant eval --gold`` as it is (items under ``review`` are not evaluated) and, once checked, feeds
``assistant calibrate --gold``.
"""

from __future__ import annotations

from pathlib import Path

from assistant.feedback import store
from assistant.feedback.gaps import normal, reason, verdicts


def candidates(index_dir: Path) -> dict:
    """The gold file of candidates: ``answerable`` from answers marked right, ``review`` for the rest."""
    feedback = store.feedback_entries(index_dir)
    latest = verdicts(feedback)
    answerable, review, seen = [], [], set()
    for entry in reversed(store.asked_entries(index_dir)):  # the latest asking of each question decides
        key = normal(entry.question)
        if key in seen:
            continue
        verdict = latest.get(entry.id)
        citations = entry.answer.get("citations", [])
        if verdict is not None and verdict.helpful and entry.status == "answered" and citations:
            seen.add(key)
            first = citations[0]
            answerable.append(
                {
                    "question": entry.question,
                    "source": first["file"],
                    "snippet": first["quote"],
                    "split": "test",
                    "from_feedback": verdict.id,
                }
            )
        elif (why := reason(entry, verdict)) is not None:
            seen.add(key)
            review.append(
                {
                    "question": entry.question,
                    "reason": why,
                    "comment": verdict.comment if verdict else "",
                    "wrong_citation": verdict.wrong_citation if verdict else None,
                    "answer": entry.answer.get("answer", ""),
                    "citations": [{"file": c["file"], "quote": c["quote"]} for c in citations],
                    "asked_at": store.when(entry.asked_at),
                }
            )
    return {
        "description": (
            "Gold-set candidates drawn from feedback on answers. `answerable`: answers marked right, their first"
            " quote as the snippet. `review`: answers marked wrong and questions answered 'not found' or 'partial';"
            " move each, once checked, to `answerable` (with source and snippet) or `unanswerable`."
        ),
        "answerable": answerable[::-1],
        "unanswerable": [],
        "review": review[::-1],
    }
