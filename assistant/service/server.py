"""One FastAPI application for every door: REST under /api/v1, OpenAI-compatible under /v1, MCP at /mcp (the page
is mounted beside them by ``assistant.ui``). Requests to the doors pass two guards first: the API key, when one is
needed, and a bound on the body's size; errors come back as JSON naming the field, never as a stack trace.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, IndexBusyError, IndexNotFoundError
from assistant.service import chat, rest, tools
from assistant.service.context import MAX_BODY_BYTES, Busy, Service

log = logging.getLogger(__name__)

DOORS = ("/api/v1", "/v1", "/mcp")
OPEN_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")  # the schema and its browsable docs hold no document text
ASKING = ("/api/v1/ask", "/api/v1/search", "/v1/chat/completions")  # counted by the rate limit


def error(status: int, message: str, param: str | None = None, kind: str = "invalid_request_error", **headers):
    """An error in the OpenAI clients' shape, which they show as it is: {"error": {message, type, param}}."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers or None)


class Guard:
    """ASGI middleware on the doors: the API key, then the body's size (Content-Length, and as it streams in)."""

    def __init__(self, app, service: Service) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(DOORS) or path in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        refused = self.service.refusal(token.strip() if scheme.lower() == "bearer" else "")
        if refused:
            response = error(401, refused, kind="authentication_error", **{"WWW-Authenticate": "Bearer"})
            return await response(scope, receive, send)
        if path in ASKING and scope.get("method") == "POST":
            address = (scope.get("client") or ("", 0))[0]
            if wait := self.service.limiter.wait(address):
                message = f"too many questions from this address: ask again in {wait:g} s (ASSISTANT_ASK_RATE)"
                response = error(429, message, kind="rate_limit_error", **{"Retry-After": str(int(wait) + 1)})
                return await response(scope, receive, send)
        limit = MAX_BODY_BYTES
        if path == "/api/v1/documents":
            limit += int(self.service.settings.max_file_mb * 1024 * 1024)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return await error(413, f"the request body is over {limit:,} bytes")(scope, receive, send)
        received = 0

        async def bounded():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"the request body is over {limit:,} bytes")
            return message

        return await self.app(scope, bounded, send)


def _field(exc: RequestValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ())][1:]  # past where it is: body, query or path
    field = ".".join(location) or None
    return f"{field or 'body'}: {first.get('msg', 'invalid')}", field


def _named(message: str) -> str | None:
    """The field a library message is about: "k must be ...", "the question is too long ...", "messages: ..."."""
    words = message.replace(":", " ").replace("[", " ").split()
    if words[:1] in (["k"], ["messages"], ["history"], ["citations"]):
        return words[0]
    if words[:1] == ["the"] and len(words) > 1 and words[1] in ("question", "query"):
        return words[1]
    return None


def create_api(service: Service, host: str = "127.0.0.1") -> FastAPI:
    """The doors' application; ``host`` is where it listens (MCP's DNS-rebinding protection follows it)."""
    mcp = tools.mcp_server(service)
    mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp", host=host)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with mcp.session_manager.run():
            yield

    api = FastAPI(
        title="Assistant documentaire — API",
        description="Answers from the documents with verbatim, cited quotes (docs/integrations.md).",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    api.include_router(rest.router(service))
    api.include_router(chat.router(service))
    api.router.routes.extend(mcp_app.routes)
    api.add_middleware(Guard, service=service)

    # the page is mounted at / after these: an unknown route of a door is the door's, answered in its JSON
    @api.api_route("/api/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @api.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(rest: str):
        raise HTTPException(404, "no such route: see /api/v1/docs")

    @api.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        message, field = _field(exc)
        return error(400, message, field)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return error(exc.status_code, str(exc.detail), kind=kind)

    @api.exception_handler(ValueError)
    async def bad_value(_request: Request, exc: ValueError):
        return error(400, str(exc), _named(str(exc)))

    @api.exception_handler(Busy)
    async def busy(_request: Request, exc: Busy):
        return error(503, str(exc), kind="server_busy", **{"Retry-After": "5"})

    @api.exception_handler(AssistantError)
    async def ours(_request: Request, exc: AssistantError):
        status = 503 if isinstance(exc, (IndexNotFoundError, IndexBusyError)) else 400
        return error(status, str(exc), kind="assistant_error")

    @api.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception):
        log.error("request failed", exc_info=exc)
        return error(500, "internal error: the server's log says more", kind="server_error")

    return api


class Running:
    """A server on a thread of this process: ``start`` returns once it listens, ``close`` stops it."""

    def __init__(self, app, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.url = f"http://{host}:{port}/"
        self.thread: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> Running:
        self.thread = threading.Thread(target=self.server.run, name="assistant-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssistantError(f"the server could not start on {self.url}")
            time.sleep(0.05)
        return self

    def run(self) -> None:
        """Serve in the foreground until interrupted."""
        self.server.run()

    def close(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
