"""Refuse request bodies over a size limit with 413 and a JSON error, before any route runs.

Pure ASGI (no BaseHTTPMiddleware buffering): a declared Content-Length over the limit is refused
at once; a chunked body is counted as it streams and refused when it passes the limit, so nothing
reaches a route (and nothing is stored) for an oversized request.
"""

from __future__ import annotations

import json
import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_VARIABLE = "CODECNAS_MAX_REQUEST_BYTES"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # campaign specs and agent results are a few kB


def max_body_bytes_from_environment() -> int:
    raw = os.environ.get(MAX_BODY_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_MAX_BODY_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_BODY_VARIABLE} must be a number of bytes >= 1, got {raw!r}")
    return int(raw)


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, f"{int(declared):,} bytes declared")
            return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            # Over the limit mid-stream: answer 413 now and tell the app the client is gone, so
            # the route never sees the body (frameworks turn exceptions here into a 400).
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    await self._refuse(send, f"over {received:,} bytes sent")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # after a 413 the app's own answer (to a "disconnect") is dropped
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, send: Send, what: str) -> None:
        body = json.dumps(
            {
                "error": "request_too_large",
                "detail": f"request body too large ({what}); the limit is {self.max_bytes:,} "
                f"bytes ({MAX_BODY_VARIABLE})",
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
