"""The X/O network page in a real browser: the vote, translation invariance, training."""

from __future__ import annotations

import pytest

from tests.browser.test_page import table

pytestmark = pytest.mark.browser

DIAGONAL = "Feature maps, X/O: diagonal \\"


def ready(page, url: str) -> None:
    page.goto(url)
    page.locator("#says").filter(has_text="X").wait_for()


def test_the_x_glyph_gets_an_x_vote_with_probabilities(page, server) -> None:
    ready(page, server + "/network")
    assert page.locator("#says").inner_text() == "The network says X, with probability 0.991."
    vote = table(page, "Vote")
    assert [row[1] for row in vote] == ["0.991", "0.009"]
    classes = page.get_by_role("table", name="Vote").locator("tbody th").all_inner_texts()
    assert classes == ["X", "O"]
    relu = "After ReLU, X/O: centre x"
    pooled = "Pooled (2×2 max), X/O: anti-diagonal /"
    for name in (DIAGONAL, relu, pooled, "Glyph"):
        assert page.get_by_role("table", name=name, exact=True).count() == 1, name
    assert len(table(page, DIAGONAL)) == 7
    assert len(table(page, "Pooled (2×2 max), X/O: diagonal \\")) == 4


def test_shifting_the_glyph_moves_the_maps_and_keeps_the_vote(page, server) -> None:
    ready(page, server + "/network")
    before = table(page, DIAGONAL)
    page.get_by_role("button", name="Shift right").click()
    page.wait_for_function("() => document.querySelector('#compare').textContent.includes('→')")
    after = table(page, DIAGONAL)
    # The feature map moved one column with the glyph.
    for r in range(7):
        assert after[r][1:] == before[r][:6]
    assert "The vote: X 0.991 → X 0.883." in page.locator("#compare").inner_text()
    # What holds, what does not, and why (issue 12): one cell, partly absorbed.
    assert "absorbs a one-cell shift" in page.locator("#compare").inner_text()
    assert page.locator("#says").inner_text().startswith("The network says X")
    assert "sh=0,1" in page.url
    page.get_by_role("button", name="Shift right").click()
    page.wait_for_function("() => location.search.includes('sh=0,2')")
    page.wait_for_function(
        "() => document.querySelector('#compare').textContent.includes('two cells')"
    )
    assert "Not held" in page.locator("#compare").inner_text()
    page.get_by_role("button", name="Back to where it was drawn").click()
    page.wait_for_function("() => !location.search.includes('sh=')")


def test_training_streams_progress_and_the_learned_filters(page, server) -> None:
    ready(page, server + "/network")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#train-status').textContent.startsWith('Trained in')",
        timeout=20_000,
    )
    assert page.locator("#progress").evaluate("p => p.value") == 1
    losses = page.get_by_role("table", name="Loss by epoch").evaluate(
        "t => [...t.tBodies[0].rows].map(r => Number(r.cells[1].textContent))"
    )
    assert len(losses) == 16 and losses[-1] < losses[0] / 2
    accuracy = table(page, "Accuracy by epoch")
    assert accuracy[-1][0].endswith("%") and int(accuracy[-1][1][:-1]) >= 90
    assert page.get_by_role("table", name="Learned filters, filter 1").count() == 1
    assert page.get_by_role("table", name="Lecture filters, X/O: diagonal \\").count() == 1
    assert "net=trained" in page.url
    page.wait_for_function("() => document.querySelector('#says').textContent.includes('X')")


def test_painting_the_glyph_changes_the_maps(page, server) -> None:
    ready(page, server + "/network")
    page.locator('.gv[data-view="input:0"]').focus()
    page.keyboard.press("Space")  # (0, 0): -1 -> +1
    page.wait_for_function("() => location.search.includes('in=1x9x9')")
    assert table(page, "Glyph")[0][0] == "1"
    # The maps follow when the answer comes (the glyph's table is drawn at once).
    page.wait_for_function(  # (9 + 0) / 9: the corner now matches too
        """(name) => [...document.querySelectorAll('table')].some((t) =>
          t.getAttribute('aria-label') === name
          && t.tBodies[0].rows[0].cells[1].textContent === '1')""",
        arg=DIAGONAL,
    )
    # The grid keeps the focus: arrows and space go on painting.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    page.wait_for_function(
        """() => document.querySelector('table[aria-label="Glyph"]')
                   .tBodies[0].rows[0].cells[2].textContent === '1'"""
    )


def test_network_in_russian_on_a_phone(phone, server) -> None:
    ready(phone, server + "/network?lang=ru")
    assert phone.locator("html").get_attribute("lang") == "ru"
    assert phone.locator("#says").inner_text().startswith("Сеть говорит: X")
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390


def test_every_control_of_the_network_page_has_a_name(page, server) -> None:
    ready(page, server + "/network")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll(
              'input, select, button, .gv, table, canvas[role], progress')]
          .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                        && !(el.tagName === 'BUTTON' && el.textContent.trim()))
          .map(el => el.id || el.className || el.tagName)"""
    )
    assert unnamed == []


def test_hover_shows_a_map_cell_s_window_and_what_a_glyph_cell_feeds(page, server) -> None:
    from tests.browser.test_page import cell_centre

    ready(page, server + "/network")

    def ink(view: str, cells: list[tuple[int, int]]) -> list[int]:
        """Alpha of the overlay at the top edge of each cell (outlines are drawn there)."""
        return page.locator(f'.gv[data-view="{view}"] canvas.over').evaluate(
            """(c, cells) => {
              const ctx = c.getContext('2d');
              const n = c.parentElement.querySelector('canvas.heat').width, s = c.width / n;
              return cells.map(([r, k]) =>
                ctx.getImageData(Math.floor((k + 0.5) * s), Math.floor(r * s + 1), 1, 1).data[3]);
            }""",
            cells,
        )

    # A feature map's cell: its 3x3 window in the glyph (rows 2..4, columns 3..5).
    page.mouse.move(*cell_centre(page, "conv:0", 2, 3))
    page.wait_for_function(
        "() => { const c = document.querySelector('.gv[data-view=\"input:0\"] canvas.over');"
        " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v); }"
    )
    on = ink("input:0", [(2, 3), (2, 5)])
    off = ink("input:0", [(0, 0), (7, 7)])
    assert min(on) > 0 and max(off) == 0, (on, off)
    # A pooled cell: its 2x2 window in the map after ReLU.
    page.mouse.move(*cell_centre(page, "pooled:1", 1, 2))
    page.wait_for_function(
        "() => { const c = document.querySelector('.gv[data-view=\"relu:1\"] canvas.over');"
        " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v); }"
    )
    assert min(ink("relu:1", [(2, 4), (2, 5)])) > 0 and max(ink("relu:1", [(0, 0)])) == 0
    # A glyph cell: the map cells it feeds, in all three maps.
    page.mouse.move(*cell_centre(page, "input:0", 4, 4))
    page.wait_for_function(
        "() => [0, 1, 2].every((k) => { const c = document.querySelector("
        '`.gv[data-view="conv:${k}"] canvas.over`);'
        " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v); })"
    )
