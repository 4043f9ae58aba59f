"""An OpenAI-compatible chat endpoint: GET /v1/models and POST /v1/chat/completions, streaming (SSE) or not.

Any chat front end that speaks to OpenAI (Open WebUI, LibreChat, an office suite's assistant) can use the assistant
as a model. The last user message is the question and the earlier ones the conversation, which drives follow-ups
as in the app. The text keeps its markers [n] and ends with a numbered list of its sources, each a link that opens
the cited passage in the app; the citations themselves travel in a ``citations`` field of the response and of its
message (of the last chunk when streaming), in the export's format (docs/export.md). Only checked text is sent:
with a language model behind, its sentences are checked against their cited passages before the first byte goes.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.answering.history import message_text
from assistant.answering.provenance import citation_record
from assistant.markup import escape_markdown
from assistant.records import Answer
from assistant.service.context import MAX_HISTORY_MESSAGES, Service, gone

MODEL = "assistant"
PIECE_WORDS = 8  # words a streamed chunk carries


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, top_p... are accepted and have no use here

    model: str = MODEL
    messages: list[dict] = Field(min_length=1, max_length=MAX_HISTORY_MESSAGES)
    stream: bool = False
    stream_options: dict | None = None


def router(service: Service) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    @api.get("/models", summary="The one model this server offers")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "assistant"}]}

    @api.post("/chat/completions", summary="Answer the last user message from the documents, with citations")
    def completions(body: ChatRequest, request: Request):
        question, history = split_messages(body.messages)
        answer = service.ask(question, history, cancelled=gone(request))
        link = str(request.base_url).rstrip("/") + "/?passage="
        text = answer.text + sources_list(answer, link)
        citations = [citation_record(c) for c in answer.citations]
        created, status = int(time.time()), answer.status
        reply = Reply(f"chatcmpl-{uuid.uuid4().hex}", created, question, text, citations, status, answer.id)
        if body.stream:
            usage = bool((body.stream_options or {}).get("include_usage"))
            return StreamingResponse(reply.events(usage), media_type="text/event-stream")
        return reply.whole()

    return api


def split_messages(messages: list[dict]) -> tuple[str, list[dict]]:
    """The question (the last message, which must be the user's) and the conversation before it."""
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise ValueError("messages: the last message must be the user's question (role 'user')")
    question = message_text(last)
    if not question:
        raise ValueError("messages: the last message has no text")
    history = [m for m in messages[:-1] if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    return question, history


def sources_list(answer: Answer, link: str) -> str:
    """The numbered sources under an answer, each a link to its passage in the app."""
    lines, seen = [], set()
    for citation in answer.citations:
        if citation.number in seen:
            continue
        seen.add(citation.number)
        passage = citation.passage
        where = escape_markdown(passage.source) + (f", p. {passage.page}" if passage.page else "")
        lines.append(f"{citation.number}. [{escape_markdown(passage.title)} ({where})]({link}{passage.id})")
    return "\n\n**Sources**\n\n" + "\n".join(lines) if lines else ""


class Reply:
    """One completion, whole or as server-sent events."""

    def __init__(
        self, id: str, created: int, question: str, text: str, citations: list[dict], status: str, answer_id: str
    ):
        self.id, self.created, self.question, self.text = id, created, question, text
        self.citations, self.status, self.answer_id = citations, status, answer_id or None

    def usage(self) -> dict:
        prompt, completion = len(self.question.split()), len(self.text.split())
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def whole(self) -> dict:
        message = {"role": "assistant", "content": self.text, "citations": self.citations}
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": MODEL,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": self.usage(),
            "citations": self.citations,
            "status": self.status,
            "answer_id": self.answer_id,  # for POST /api/v1/feedback
        }

    def _chunk(self, delta: dict, finish: str | None = None, **extra) -> str:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    def events(self, usage: bool) -> Iterator[str]:
        yield self._chunk({"role": "assistant", "content": ""})
        words = self.text.split(" ")
        for start in range(0, len(words), PIECE_WORDS):
            piece = " ".join(words[start : start + PIECE_WORDS])
            yield self._chunk({"content": piece if start == 0 else " " + piece})
        last = {"citations": self.citations}
        yield self._chunk(last, "stop", citations=self.citations, status=self.status, answer_id=self.answer_id)
        if usage:
            chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": MODEL}
            yield f"data: {json.dumps({**chunk, 'choices': [], 'usage': self.usage()})}\n\n"
        yield "data: [DONE]\n\n"
