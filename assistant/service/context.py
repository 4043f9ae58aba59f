"""What every door shares: the settings, who may come in (API keys), whether the corpus may change, and bounds.

>>> Service(Settings(api_keys="", auth="")).refusal("")  is None
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import anyio

from assistant.access import load_keys
from assistant.answering.provenance import answer_record, provenance_record
from assistant.api import ask, record_feedback, unanswered
from assistant.corpus import list_documents
from assistant.limits import RateLimiter
from assistant.records import Answer, Passage
from assistant.retrieval import Retriever, open_retriever
from assistant.settings import Settings

MAX_K = 20  # passages per search or answer
MAX_BODY_BYTES = 1_000_000  # a JSON request; uploads are bounded by max_file_mb
MAX_HISTORY_MESSAGES = 50  # the last messages of a conversation that are read
ASK_SLOTS = 4  # answers in progress at once through the HTTP doors
ASK_WAIT = 30.0  # seconds a request waits for a slot before "busy"


class Busy(Exception):
    """Every answer slot is taken: try again shortly."""


@dataclass
class Service:
    """The doors' shared state. ``read_only`` follows the page's rule (settled from the address listened on)."""

    settings: Settings
    read_only: bool = False
    limiter: RateLimiter | None = None  # questions a minute per address, shared with the page

    def __post_init__(self) -> None:
        self.limiter = self.limiter or RateLimiter(self.settings.ask_rate)
        self._keys: Callable[[str], bool] | None = load_keys(self.settings.api_keys) if self.settings.api_keys else None
        self._slots = threading.BoundedSemaphore(ASK_SLOTS)

    def refusal(self, token: str) -> str | None:
        """Why a request with this bearer token is refused, or None when it may come in.

        With a keys file, a listed key is needed; with a users file (the page asks for a login) and no keys file,
        nothing comes in; with neither, the doors are as open as the page.
        """
        if self._keys is not None:
            if not token:
                return "an API key is needed: send it as 'Authorization: Bearer <key>'"
            return None if self._keys(token) else "this API key is not valid"
        if self.settings.auth:
            return "the app asks for a login: its HTTP API needs API keys (set ASSISTANT_API_KEYS to a keys file)"
        return None

    def retriever(self) -> Retriever:
        return open_retriever(self.settings)

    @contextmanager
    def slot(self):
        """One of the ASK_SLOTS answers in progress; Busy after ASK_WAIT seconds without one."""
        if not self._slots.acquire(timeout=ASK_WAIT):
            raise Busy(f"{ASK_SLOTS} answers are in progress: try again in a few seconds")
        try:
            yield
        finally:
            self._slots.release()

    def ask(self, question: str, history: list | None = None, k: int = 5, cancelled=None) -> Answer:
        """The answer, logged (with its ``id`` for feedback) unless the settings say to keep no questions.
        ``cancelled`` says when the client has gone: a language model's reply is dropped then."""
        log = self.settings.log_questions == "1"
        options = {"history": history, "cancelled": cancelled}
        with self.slot():
            return ask(question, k, settings=self.settings, retriever=self.retriever(), log=log, **options)

    def feedback(self, answer: dict, helpful: bool, comment: str, wrong_citation: int | None, id: str | None) -> str:
        return record_feedback(
            answer, helpful, comment, wrong_citation=wrong_citation, feedback_id=id, settings=self.settings
        )

    def gaps(self) -> list:
        return unanswered(settings=self.settings, retriever=self.retriever())

    @property
    def private(self) -> bool:
        """Whether what people asked may be shown: not on a read-only server that asks nobody to log in."""
        return self.read_only and not (self.settings.auth or self.settings.api_keys)

    def search(self, query: str, k: int = 5, source: str | None = None) -> list[Passage]:
        return self.retriever().search(query, k=k, source=source)

    def passage(self, passage_id: str) -> Passage | None:
        """A passage of the current index by its id, or None."""
        retriever = self.retriever()
        index = retriever.index
        row = index.chunk_row.get(passage_id)
        if row is None:
            return None
        chunk = index.chunks[row]
        document_hash = index.manifest.get("sources", {}).get(chunk.source, {}).get("hash", "")
        return Passage.from_chunk(chunk, 0.0, 0.0, 0.0, document_hash, index.generation)

    def documents(self) -> list[dict]:
        entries = list_documents(self.settings.corpus_dir, self.settings.index_dir)
        return [document_record(asdict(entry)) for entry in entries]


def gone(request) -> Callable[[], bool]:
    """Whether the client of a request has disconnected, asked from the worker thread that answers it."""
    return lambda: anyio.from_thread.run(request.is_disconnected)


def passage_record(passage: Passage) -> dict:
    """A retrieved passage with its provenance, named as the export names a citation's (docs/export.md)."""
    return {
        "id": passage.id,
        "text": passage.text,
        **provenance_record(passage),
        "score": round(passage.score, 6),
        "dense_score": round(passage.dense_score, 6),
        "keyword_score": round(passage.keyword_score, 6),
    }


def document_record(entry: dict) -> dict:
    return {
        "file": entry["source"],
        "title": entry["title"],
        "kind": entry["kind"],
        "size": entry["size"],
        "pages": entry["pages"],
        "passages": entry["chunks"],
        "status": entry["status"],
        "reason": entry["reason"] or None,
    }


def ask_record(answer: Answer) -> dict:
    """An answer as the doors send it: the export's turn, and the passages it read."""
    return {**answer_record(answer), "passages": [passage_record(p) for p in answer.passages]}
