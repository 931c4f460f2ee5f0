"""Every stage of the page exports (issue 12, item 7): with an activation, the export
panel offers it beside the convolution and the pooling, and its GIF and PNG are the
server's drawing of the activation over the convolution's output."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

pytestmark = pytest.mark.browser


def test_the_activation_stage_exports(page, server) -> None:
    page.goto(server + "/?act=leaky_relu&ns=0.1&pool=max&lang=ru")
    page.locator('table[aria-label^="Выход"]').first.wait_for(state="attached")
    page.get_by_text("Экспорт: GIF, PNG, JSON").click()
    stages = page.locator("#ex-stage option")
    stages.last.wait_for(state="attached")
    assert stages.evaluate_all("(os) => os.map((o) => o.value)") == ["conv", "act", "pool"]
    assert "активации" in stages.all_inner_texts()
    assert page.locator("#ex-stage-field").is_visible()
    page.select_option("#ex-stage", "act")
    page.select_option("#ex-width", "640")
    with page.expect_request(lambda r: "/api/export/gif" in r.url) as sent:
        with page.expect_download() as download:
            page.click("#ex-gif")
    body = json.loads(sent.value.post_data or "{}")
    assert body["op"] == "activation" and body["function"] == "leaky_relu"
    assert body["negative_slope"] == 0.1
    assert parse_qs(urlparse(sent.value.url).query)["lang"] == ["ru"]
    # The activation reads the convolution's output: one frame per cell of it.
    cells = sum(len(row) for ch in body["input"] for row in ch)
    gif = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert gif.format == "GIF" and gif.n_frames == cells and gif.size[0] == 640
    assert download.value.suggested_filename.startswith("convviz-leaky_relu-")
    with page.expect_download() as download:
        page.click("#ex-png")
    png = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert png.format == "PNG" and png.size == (640, 360)
    assert page.locator("#ex-err").is_hidden()
