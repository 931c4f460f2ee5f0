"""The layer pages' step view as the main page's (issue 13 after issue 10): its numbers
from model/derive.js equal the map's, its worked sum is the main page's own for the
same convolution (followed by its link), the GIF export of one map, embed mode on
/stack and /digits, the drawing pads from the keyboard, and 24-px touch targets."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("CONVVIZ_SHOTS", "/tmp/convviz-shots"))
# Grey checkerboard, 32 px: conv of preset kernels (exact numbers), pool, a strided and
# dilated conv of seeded random filters, an activation.
STACK = "/stack?src=checker&col=grey&sz=32&L=c_3_3_1_1_1_p~m_2_2~c_2_3_2_1_2_r5~a_tanh"


def ready(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.querySelectorAll('.layer-card').length > 1")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text.replace("−", "-"))]


def test_each_step_equals_the_map_and_its_partial_sums_add_up(page, server) -> None:
    ready(page, server + STACK)
    page.get_by_role("button", name="Layer 3, map 2", exact=True).click()
    step = page.locator("#step")
    step.locator(".step-sum").wait_for()
    for n in range(6):
        if n:
            page.locator(".step-map").press("ArrowRight")
            page.wait_for_function(f"() => location.search.includes('at=2.1.{n}')")
        total = step.locator(".step-sum").inner_text()
        got, held = total.split("= ")[-1].split(" (the map holds ")
        assert got.strip() == held.rstrip(")"), total
        partials = [numbers(p)[-1] for p in step.locator(".step-partial").all_inner_texts()]
        assert len(partials) == 3  # the three maps of the layer before, each its partial sum
        # The main page's worked sum (format.js): a line per input map, then the total.
        lines = step.locator(".step-line").all_inner_texts()
        assert [ln.split(":")[0] for ln in lines] == [
            "channel 1",
            "channel 2",
            "channel 3",
            "total",
        ]
        assert [numbers(ln)[-1] for ln in lines[:3]] == partials
        assert lines[-1].endswith(f"= {got.strip()}")
        # Off-map taps (padding 1 at the map's edge) are shown as the zeros they are.
        if n == 0:
            assert step.locator(".step-window td.off").count() > 0
    # A pooled map: the winning tap holds the result.
    page.get_by_role("button", name="Layer 2, map 1", exact=True).click()
    page.wait_for_function("() => location.search.includes('at=1.0.0')")
    win = step.locator(".step-window td.win")
    assert win.count() == 1
    total = step.locator(".step-sum").inner_text()
    assert total.startswith("Maximum of the window")
    assert numbers(win.inner_text())[0] == numbers(total)[0]
    # An activation: before and after.
    page.get_by_role("button", name="Layer 4, map 1", exact=True).click()
    page.wait_for_function("() => location.search.includes('at=3.0.0')")
    assert step.locator(".step-sum").inner_text().startswith("Tanh(")


def test_a_map_opens_the_same_convolution_on_the_main_page(page, server) -> None:
    ready(page, server + STACK)
    page.get_by_role("button", name="Layer 1, map 2", exact=True).click()
    step = page.locator("#step")
    page.locator(".step-map").press("ArrowDown")  # row 1, column 0
    page.locator(".step-map").press("ArrowRight")
    page.wait_for_function("() => location.search.includes('at=0.1.33')")
    here = step.locator(".step-line").all_inner_texts()
    value = step.locator(".step-sum").inner_text().split(" (the map holds ")[1].rstrip(")")
    link = step.get_by_role(
        "link", name="Open this convolution on the main page, with every control"
    )
    href = link.get_attribute("href")
    assert href.startswith("/?") and "step=33" in href and "r=sum" in href
    link.click()
    page.wait_for_function(
        "() => (document.querySelector('#sum')?.textContent || '').includes('=')"
    )
    there = page.locator("#sum").inner_text().splitlines()
    # Both name the cell first, counted from 1 (row 2, column 2); the layer page
    # adds which of the layer's maps it is, the main page holds that filter alone.
    assert there[-1].startswith("O₂₂ = "), there
    assert here[-1].startswith("O[2]₂₂ = "), here
    assert there[-1].removeprefix("O₂₂ = ") == here[-1].removeprefix("O[2]₂₂ = ")
    assert there[:-1] == here[:-1]
    assert there[-1].endswith(f"= {value}")
    # Too large for a link: the step view says so instead.
    ready(page, server + "/stack?src=rings&sz=128&L=c_2_3_1_1_1_p&at=0.0.0")
    page.locator("#step .step-sum").wait_for()
    assert (
        page.locator("#step .step-actions").inner_text().startswith("Its input maps are too large")
    )


def test_a_map_exports_as_a_gif_in_the_page_language(page, server) -> None:
    ready(page, server + STACK + "&lang=ru&at=2.0.0")
    page.locator("#step .step-sum").wait_for()
    with page.expect_request("**/api/export/gif?lang=ru") as req, page.expect_download() as dl:
        page.get_by_role("button", name="Экспорт в GIF").click()
    body = req.value.post_data_json
    assert body["op"] == "conv2d" and body["stride"] == [2, 2] and body["dilation"] == [2, 2]
    assert len(body["input"]) == 3 and len(body["weight"]) == 1 and len(body["weight"][0]) == 3
    path = dl.value.path()
    assert Path(path).read_bytes()[:6] == b"GIF89a"
    assert dl.value.suggested_filename == "convviz-map-1.gif"
    assert page.locator(".step-gif-status").inner_text() == "GIF сохранён."
    # A pooled map exports its pooling of the one map it reads.
    page.get_by_role("button", name="Слой 2, карта 3", exact=True).click()
    with page.expect_request("**/api/export/gif?lang=ru") as req, page.expect_download():
        page.get_by_role("button", name="Экспорт в GIF").click()
    body = req.value.post_data_json
    assert body["op"] == "max_pool2d" and len(body["input"]) == 1 and body["kernel_size"] == [2, 2]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_embedded_stack_fills_the_frame_and_steps_from_the_keyboard(
    page, phone, server, lang
) -> None:
    for p, size in ((page, "desktop"), (phone, "phone")):
        ready(p, server + STACK + f"&lang={lang}&embed=1")
        assert p.locator("header.top").is_hidden() and p.locator("#controls").is_hidden()
        assert p.locator(".layer-card").first.is_visible()
        shot(p, f"stack-embed-{size}-{lang}")
        p.locator("button.thumb").first.click()  # layer 1, map 1
        p.wait_for_function("() => location.search.includes('at=0.0.0')")
        assert p.locator("#overview").is_hidden() and p.locator("#step").is_visible()
        p.locator("body").click(position={"x": 2, "y": 2})
        p.keyboard.press("ArrowRight")
        p.wait_for_function("() => location.search.includes('at=0.0.1')")
        p.keyboard.press("End")
        p.wait_for_function("() => location.search.includes('at=0.0.1023')")
        open_full = p.locator("a.embed-open")
        assert "embed" not in open_full.get_attribute("href")
        assert open_full.inner_text() == (
            "Open in convviz" if lang == "en" else "Открыть в convviz"
        )
        assert p.evaluate("() => document.documentElement.scrollWidth") <= p.viewport_size["width"]
        shot(p, f"stack-embed-step-{size}-{lang}")
        p.locator(".step-close").click()
        p.locator("#overview").wait_for()


def test_embedded_digits_and_the_embed_code(page, server) -> None:
    page.goto(server + "/digits?embed=1&ink=100.20.100.180&at=0.2.0")
    page.locator("#step .step-sum").wait_for()
    assert page.locator("#controls").is_hidden() and page.locator(".vote").is_hidden()
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => location.search.includes('at=0.2.8')")
    shot(page, "digits-embed-step")
    page.locator(".step-close").click()
    page.locator(".vote").wait_for()
    assert page.locator("#says").get_attribute("data-answer") == "1"
    ready(page, server + STACK)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-embed").evaluate("(b) => { b.closest('details').open = true; }")
    page.locator("#copy-embed").click()
    code = page.evaluate("() => navigator.clipboard.readText()")
    assert "embed=1" in code and code.startswith("<iframe")


def test_the_pads_draw_from_the_keyboard(page, server) -> None:
    ready(page, server + "/stack?src=draw&sz=32")
    pad = page.locator("#pad")
    pad.focus()
    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Space")  # pen down
    for _ in range(3):
        page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Space")  # lifted: the stroke is done
    page.wait_for_function("() => location.search.includes('ink=')")
    assert re.search(r"ink=100\.80\.100\.100\.100\.120\.100\.140", page.url), page.url
    assert "lifted" in page.locator("#pad-pen").inner_text()
    page.keyboard.press("Backspace")
    page.wait_for_function("() => !location.search.includes('ink=')")
    # The digit pad: a vertical stroke, drawn with the keys alone, is read as a 1.
    page.goto(server + "/digits")
    page.locator("#filters-learned canvas").first.wait_for()
    page.locator("#pad").focus()
    for _ in range(4):
        page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Space")
    for _ in range(8):
        page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#says').dataset.answer === '1'")
    shot(page, "digits-keyboard")


TARGETS = """() => [...document.querySelectorAll('button, select, input, a, canvas.pad')]
  .filter((e) => e.offsetParent !== null && !e.closest('.sr-only'))
  .map((e) => {
    const r = e.getBoundingClientRect();
    return [e.id || e.className || e.tagName, e.textContent.trim().slice(0, 20), r.width, r.height];
  })
  .filter(([, , w, h]) => w < 24 || h < 24)"""


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_touch_targets_on_a_phone_are_at_least_24_px(phone, server, lang) -> None:
    page = phone
    ready(page, server + f"/stack?src=draw&sz=32&lang={lang}&L=c_2_3_1_1_1_p~m_2_2&at=0.0.0")
    page.locator("#step .step-sum").wait_for()
    assert page.evaluate(TARGETS) == []
    page.locator("#step").scroll_into_view_if_needed()
    shot(page, f"stack-step-phone-{lang}")
    page.goto(server + f"/digits?lang={lang}&ink=100.20.100.180&at=2.0.0")
    page.locator("#step .step-sum").wait_for()
    assert page.evaluate(TARGETS) == []
    page.locator("#step").scroll_into_view_if_needed()
    shot(page, f"digits-step-phone-{lang}")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_desktop_screenshots(page, server, lang) -> None:
    ready(page, server + STACK + f"&lang={lang}&at=2.1.5")
    page.locator("#step .step-sum").wait_for()
    shot(page, f"stack-step-desktop-{lang}")
    page.goto(server + f"/digits?lang={lang}&ink=100.20.100.180&at=3.4.5")
    page.locator("#step .step-sum").wait_for()
    page.locator("#step").scroll_into_view_if_needed()
    shot(page, f"digits-step-desktop-{lang}")
