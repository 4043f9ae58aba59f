"""Guards in front of the page: logins slowed down after failures, per client address; no upload at all on a
read-only server (Gradio's own upload route included); and every request to the page's functions bounded before it
reaches Gradio's queue: its body, and each text it carries (a question of 1 MB is refused in milliseconds, and a
flood of long questions does not hold up the others)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from starlette.responses import JSONResponse

from assistant.retrieval import MAX_QUERY_CHARS
from assistant.ui import phrases

LOGIN = "/login"
UPLOAD = "/gradio_api/upload"
MAX_DELAY = 2.0  # seconds a login waits at most, however many failures came before it
FORGET_AFTER = 3600.0  # an address's failures are forgotten after an hour without one
MAX_ADDRESSES = 10_000  # past this many addresses remembered, the stale ones are dropped
FUNCTIONS = "/gradio_api/"  # the page's functions: queue/join, run/..., call/...
MAX_PAGE_BODY = 1_000_000  # bytes of one request to a function (a long conversation's history is sent with it)
# Characters of any text a request carries (a question, a comment, a file name). Past MAX_QUERY_CHARS and up to
# this, the page itself says that the question is too long; past this, a request is not even queued.
MAX_TEXT_CHARS = 4 * MAX_QUERY_CHARS


def _language(scope) -> str:
    """The language of the page that sent a request: French unless its browser asks for English first."""
    headers = dict(scope.get("headers", []))
    return phrases.page_language(headers.get(b"accept-language", b"").decode("latin-1"))


def too_long(body: bytes, language: str = "fr") -> str | None:
    """Why a request to the page's functions is refused, or None: a text it carries is over MAX_TEXT_CHARS."""
    try:
        data = json.loads(body).get("data")
    except (ValueError, AttributeError):
        return None  # not ours to judge: Gradio answers it
    for value in data if isinstance(data, list) else []:
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            typed, read = phrases.number(len(value), language), phrases.number(MAX_QUERY_CHARS, language)
            return phrases.text("too_long", language, typed=typed, read=read).removeprefix("⚠️ ")
    return None


class PageGuard:
    """ASGI middleware. A login from an address that failed n times in a row waits min(n * step, MAX_DELAY) seconds
    before it is checked (100 wrong passwords take minutes instead of a fraction of a second); a success clears
    the count. On a read-only server, uploads are refused before Gradio stores anything."""

    def __init__(self, app, read_only: bool, step: float) -> None:
        self.app, self.read_only, self.step = app, read_only, step
        self.failures: dict[str, tuple[int, float]] = {}
        self.lock = threading.Lock()

    def delay(self, address: str) -> float:
        with self.lock:
            count, last = self.failures.get(address, (0, 0.0))
            if time.monotonic() - last > FORGET_AFTER:
                count = 0
        return min(count * self.step, MAX_DELAY)

    def record(self, address: str, failed: bool) -> None:
        with self.lock:
            now = time.monotonic()
            if failed:
                count, _ = self.failures.get(address, (0, 0.0))
                self.failures[address] = (count + 1, now)
            else:
                self.failures.pop(address, None)
            if len(self.failures) > MAX_ADDRESSES:  # many addresses failing: keep only the recent ones
                self.failures = {a: f for a, f in self.failures.items() if now - f[1] <= FORGET_AFTER}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if self.read_only and path.startswith(UPLOAD):
            refused = JSONResponse({"error": phrases.text("read_only_upload", _language(scope))}, status_code=403)
            return await refused(scope, receive, send)
        if path.startswith(FUNCTIONS) and not path.startswith(UPLOAD):
            return await self.bounded(scope, receive, send)
        if path != LOGIN:
            return await self.app(scope, receive, send)
        address = (scope.get("client") or ("?", 0))[0]
        if wait := self.delay(address):
            await asyncio.sleep(wait)
        status = []

        async def watched(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watched)
        self.record(address, bool(status) and status[0] >= 400)

    async def bounded(self, scope, receive, send):
        """A request to a page function, read whole (within MAX_PAGE_BODY) and judged before Gradio queues it."""
        headers, language = dict(scope.get("headers", [])), _language(scope)
        declared = headers.get(b"content-length", b"")
        limit = phrases.number(MAX_PAGE_BODY, language)
        over = JSONResponse({"error": phrases.text("request_too_big", language, limit=limit)}, status_code=413)
        if declared.isdigit() and int(declared) > MAX_PAGE_BODY:
            return await over(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_PAGE_BODY:
                return await over(scope, receive, send)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if reason := too_long(body, language):
            return await JSONResponse({"error": reason}, status_code=413)(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)
