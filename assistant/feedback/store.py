"""The questions asked and the feedback given, append-only in SQLite beside the index (``feedback.sqlite3``).

The file lives in the index folder but outside its generations, so it survives every rebuild and index format
change. It is opened in WAL mode with a busy timeout: several app processes and threads write to it at once and
nothing is lost. Each row holds the whole answer as the JSON export writes it (docs/export.md), with the model,
calibration and index generation it came from.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "feedback.sqlite3"
MAX_COMMENT_CHARS = 2000
BUSY_TIMEOUT = 30.0  # seconds a writer waits for another's transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS asked (
    id TEXT PRIMARY KEY,
    asked_at REAL NOT NULL,
    question TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT NOT NULL,            -- the export's turn record (JSON)
    passages TEXT NOT NULL,          -- the closest passages: [{id, file, title, page}] (JSON)
    generation TEXT NOT NULL,
    model TEXT NOT NULL,
    calibration TEXT NOT NULL,
    vector BLOB,                     -- the question's vector (float32), by vector_model
    vector_model TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    answer_id TEXT,                  -- the asked row it is about, when the answer was logged
    given_at REAL NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL,
    wrong_citation INTEGER,          -- the citation number marked wrong, if any
    answer TEXT NOT NULL,            -- the export's turn record (JSON)
    generation TEXT NOT NULL,
    model TEXT NOT NULL,
    calibration TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rechecks (
    question TEXT NOT NULL,
    generation TEXT NOT NULL,
    status TEXT NOT NULL,
    quotes TEXT NOT NULL,            -- the quotes of the answer given then (JSON list)
    checked_at REAL NOT NULL,
    PRIMARY KEY (question, generation)
);
CREATE INDEX IF NOT EXISTS asked_status ON asked (status);
"""


@dataclass(frozen=True)
class Asked:
    """A question asked, with its answer as exported; ``vector`` when stored for the current model."""

    id: str
    asked_at: float
    question: str
    status: str
    answer: dict
    passages: list[dict]
    generation: str
    model: str
    calibration: str
    vector: np.ndarray | None = None
    vector_model: str = ""


@dataclass(frozen=True)
class Feedback:
    """One judgement of an answer: helpful or not, a comment, which citation is wrong, and the answer itself."""

    id: str
    answer_id: str | None
    given_at: float
    helpful: bool
    comment: str
    wrong_citation: int | None
    answer: dict
    generation: str
    model: str
    calibration: str

    @property
    def question(self) -> str:
        return str(self.answer.get("question", ""))


_ready: set[str] = set()
_ready_lock = threading.Lock()


@contextmanager
def connect(index_dir: Path, write: bool = True):
    """A connection to the index folder's feedback file, created on first use, in one transaction that commits
    when the block ends; a reading one (``write=False``) waits for no writer."""
    path = Path(index_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()  # looked at before connecting, which creates the file
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)) as connection:
        with _ready_lock:
            if created or str(path) not in _ready:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(SCHEMA)
                _ready.add(str(path))
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def when(seconds: float) -> str:
    """A stored time as local ISO 8601, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(seconds))


def exists(index_dir: Path) -> bool:
    return (Path(index_dir) / FILE).is_file()


def new_id() -> str:
    return uuid.uuid4().hex


def _vector_blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def add_asked(index_dir: Path, entry: Asked) -> None:
    with connect(index_dir) as connection:
        connection.execute(
            "INSERT OR IGNORE INTO asked VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.id,
                entry.asked_at,
                entry.question,
                entry.status,
                json.dumps(entry.answer, ensure_ascii=False),
                json.dumps(entry.passages, ensure_ascii=False),
                entry.generation,
                entry.model,
                entry.calibration,
                _vector_blob(entry.vector),
                entry.vector_model or None,
            ),
        )


def add_feedback(index_dir: Path, entry: Feedback) -> None:
    """Store one judgement; the same id given twice (a client's retry) is stored once."""
    if len(entry.comment) > MAX_COMMENT_CHARS:
        raise ValueError(f"the comment is {len(entry.comment)} characters long: at most {MAX_COMMENT_CHARS}")
    with connect(index_dir) as connection:
        connection.execute(
            "INSERT OR IGNORE INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.id,
                entry.answer_id,
                entry.given_at,
                int(entry.helpful),
                entry.comment,
                entry.wrong_citation,
                json.dumps(entry.answer, ensure_ascii=False),
                entry.generation,
                entry.model,
                entry.calibration,
            ),
        )


def asked_entries(index_dir: Path) -> list[Asked]:
    """Every question asked, oldest first."""
    if not exists(index_dir):
        return []
    with connect(index_dir, write=False) as connection:
        rows = connection.execute("SELECT * FROM asked ORDER BY asked_at, id").fetchall()
    return [_asked(row) for row in rows]


def asked_entry(index_dir: Path, answer_id: str) -> Asked | None:
    """The question asked under ``answer_id``, or None: one row read, not the whole log."""
    if not exists(index_dir):
        return None
    with connect(index_dir, write=False) as connection:
        row = connection.execute("SELECT * FROM asked WHERE id = ?", (answer_id,)).fetchone()
    return None if row is None else _asked(row)


def _asked(row: tuple) -> Asked:
    vector = None if row[9] is None else np.frombuffer(row[9], dtype=np.float32)
    return Asked(
        row[0],
        row[1],
        row[2],
        row[3],
        json.loads(row[4]),
        json.loads(row[5]),
        row[6],
        row[7],
        row[8],
        vector,
        row[10] or "",
    )


def feedback_entries(index_dir: Path) -> list[Feedback]:
    """Every judgement, oldest first."""
    if not exists(index_dir):
        return []
    with connect(index_dir, write=False) as connection:
        rows = connection.execute("SELECT * FROM feedback ORDER BY given_at, id").fetchall()
    return [
        Feedback(row[0], row[1], row[2], bool(row[3]), row[4], row[5], json.loads(row[6]), row[7], row[8], row[9])
        for row in rows
    ]


def store_vectors(index_dir: Path, vectors: dict[str, np.ndarray], model: str) -> None:
    """Keep the vectors computed for questions logged without one (or with another model's)."""
    with connect(index_dir) as connection:
        connection.executemany(
            "UPDATE asked SET vector = ?, vector_model = ? WHERE id = ?",
            [(_vector_blob(vector), model, asked_id) for asked_id, vector in vectors.items()],
        )


def add_recheck(index_dir: Path, question: str, generation: str, status: str, quotes: list[str]) -> None:
    with connect(index_dir) as connection:
        connection.execute(
            "INSERT OR REPLACE INTO rechecks VALUES (?, ?, ?, ?, ?)",
            (question, generation, status, json.dumps(quotes, ensure_ascii=False), time.time()),
        )


@dataclass(frozen=True)
class Recheck:
    """A question asked again after a build: what the index of ``generation`` answered."""

    generation: str
    status: str
    quotes: list[str]
    checked_at: float


def latest_rechecks(index_dir: Path) -> dict[str, Recheck]:
    """For each question asked again after a build, the latest answer."""
    if not exists(index_dir):
        return {}
    with connect(index_dir, write=False) as connection:
        rows = connection.execute(
            "SELECT question, generation, status, quotes, checked_at FROM rechecks ORDER BY checked_at"
        ).fetchall()
    return {row[0]: Recheck(row[1], row[2], json.loads(row[3]), row[4]) for row in rows}
