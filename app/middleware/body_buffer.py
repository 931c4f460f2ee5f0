"""Read a request's whole body before it may take a compute slot.

A slot taken before the body arrived was held for as long as the client took to
send it: two uploads trickling a byte every 10 s got every other computation a 503.
Here the body is read first (through the size and time limits of
``app.middleware.body_limit``, outside this one) and handed on in one piece, so a
slot is only ever held by a request ready to compute.

Bodies being read are held in memory, so their bytes are counted per worker: past
``limits.MAX_BODIES_IN_FLIGHT_BYTES`` a body is refused with 503 and Retry-After
(and the connection closed, as the rest of it is not read). A body counts for what
has arrived, not what it declares: a slow client holds only what it sent.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import limits
from app.middleware.errors import error_response

BUSY_MESSAGE = (
    "the server is receiving too many large bodies at once; try again in"
    f" {limits.RETRY_AFTER_SECONDS} s"
)


def has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


class BodyBufferMiddleware:
    def __init__(self, app: ASGIApp, capacity: int = limits.MAX_BODIES_IN_FLIGHT_BYTES) -> None:
        self.app = app
        self.capacity = capacity
        self.held = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        counted = 0
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client left while sending
                chunk = message.get("body", b"")
                if self.held + len(chunk) > self.capacity:
                    headers = {
                        "Retry-After": str(limits.RETRY_AFTER_SECONDS),
                        "Connection": "close",
                    }
                    await error_response(503, BUSY_MESSAGE, "busy", headers)(scope, receive, send)
                    return
                self.held += len(chunk)
                counted += len(chunk)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            chunks.clear()
            await self.app(scope, replay(body, receive), send)
        finally:
            self.held -= counted


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives the app the body already read, then whatever comes next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # http.disconnect, when the client goes
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
