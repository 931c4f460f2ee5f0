"""The page on a phone (issue 12, item 4): the player stays in view while the
output is, and the player's targets are at least 24x24 px."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(390, 844), (360, 740)])
def test_the_player_stays_in_view_while_the_output_is(browser, server: str, size) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server + "/")
        output = page.locator("#grids .fig-output").first
        output.wait_for()
        output.scroll_into_view_if_needed()
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(200)
        box = output.bounding_box()
        assert box["y"] < size[1] and box["y"] + box["height"] > 0  # the output on screen
        play = page.locator("#btn-play").bounding_box()
        assert 0 <= play["y"] and play["y"] + play["height"] <= size[1], play
        # Play is not covered by the grids: it is what a tap there reaches.
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('#btn-play') !== null",
            [play["x"] + play["width"] / 2, play["y"] + play["height"] / 2],
        )
        assert hit
        small = page.evaluate(
            """() => [...document.querySelectorAll('.player button, .player select, .player input')]
              .filter((e) => e.offsetParent !== null)
              .map((e) => [e.id, e.getBoundingClientRect()])
              .filter(([, r]) => r.width < 24 || r.height < 24).map(([id]) => id)"""
        )
        assert small == []
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size[0]  # nothing cut off sideways
    finally:
        context.close()


@pytest.mark.parametrize("size", [(390, 844), (360, 740)])
def test_the_drawing_tools_sit_by_the_input_grid(browser, server: str, size) -> None:
    """Clear, Invert, the flips, the shifts and the paint value are one set, just
    above the input grid (the first grid), not down in the settings."""
    from tests.browser.test_page import table, wait_cell

    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server + "/?lang=ru")
        page.locator('table[aria-label^="Output"], table[aria-label^="Выход"]').first.wait_for(
            state="attached"
        )
        assert page.locator("[data-tool]").count() == 8  # one set, not two copies
        assert page.locator("#controls [data-tool], #controls #paint").count() == 0
        grid = page.locator("#grids .fig-input").bounding_box()
        for sel in ('[data-tool="clear"]', '[data-tool="right"]', "#paint"):
            box = page.locator(sel).bounding_box()
            assert box["y"] + box["height"] <= grid["y"], sel  # above the grid ...
            assert grid["y"] - box["y"] < 160, (sel, box, grid)  # ... and next to it
            assert box["x"] >= 0 and box["x"] + box["width"] <= size[0], sel
        # They work from there (Russian labels).
        page.get_by_role("button", name="Инвертировать").click()
        name = page.locator("#grids table").first.get_attribute("aria-label")
        wait_cell(page, name, 0, 0, "1")
        page.get_by_role("button", name="Очистить").click()
        # (0, 0) is 1 after Invert (the centre is -1 already, so it cannot tell).
        wait_cell(page, name, 0, 0, "-1")
        assert {v for row in table(page, name) for v in row} == {"-1"}
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("size", [(390, 844), (360, 740)])
def test_the_first_screen_shows_the_player_and_the_input(browser, server: str, size, lang) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server + ("/?lang=ru" if lang == "ru" else "/"))
        grid = page.locator('.gv[data-view="input:0"]')
        grid.wait_for()
        play = page.locator("#btn-play").bounding_box()
        box = grid.bounding_box()
        assert play["y"] + play["height"] < box["y"]  # reading order: player, then input
        # At least the window's three rows of the 9x9 glyph are on the first screen.
        assert box["y"] + box["height"] * 3 / 9 <= size[1], (box, size)
        # The facts and switches come after the grids on a phone, not before them.
        facts = page.locator(".facts").bounding_box()
        assert facts["y"] > box["y"] + box["height"]
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("size", [(390, 844), (360, 740)])
def test_the_network_s_first_screen_shows_the_vote_and_the_glyph(
    browser, server: str, size, lang
) -> None:
    """/network on a phone opens on the vote and the glyph with its tools right
    above it; the settings (weights, epochs, pace, seed) come after the glyph."""
    from tests.browser.test_page import table, wait_cell

    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server + "/network" + ("?lang=ru" if lang == "ru" else ""))
        page.wait_for_function("() => document.getElementById('says').textContent.trim() !== ''")
        says = page.locator("#says")
        assert says.inner_text().startswith("Сеть говорит: X" if lang == "ru" else "The network")
        vote = says.bounding_box()
        assert 0 <= vote["y"] and vote["y"] + vote["height"] <= size[1], vote
        grid = page.locator('.gv[data-view="input:0"]').bounding_box()
        assert vote["y"] + vote["height"] <= grid["y"]  # the vote, then the glyph
        # At least two thirds of the 9x9 glyph on the first screen (all of it at 390x844).
        assert grid["y"] + grid["height"] * 2 / 3 <= size[1], (grid, size)
        # One set of the glyph's tools, in the stage just above the glyph, none in the settings.
        assert page.locator("[data-tool]").count() == 2
        in_settings = "#controls [data-tool], #controls [data-shift], #controls #glyph"
        assert page.locator(in_settings).count() == 0
        tools = ("#glyph", '[data-tool="clear"]', '[data-tool="invert"]', '[data-shift="right"]')
        for sel in tools:
            box = page.locator(sel).bounding_box()
            assert box["y"] + box["height"] <= grid["y"], sel  # above the glyph ...
            assert grid["y"] - box["y"] < 160, (sel, box, grid)  # ... and next to it
            assert box["x"] >= 0 and box["x"] + box["width"] <= size[0], sel
            assert box["y"] + box["height"] <= size[1], sel  # on the first screen
        for sel in ("#params", "#epochs", "#pace", "#seed", "#train"):
            assert page.locator(sel).bounding_box()["y"] > grid["y"] + grid["height"], sel
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        # The tools work from there: Invert turns the X's -1 corner into +1.
        name = "Символ" if lang == "ru" else "Glyph"
        assert table(page, name)[0][0] == "-1"
        page.locator('[data-tool="invert"]').click()
        wait_cell(page, name, 0, 0, "1")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("size", [(390, 844), (360, 740)])
def test_the_backward_view_s_drawing_tools_sit_by_x(browser, server: str, size, lang) -> None:
    """On the backward view the drawing tools sit by "X, the input", not above the
    loss's grids (O, dE/dO), which come first in that view."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server + "/?view=backward" + ("&lang=ru" if lang == "ru" else ""))
        page.locator('table[aria-label="dE/dW"]').first.wait_for(state="attached")
        page.wait_for_function(
            "() => document.querySelector('.gsec[data-section=\"gradw\"] #draw') !== null"
        )
        assert page.locator("[data-tool]").count() == 8 and page.locator("#draw").count() == 1
        x = page.locator('.gv[data-view="input:0"]').bounding_box()
        loss = page.locator('.gsec[data-section="loss"]').bounding_box()
        for sel in ('[data-tool="clear"]', '[data-tool="right"]', "#paint"):
            box = page.locator(sel).bounding_box()
            assert box["y"] >= loss["y"] + loss["height"], sel  # after the loss's grids
            near = x["y"] - (box["y"] + box["height"]) if box["y"] < x["y"] else box["y"] - x["y"]
            assert 0 <= near < 160, (sel, box, x)
            assert box["x"] >= 0 and box["x"] + box["width"] <= size[0], sel
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        # They work from there: Invert changes X.
        before = page.evaluate("JSON.stringify(window.convviz.app.state.input)")
        page.locator('[data-tool="invert"]').click()
        page.wait_for_function(
            "(b) => JSON.stringify(window.convviz.app.state.input) !== b", arg=before
        )
    finally:
        context.close()
