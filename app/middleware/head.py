"""Answer HEAD wherever GET is answered: the GET's status and headers, no body.

FastAPI routes list only the methods they declare, so ``HEAD /`` was a 405 (link
checkers, uptime monitors and ``curl -I`` send HEAD). The request goes through as a
GET and the body is dropped on the way out; ``Content-Length`` stays the GET's, as
HTTP asks (RFC 9110, 9.3.2).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def send_head(message: Message) -> None:
            nonlocal ended
            if message["type"] != "http.response.body":
                await send(message)
            elif not ended and not message.get("more_body", False):
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, send_head)
