"""The first screen teaches: a line of what to do, Play first by eye and by Tab,
the grids in reading order, outputs hidden until their step (issue 12, item 1)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def ready(page, url: str) -> None:
    page.goto(url)
    page.locator('table[aria-label^="Output"]').first.wait_for(state="attached")


def test_play_is_the_first_control_by_tab_and_by_eye(page, server: str) -> None:
    ready(page, server + "/")
    hint = page.locator("#hint")
    assert hint.is_visible() and "Play" in hint.inner_text()
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return [e.id, !!e.closest('#controls')]; }"
        )
        seen.append(focused[0])
        assert not focused[1], f"a setting before Play: {seen}"
        if focused[0] == "btn-start":
            break
    assert seen[-1] == "btn-start" and len(seen) <= 15, seen
    play = page.locator("#btn-play").bounding_box()
    controls = page.locator("#controls").bounding_box()
    grids = page.locator("#grids").bounding_box()
    assert play["y"] + play["height"] <= 800  # on the first screen
    assert play["x"] < controls["x"]  # the stage on the left, the settings on the right
    assert play["y"] < grids["y"]


def test_the_grids_read_input_kernel_products_output(page, server: str) -> None:
    ready(page, server + "/")
    order = page.evaluate(
        """() => [...document.querySelectorAll('#grids .fig')].map((f) => {
          const r = f.getBoundingClientRect();
          return [f.className.match(/fig-(\\w+)/)[1], r.x, r.y];
        })"""
    )
    names = [n for n, _, _ in order]
    want = ["input", "kernel", "products", "output"]
    present = [n for n in names if n in want]
    assert present == [n for n in want if n in present] and "output" in present, names
    xs = {n: x for n, x, _ in order}
    assert xs["input"] < xs["output"]


def _output_pixel(page) -> list[int]:
    """The colour of the output's last cell as drawn (heat map and marks)."""
    return page.evaluate(
        """() => {
          const fig = document.querySelector('#grids .fig-output .gv');
          const cs = [...fig.querySelectorAll('canvas')]
            .filter((c) => !c.classList.contains('lens'));
          const big = cs.reduce((a, c) => (c.width > a.width ? c : a));
          const w = big.width, h = big.height;
          const out = document.createElement('canvas');
          out.width = w; out.height = h;
          const ctx = out.getContext('2d');
          for (const c of cs) ctx.drawImage(c, 0, 0, w, h);
          const t = document.querySelector('table[aria-label^="Output"]');
          const rows = t.tBodies[0].rows.length, cols = t.tBodies[0].rows[0].cells.length - 1;
          const cw = w / cols, ch = h / rows;
          return [...ctx.getImageData(Math.floor(w - cw / 2), Math.floor(h - ch / 2), 1, 1).data];
        }"""
    )


def test_outputs_not_computed_yet_are_hidden_until_the_switch(page, server: str) -> None:
    ready(page, server + "/?i=x&step=0")
    page.wait_for_function("() => window.convviz && window.convviz.total > 1")
    hidden = _output_pixel(page)
    assert hidden[:3] == [0xE9, 0xEB, 0xEF]  # the cover, not the value's colour
    page.locator("#show-ahead").check()
    shown = _output_pixel(page)
    assert shown[:3] != hidden[:3]
    page.locator("#btn-end").click()
    page.locator("#show-ahead").uncheck()
    assert _output_pixel(page)[:3] != [0xE9, 0xEB, 0xEF]  # reached: shown


def test_the_backward_view_opens_on_slide_12(page, server: str) -> None:
    page.goto(server + "/?view=backward")
    page.wait_for_function("() => window.convviz && window.convviz.total > 1")
    page.wait_for_function("() => location.search.includes('in=')")
    total = page.evaluate("window.convviz.total")
    assert total < 139
    assert page.evaluate("document.querySelectorAll('#grids .fig').length") < 12


@pytest.mark.parametrize("query", ["/", "/?lang=ru"])
def test_the_first_view_weighs_under_150_kb(page, server: str, query: str) -> None:
    # HTML + JS + CSS of the first view, uncompressed, as the browser decoded it
    # (issue 12's budget): what loads before anyone touches the page. (The backward
    # view, a click away, loads its modules on top: about 175 KB in all.)
    page.goto(server + query)
    page.wait_for_load_state("networkidle")
    sizes = page.evaluate(
        """() => [performance.getEntriesByType('navigation')[0],
                  ...performance.getEntriesByType('resource')]
            .map((e) => [new URL(e.name).pathname, e.decodedBodySize, e.entryType])
            .filter(([path, , kind]) => kind === 'navigation' || /\\.(js|css)$/.test(path))
            .map(([path, size]) => [path, size])"""
    )
    total = sum(size for _, size in sizes)
    assert len(sizes) > 5 and all(size > 0 for _, size in sizes), sizes
    assert total < 150_000, sorted(sizes, key=lambda s: -s[1])
