"""Security headers: a strict CSP for pages, nothing framable but /embed, nosniff everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.testclient import TestClient

from app.middleware.security_headers import SecurityHeadersMiddleware

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data: blob:; connect-src 'self'; object-src 'none';"
    " base-uri 'none'; form-action 'self'"
)


def _common(headers: object) -> None:
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "no-referrer"  # type: ignore[index]


def test_the_page_has_a_self_only_csp_and_cannot_be_framed(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    _common(r.headers)
    assert r.headers["content-security-policy"] == PAGE_CSP + "; frame-ancestors 'none'"
    assert r.headers["x-frame-options"] == "DENY"
    assert "unsafe-eval" not in r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/?lang=ru", "/embed", "/network"])
def test_pages_have_no_inline_script_the_csp_would_block(client: TestClient, path: str) -> None:
    html = client.get(path).text
    tags = re.findall(r"<script[^>]*>", html)
    assert tags
    for tag in tags:
        # Either a script of our own origin or inert JSON data: nothing the CSP must allow.
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


def test_the_real_embed_view_can_be_framed(client: TestClient) -> None:
    r = client.get("/embed?op=conv2d")
    assert r.status_code == 200
    _common(r.headers)
    assert "x-frame-options" not in r.headers
    assert r.headers["content-security-policy"] == PAGE_CSP


@pytest.mark.parametrize(
    "path", ["/api/presets", "/healthz", "/static/css/app.css", "/openapi.json", "/no-such-page"]
)
def test_everything_else_is_inert_and_not_framable(client: TestClient, path: str) -> None:
    r = client.get(path)
    _common(r.headers)
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert r.headers["x-frame-options"] == "DENY"


def test_error_answers_of_the_middleware_carry_the_headers_too(client: TestClient) -> None:
    r = client.post("/api/conv2d", content=b"x", headers={"content-length": str(10**9)})
    assert r.status_code == 413
    _common(r.headers)
    assert r.headers["x-frame-options"] == "DENY"


def test_docs_page_is_served_offline_and_cannot_be_framed(client: TestClient) -> None:
    r = client.get("/docs")
    _common(r.headers)
    assert r.headers["content-security-policy"].startswith("default-src 'self'; script-src")
    assert r.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert r.headers["x-frame-options"] == "DENY"
    assert "cdn" not in r.text.lower()
    for asset in ("/static-docs/swagger-ui-bundle.js", "/static-docs/swagger-ui.css"):
        assert asset in r.text
        assert client.get(asset).status_code == 200


@pytest.fixture(scope="module")
def embed_client() -> Iterator[TestClient]:
    """An app with an /embed page (issue 5 builds the real one) behind the same middleware."""
    demo = FastAPI()

    @demo.get("/embed", response_class=HTMLResponse)
    def embed() -> str:
        return "<!doctype html><title>embed</title>"

    @demo.get("/embed/conv2d", response_class=HTMLResponse)
    def embed_view() -> str:
        return "<!doctype html><title>conv2d</title>"

    @demo.get("/embedded")
    def not_embed() -> HTMLResponse:
        return HTMLResponse("<!doctype html>")

    @demo.get("/own")
    def own() -> JSONResponse:
        return JSONResponse({}, headers={"Content-Security-Policy": "sandbox"})

    demo.add_middleware(SecurityHeadersMiddleware)
    with TestClient(demo) as c:
        yield c


@pytest.mark.parametrize("path", ["/embed", "/embed/conv2d"])
def test_the_embed_view_can_be_framed_by_any_site(embed_client: TestClient, path: str) -> None:
    r = embed_client.get(path)
    _common(r.headers)
    assert "x-frame-options" not in r.headers
    # No frame-ancestors at all: '*' would still refuse slides opened from a file.
    assert r.headers["content-security-policy"] == PAGE_CSP


def test_only_the_embed_path_is_framable(embed_client: TestClient) -> None:
    r = embed_client.get("/embedded")
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"].endswith("frame-ancestors 'none'")


def test_a_header_the_route_sets_is_kept(embed_client: TestClient) -> None:
    assert embed_client.get("/own").headers["content-security-policy"] == "sandbox"
