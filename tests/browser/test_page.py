"""The visualizer in a real browser: what a student and a lecturer do with it."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

pytestmark = pytest.mark.browser


def ready(page, url: str) -> None:
    """Open `url` and wait until the first answer is drawn."""
    page.goto(url)
    page.locator('table[aria-label^="Output"]').first.wait_for(state="attached")


def table(page, name: str) -> list[list[str]]:
    """The numbers of a grid's table, row by row."""
    t = page.get_by_role("table", name=name, exact=True)
    return t.evaluate(
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].slice(1).map(c => c.textContent))"
    )


def wait_cell(page, name: str, r: int, c: int, text: str) -> None:
    """Wait until cell (r, c) of the table `name` reads `text`."""
    page.wait_for_function(
        """([name, r, c, text]) => {
          const t = document.querySelector(`table[aria-label="${name}"]`);
          return !!t && t.tBodies[0].rows[r].cells[c + 1].textContent === text;
        }""",
        arg=[name, r, c, text],
    )


def unfold(page) -> None:
    """Open the settings that start folded (issue 12: what matters most first)."""
    while page.locator("#controls details:not([open])").count():
        page.locator("#controls details:not([open]) > summary").first.click()


def status(page) -> str:
    return page.locator("#step-status").inner_text()


def cell_centre(page, view: str, r: int, c: int) -> tuple[float, float]:
    """Page coordinates of a cell's centre in a grid view (e.g. "input:0")."""
    box = page.locator(f'.gv[data-view="{view}"] canvas.over').bounding_box()
    rows, cols = page.locator(f'.gv[data-view="{view}"]').evaluate(
        "el => [el.querySelector('canvas.heat').height, el.querySelector('canvas.heat').width]"
    )
    return box["x"] + (c + 0.5) * box["width"] / cols, box["y"] + (r + 0.5) * box["height"] / rows


def test_opens_on_the_lecture_example(page, server) -> None:
    ready(page, server + "/")
    out = table(page, "Output")
    assert len(out) == 7 and len(out[0]) == 7
    assert out[0] == ["0.78", "-0.11", "0.11", "0.33", "0.56", "-0.11", "0.33"]
    assert table(page, "Input")[1][1] == "1"
    assert page.locator("html").get_attribute("lang") == "en"
    assert "= 7" in page.locator("#formula-h").inner_text()
    assert page.locator("#features").inner_text() == "9 × 9 × 1 = 81"
    assert page.locator("#params").inner_text().endswith("= 9")
    assert page.locator("#sum").inner_text().endswith("/ 9 = 0.78")
    assert status(page) == "Step 1 of 49: convolution"


def test_every_control_has_a_visible_label(page, server) -> None:
    ready(page, server + "/")
    unfold(page)
    for name in [
        "Stride",
        "Padding",
        "Dilation",
        "Padding mode",
        "Groups",
        "Reduce",
        "Rows",
        "Columns",
        "Kernel rows",
        "Filters",
        "Activation",
        "Pooling",
        "Speed",
        "Step",
    ]:
        control = page.get_by_label(name, exact=True)
        assert control.count() == 1, name
        label = page.locator(f'label[for="{control.get_attribute("id")}"]')
        assert label.is_visible(), name


