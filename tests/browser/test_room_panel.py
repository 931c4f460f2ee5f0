"""The lecturer's live-room panel covers neither the settings nor the player
(issue 12, item 4): at 1280x800 it sits in the flow under the header, beside
nothing; on a phone it folds to one line and never sits over the player or grids."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _box(page, sel: str) -> dict:
    return page.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
        " return {x: r.x, y: r.y, w: r.width, h: r.height}; }",
        sel,
    )


def _meet(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def _covered(page, sel: str) -> list[str]:
    """Points of `sel` (centre and corners inset) that a tap reaches something else on."""
    return page.evaluate(
        """(s) => {
          const el = document.querySelector(s), r = el.getBoundingClientRect(), out = [];
          for (const [fx, fy] of [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]]) {
            const x = r.x + r.width * fx, y = r.y + r.height * fy;
            if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
            const hit = document.elementFromPoint(x, y);
            if (hit && hit.closest('.room-panel')) out.push(`${fx},${fy}`);
          }
          return out;
        }""",
        sel,
    )


def _open_room(page, server: str, url: str) -> None:
    page.goto(server + url)
    page.wait_for_function("() => window.convviz && window.convviz.total > 1")
    page.click("[data-room-open]")
    page.locator(".room-panel [data-room=code]").filter(has_text="-").wait_for()


def _end(page) -> None:
    page.click(".room-panel [data-act=end]")
    page.locator(".room-panel").wait_for(state="detached")


@pytest.mark.parametrize("url", ["/", "/?view=backward&lang=ru"])
def test_the_room_panel_leaves_the_settings_and_player_free_on_a_laptop(
    page, server: str, url
) -> None:
    _open_room(page, server, url)
    panel = _box(page, ".room-panel")
    assert panel["w"] > 0 and panel["h"] > 0
    assert not _meet(panel, _box(page, "#controls")), panel
    assert not _meet(panel, _box(page, ".player")), panel
    # Scrolled, too: nothing of it floats over the settings or the player.
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(200)
    for sel in ("#controls", "#btn-play", "#grids .fig-input"):
        assert _covered(page, sel) == [], sel
    _end(page)


@pytest.mark.parametrize("size", [(390, 844), (360, 740)])
def test_the_room_panel_folds_and_never_covers_the_player_on_a_phone(
    browser, server: str, size
) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        _open_room(page, server, "/")
        for sel in ("#btn-play", "#btn-forward"):
            assert _covered(page, sel) == [], sel
        # Folded, it is one line; unfolded again, the code is there.
        full = _box(page, ".room-panel")
        page.click(".room-panel [data-act=fold]")
        folded = _box(page, ".room-panel")
        assert folded["h"] < full["h"] and folded["h"] <= 60, (folded, full)
        assert page.get_attribute(".room-panel [data-act=fold]", "aria-expanded") == "false"
        page.click(".room-panel [data-act=fold]")
        assert page.locator(".room-panel [data-room=code]").is_visible()
        # While the grids scroll, the sticky player and the grids stay uncovered.
        output = page.locator("#grids .fig-output").first
        output.scroll_into_view_if_needed()
        page.mouse.wheel(0, 200)
        page.wait_for_timeout(200)
        for sel in ("#btn-play", "#grids .fig-output", "#grids .fig-input"):
            assert _covered(page, sel) == [], sel
        assert not _meet(_box(page, ".room-panel"), _box(page, ".player"))
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        _end(page)
    finally:
        context.close()
