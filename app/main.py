"""The ASGI app: wiring only. Nothing is computed here."""

from pathlib import Path

from fastapi_offline import FastAPIOffline

from app.api.errors import install_error_handlers
from app.api.main import api_router
from app.api.routes import pages
from app.middleware.body_buffer import BodyBufferMiddleware
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.compute_limit import ComputeLimitMiddleware
from app.middleware.head import HeadMiddleware
from app.middleware.response_cache import ResponseCacheMiddleware
from app.middleware.security_headers import SecurityHeadersMiddleware
from app.static_files import CompressedStaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# FastAPIOffline: FastAPI whose /docs and /redoc load their assets from this app.
app = FastAPIOffline(
    static_url="/static-docs",
    favicon_url="/static/favicon.svg",
    title="convviz",
    summary="Convolution, pooling and backprop, step by step, with every number.",
    version="0.1.0",
)
install_error_handlers(app)
# The last added runs first: headers on every answer, HEAD as GET, then body limits,
# the whole body read (before any slot), answers kept from identical requests (a
# repeat takes no slot), then slots.
app.add_middleware(ComputeLimitMiddleware)
app.add_middleware(ResponseCacheMiddleware)
app.add_middleware(BodyBufferMiddleware)
app.add_middleware(BodyLimitMiddleware)
app.add_middleware(HeadMiddleware)
app.add_middleware(SecurityHeadersMiddleware)
app.include_router(api_router)
app.include_router(pages.router)
# Static files travel gzipped (about a quarter: a phone on a lecture-hall network
# feels it), compressed once and kept in memory; API answers stay uncompressed:
# gzip would cost more CPU than a lecture-size computation.
app.mount("/static", CompressedStaticFiles(directory=STATIC_DIR), name="static")
