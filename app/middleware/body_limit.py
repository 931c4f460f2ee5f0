"""Refuse request bodies over the documented limits, whether declared or streamed.

A declared ``Content-Length`` over the limit is answered with 413 before a byte of
the body is read. A body without one (``Transfer-Encoding: chunked``) or one that
lies is counted as it arrives, and reading stops at the first byte over the limit,
so no more than the limit is ever held. A body that stalls (a slow or stuck
client) is dropped with 408, so it cannot hold a compute slot for ever.

The error is raised inside the app's ``receive`` as an ``HTTPException``: FastAPI
re-raises those while it parses a body (any other exception there becomes a
generic 400), so the app's exception handlers answer it; if it escapes the app
all the same, this middleware answers it itself.
"""

from __future__ import annotations

import asyncio
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import limits
from app.middleware.errors import error_response

_CLOSE = {"Connection": "close"}  # the rest of the body will not be read


def body_limit(path: str) -> int:
    """The largest body, in bytes, that ``path`` accepts."""
    if path == "/api/images":
        return limits.MAX_UPLOAD_BODY_BYTES
    if path.startswith("/api/rooms"):  # a view's query, never a tensor
        return limits.MAX_ROOM_BODY_BYTES
    if path.startswith("/api/"):
        return limits.MAX_JSON_BODY_BYTES
    return limits.MAX_OTHER_BODY_BYTES


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MiB" if size >= 2**20 else f"{size // 1024} KiB"


def too_large_message(path: str, limit: int) -> str:
    if path == "/api/images":  # the limit adds the form's framing to the file's
        return f"the upload is larger than {_mib(limits.MAX_UPLOAD_BYTES)}; upload a smaller image"
    if path.startswith("/api/rooms"):
        return f"a room's view is at most {_mib(limit)}; use a smaller input or a preset"
    if path.startswith("/api/"):
        return (
            f"the request body is larger than {_mib(limit)}; send large tensors in the"
            " compact form {dtype, shape, base64} or send smaller ones"
        )
    return f"the request body is larger than {_mib(limit)}; this path takes no body"


class BodyError(HTTPException):
    """413 or 408 raised from ``receive``; ``detail`` is already the API's error list."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        detail = [{"loc": [], "msg": message, "type": kind}]
        super().__init__(status_code=status, detail=detail, headers=dict(_CLOSE))  # type: ignore[arg-type]
        self.message, self.kind = message, kind


class _LimitedReceive:
    """``receive`` that counts body bytes and enforces the limit and the timeouts."""

    def __init__(self, receive: Receive, path: str, limit: int) -> None:
        self._receive, self._path, self._limit = receive, path, limit
        self._received = 0
        self._done = False
        self._deadline = time.monotonic() + limits.BODY_TOTAL_TIMEOUT_SECONDS

    async def __call__(self) -> Message:
        if self._done:  # after the body: only http.disconnect is left, wait as long as it takes
            return await self._receive()
        timeout = min(limits.BODY_IDLE_TIMEOUT_SECONDS, self._deadline - time.monotonic())
        try:
            # asyncio.timeout, not wait_for: no task per chunk (every request pays this).
            async with asyncio.timeout(max(timeout, 0.0)):
                message = await self._receive()
        except TimeoutError:
            raise BodyError(
                408,
                "the request body arrived too slowly; send it again on a faster connection",
                "body_timeout",
            ) from None
        if message["type"] != "http.request":
            self._done = True
            return message
        self._received += len(message.get("body", b""))
        if self._received > self._limit:
            raise BodyError(413, too_large_message(self._path, self._limit), "body_too_large")
        self._done = not message.get("more_body", False)
        return message


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or None when it has none or a malformed one."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects it; counting still applies
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = body_limit(path)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            response = error_response(413, too_large_message(path, limit), "body_too_large", _CLOSE)
            await response(scope, receive, send)
            return

        started = False

        async def send_once_started(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _LimitedReceive(receive, path, limit), send_once_started)
        except BodyError as exc:
            if started:
                raise
            response = error_response(exc.status_code, exc.message, exc.kind, _CLOSE)
            await response(scope, receive, send)
