"""Request limits: a body-size cap for every request and a per-client chat rate limit."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """413 for bodies over ``max_bytes``: by Content-Length when given, else while reading,
    so that a chunked upload cannot get past the cap either."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, *, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Exact paths with their own cap (the content editor's file upload).
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(send, max_bytes)
            return
        received = 0
        too_large = refused = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    too_large = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            # The framework turns a failed body read into its own 400 (or 500); whatever
            # it answers after the cap was hit is replaced by the 413.
            nonlocal refused
            if not too_large:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(send, max_bytes)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not refused:
                await self._refuse(send, max_bytes)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        size = f"{max_bytes} bytes"
        if max_bytes >= 1 << 20:
            size += f", {max_bytes / (1 << 20):g} MiB"
        body = json.dumps({"detail": f"The request body is too large (at most {size})."}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key (sliding window).

    In memory, per process: with several processes each one counts on its own, which is
    enough to stop one client flooding the assistant.
    """

    def __init__(self, limit: int, window: float = 60.0, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float | None:
        """Count one hit; None when allowed, else the seconds until the next one is."""
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.0)
        hits.append(now)
        return None

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its hits in the current window (counts nothing)."""
        hits = self._hits.get(key)
        if not hits:
            return False
        now = time.monotonic()
        return sum(1 for t in hits if t > now - self.window) >= self.limit

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[key]
