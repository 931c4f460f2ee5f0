"""A photo is shown as the picture it is (issue 12, item 2): grey from black to
white, the heat map a switch away; a signed output keeps one diverging palette."""

from __future__ import annotations

import io

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
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


def _png(tmp_path, name: str, img: Image.Image) -> str:
    path = tmp_path / name
    img.save(path, "PNG")
    return str(path)


def _upload(page, server: str, query: str, path: str) -> None:
    page.goto(server + "/" + query)
    page.wait_for_function("() => window.convviz && window.convviz.total > 0")
    page.set_input_files("#file", path)
    page.wait_for_function("() => location.search.includes('sch=byte')")
    page.wait_for_function(
        "() => window.convviz.app.results.conv && window.convviz.app.state.scheme === 'byte'"
        " && document.querySelector('#grids .fig-output canvas.heat')"
    )


def _canvas(page, view: str) -> dict:
    """A view's heat canvas: one RGBA pixel per cell."""
    return page.evaluate(
        """(view) => {
          const c = document.querySelector(`.gv[data-view="${view}"] canvas.heat`);
          return { w: c.width, h: c.height,
                   d: [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data] };
        }""",
        view,
    )


def test_an_rgb_photo_is_one_true_colour_picture(page, server: str, tmp_path) -> None:
    # Red, green and blue bands, 10 columns each.
    img = Image.new("RGB", (30, 12))
    bands = [(230, 20, 10), (15, 210, 25), (5, 30, 240)]
    for x in range(30):
        for y in range(12):
            img.putpixel((x, y), bands[x // 10])
    _upload(page, server, "?um=rgb", _png(tmp_path, "rgb.png", img))
    page.wait_for_function(
        "() => document.querySelector('.gv[data-view=\"input:0\"] canvas.heat').width === 30"
    )
    # One picture, not three maps.
    assert page.locator("#grids .fig-input .gv").count() == 1
    shown = _canvas(page, "input:0")
    state = page.evaluate("window.convviz.app.state.input")
    assert len(state) == 3
    for x in (4, 15, 25):
        k = (6 * shown["w"] + x) * 4
        pixel = shown["d"][k : k + 3]
        # The picture's own colour: the three channels' values at that pixel.
        assert pixel == [round(state[ch][6][x]) for ch in range(3)], (x, pixel)
    reds = shown["d"][(6 * 30 + 4) * 4 : (6 * 30 + 4) * 4 + 3]
    assert reds[0] > 200 and reds[1] < 60 and reds[2] < 60, reds
    # The window of the sliding kernel is drawn on the picture.
    marked = page.evaluate(
        """() => { const c = document.querySelector('.gv[data-view="input:0"] canvas.over');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""
    )
    assert marked > 0
    # The three channels stay in the tables, and the switch shows three heat maps.
    assert page.locator("#grids .fig-input table.numbers").count() == 3
    page.locator("#show-heat").check()
    page.wait_for_function("() => document.querySelectorAll('#grids .fig-input .gv').length === 3")
    heat = _canvas(page, "input:0")
    k = (6 * 30 + 4) * 4
    assert heat["d"][k : k + 3] != shown["d"][k : k + 3]


def _clamp(v: float) -> int:
    return max(0, min(255, round(v)))


def test_sobel_on_a_photo_sums_and_draws_its_output_as_a_grey_picture(
    page, server: str, tmp_path
) -> None:
    img = Image.new("L", (20, 14))
    for x in range(20):
        for y in range(14):
            img.putpixel((x, y), 240 if x >= 9 else (x * 12 + y * 5) % 120)
    _upload(page, server, "", _png(tmp_path, "grey.png", img))
    # The X/O filter sets the lecture's mean; Sobel sets sum, through the URL.
    page.select_option("#kpreset", "diagonal")
    page.wait_for_function("() => document.querySelector('#reduce').value === 'mean'")
    assert "r=sum" not in page.evaluate("location.search")
    page.select_option("#kpreset", "sobel_x")
    page.wait_for_function("() => document.querySelector('#reduce').value === 'sum'")
    page.wait_for_function("() => location.search.includes('r=sum')")
    page.wait_for_function(
        "() => { const r = window.convviz.app.results.conv;"
        " return r && r.output[0].length === 12 && window.convviz.app.state.weight === 'sobel_x'; }"
    )
    x = page.evaluate("window.convviz.app.state.input[0]")
    w = page.evaluate("window.convviz.app.presets.kernels.sobel_x.weight")
    out = page.evaluate("window.convviz.app.results.conv.output[0]")
    # The plain sum of products, not divided by 9.
    for r in range(len(out)):
        for c in range(len(out[0])):
            want = sum(w[i][j] * x[r + i][c + j] for i in range(3) for j in range(3))
            assert out[r][c] == pytest.approx(want, abs=1e-3), (r, c)
    assert min(min(row) for row in out) < 0 < max(max(row) for row in out)
    # Drawn as a picture: grey, the value clamped to 0..255.
    page.wait_for_function(
        "() => document.querySelector('.gv[data-view=\"output:0\"] canvas.heat').width === 18"
    )
    shown = _canvas(page, "output:0")
    cells = [(r, c) for r in range(0, 12, 3) for c in range(0, 18, 2)]
    for r, c in cells:
        k = (r * 18 + c) * 4
        rr, gg, bb = shown["d"][k : k + 3]
        assert rr == gg == bb, (r, c)
        assert abs(rr - _clamp(out[r][c])) <= 1, (r, c, rr, out[r][c])
    assert {_clamp(out[r][c]) for r, c in cells} >= {0, 255}  # both clamps sampled
    # The switch turns it back into the diverging heat map.
    page.locator("#show-heat").check()
    page.wait_for_function(
        """() => { const d = document.querySelector('.gv[data-view="output:0"] canvas.heat')
          .getContext('2d').getImageData(0, 0, 18, 12).data;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) return true;
          }
          return false; }"""
    )
    # The user can still choose mean afterwards.
    page.select_option("#reduce", "mean")
    page.wait_for_function("() => window.convviz.app.state.reduce === 'mean'")


def test_table_step_text_and_formula_count_a_cell_alike(page, server: str) -> None:
    page.goto(server + "/")
    page.wait_for_function("() => window.convviz && window.convviz.total > 0")
    page.locator("#show-tables").check()
    out = page.evaluate("window.convviz.app.results.conv.output[0]")
    cols = len(out[0])
    r, c = 1, 2  # Python's indices of the cell: row 2, column 3 for a human
    page.get_by_label("Step", exact=True).evaluate(
        "(el, n) => { el.value = String(n); el.dispatchEvent(new Event('input')); }",
        r * cols + c,
    )
    value = page.evaluate(
        """async (v) => (await import('/static/js/core/format.js')).fmt(v)""", out[r][c]
    )
    step_text = page.locator("#sum").inner_text()
    assert step_text.startswith("O₂₃ = "), step_text
    assert step_text.endswith(f"= {value}")
    # Its first product is X₂₃·W₁₁: the input's row 2, column 3 (Python's [1][2]).
    first = page.evaluate(
        """async ([r, c]) => { const { factor } = await import('/static/js/core/format.js');
          const x = window.convviz.app.inputTensor()[0][r][c];
          const w = window.convviz.app.weightTensor(1)[0][0][0][0];
          return `${factor(x)}*${factor(w)}`; }""",
        [r, c],
    )
    assert step_text.split(" + ")[0].removeprefix("O₂₃ = (") == first, (step_text, first)
    # The table: the header of the row and column that hold the value.
    table = page.locator('#grids .fig-output table[aria-label^="Output"]').first
    cols_head = table.locator("thead th").all_inner_texts()
    assert cols_head[:3] == ["1", "2", "3"]
    row = table.locator("tbody tr").nth(r)
    assert row.locator("th").inner_text() == "2"
    assert row.locator("td").nth(c).inner_text() == value
    assert cols_head[c] == "3"
    # The formula (slide 12) of the same cell, on the backward view of the same layer.
    page.goto(server + "/?view=backward&loss=sum")
    page.wait_for_function("() => document.querySelectorAll('#eq-cols li').length > 3")
    formula = page.locator("#eq-cols section.eq").first.locator("li").nth(r * cols + c)
    text = formula.text_content()
    assert text.startswith("O₂₃ = ") and "W₁₁·X₂₃ + W₁₂·X₂₄" in text, text


def test_a_photo_uploaded_over_the_xo_filter_starts_on_the_outline_kernel(
    page, server: str, tmp_path
) -> None:
    # A dark square on a light ground: the X/O diagonal would make every sum
    # negative (a black picture); the outline kernel draws the square's edge.
    img = Image.new("L", (20, 20), 200)
    for x in range(6, 14):
        for y in range(6, 14):
            img.putpixel((x, y), 40)
    _upload(page, server, "", _png(tmp_path, "square.png", img))
    page.wait_for_function("() => window.convviz.app.state.weight === 'outline'")
    assert "k=outline" in page.evaluate("location.search")
    assert page.evaluate("window.convviz.app.state.reduce") == "sum"
    page.wait_for_function("() => window.convviz.app.results.conv.output[0].length === 18")
    out = np.array(page.evaluate("window.convviz.app.results.conv.output[0]"))
    x = np.asarray(img, dtype=float)
    outline = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float)
    want = (sliding_window_view(x, (3, 3)) * outline).sum(axis=(2, 3))
    np.testing.assert_allclose(out, want, atol=1e-3)
    # Flat ground and flat square give 0; the ring just outside the square is
    # bright (160), the ring just inside is dark (-800): an outline, not black.
    assert out[0][0] == 0 and out[4][4] == 160 and out[5][5] == -800
