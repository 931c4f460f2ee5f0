"""The API documentation works offline: Swagger UI from this app, no CDN."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_docs_render_every_endpoint_without_leaving_the_machine(page: object, server: str) -> None:
    page.goto(f"{server}/docs")  # type: ignore[attr-defined]
    conv = page.locator("#operations-convolution-conv2d_api_conv2d_post")  # type: ignore[attr-defined]
    conv.wait_for()
    assert "/api/conv2d" in conv.inner_text()
    # The page fixture fails the test on a console error (e.g. a CSP refusal)
    # and on any request that leaves 127.0.0.1.
