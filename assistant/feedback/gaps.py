"""What the documents do not answer: the questions answered "not found" or "partial", and those marked wrong,
grouped by subject, most asked first, each group marked answered once a later build answers its questions.

Questions are grouped by their stored vectors (agglomerative clustering, average linkage, on cosine): two groups
merge while their questions' mean cosine reaches the model's ``gap_cosine``, fitted on paraphrases (see
docs/feedback.md and ``benchmarks/gaps.py``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from assistant.answering.answers import ask
from assistant.answering.language import PHRASES, courtesy
from assistant.feedback import store
from assistant.feedback.store import Asked, Feedback
from assistant.retrieval import Retriever

MAX_GROUPED = 5000  # the most recent distinct questions grouped (the clustering holds a square of this)
MAX_RECHECKS = 100  # distinct questions asked again after one build, the most recently asked first
EXAMPLES = 3


def normal(question: str) -> str:
    """The form under which a question asked twice counts once."""
    return " ".join(question.lower().split())


@dataclass
class Gap:
    """A subject the documents leave open: its questions (distinct, most asked first), how often and when they were
    asked, why each counts (not_found, partial, wrong), the passages found closest, and whether a later build
    answers most of them."""

    questions: list[str]
    asked: int
    first_seen: str
    last_seen: str
    reasons: dict[str, int]
    passages: list[dict] = field(default_factory=list)
    answered: bool = False
    answered_questions: int = 0
    comments: list[str] = field(default_factory=list)

    @property
    def examples(self) -> list[str]:
        return self.questions[:EXAMPLES]


def verdicts(feedback: list[Feedback]) -> dict[str, Feedback]:
    """The latest judgement of each logged answer."""
    latest: dict[str, Feedback] = {}
    for entry in feedback:
        if entry.answer_id:
            latest[entry.answer_id] = entry
    return latest


def reason(entry: Asked, verdict: Feedback | None) -> str | None:
    """Why a question asked counts as a gap: "wrong" (marked so), "not_found", "partial"; None when it does not."""
    if verdict is not None and not verdict.helpful:
        return "wrong"
    if courtesy(entry.question) is not None:  # "Bonjour !" asked the documents nothing
        return None
    return entry.status if entry.status in ("not_found", "partial") else None


def _quotes(record: dict) -> list[str]:
    return [citation.get("quote", "") for citation in record.get("citations", [])]


def answered_now(askings: list[Asked], latest: dict[str, Feedback], recheck: store.Recheck | None) -> bool:
    """Whether the latest answer to a question, asked by someone or again after a build, answers it: a full answer,
    and, where an answer to it was marked wrong, not that same answer again."""
    wrong = [_quotes(entry.answer) for entry in askings if reason(entry, latest.get(entry.id)) == "wrong"]
    last = askings[-1]
    if recheck is not None and recheck.checked_at > last.asked_at:
        status, quotes = recheck.status, recheck.quotes
    else:
        if reason(last, latest.get(last.id)) is not None:
            return False
        status, quotes = last.status, _quotes(last.answer)
    return status == "answered" and quotes not in wrong


def _by_question(entries: list[Asked]) -> dict[str, list[Asked]]:
    grouped: dict[str, list[Asked]] = {}
    for entry in entries:
        grouped.setdefault(normal(entry.question), []).append(entry)
    return grouped


def open_questions(index_dir: Path) -> tuple[dict[str, list[Asked]], dict[str, Feedback]]:
    """The distinct questions that were ever a gap, each with all its askings (oldest first); and the verdicts."""
    latest = verdicts(store.feedback_entries(index_dir))
    questions = _by_question(store.asked_entries(index_dir))
    gaps = {key: askings for key, askings in questions.items() if any(reason(a, latest.get(a.id)) for a in askings)}
    return gaps, latest


def vectors(index_dir: Path, questions: dict[str, list[Asked]], retriever: Retriever) -> np.ndarray:
    """One unit vector per distinct question, from what was stored when it was asked; computed (and kept) for
    questions stored without one, or with another model's."""
    model = retriever.index.model
    rows, missing = [], {}
    for askings in questions.values():
        stored = next((a.vector for a in reversed(askings) if a.vector is not None and a.vector_model == model), None)
        if stored is None:
            stored = retriever.embed_query(askings[-1].question)
            missing[askings[-1].id] = stored
        rows.append(np.asarray(stored, dtype=np.float32))
    if missing:
        store.store_vectors(index_dir, missing, model)
    matrix = np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def group(matrix: np.ndarray, min_cosine: float) -> np.ndarray:
    """A group label per row: average-linkage clusters whose members' mean cosine reaches ``min_cosine``."""
    if len(matrix) < 2:
        return np.zeros(len(matrix), dtype=np.int64)
    clustering = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - min_cosine
    )
    return clustering.fit_predict(matrix)


def _closest(askings: list[Asked]) -> list[dict]:
    """The places (file and page) found closest most often for the group's questions."""
    counts: Counter = Counter()
    seen: dict[tuple, dict] = {}
    for entry in askings:
        for passage in entry.passages[:3]:
            place = (passage["file"], passage.get("page"))
            counts[place] += 1
            seen.setdefault(place, passage)
    return [seen[place] for place, _ in counts.most_common(3)]


