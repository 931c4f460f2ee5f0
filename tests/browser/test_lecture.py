"""The lecture mode in a real browser: scenes with the slides' numbers, the embed
view framed by another origin and stepped with a clicker's keys, the share,
export and code panels, and the true-convolution switch."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from PIL import Image

from tests.browser.test_page import ready, table, wait_cell

pytestmark = pytest.mark.browser

SCENES = json.loads(
    (Path(__file__).resolve().parents[2] / "static" / "lecture" / "scenes.json").read_text()
)
QUERY = {s["id"]: s.get("query", "") for s in SCENES}


def numbers(rows: list[list[str]]) -> list[list[float]]:
    return [[float(v) for v in row] for row in rows]


def wait_status(frame, text: str) -> None:
    frame.wait_for_function(
        "t => document.getElementById('step-status').textContent === t", arg=text
    )


# ---------------------------------------------------------------- the lecture index


def test_the_index_lists_every_scene_in_slide_order(page, server) -> None:
    page.goto(server + "/lecture")
    hrefs = page.locator(".scene-list a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert hrefs == [f"/lecture/{s['id']}" for s in SCENES]
    assert page.locator(".scene-list li").first.inner_text().startswith("SLIDE 1")
    page.get_by_role("link", name="Padding").click()
    page.wait_for_url("**/lecture/padding?in=*")
    assert table(page, "Output") == [["1", "5", "6"], ["7", "8", "3"], ["3", "10", "4"]]


def test_the_lecture_in_russian(page, server) -> None:
    page.goto(server + "/lecture?lang=ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("main h2").inner_text() == "Сверточные сети, слайд за слайдом"
    hrefs = page.locator(".scene-list a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert all(h.endswith("?lang=ru") for h in hrefs)
    page.locator(".scene-list a").first.click()
    assert "Зачем нужны сверточные сети" in page.locator("main").inner_text()
    page.get_by_role("link", name="Дальше: Что видит компьютер: числа →").click()
    page.locator('table[aria-label="Выход"]').wait_for(state="attached")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert "49 152" in page.locator("#scene-text, .scene-text").inner_text()
    assert page.locator("#wf-n").inner_text() == "= 49152 признаков"


# ---------------------------------------------------------------- each scene's numbers


@pytest.mark.parametrize(
    ("scene", "name", "expected"),
    [
        ("padding", "Output", [[1, 5, 6], [7, 8, 3], [3, 10, 4]]),
        ("kernel-size", "Output", [[122, 148], [126, 134]]),
        ("backprop", "Output", [[5, 4], [2, 1]]),
        ("grad-weight", "Output", [[0, 5], [5, 6]]),
        ("grad-input", "Output", [[1, -1, 0], [1, 3, -2], [-2, 4, 0]]),
    ],
)
def test_a_scene_opens_with_the_slide_numbers(page, server, scene, name, expected) -> None:
    ready(page, f"{server}/lecture/{scene}")
    assert numbers(table(page, name)) == expected
    assert page.locator("#scene h2").inner_text()


def test_the_xo_scene(page, server) -> None:
    ready(page, server + "/lecture/xo")
    out = table(page, "Output")
    assert out[0] == ["0.78", "-0.11", "0.11", "0.33", "0.56", "-0.11", "0.33"]
    assert out[3][3] == "0.56"  # 5/9, the deck's 0.55
    wait_cell(page, "Pooled", 0, 0, "1")
    pooled = table(page, "Pooled")
    assert len(pooled) == 4 and len(pooled[0]) == 4
    assert page.locator("#step-status").inner_text() == "Step 1 of 65: convolution"
    # A variant is a link in the same state format.
    page.get_by_role("link", name="the O glyph").click()
    page.wait_for_url("**in=o*")
    page.wait_for_function("() => document.querySelector('#glyph').value === 'o'")


def test_the_padding_scene_says_the_deck_was_garbled(page, server) -> None:
    ready(page, server + "/lecture/padding")
    text = page.locator("#scene").inner_text()
    assert "[[1, 5, 6], [7, 8, 3], [3, 10, 4]]" in text
    assert "garbled" in text
    assert "= 3" in page.locator("#formula-h").inner_text()
    # Typing other numbers gives their true result: a 1 in the kernel's centre (row 2,
    # column 2, counted from 1 as the page counts) adds the input under it, input[2r][2c].
    kernel = page.get_by_role("table", name="Kernel", exact=True)
    kernel.get_by_label("row 2, column 2").fill("1")
    wait_cell(page, "Output", 0, 0, "3")
    assert numbers(table(page, "Output")) == [[3, 8, 9], [9, 8, 6], [6, 10, 7]]


def test_the_pixels_scene_counts_features(page, server) -> None:
    ready(page, server + "/lecture/pixels")
    assert page.locator("#features").inner_text() == "20 × 20 × 1 = 400"
    assert table(page, "Input")[0][:4] == ["5", "2", "22", "97"]
    assert table(page, "Output") == table(page, "Input")
    assert page.locator("#wf-n").inner_text() == "= 49152 features"
    page.fill("#wf-c", "1")
    assert page.locator("#wf-n").inner_text() == "= 16384 features"


def test_the_weights_scene_counts_parameters(page, server) -> None:
    ready(page, server + "/lecture/weights")
    assert page.locator("#params").inner_text() == "2 × 3 × 3 × 3 + 2 = 56"
    assert "3 channels (RGB): 3 · K · k · k = 54" in page.locator("#wp-out").inner_text()
    page.fill("#wp-d", "16")
    assert "D channels: D · K · k · k = 288" in page.locator("#wp-out").inner_text()


def test_the_translation_scene_keeps_the_largest_value(page, server) -> None:
    ready(page, server + "/lecture/translation")
    out = page.locator("#ws-out")
    page.wait_for_function("() => document.getElementById('ws-out').textContent !== ''")
    assert "1 at row 1, column 2" in out.inner_text()
    page.get_by_role("button", name="Left", exact=True).click()
    page.wait_for_function(
        "() => document.getElementById('ws-out').textContent.includes('column 1;')"
    )
    assert "of the pooled map: 1." in out.inner_text()
    assert table(page, "Output")[0][0] == "0.78"


def test_a_scene_switches_language_in_place(page, server) -> None:
    ready(page, server + "/lecture/padding")
    page.select_option("#lang", "ru")
    page.wait_for_function(
        "() => document.getElementById('scene-title').textContent === 'Дополнение (padding)'"
    )
    assert "искажены" in page.locator("#scene").inner_text()
    assert page.title().startswith("Дополнение")
    assert "lang=ru" in page.url and "/lecture/padding?" in page.url
    assert page.locator("a[rel=next]").get_attribute("href") == "/lecture/stride?lang=ru"


def test_a_scene_fits_a_phone(phone, server) -> None:
    phone.goto(server + "/lecture/padding?lang=ru")
    phone.locator('table[aria-label="Выход"]').wait_for(state="attached")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "искажены" in phone.locator("#scene").inner_text()


# ---------------------------------------------------------------- the switch


def test_true_convolution_flips_the_kernel_sent(page, server) -> None:
    ready(page, server + "/lecture/backprop")
    page.get_by_label("True convolution (kernel turned 180°)").check()
    wait_cell(page, "Output", 0, 0, "2")
    assert numbers(table(page, "Output")) == [[2, 1], [3, 6]]
    assert "flip=1" in page.url
    assert page.locator(".fig-kernel .title").inner_text() == "Kernel, turned 180°"
    assert "cross-correlation" in page.locator("#flip-note").inner_text()
    page.reload()
    wait_cell(page, "Output", 0, 0, "2")
    assert page.locator("#flip").is_checked()


# ---------------------------------------------------------------- the embed view


class _Frames(BaseHTTPRequestHandler):
    """Another origin: /frame?src=...&w=...&h=... is a page holding one iframe."""

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        if url.path != "/frame":  # the browser's favicon request
            self.send_response(204)
            self.end_headers()
            return
        q = parse_qs(url.query)
        src = q["src"][0].replace("&", "&amp;").replace('"', "&quot;")
        body = (
            "<!doctype html><title>slides</title><body style='margin:0'>"
            f'<iframe src="{src}" width="{q["w"][0]}" height="{q["h"][0]}"'
            ' style="border:0"></iframe>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Frames)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("width", "height"), [(960, 540), (800, 600)])
def test_the_embed_view_in_another_sites_frame(page, server, other_origin, width, height) -> None:
    src = f"{server}/embed?{QUERY['padding']}&controls=0&theme=high-contrast"
    page.goto(f"{other_origin}/frame?w={width}&h={height}&src={quote(src)}")
    page.wait_for_function("() => document.querySelector('iframe') !== null")
    frame = page.frames[1]
    frame.wait_for_function("() => document.documentElement.dataset.ready === '1'")
    assert urlparse(frame.url).port != urlparse(page.url).port
    wait_status(frame, "1 / 9")
    assert frame.locator("#player").is_hidden()
    # A click gives the frame the focus; then the clicker's keys step.
    frame.locator(".fig-output canvas.over").click()
    for key, expected in [
        ("ArrowRight", "2 / 9"),
        ("PageDown", "3 / 9"),
        (" ", "4 / 9"),
        ("ArrowLeft", "3 / 9"),
        ("PageUp", "2 / 9"),
        ("End", "9 / 9"),
    ]:
        page.keyboard.press(key)
        wait_status(frame, expected)
    assert "= 4" in frame.locator("#sum").inner_text()
    # It fills the frame and nothing scrolls.
    size = frame.evaluate(
        """() => ({sw: document.documentElement.scrollWidth,
                  sh: document.documentElement.scrollHeight, w: innerWidth, h: innerHeight,
                  grids: [document.getElementById('grids').scrollHeight,
                          document.getElementById('grids').clientHeight]})"""
    )
    assert (size["w"], size["h"]) == (width, height)
    assert size["sw"] <= width and size["sh"] <= height
    assert size["grids"][0] <= size["grids"][1] + 1
    out = frame.locator('table[aria-label="Output"]')
    assert out.evaluate("t => t.tBodies[0].rows[2].cells[2].textContent") == "10"


def test_the_embed_view_autoplays_with_its_options(page, server) -> None:
    page.goto(f"{server}/embed?{QUERY['kernel-size']}&autoplay=1&sp=60&theme=dark&fs=1.5")
    page.wait_for_function("() => document.getElementById('step-status').textContent === '4 / 4'")
    assert page.locator("html").get_attribute("data-theme") == "dark"
    # fs=1.5 grows the text (the formula's --ts), not the controls (docs/EMBED.md).
    assert (
        page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--ts')")
        == "1.5"
    )
    assert page.locator("#player").is_visible()
    href = page.locator("#open-full").get_attribute("href")
    assert href.startswith("/?in=1x4x4:") and "autoplay" not in href


# ---------------------------------------------------------------- share, export, code


def test_the_share_panel(page, server) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ready(page, server + "/lecture/padding")
    page.get_by_text("Share and embed").click()
    assert page.input_value("#sh-link") == page.url
    page.uncheck("#sh-controls")
    page.check("#sh-autoplay")
    page.select_option("#sh-theme", "high-contrast")
    page.fill("#sh-step", "3")
    embed = page.input_value("#sh-embed")
    options = "step=2&controls=0&autoplay=1&theme=high-contrast"
    assert embed == f"{server}/embed?{QUERY['padding']}&{options}"
    assert f'src="{embed.replace("&", "&amp;")}" width="960" height="540"' in page.input_value(
        "#sh-iframe"
    )
    page.select_option("#sh-shape", "4:3")
    reveal = page.input_value("#sh-reveal")
    assert reveal.startswith(f'<section>\n  <iframe data-src="{embed.replace("&", "&amp;")}"')
    assert 'width="800" height="600"' in reveal
    page.locator("[data-copy=sh-iframe]").click()
    page.wait_for_function("() => document.getElementById('sh-status').textContent === 'Copied.'")
    assert page.evaluate("navigator.clipboard.readText()") == page.input_value("#sh-iframe")


def test_exports_download_a_gif_a_png_and_the_tensors(page, server) -> None:
    ready(page, server + "/lecture/padding")
    page.get_by_text("Export: GIF, PNG, JSON").click()
    page.fill("#ex-frame", "300")
    page.select_option("#ex-width", "640")
    with page.expect_download() as download:
        page.click("#ex-gif")
    gif = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert gif.format == "GIF" and gif.n_frames == 9  # one per step
    assert gif.size[0] == 640 and gif.info["duration"] == 300
    assert download.value.suggested_filename.endswith(".gif")
    assert page.locator("#ex-preview").is_visible()
    page.keyboard.press("End")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download step 9 (PNG)").click()
    png = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert png.format == "PNG" and png.size[0] == 640
    with page.expect_download() as download:
        page.click("#ex-json")
    doc = json.loads(Path(download.value.path()).read_text())
    assert doc["output"] == [[[1, 5, 6], [7, 8, 3], [3, 10, 4]]]


def test_a_gif_exported_from_the_russian_page_is_russian(page, server) -> None:
    page.goto(server + "/lecture/padding?lang=ru")
    page.locator('table[aria-label^="Выход"]').first.wait_for(state="attached")
    page.get_by_text("Экспорт: GIF, PNG, JSON").click()
    page.select_option("#ex-width", "640")
    with page.expect_request(lambda r: "/api/export/gif" in r.url) as sent:
        with page.expect_download() as download:
            page.click("#ex-gif")
    query = parse_qs(urlparse(sent.value.url).query)
    assert query["lang"] == ["ru"]
    body = json.loads(sent.value.post_data or "{}")
    exported = Path(download.value.path()).read_bytes()
    # What the page downloaded is the server's Russian GIF, not its English one (the
    # Russian words themselves are checked in tests/export/test_words.py).
    url = server + "/api/export/gif?" + urlparse(sent.value.url).query
    russian = page.request.post(url, data=body).body()
    english = page.request.post(url.replace("lang=ru", "lang=en"), data=body).body()
    assert exported == russian and exported != english


def test_an_export_over_the_limits_says_why(page, server, watch) -> None:
    watch.expected.append("status of 422")
    # 40x40 with a 1x1 kernel: a frame would draw 3,201 cells, too small to read. (A
    # step count over the frame budget is no longer refused: the GIF samples the steps.)
    ready(page, server + "/?in=1x40x40:0*1600&sch=unit")
    page.get_by_text("Export: GIF, PNG, JSON").click()
    page.click("#ex-gif")
    err = page.locator("#ex-err")
    err.wait_for()
    # The English page keeps the server's precise sentence: the limit and the fix.
    assert "over the limit" in err.inner_text() and "use a smaller input" in err.inner_text()


def test_a_gif_of_any_size_every_k_th_step_or_one_frame_a_row(page, server) -> None:
    # 28 x 28 = 784 steps, past the 256-frame budget: every 4th step, or one frame a row.
    ready(page, server + "/?in=1x30x30:0*900&sch=unit")
    page.get_by_text("Export: GIF, PNG, JSON").click()
    page.select_option("#ex-width", "640")
    with page.expect_download() as download:
        page.click("#ex-gif")
    gif = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert gif.n_frames == len(range(0, 783, 4)) + 1
    page.get_by_label("Frames").select_option("row")
    with page.expect_download() as download:
        page.click("#ex-gif")
    gif = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert gif.n_frames == 28


def _run(code: str) -> list:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


def test_the_code_panel_runs_and_gives_the_page_numbers(page, server) -> None:
    ready(page, server + "/lecture/xo")
    page.get_by_text("Code: PyTorch and curl").click()
    code = "document.getElementById('cp-py')?.textContent"
    page.wait_for_function(f"() => {code}?.includes('F.conv2d')")
    out = _run(page.locator("#cp-py").text_content())
    shown = numbers(table(page, "Output"))
    pairs = [
        (a, b) for ra, rb in zip(out[0], shown, strict=True) for a, b in zip(ra, rb, strict=True)
    ]
    assert len(pairs) == 49 and all(abs(a - b) <= 0.005 for a, b in pairs)  # shown: 2 decimals
    curl = page.locator("#cp-curl").text_content()
    assert curl.startswith(f"curl -sS -X POST {server}/api/conv2d")
    # True convolution: the code carries the turned kernel and says so.
    page.goto(server + "/lecture/kernel-size")
    page.locator('table[aria-label="Output"]').wait_for(state="attached")
    page.get_by_label("True convolution (kernel turned 180°)").check()
    page.get_by_text("Code: PyTorch and curl").click()
    page.wait_for_function(f"() => {code}?.startsWith('# True convolution')")
    assert page.locator("#cp-flip").is_visible()
    out = _run(page.locator("#cp-py").text_content())
    wait_cell(page, "Output", 0, 0, f"{out[0][0][0]:g}")
    assert out[0] == numbers(table(page, "Output"))
    assert out[0] != [[122, 148], [126, 134]]
