"""Security headers on every response, the framing policy chosen by path.

- Every response: ``X-Content-Type-Options: nosniff`` (a JSON answer or an upload
  is never sniffed into HTML) and ``Referrer-Policy: no-referrer`` (the app needs
  no referrer, and a shared link's state stays out of other sites' logs).
- HTML pages: a CSP allowing only this origin: no inline or foreign scripts,
  images also from ``data:`` and ``blob:`` (canvas exports). Inline *styles* are
  allowed: the page sets colour-legend gradients in ``style`` attributes, and a
  style cannot run code.
- Everything else (JSON, static files): ``default-src 'none'``, so a response
  opened on its own is inert.
- Framing: nothing may be framed (``frame-ancestors 'none'`` and
  ``X-Frame-Options: DENY``) except ``/embed``, which slides embed from any site.
  There neither header is sent: ``frame-ancestors *`` would still refuse slides
  opened from a file (``file:`` ancestors match no source expression).
- ``/docs`` and ``/redoc`` are FastAPI's pages (Swagger UI and ReDoc, served from
  this app by fastapi-offline), which start with an inline script: they get this
  origin only, plus that inline script.

A header the route set itself is kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data: blob:; connect-src 'self'; object-src 'none';"
    " base-uri 'none'; form-action 'self'"
)
INERT_CSP = "default-src 'none'"
NO_FRAMING = "frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'"
)
DOCS_PAGES = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


def is_framable(path: str) -> bool:
    return path == "/embed" or path.startswith("/embed/")


def security_headers(path: str, content_type: str) -> dict[str, str]:
    """The headers for a response to ``path`` of ``content_type``."""
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    framable = is_framable(path)
    if path in DOCS_PAGES:
        policies = [DOCS_CSP]
    elif content_type.startswith("text/html"):
        policies = [PAGE_CSP]
    else:
        policies = [INERT_CSP]
    if not framable:
        policies.append(NO_FRAMING)
        headers["X-Frame-Options"] = "DENY"
    headers["Content-Security-Policy"] = "; ".join(policies)
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wanted = security_headers(path, headers.get("content-type", ""))
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
