"""Back and Forward on the layer pages: the store (core/store.js) records every change
of /stack and /digits in the history, and reading an entry back restores the view it
recorded, maps and drawing included, computed again."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# Every card's title and every canvas in it, as pixels: what the overview shows.
OVERVIEW = """() => [...document.querySelectorAll('#overview .layer-card')].map((c) =>
  c.querySelector('h3').textContent + ':' +
  [...c.querySelectorAll('canvas')].map((x) => x.toDataURL()).join(',')).join('|')"""
LAYERS = """() => [...document.querySelectorAll('#layer-list .layer-head strong')]
  .map((s) => s.textContent)"""


def shows(page, name: str) -> None:
    """Wait until the overview and the layer list are the ones saved as `name`."""
    page.wait_for_function(
        f"""() => {{
          const now = ({OVERVIEW})();
          return now === window.saved['{name}'].overview
            && JSON.stringify(({LAYERS})()) === JSON.stringify(window.saved['{name}'].layers);
        }}"""
    )


def save(page, name: str) -> None:
    page.evaluate(
        f"() => {{ window.saved = window.saved || {{}}; window.saved['{name}'] = {{"
        f" overview: ({OVERVIEW})(), layers: ({LAYERS})(), url: location.href }}; }}"
    )


def settled(page, cards: int) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('.layer-card').length === {cards}"
        " && /ms/.test(document.querySelector('#status').textContent)"
    )


def test_back_and_forward_on_stack_restore_the_stack_and_its_maps(page, server) -> None:
    page.goto(server + "/stack?src=checker&sz=32")
    settled(page, 7)
    save(page, "first")
    # Two changes, two entries: ReLU becomes a sigmoid, then the last pooling goes.
    page.locator("#l1-f").select_option("sigmoid")
    page.wait_for_function("() => location.search.includes('a_sigmoid')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.layer-card h3')]"
        ".some((h) => h.textContent.includes('Sigmoid'))"
    )
    settled(page, 7)
    save(page, "sigmoid")
    assert page.evaluate("() => window.saved.sigmoid.overview !== window.saved.first.overview")
    page.get_by_role("button", name="Remove layer 6").click()
    settled(page, 6)
    save(page, "removed")
    page.go_back()
    shows(page, "sigmoid")
    assert page.url == page.evaluate("() => window.saved.sigmoid.url")
    page.go_back()
    shows(page, "first")
    assert page.url == page.evaluate("() => window.saved.first.url")
    assert page.locator("#l1-f").input_value() == "relu"
    page.go_forward()
    shows(page, "sigmoid")
    assert page.locator("#l1-f").input_value() == "sigmoid"
    page.go_forward()
    shows(page, "removed")
    # An open map is an entry too: Back closes its step view, Forward opens it again.
    page.get_by_role("button", name="Layer 1, map 2", exact=True).click()
    page.locator("#step .step-map").wait_for()
    page.go_back()
    page.wait_for_function("() => !location.search.includes('at=')")
    page.locator("#step .step-map").wait_for(state="detached")
    shows(page, "removed")
    page.go_forward()
    page.locator("#step .step-map").wait_for()
    assert "at=0.1.0" in page.url


def test_back_and_forward_on_digits_restore_the_drawing_and_its_answer(page, server) -> None:
    page.goto(server + "/digits")
    page.locator("#filters-learned canvas").first.wait_for()
    pad = "() => document.querySelector('canvas#pad').toDataURL()"
    drawings = {}
    for digit in ("1", "7"):
        page.locator("#example").select_option(digit)
        page.wait_for_function(
            f"() => document.querySelector('#says').dataset.answer === '{digit}'"
        )
        drawings[digit] = (page.url, page.evaluate(pad))
    assert drawings["1"][1] != drawings["7"][1]
    page.go_back()
    page.wait_for_function("() => document.querySelector('#says').dataset.answer === '1'")
    assert page.url == drawings["1"][0]
    assert page.evaluate(pad) == drawings["1"][1]
    page.go_back()  # the empty pad it opened on
    page.wait_for_function("() => !location.search.includes('ink=')")
    page.wait_for_function("() => document.querySelector('#overview').children.length === 0")
    assert page.evaluate(pad) != drawings["1"][1]
    page.go_forward()
    page.go_forward()
    page.wait_for_function("() => document.querySelector('#says').dataset.answer === '7'")
    assert page.url == drawings["7"][0]
    assert page.evaluate(pad) == drawings["7"][1]
