"""The REST API under /api/v1: search, ask, documents (list, upload, delete), passages, stale citations, feedback
on answers and the report of what the documents do not answer.

JSON in and out; answers and citations are the records of the JSON export (docs/export.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from assistant.answering.provenance import answer_from_record, citation_record, stale_citations
from assistant.corpus import add_file, delete_file
from assistant.feedback import store
from assistant.feedback.store import MAX_COMMENT_CHARS
from assistant.service.context import MAX_HISTORY_MESSAGES, MAX_K, Service, ask_record, gone, passage_record


class SearchRequest(BaseModel):
    query: str = Field(description="what to look for, in French or English")
    k: int = Field(5, ge=1, le=MAX_K, description="how many passages")
    source: str | None = Field(None, description="only this file of the corpus, or a glob ('rapports/*.pdf')")


class AskRequest(BaseModel):
    question: str = Field(description="the question, in French or English")
    history: list = Field(
        default_factory=list,
        max_length=MAX_HISTORY_MESSAGES,
        description="earlier turns: strings (the user's questions) or {role, content} messages",
    )
    k: int = Field(5, ge=1, le=MAX_K, description="how many passages are read")


class FeedbackRequest(BaseModel):
    answer_id: str | None = Field(None, max_length=64, description="the `id` of an answer this API gave")
    answer: dict | None = Field(None, description="or the answer itself, as a turn of the JSON export")
    helpful: bool = Field(description="true: the answer helped; false: it is wrong")
    comment: str = Field("", max_length=MAX_COMMENT_CHARS, description="what is wrong, or what was missing")
    wrong_citation: int | None = Field(None, ge=1, description="the number of the citation that is wrong")
    id: str | None = Field(None, max_length=64, description="an id of your own: sent again, it is stored once")


UPLOADS = "txt, md, pdf, html, docx, or an image (png, jpg, tiff, webp: read by OCR)"


def router(service: Service) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["REST"])

    @api.post("/search", summary="The passages that best match a query, best first")
    def search(body: SearchRequest) -> dict:
        passages = service.search(body.query, body.k, body.source)
        return {"query": body.query, "passages": [passage_record(p) for p in passages]}

    @api.post("/ask", summary="An answer whose every sentence is a cited, verbatim quote, or 'not found'")
    def ask(body: AskRequest, request: Request) -> dict:
        return ask_record(service.ask(body.question, body.history, body.k, cancelled=gone(request)))

    @api.get("/documents", summary="The corpus: every file with its state in the index")
    def documents() -> dict:
        return {"documents": service.documents()}

    @api.post("/documents", status_code=201, summary="Add a file to the corpus (refused in read-only mode)")
    def upload(file: UploadFile = File(description=UPLOADS)) -> dict:  # noqa: B008
        writable(service)
        limit = int(service.settings.max_file_mb * 1024 * 1024)
        with tempfile.TemporaryDirectory(prefix="assistant-upload-") as folder:
            path = Path(folder) / "upload"
            with open(path, "wb") as out:
                copied = 0
                while block := file.file.read(1 << 20):
                    copied += len(block)
                    if copied > limit:
                        raise HTTPException(413, f"the file is over the {service.settings.max_file_mb:g} MB limit")
                    out.write(block)
            settings = service.settings
            name = add_file(settings.corpus_dir, path, file.filename or "document", settings.max_file_mb)
        return {"file": name, "note": "added to the corpus: it is answerable once the index is rebuilt"}

    @api.delete(
        "/documents/{file:path}",
        summary="Move a file of the corpus to the trash, restorable from the page (refused in read-only mode)",
    )
    def delete(file: str) -> dict:
        writable(service)
        if not any(entry["file"] == file for entry in service.documents()):
            raise HTTPException(404, f"no document {file!r} in the corpus")
        entry = delete_file(service.settings.corpus_dir, file, service.settings.trash_dir)
        return {"file": file, "deleted": True, "trash": entry}

    @api.get("/passages/{passage_id}", summary="One passage of the index, by the id a search or a citation gave")
    def passage(passage_id: str) -> dict:
        found = service.passage(passage_id)
        if found is None:
            raise HTTPException(404, f"no passage {passage_id!r} in the current index")
        return passage_record(found)

    @api.post("/answers/stale", summary="The citations of an exported answer (or export) whose file changed since")
    async def stale(request: Request) -> dict:
        body = await request.json()
        turns = body.get("turns") if isinstance(body, dict) and "turns" in body else [body]
        if not isinstance(turns, list):
            raise ValueError("turns must be a list of answers")
        out = []
        for number, turn in enumerate(turns):
            answer = answer_from_record(turn)
            out += [{"turn": number, **citation_record(c)} for c in stale_citations(answer, settings=service.settings)]
        return {"stale": out}

    @api.post("/feedback", status_code=201, summary="Say whether an answer helped, with a comment")
    def feedback(body: FeedbackRequest) -> dict:
        answer = body.answer
        if answer is None:
            if not body.answer_id:
                raise HTTPException(422, "give answer_id (the id of an answer) or answer (the answer record)")
            logged = store.asked_entry(service.settings.index_dir, body.answer_id)
            if logged is None:
                raise HTTPException(404, f"no answer {body.answer_id!r} in the log")
            answer = logged.answer
        elif body.answer_id:
            answer = {**answer, "id": body.answer_id}
        feedback_id = service.feedback(answer, body.helpful, body.comment, body.wrong_citation, body.id)
        return {"id": feedback_id, "stored": True}

    @api.get("/feedback", summary="Every judgement given, oldest first (not on an open read-only server)")
    def feedback_list() -> dict:
        private(service)
        entries = store.feedback_entries(service.settings.index_dir)
        return {"feedback": [feedback_record(entry) for entry in entries]}

    @api.get("/gaps", summary="What the documents do not answer, grouped by subject (not on an open read-only server)")
    def gaps() -> dict:
        private(service)
        return {"gaps": [gap_record(gap) for gap in service.gaps()]}

    return api


def feedback_record(entry: store.Feedback) -> dict:
    return {
        "id": entry.id,
        "answer_id": entry.answer_id,
        "given_at": store.when(entry.given_at),
        "helpful": entry.helpful,
        "comment": entry.comment,
        "wrong_citation": entry.wrong_citation,
        "answer": entry.answer,
        "index_generation": entry.generation,
        "model": entry.model,
        "calibration": entry.calibration,
    }


def gap_record(gap) -> dict:
    return {
        "questions": gap.questions,
        "asked": gap.asked,
        "first_seen": gap.first_seen,
        "last_seen": gap.last_seen,
        "reasons": gap.reasons,
        "answered": gap.answered,
        "answered_questions": gap.answered_questions,
        "passages": gap.passages,
        "comments": gap.comments,
    }


def private(service: Service) -> None:
    if service.private:
        raise HTTPException(403, "read-only and open to anyone: what people asked is not shown (set ASSISTANT_AUTH)")


def writable(service: Service) -> None:
    if service.read_only:
        raise HTTPException(403, "read-only: this server takes no upload or delete (ASSISTANT_READ_ONLY)")