def gaps(index_dir: Path, retriever: Retriever) -> list[Gap]:
    """The report: groups of open questions, most asked first (then most recent)."""
    questions, latest = open_questions(index_dir)
    keys = sorted(questions, key=lambda key: questions[key][-1].asked_at)[-MAX_GROUPED:]
    questions = {key: questions[key] for key in keys}
    if not questions:
        return []
    labels = group(vectors(index_dir, questions, retriever), retriever.profile.gap_cosine)
    rechecks = store.latest_rechecks(index_dir)
    report = []
    for label in np.unique(labels):
        members = [key for key, member in zip(keys, labels) if member == label]
        askings = sorted((a for key in members for a in questions[key]), key=lambda a: a.asked_at)
        counted = [a for a in askings if reason(a, latest.get(a.id))]
        members.sort(key=lambda key: (-len(questions[key]), -questions[key][-1].asked_at))
        answered = sum(answered_now(questions[key], latest, rechecks.get(key)) for key in members)
        comments = [latest[a.id].comment for a in askings if a.id in latest and latest[a.id].comment]
        report.append(
            Gap(
                questions=[questions[key][-1].question for key in members],
                asked=len(counted),
                first_seen=store.when(counted[0].asked_at),
                last_seen=store.when(counted[-1].asked_at),
                reasons=dict(Counter(reason(a, latest.get(a.id)) for a in counted)),
                passages=_closest(counted),
                answered=2 * answered > len(members),
                answered_questions=answered,
                comments=comments[-EXAMPLES:],
            )
        )
    report.sort(key=lambda gap: gap.last_seen, reverse=True)
    report.sort(key=lambda gap: (gap.answered, -gap.asked))  # open first, most asked first, then most recent
    return report


def recheck(index_dir: Path, retriever: Retriever, settings, limit: int = MAX_RECHECKS) -> int:
    """Ask again, on the current index, the open questions not yet asked of it; returns how many were asked."""
    questions, latest = open_questions(index_dir)
    rechecks = store.latest_rechecks(index_dir)
    generation = retriever.index.generation
    waiting = [
        askings
        for key, askings in questions.items()
        if askings[-1].generation != generation
        and (key not in rechecks or rechecks[key].generation != generation)
        and not answered_now(askings, latest, rechecks.get(key))
    ]
    waiting.sort(key=lambda askings: askings[-1].asked_at, reverse=True)
    for askings in waiting[:limit]:
        question = askings[-1].answer.get("understood_as") or askings[-1].question
        answer = ask(question, settings=settings, retriever=retriever, mode="extractive")
        quotes = [citation.quote for citation in answer.citations]
        store.add_recheck(index_dir, normal(askings[-1].question), generation, answer.status, quotes)
    return len(waiting[:limit])


def _reasons(gap: Gap, words: dict) -> str:
    return ", ".join(f"{count} {words['gaps_' + name]}" for name, count in sorted(gap.reasons.items()))


def _where(passage: dict) -> str:
    return passage["file"] + (f", p. {passage['page']}" if passage.get("page") else "")


def to_csv(report: list[Gap], language: str = "fr") -> str:
    """The report as CSV, one group a row (UTF-8, comma separated, quoted where needed)."""
    words = PHRASES[language]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(words["gaps_columns"])
    for number, gap in enumerate(report, start=1):
        writer.writerow(
            [
                number,
                len(gap.questions),
                gap.asked,
                gap.first_seen,
                gap.last_seen,
                _reasons(gap, words),
                words["gaps_yes"] if gap.answered else words["gaps_no"],
                " | ".join(gap.examples),
                " | ".join(_where(p) for p in gap.passages),
                " | ".join(gap.comments),
            ]
        )
    return out.getvalue()


def to_markdown(report: list[Gap], escape=lambda text: text, language: str = "fr") -> str:
    """The report as Markdown: a section per group. ``escape`` makes question and document text inert."""
    words = PHRASES[language]
    lines = [f"# {words['gaps_title']}", ""]
    if not report:
        return "\n".join(lines + [words["gaps_none"], ""])
    for number, gap in enumerate(report, start=1):
        line = words["gaps_line"].format(
            state=words["gaps_answered"] if gap.answered else words["gaps_open"],
            asked=gap.asked,
            wordings=len(gap.questions),
            first=gap.first_seen[:10],
            last=gap.last_seen[:10],
            reasons=_reasons(gap, words),
        )
        lines += [f"## {number}. {escape(gap.examples[0])}", "", line, ""]
        lines += [f"- « {escape(question)} »" for question in gap.examples]
        if gap.passages:
            places = " ; ".join(f"{escape(p['title'] or p['file'])} ({escape(_where(p))})" for p in gap.passages)
            lines += ["", f"{words['gaps_closest']} {places}"]
        if gap.comments:
            lines += ["", f"{words['gaps_comments']} " + " ; ".join(f"« {escape(c)} »" for c in gap.comments)]
        lines.append("")
    return "\n".join(lines)