def test_every_field_and_grid_has_a_name(page, server) -> None:
    ready(page, server + "/?pool=max&act=relu&b=1")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button, .gv, table')]
          .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                        && !(el.tagName === 'BUTTON' && el.textContent.trim()))
          .map(el => el.id || el.className || el.tagName)"""
    )
    assert unnamed == []
    names = page.evaluate(
        "() => [...document.querySelectorAll('table')].map(t => t.getAttribute('aria-label'))"
    )
    for name in ("Input", "Kernel", "Products", "Output", "Activated", "Pooled"):
        assert name in names


def test_painting_a_cell_changes_the_output(page, server) -> None:
    ready(page, server + "/")
    x, y = cell_centre(page, "input:0", 0, 0)
    page.mouse.click(x, y)
    # The first window now holds 1*1 instead of (-1)*1: (7 + 2) / 9 = 1.
    wait_cell(page, "Output", 0, 0, "1")
    assert table(page, "Input")[0][0] == "1"
    assert "in=1x9x9" in page.url
    # A drag paints every cell it crosses with one value (row 8 is all -1).
    page.mouse.move(*cell_centre(page, "input:0", 8, 1))
    page.mouse.down()
    for c in (2, 3, 4):
        page.mouse.move(*cell_centre(page, "input:0", 8, c), steps=3)
    page.mouse.up()
    wait_cell(page, "Input", 8, 4, "1")
    assert table(page, "Input")[8][:6] == ["-1", "1", "1", "1", "1", "-1"]


def test_keyboard_paints_too(page, server) -> None:
    ready(page, server + "/")
    page.locator('.gv[data-view="input:0"]').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    wait_cell(page, "Input", 0, 1, "1")
    assert table(page, "Input")[0][:3] == ["-1", "1", "-1"]


def test_stride_reshapes_the_output(page, server) -> None:
    ready(page, server + "/")
    page.get_by_label("Stride", exact=True).fill("2")
    page.wait_for_function("() => document.querySelector('#formula-h').textContent.endsWith('= 4')")
    out = table(page, "Output")
    assert (len(out), len(out[0])) == (4, 4)
    assert out[0][0] == "0.78"
    assert "s=2" in page.url


def test_an_impossible_combination_is_explained_where_it_happens(page, server, watch) -> None:
    watch.expected.append("status of 422")
    ready(page, server + "/")
    page.get_by_label("Dilation", exact=True).fill("5")
    err = page.locator("#err-dilation")
    err.wait_for(state="visible")
    assert "kernel" in err.inner_text()
    assert page.get_by_label("Dilation", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_role("table", name="Output", exact=True).count() == 0
    page.get_by_label("Dilation", exact=True).fill("2")
    err.wait_for(state="hidden")
    assert len(table(page, "Output")) == 5


def test_an_out_of_range_entry_is_refused_not_clamped(page, server) -> None:
    ready(page, server + "/")
    field = page.get_by_label("Rows", exact=True)
    field.fill("99")
    field.press("Tab")
    assert "3 to 64" in page.locator("#err-in-rows").inner_text()
    assert len(table(page, "Input")) == 9


def test_an_uploaded_png_appears(page, server, tmp_path) -> None:
    ready(page, server + "/")
    img = Image.new("L", (12, 10))
    img.putdata([(r * 12 + c) * 2 for r in range(10) for c in range(12)])
    path = tmp_path / "ramp.png"
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    page.locator("#file").set_input_files(str(path))
    page.wait_for_function(
        "() => document.querySelectorAll('table[aria-label=\"Input\"] tbody tr').length === 10"
    )
    rows = table(page, "Input")
    assert len(rows[0]) == 12
    assert rows[0][:3] == ["0", "2", "4"] and rows[9][11] == "238"
    assert "ramp.png: 10×12" in page.locator("#upload-status").inner_text()
    assert (len(table(page, "Output")), len(table(page, "Output")[0])) == (8, 10)


def test_play_step_and_scrub_move_the_step(page, server) -> None:
    ready(page, server + "/")
    page.get_by_role("button", name="Next").click()
    assert status(page).startswith("Step 2 of 49")
    page.locator("body").press("ArrowRight")
    assert status(page).startswith("Step 3 of 49")
    page.locator("body").press("ArrowLeft")
    assert status(page).startswith("Step 2 of 49")
    page.get_by_role("button", name="End").click()
    assert status(page).startswith("Step 49 of 49")
    page.get_by_role("button", name="Start").click()
    page.get_by_label("Speed").select_option("60")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => window.convviz.step >= 10")
    page.get_by_role("button", name="Pause").click()
    stopped = page.evaluate("window.convviz.step")
    page.wait_for_timeout(200)
    assert page.evaluate("window.convviz.step") == stopped
    scrub = page.get_by_label("Step", exact=True)
    scrub.evaluate(
        "(el) => { el.value = '30'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    assert status(page).startswith("Step 31 of 49")
    assert page.locator("#sum").inner_text().endswith(f"= {table(page, 'Output')[4][2]}")
    assert "step=30" in page.url


def test_hover_shows_the_receptive_field_and_what_a_cell_feeds(page, server) -> None:
    ready(page, server + "/")
    page.mouse.move(*cell_centre(page, "output:0", 2, 3))
    # The worked sum is that of the hovered cell...
    page.wait_for_function("() => document.querySelector('#sum').textContent.endsWith('= -0.33')")
    # ...and its 3x3 window is outlined in the input: rows 2..4, columns 3..5.
    outlined = page.locator('.gv[data-view="input:0"] canvas.over').evaluate(
        """c => {
          const ctx = c.getContext('2d'), n = 9, s = c.width / n;
          const ink = (r, k) =>
            ctx.getImageData(Math.floor((k + 0.5) * s), Math.floor(r * s + 1), 1, 1).data[3];
          return [ink(2, 3), ink(2, 5), ink(0, 0), ink(6, 7)];
        }"""
    )
    assert outlined[0] > 0 and outlined[1] > 0
    assert outlined[2] == 0 and outlined[3] == 0
    # Keyboard focus does the same; the cursor carries on from the cell last hovered.
    page.mouse.move(5, 5)
    page.locator('.gv[data-view="output:0"]').focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    expected = table(page, "Output")[3][4]
    page.wait_for_function(
        "(v) => document.querySelector('#sum').textContent.endsWith('= ' + v)", arg=expected
    )
    page.locator("#btn-play").focus()
    page.mouse.move(*cell_centre(page, "input:0", 4, 4))
    page.wait_for_function("() => document.querySelector('#sum').textContent.includes('9 output')")
    page.mouse.move(5, 5)
    page.wait_for_function(
        "() => document.querySelector('#sum').textContent.endsWith('/ 9 = 0.78')"
    )


def test_pooling_is_animated_after_the_convolution(page, server) -> None:
    ready(page, server + "/?pool=max&pc=1")
    pooled = table(page, "Pooled")
    assert (len(pooled), len(pooled[0])) == (4, 4) and pooled[0][0] == "1"
    assert status(page).startswith("Step 1 of 65")
    page.get_by_role("button", name="End").click()
    assert status(page) == "Step 65 of 65: pooling"
    assert page.locator("#sum").inner_text() == "max(0.78) = 0.78"


def test_several_channels_show_partial_sums_then_total_plus_bias(page, server) -> None:
    # Two input channels (1..16 and all ones), one 3x3 filter per channel (ones, twos).
    ready(
        page,
        server + "/?in=2x4x4:" + ",".join(str(i) for i in range(1, 17)) + ",1*16"
        "&k=1x2x3x3:1*9,2*9&b=0.5&r=sum",
    )
    assert page.get_by_role("table", name="Input, channel 2").count() == 1
    lines = page.locator("#sum").inner_text().splitlines()
    assert lines[0].startswith("channel 1: 1*1 + 2*1 + 3*1") and lines[0].endswith("= 54")
    assert lines[1].startswith("channel 2: 1*2 + ") and lines[1].endswith("= 18")
    assert lines[2] == "total: O₁₁ = 54 + 18 + 0.5 = 72.5"
    assert table(page, "Output") == [["72.5", "81.5"], ["108.5", "117.5"]]


def test_several_filters_give_several_maps(page, server) -> None:
    ready(page, server + "/?k=diagonal~centre_x~anti_diagonal")
    for n in (1, 2, 3):
        assert page.get_by_role("table", name=f"Output, filter {n}", exact=True).count() == 1
    page.get_by_role("button", name="End").click()
    assert status(page) == "Step 147 of 147: convolution"
    assert page.locator("#params").inner_text() == "3 × 1 × 3 × 3 = 27"


def test_russian(page, server) -> None:
    ready_ru = server + "/?lang=ru"
    page.goto(ready_ru)
    page.get_by_role("table", name="Выход", exact=True).wait_for(state="attached")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_label("Шаг", exact=True).count() == 1
    assert page.get_by_role("table", name="Вход", exact=True).count() == 1
    assert page.get_by_role("button", name="Пуск").count() == 1
    assert page.get_by_text("Stride", exact=True).count() == 0
    assert status(page) == "Шаг 1 из 49: свёртка"


def test_language_switch_in_place(page, server) -> None:
    ready(page, server + "/")
    page.get_by_label("Language").select_option("ru")
    page.wait_for_function("() => document.documentElement.lang === 'ru'")
    page.get_by_role("table", name="Выход", exact=True).wait_for(state="attached")
    assert "lang=ru" in page.url
    assert page.get_by_text("Параметры", exact=True).count() == 1
    page.go_back()
    page.wait_for_function("() => document.documentElement.lang === 'en'")


def test_state_in_the_url_survives_reload_and_back(page, server) -> None:
    ready(page, server + "/")
    unfold(page)
    page.get_by_label("Stride", exact=True).fill("2")
    page.wait_for_function("() => location.search.includes('s=2')")
    page.get_by_label("Activation").select_option("relu")
    page.wait_for_function("() => location.search.includes('act=relu')")
    page.reload()
    page.get_by_role("table", name="Activated", exact=True).wait_for(state="attached")
    assert page.get_by_label("Stride", exact=True).input_value() == "2"
    assert len(table(page, "Output")) == 4
    page.go_back()
    page.wait_for_function("() => !location.search.includes('act=relu')")
    page.get_by_role("table", name="Activated", exact=True).wait_for(state="detached")
    assert page.get_by_label("Activation").input_value() == "none"


def test_a_lecture_example_loads_with_its_true_result(page, server) -> None:
    ready(page, server + "/")
    unfold(page)
    page.get_by_label("Example").select_option("padding")
    page.wait_for_function("() => location.search.includes('p=1')")
    page.wait_for_function(
        "() => document.querySelectorAll('table[aria-label=\"Output\"] tbody tr').length === 3"
    )
    assert table(page, "Output") == [["1", "5", "6"], ["7", "8", "3"], ["3", "10", "4"]]


def test_phone_layout_fits(phone, server) -> None:
    ready(phone, server + "/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    assert table(phone, "Output")[0][0] == "0.78"
    box = phone.locator('.gv[data-view="input:0"]').bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    # A tap paints, as a click does.
    phone.touchscreen.tap(*cell_centre(phone, "input:0", 0, 0))
    wait_cell(phone, "Output", 0, 0, "1")


def test_focus_is_visible(page, server) -> None:
    ready(page, server + "/")
    page.locator("body").press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    assert re.match(
        r"^(SELECT|A|INPUT|BUTTON|SUMMARY)$", page.evaluate("document.activeElement.tagName")
    )


def test_kernel_editor_sizes_and_bias(page, server) -> None:
    ready(page, server + "/?r=sum")
    kernel = page.get_by_role("table", name="Kernel", exact=True)
    kernel.get_by_label("row 1, column 1").fill("0")
    # The first window: the sum of products loses its 1*(-1) term... (-1)*0 now: 7 - (-1)*1 = 8.
    wait_cell(page, "Output", 0, 0, "8")
    assert "k=1x1x3x3" in page.url
    page.get_by_label("Kernel columns", exact=True).fill("5")
    page.wait_for_function("() => document.querySelector('#formula-w').textContent.endsWith('= 5')")
    assert page.locator("#params").inner_text() == "1 × 1 × 3 × 5 = 15"
    page.get_by_label("Add a bias").check()
    page.get_by_label("Bias", exact=True).fill("10")
    page.wait_for_function("() => document.querySelector('#params').textContent.endsWith('= 16')")
    # The bias counts in the parameters as soon as it is added, whatever its value:
    # wait for the answer with the whole value, its sum ending in "+ 10 = " the
    # output's first cell (not a sum drawn before the last keystroke's answer).
    page.wait_for_function(
        """() => {
          const out = document.querySelector('table[aria-label="Output"]');
          const cell = out && out.tBodies[0].rows[0].cells[1].textContent;
          return !!cell && document.querySelector('#sum').textContent.endsWith(`+ 10 = ${cell}`);
        }"""
    )
    assert page.locator("#sum").inner_text().endswith(f"+ 10 = {table(page, 'Output')[0][0]}")


def test_padding_same_keeps_the_size_and_is_drawn_as_padding(page, server, watch) -> None:
    watch.expected.append("status of 422")
    ready(page, server + "/")
    page.get_by_label("Padding", exact=True).select_option("same")
    page.wait_for_function("() => location.search.includes('p=same')")
    wait_rows = "() => document.querySelectorAll('table[aria-label=\"Output\"] tbody tr').length"
    page.wait_for_function(f"{wait_rows} === 9")
    rows, cols = page.locator('.gv[data-view="input:0"] canvas.heat').evaluate(
        "c => [c.height, c.width]"
    )
    assert (rows, cols) == (11, 11), "the padded grid is drawn, padding included"
    assert len(table(page, "Input")) == 9, "the Input table holds the input, not the padding"
    # PyTorch refuses 'same' with a stride: the page prevents it and says why (issue 12).
    assert page.get_by_label("Stride", exact=True).is_disabled()
    assert "same" in page.locator("#prevent-note").inner_text()


def test_value_scheme_and_tools(page, server) -> None:
    ready(page, server + "/")
    page.get_by_label("Values").select_option("unit")
    wait_cell(page, "Input", 1, 1, "1")
    assert table(page, "Input")[0][0] == "0"
    page.get_by_role("button", name="Invert").click()
    wait_cell(page, "Input", 0, 0, "1")
    page.get_by_role("button", name="Shift right").click()
    wait_cell(page, "Input", 1, 2, "0")
    assert table(page, "Input")[1][0] == "0", "the background comes in from the left"
    page.get_by_role("button", name="Clear").click()
    wait_cell(page, "Input", 4, 4, "0")


def test_an_uploaded_photo_travels_as_base64_and_gives_the_same_numbers(
    page, server, tmp_path
) -> None:
    # 40 x 40 = 1,600 numbers (grey, the default mode): image-sized, so the page sends
    # and asks for the compact {dtype, shape, base64} form; lecture-size requests
    # stay nested lists.
    img = Image.new("RGB", (40, 40))
    pixels = [((x * 6) % 256, (y * 6) % 256, (x * y) % 256) for y in range(40) for x in range(40)]
    img.putdata(pixels)
    path = tmp_path / "photo.png"
    img.save(path)
    ready(page, server + "/")
    urls = []
    page.on("request", lambda r: urls.append(r.url) if "/api/" in r.url else None)
    with page.expect_request(lambda r: r.url.startswith(server + "/api/conv2d")) as conv:
        page.locator("#file").set_input_files(str(path))
    assert server + "/api/images?encoding=base64" in urls
    request = conv.value
    assert request.url == server + "/api/conv2d?encoding=base64"
    body = request.post_data_json
    assert set(body["input"]) == {"dtype", "shape", "base64"}
    assert body["input"]["shape"] == [1, 40, 40]
    page.wait_for_function(
        "() => { const c = window.convviz.app.results.conv;"
        " return !!c && c.output.length === 1 && c.output[0].length === 38; }"
    )
    shown = page.evaluate("window.convviz.app.results.conv.output")
    # The same request with nested lists, straight to the API: the same numbers.
    import base64

    import httpx2 as httpx
    import numpy as np

    raw = base64.b64decode(body["input"]["base64"])
    sent = np.frombuffer(raw, "<f4").reshape(1, 40, 40)
    upload = httpx.post(
        server + "/api/images", files={"file": path.read_bytes()}, data={"mode": "grey"}
    ).json()
    np.testing.assert_array_equal(sent, upload["input"])  # the photo, exactly, both ways
    plain = httpx.post(server + "/api/conv2d", json={**body, "input": sent.tolist()}).json()
    np.testing.assert_allclose(shown, plain["output"], rtol=1e-6, atol=1e-4)
    assert page.locator("#upload-status").inner_text().startswith("photo.png: 40×40")


def test_a_typed_value_is_asked_for_once(page, server) -> None:
    # Typing applies the value; leaving the field ("change") must not ask the API
    # for the same state again.
    ready(page, server + "/")
    page.wait_for_load_state("networkidle")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/conv2d" in r.url else None)
    page.fill("#in-rows", "8")
    page.locator("#in-rows").blur()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => window.convviz.app.results.conv.output[0].length === 6")
    assert len(asked) == 1, asked
    # A select still applies every choice, the same one again after another.
    page.select_option("#reduce", "sum")
    page.select_option("#reduce", "mean")
    page.wait_for_load_state("networkidle")
    assert len(asked) == 3, asked
