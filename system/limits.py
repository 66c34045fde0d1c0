"""ASGI middleware: 431 for oversized headers, 413 for a body over the limit, before parsing.

The HTTP server has already read the headers when the app sees them; this bounds what the app
accepts, not what the server buffers.
"""

from __future__ import annotations

import json

MAX_HEADER_BYTES = 16 * 1024


class RequestLimits:
    """Refuses oversized headers; reads the whole body (at most ``limit`` bytes) before the app."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header_bytes = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if header_bytes > MAX_HEADER_BYTES:
            await _refuse(
                send,
                431,
                f"request headers too large: {header_bytes} bytes; "
                f"the limit is {MAX_HEADER_BYTES} bytes",
            )
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, 413, self._too_large(f"declares {int(declared)} bytes"))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _refuse(send, 413, self._too_large(f"exceeds {self.limit} bytes"))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self, problem: str) -> str:
        return f"request body too large: {problem}; the limit is {self.limit} bytes"


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
