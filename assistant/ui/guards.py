"""Guards in front of the page: logins slowed down after failures, per client address, and no upload at all on a
read-only server (Gradio's own upload route included)."""

from __future__ import annotations

import asyncio
import threading
import time

from starlette.responses import JSONResponse

LOGIN = "/login"
UPLOAD = "/gradio_api/upload"
MAX_DELAY = 2.0  # seconds a login waits at most, however many failures came before it
FORGET_AFTER = 3600.0  # an address's failures are forgotten after an hour without one
MAX_ADDRESSES = 10_000  # past this many addresses remembered, the stale ones are dropped


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
            refused = JSONResponse({"error": "read-only: this server takes no upload"}, status_code=403)
            return await refused(scope, receive, send)
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
