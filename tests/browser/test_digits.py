"""The digit page in Chromium: twenty digits drawn with pointer strokes (two styles of
each), the answer after every stroke, the step view of a map, keyboard, Russian, phone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser.digit_drawings import DRAWINGS

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("CONVVIZ_SHOTS", "/tmp/convviz-shots"))


def ready(page, url: str) -> None:
    page.goto(url)
    page.locator("#filters-learned canvas").first.wait_for()


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Each stroke as a hand draws it: press, move through its points in small steps, lift."""
    page.locator("#pad").scroll_into_view_if_needed()
    box = page.locator("#pad").bounding_box()
    at = lambda p: (box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"])  # noqa: E731
    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for p in stroke[1:]:
            page.mouse.move(*at(p), steps=3)
        page.mouse.up()


def answer_after(page, action) -> str:
    seq = page.locator("#says").get_attribute("data-seq") or "0"
    action()
    page.wait_for_function(
        f"() => Number(document.querySelector('#says').dataset.seq || 0) > {seq}"
    )
    return page.locator("#says").get_attribute("data-answer") or ""


def test_twenty_drawn_digits_are_read_and_the_answer_follows_each_stroke(page, server) -> None:
    ready(page, server + "/digits")
    results = []
    for digit, styles in DRAWINGS.items():
        for style, strokes in enumerate(styles):
            page.get_by_role("button", name="Clear").click()
            page.wait_for_function("() => !location.search.includes('ink=')")
            got = ""
            for stroke in strokes:
                # The answer updates at the end of every stroke, not only the last.
                got = answer_after(page, lambda stroke=stroke: draw(page, [stroke]))
            assert page.locator("#says").inner_text().startswith("The network says")
            results.append({"digit": digit, "style": style, "answer": got})
    right = sum(r["digit"] == r["answer"] for r in results)
    accuracy = right / len(results)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "digits-accuracy.json").write_text(
        json.dumps({"accuracy": accuracy, "results": results}, indent=1)
    )
    print(f"\ndrawn digits read right: {right}/{len(results)} = {accuracy:.0%}")
    wrong = [r for r in results if r["digit"] != r["answer"]]
    assert accuracy >= 0.9, f"only {accuracy:.0%}: {wrong}"  # the target


def test_a_drawing_is_in_the_url_and_a_map_opens_its_step_view(page, server) -> None:
    ready(page, server + "/digits")
    answer_after(page, lambda: draw(page, DRAWINGS["7"][1]))
    assert "ink=" in page.url
    bars = page.locator("#bars .bar-row")
    assert bars.count() == 10
    table = page.get_by_role("table", name="Class probabilities")
    probs = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert abs(sum(float(p) for p in probs) - 1) < 0.01
    # Reload: the same drawing, the same answer.
    url = page.url
    page.goto(url)
    page.wait_for_function("() => document.querySelector('#says').dataset.answer === '7'")
    # Conv 2, map 5: the step view sums over the 16 maps of pool 1.
    page.get_by_role("button", name="Layer 4, map 5", exact=True).click()
    step = page.locator("#step")
    step.wait_for()
    assert "at=3.4.0" in page.url
    total = step.locator(".step-sum").inner_text()
    assert total.startswith("Sum over 16 input maps")
    got, held = total.split("= ")[-1].split(" (the map holds ")
    assert got.strip() == held.rstrip(")")
    page.locator(".step-map").press("ArrowRight")
    page.wait_for_function("() => location.search.includes('at=3.4.1')")
    assert "column 1" in step.locator("#step-status").inner_text()
    assert step.locator(".step-chan").count() == 4  # four in full, the rest by partial sums
    assert "Partial sums by input map" in step.locator(".step-partials").inner_text()


def test_keyboard_only_example_and_step_view(page, server) -> None:
    ready(page, server + "/digits")
    page.locator("#example").focus()
    page.keyboard.press("ArrowDown")  # chromium's select changes value with the arrow keys
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => location.search.includes('ink=')")
    page.wait_for_function("() => document.querySelector('#says').dataset.seq !== undefined")
    assert (
        page.locator("#says").get_attribute("data-answer") == page.locator("#example").input_value()
    )
    thumb = page.get_by_role("button", name="Layer 1, map 1", exact=True)
    thumb.focus()
    page.keyboard.press("Enter")
    page.locator("#step .step-map").wait_for()
    assert page.evaluate("() => document.activeElement.className") == "step-map"
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => location.search.includes('at=0.0.8')")
    page.get_by_role("button", name="Close").click()
    page.wait_for_function("() => !location.search.includes('at=')")


def test_russian_and_a_phone(phone, server) -> None:
    page = phone
    ready(page, server + "/digits?lang=ru")
    assert page.locator("h2#learned-title").inner_text() == "Выучены, а не придуманы"
    answer_after(page, lambda: draw(page, DRAWINGS["2"][0]))
    assert page.locator("#says").inner_text().startswith("Сеть говорит: 2")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "digits-phone-ru.png"))
    page.screenshot(path=str(SHOTS / "digits-phone-ru-full.png"), full_page=True)
