"""A photo is shown as the picture it is (issue 12, item 2): grey from black to
white, the heat map a switch away; a signed output keeps one diverging palette."""

from __future__ import annotations

import io

import pytest
from PIL import Image

pytestmark = pytest.mark.browser


def _pixels(page, fig: str) -> list[list[int]]:
    """A few pixels of a grid's heat canvas (one pixel per cell)."""
    return page.evaluate(
        """(fig) => {
          const c = document.querySelector(`#grids .fig-${fig} canvas.heat`);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const n = c.width * c.height;
          return [0, Math.floor(n / 3), Math.floor(n / 2), n - 1]
            .map((k) => [...d.slice(k * 4, k * 4 + 3)]);
        }""",
        fig,
    )


def test_an_uploaded_photo_is_drawn_in_grey(page, server: str, tmp_path) -> None:
    img = Image.new("RGB", (24, 16))
    for x in range(24):
        for y in range(16):
            img.putpixel((x, y), (x * 10, 200 - y * 10, (x * y) % 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    path = tmp_path / "photo.png"
    path.write_bytes(buf.getvalue())
    page.goto(server + "/")
    page.locator('table[aria-label^="Output"]').first.wait_for(state="attached")
    page.set_input_files("#file", str(path))
    page.wait_for_function("() => location.search.includes('sch=byte')")
    page.wait_for_function(
        "() => document.querySelector('#grids .fig-input canvas.heat').width === 24"
    )
    grey = _pixels(page, "input")
    assert all(r == g == b for r, g, b in grey), grey
    assert len({r for r, _, _ in grey}) > 1  # shades, not one flat colour
    page.locator("#show-heat").check()
    page.wait_for_function(
        """() => { const c = document.querySelector('#grids .fig-input canvas.heat');
          const d = c.getContext('2d').getImageData(0, 0, 1, 1).data;
          return !(d[0] === d[1] && d[1] === d[2]); }"""
    )


def test_the_output_keeps_the_diverging_palette_for_non_negative_values(page, server) -> None:
    # A 0..1 input and an all-ones kernel: every output value is >= 0.
    page.goto(server + "/?in=1x3x3:1*9&k=1x1x2x2:1*4")
    page.locator('table[aria-label^="Output"]').first.wait_for(state="attached")
    legend = page.locator("#grids .fig-output .legend").first.inner_text()
    assert legend.strip().startswith("−") or legend.strip().startswith("-"), legend
