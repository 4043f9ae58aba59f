"""How many questions one client may ask: a token bucket per address, shared by the page and the HTTP doors.

Addresses of this machine are not limited (a server that listens on localhost serves its own user); behind a
reverse proxy every client has the proxy's address, so set the rate for all of them together, or at the proxy.

>>> limiter = RateLimiter(per_minute=2)
>>> [limiter.wait("203.0.113.7", now=0.0) for _ in range(3)]
[0.0, 0.0, 30.0]
>>> limiter.wait("127.0.0.1", now=0.0), RateLimiter(per_minute=0).wait("203.0.113.7")
(0.0, 0.0)
"""

from __future__ import annotations

import threading
import time

from assistant.access import is_loopback

MAX_CLIENTS = 10_000  # past this many addresses remembered, the full buckets are forgotten


class RateLimiter:
    """``per_minute`` questions a minute per address, in bursts of as many; 0 means no limit."""

    def __init__(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self.buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when counted)
        self.lock = threading.Lock()

    def wait(self, address: str, now: float | None = None) -> float:
        """0 when ``address`` may ask now (and the question is counted); else the seconds until it may."""
        if self.per_minute <= 0 or is_loopback(address):
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self.lock:
            tokens, then = self.buckets.get(address, (self.per_minute, now))
            tokens = min(self.per_minute, tokens + (now - then) * rate)
            if tokens < 1.0:
                self.buckets[address] = (tokens, now)
                return round((1.0 - tokens) / rate, 1)
            self.buckets[address] = (tokens - 1.0, now)
            if len(self.buckets) > MAX_CLIENTS:
                full = now - self.per_minute / rate
                self.buckets = {a: b for a, b in self.buckets.items() if b[1] > full}
        return 0.0
