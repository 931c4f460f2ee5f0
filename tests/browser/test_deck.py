"""The embed inside a deck on another origin (issue 12, item 6): the clicker
steps through the embed, and at its first and last step goes back to the deck,
through reveal.js's postMessage API; Esc lets go of the focus."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

# A stand-in for a reveal.js deck: it runs the method a frame names in a JSON
# string (reveal.js's postMessage API) and counts the keys that reach it.
DECK = """<!doctype html><meta charset="utf-8"><title>deck</title><link rel="icon" href="data:,">
<script>
window.slide = 0; window.keys = []; window.leaves = [];
window.addEventListener('message', (e) => {
  let d = e.data;
  if (typeof d === 'string' && d[0] === '{') {
    d = JSON.parse(d);
    if (d.method === 'next') window.slide++;
    if (d.method === 'prev') window.slide--;
  } else if (d && d.type === 'convviz:leave') window.leaves.push(d.direction);
});
document.addEventListener('keydown', (e) => window.keys.push(e.key));
</script>
<h1>Slide</h1>
<iframe id="f" src="EMBED" width="960" height="540"></iframe>
"""


@pytest.fixture
def deck(server: str, tmp_path: Path) -> Iterator[str]:
    """The deck page, served from a second port: another origin than the app."""
    embed = server + "/embed?in=1x3x3:1,0,1,0,1,0,1,0,1&k=1x1x2x2:1,0,0,1"
    (tmp_path / "deck.html").write_text(DECK.replace("EMBED", embed))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/deck.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_clicker_leaves_the_embed_at_both_ends(page, deck: str) -> None:
    page.goto(deck)
    frame = page.frame_locator("#f")
    frame.locator("#btn-start").wait_for()
    inner = page.frames[1]
    inner.wait_for_function(
        "() => document.querySelector('#step-status').textContent.includes('/')"
    )
    assert inner.evaluate("location.origin") != page.evaluate("location.origin")
    frame.locator("#btn-start").click()  # the frame has the focus, at the first step
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("window.slide") == 0  # steps inside the embed
    page.keyboard.press("ArrowLeft")  # before the first step: the previous slide
    page.wait_for_function("() => window.slide === -1")
    assert page.evaluate("window.leaves") == ["prev"]

    frame.locator("#btn-end").click()
    page.keyboard.press("ArrowRight")  # past the last step: the next slide
    page.wait_for_function("() => window.slide === 0")
    assert page.evaluate("window.leaves") == ["prev", "next"]
    # The frame let go of the focus: the clicker's next key reaches the deck.
    page.keyboard.press("PageDown")
    assert "PageDown" in page.evaluate("window.keys")


def test_escape_gives_the_focus_back(page, deck: str) -> None:
    page.goto(deck)
    frame = page.frame_locator("#f")
    frame.locator("#btn-start").click()
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowRight")
    assert "ArrowRight" in page.evaluate("window.keys")
    assert page.evaluate("window.slide") == 0


def test_the_embed_reads_from_the_back_row(page, server: str) -> None:
    """At 1280x720 the formula line and the captions are at least 24 px."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server + "/embed")
    page.locator("#grids .fig").first.wait_for()
    sizes = page.evaluate(
        """() => [document.querySelector('#sum'), ...document.querySelectorAll('.fig figcaption')]
          .map((e) => parseFloat(getComputedStyle(e).fontSize))"""
    )
    assert min(sizes) >= 24, sizes
