"""Live rooms in Chromium: a lecturer's page on one server process and a follower's
phone on another, joined by a real Redis (tests/live.py), as behind a load balancer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.browser.conftest import Watch
from tests.live import redis_url, two_servers

__all__ = ["redis_url", "two_servers"]

pytestmark = pytest.mark.browser

# Screenshots to look at (not compared): the follower on a phone, the panel, the projector.
SHOTS = Path(tempfile.gettempdir()) / "convviz-room-shots"


def ready(page: object) -> None:
    page.wait_for_function("() => window.convviz && window.convviz.total > 1")  # type: ignore[attr-defined]


def step_is(page: object, n: int) -> None:
    page.wait_for_function(f"() => window.convviz.step === {n}", timeout=3000)  # type: ignore[attr-defined]


def test_a_follower_follows_the_lecturer_detaches_and_rejoins(
    two_servers: tuple[str, str], page: object, phone: object, watch: Watch
) -> None:
    a, b = two_servers
    lp, fp = page, phone  # the lecturer's projector, a student's phone
    lp.goto(a + "/")  # type: ignore[attr-defined]
    ready(lp)
    lp.click("[data-room-open]")  # type: ignore[attr-defined]
    code_el = lp.locator(".room-panel [data-room=code]")  # type: ignore[attr-defined]
    code_el.filter(has_text="-").wait_for()
    code = code_el.inner_text().replace("-", "")
    lp.wait_for_function("() => document.querySelector('.room-qr').naturalWidth > 0")  # type: ignore[attr-defined]
    secret = lp.evaluate("JSON.parse(sessionStorage.getItem('convviz.room')).secret")  # type: ignore[attr-defined]
    assert len(secret) >= 43

    fp.goto(f"{b}/r/{code}")  # type: ignore[attr-defined]
    ready(fp)
    fp.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]
    assert "#join" not in fp.url  # type: ignore[attr-defined]
    # The follower's tab holds the code, never the secret.
    held = fp.evaluate("sessionStorage.getItem('convviz.room')")  # type: ignore[attr-defined]
    assert code in held and secret not in held
    lp.locator(".room-panel [data-room=count]").filter(has_text="1 following").wait_for()  # type: ignore[attr-defined]

    # Steps and a parameter change, in order, on the other process.
    for _ in range(3):
        lp.click("#btn-forward")  # type: ignore[attr-defined]
    step_is(fp, 3)
    lp.evaluate("document.getElementById('sec-after').open = true")  # type: ignore[attr-defined]
    lp.select_option("#act", "relu")  # type: ignore[attr-defined]
    fp.wait_for_function("() => new URL(location.href).searchParams.get('act') === 'relu'")  # type: ignore[attr-defined]
    SHOTS.mkdir(exist_ok=True)
    fp.screenshot(path=str(SHOTS / "room-follower-390.png"))  # type: ignore[attr-defined]
    lp.screenshot(path=str(SHOTS / "room-lecturer-1280.png"))  # type: ignore[attr-defined]

    # Detach: the student explores; the lecturer's steps no longer move them.
    fp.click(".room-banner button")  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=detached]").wait_for()  # type: ignore[attr-defined]
    assert "left the live view" in fp.inner_text(".room-banner")  # type: ignore[attr-defined]
    fp.click("#btn-end")  # type: ignore[attr-defined]
    lp.click("#btn-forward")  # type: ignore[attr-defined]
    lp.click("#btn-forward")  # type: ignore[attr-defined]
    step_is(lp, 5)
    lp.wait_for_timeout(500)
    assert fp.evaluate("window.convviz.step") == fp.evaluate("window.convviz.total - 1")  # type: ignore[attr-defined]
    fp.screenshot(path=str(SHOTS / "room-detached-390.png"))  # type: ignore[attr-defined]

    # Rejoin: one tap back to the lecturer's current view.
    fp.get_by_role("button", name="Back to the lecturer").click()  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]
    step_is(fp, 5)

    # Changing something while following is leaving the live view too.
    fp.click("#btn-forward")  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=detached]").wait_for()  # type: ignore[attr-defined]
    fp.get_by_role("button", name="Back to the lecturer").click()  # type: ignore[attr-defined]
    step_is(fp, 5)

    # The lecturer opens a lecture scene: the follower's page goes there too.
    lp.goto(a + "/lecture/padding")  # type: ignore[attr-defined]
    ready(lp)
    fp.wait_for_url("**/lecture/padding?*")  # type: ignore[attr-defined]
    ready(fp)
    fp.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]
    lp.click("#btn-forward")  # type: ignore[attr-defined]
    step_is(fp, lp.evaluate("window.convviz.step"))  # type: ignore[attr-defined]

    # A follower cannot publish: the secret is not theirs (Chromium logs the 401).
    watch.expected.append("status of 401")
    status = fp.evaluate(  # type: ignore[attr-defined]
        f"""() => fetch('/api/rooms/{code}/state', {{method: 'POST',
             headers: {{'content-type': 'application/json'}},
             body: JSON.stringify({{path: '/', query: '?step=1'}})}}).then((r) => r.status)"""
    )
    assert status == 401

    # The lecturer ends the room: the follower is told.
    lp.click(".room-panel [data-act=end]")  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=ended]").wait_for()  # type: ignore[attr-defined]


def test_the_projector_view_and_russian(two_servers: tuple[str, str], page: object) -> None:
    a, _ = two_servers
    lp = page
    lp.goto(a + "/?lang=ru")  # type: ignore[attr-defined]
    ready(lp)
    lp.click("[data-room-open]")  # type: ignore[attr-defined]
    lp.locator(".room-panel h2").filter(has_text="Трансляция").wait_for()  # type: ignore[attr-defined]
    lp.click(".room-panel [data-act=project]")  # type: ignore[attr-defined]
    big = lp.locator(".room-big")  # type: ignore[attr-defined]
    big.wait_for()
    lp.wait_for_function("() => document.querySelector('.room-big img').naturalWidth > 0")  # type: ignore[attr-defined]
    assert "отсканируйте" in big.inner_text()
    SHOTS.mkdir(exist_ok=True)
    lp.screenshot(path=str(SHOTS / "room-projector-ru-1280.png"))  # type: ignore[attr-defined]
    lp.keyboard.press("Escape")  # type: ignore[attr-defined]
    big.wait_for(state="detached")
    lp.click(".room-panel [data-act=end]")  # type: ignore[attr-defined]
    lp.locator(".room-panel").wait_for(state="detached")  # type: ignore[attr-defined]


def test_an_embed_in_a_slide_can_lead(
    two_servers: tuple[str, str], page: object, phone: object
) -> None:
    """The clicker steps the embed; followers get the visualizer at that step."""
    a, b = two_servers
    page.goto(a + "/embed?theme=dark&p=1")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.documentElement.dataset.ready === '1'")  # type: ignore[attr-defined]
    page.click("[data-room-open]")  # type: ignore[attr-defined]
    code_el = page.locator(".room-panel [data-room=code]")  # type: ignore[attr-defined]
    code_el.filter(has_text="-").wait_for()
    phone.goto(f"{b}/r/{code_el.inner_text().replace('-', '')}")  # type: ignore[attr-defined]
    ready(phone)
    phone.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]
    page.keyboard.press("PageDown")  # type: ignore[attr-defined]
    page.keyboard.press("PageDown")  # type: ignore[attr-defined]
    step_is(phone, 2)
    # The embed's own options stay out of what followers get.
    assert "theme" not in phone.url and "p=1" in phone.url  # type: ignore[attr-defined]
    page.click(".room-panel [data-act=end]")  # type: ignore[attr-defined]
    phone.locator(".room-banner[data-mode=ended]").wait_for()  # type: ignore[attr-defined]
