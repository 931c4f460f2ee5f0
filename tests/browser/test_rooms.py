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
    _follow(phone, b, _lead_embed(page, a + "/embed?theme=dark&p=1"))
    page.keyboard.press("PageDown")  # type: ignore[attr-defined]
    page.keyboard.press("PageDown")  # type: ignore[attr-defined]
    step_is(phone, 2)
    # The embed's own options stay out of what followers get.
    assert "theme" not in phone.url and "p=1" in phone.url  # type: ignore[attr-defined]
    page.click(".room-panel [data-act=end]")  # type: ignore[attr-defined]
    phone.locator(".room-banner[data-mode=ended]").wait_for()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- one process, no Redis


def _open_room(lp: object, url: str) -> str:
    """The lecturer opens a room on `url`; its code."""
    lp.goto(url)  # type: ignore[attr-defined]
    ready(lp)
    lp.click("[data-room-open]")  # type: ignore[attr-defined]
    code_el = lp.locator(".room-panel [data-room=code]")  # type: ignore[attr-defined]
    code_el.filter(has_text="-").wait_for()
    return str(code_el.inner_text()).replace("-", "")


def test_followers_watch_the_lecturer_play(server: str, page: object, phone: object) -> None:
    """Play draws steps without writing the URL; the room still carries them, paced
    (room/lead.js PLAY_EVERY_MS), and the follower only redraws (no API request)."""
    lp, fp = page, phone
    code = _open_room(lp, server + "/")
    lp.select_option("#speed", "8")  # type: ignore[attr-defined]
    fp.goto(f"{server}/r/{code}")  # type: ignore[attr-defined]
    ready(fp)
    fp.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]
    step_is(fp, 0)

    lp.evaluate("performance.setResourceTimingBufferSize(5000)")  # type: ignore[attr-defined]
    asked: list[str] = []
    fp.on(  # type: ignore[attr-defined]
        "request",
        lambda r: asked.append(r.url) if "/api/" in r.url and "/api/rooms/" not in r.url else None,
    )
    # Every step the follower's page shows, as it shows it.
    fp.evaluate(  # type: ignore[attr-defined]
        """() => { window.seen = [];
          setInterval(() => { const s = window.convviz.step;
            if (window.seen.at(-1) !== s) window.seen.push(s); }, 20); }"""
    )

    # Play and pause by the page's clock, which also times its requests.
    press = "() => { document.getElementById('btn-play').click(); return performance.now(); }"
    started = lp.evaluate(press)  # type: ignore[attr-defined]
    lp.wait_for_timeout(3000)  # type: ignore[attr-defined]
    stopped = lp.evaluate(press)  # type: ignore[attr-defined]
    final = lp.evaluate("window.convviz.step")  # type: ignore[attr-defined]
    assert lp.evaluate("window.convviz.app.player.playing") is False  # type: ignore[attr-defined]
    assert final >= 16, final  # 8 steps a second for 3 s
    step_is(fp, final)
    fp.wait_for_timeout(300)  # type: ignore[attr-defined]

    seen = fp.evaluate("window.seen")  # type: ignore[attr-defined]
    during = [s for s in seen if 0 < s < final]
    assert len(during) >= 5, seen  # the play, not a jump to its end
    assert seen == sorted(seen) and seen[-1] == final, seen
    # Paced: at most 4 a second while playing (plus the one at once and the stop).
    posts = lp.evaluate(  # type: ignore[attr-defined]
        f"""() => performance.getEntriesByType('resource')
             .filter((e) => e.name.endsWith('/api/rooms/{code}/state')).map((e) => e.startTime)"""
    )
    in_play = [t for t in posts if started <= t <= stopped + 50]
    seconds = (stopped - started) / 1000
    assert 5 <= len(in_play) <= 4 * seconds + 2, (len(in_play), seconds)
    assert len(in_play) < final  # fewer publishes than steps drawn
    # The follower drew the steps from the model it had: nothing asked again.
    assert asked == [], asked
    assert fp.locator(".room-banner[data-mode=following]").count() == 1  # type: ignore[attr-defined]
    SHOTS.mkdir(exist_ok=True)
    fp.screenshot(path=str(SHOTS / "room-played-390.png"))  # type: ignore[attr-defined]
    # The lecturer's history has no entry per step.
    assert lp.evaluate("history.length") <= 3  # type: ignore[attr-defined]
    lp.click(".room-panel [data-act=end]")  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=ended]").wait_for()  # type: ignore[attr-defined]


def test_the_lecture_pages_take_followers_along(server: str, page: object, phone: object) -> None:
    """The lecture's list and its text-only scenes have no player, but carry the room's
    hook: the lecturer's tab publishes each, and the follower's tab opens it."""
    lp, fp = page, phone
    code = _open_room(lp, server + "/?lang=ru")
    fp.goto(f"{server}/r/{code}")  # type: ignore[attr-defined]
    ready(fp)
    fp.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]

    lp.click("#lecture-link")  # type: ignore[attr-defined]
    lp.wait_for_url("**/lecture?lang=ru")  # type: ignore[attr-defined]
    # The room carries on in the lecturer's tab: its panel is on the lecture page too.
    lp.locator(".room-panel [data-room=code]").filter(has_text="-").wait_for()  # type: ignore[attr-defined]
    fp.wait_for_url(f"{server}/lecture?lang=ru")  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]
    assert fp.locator(".scene-list li").count() > 5  # type: ignore[attr-defined]
    SHOTS.mkdir(exist_ok=True)
    fp.screenshot(path=str(SHOTS / "room-lecture-index-390.png"))  # type: ignore[attr-defined]
    lp.screenshot(path=str(SHOTS / "room-lecture-index-lead-1280.png"))  # type: ignore[attr-defined]

    lp.click("a[href='/lecture/intro?lang=ru']")  # type: ignore[attr-defined]
    fp.wait_for_url(f"{server}/lecture/intro?lang=ru")  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]

    # From a text page to a scene with a player, and back to the list.
    lp.click("a[rel=next]")  # type: ignore[attr-defined]
    ready(lp)
    scene = lp.evaluate("location.pathname")  # type: ignore[attr-defined]
    assert scene.startswith("/lecture/") and scene != "/lecture/intro"
    fp.wait_for_url(f"**{scene}*")  # type: ignore[attr-defined]
    ready(fp)
    lp.go_back()  # type: ignore[attr-defined]
    fp.wait_for_url(f"{server}/lecture/intro?lang=ru")  # type: ignore[attr-defined]
    lp.locator(".room-panel [data-act=end]").click()  # type: ignore[attr-defined]
    fp.locator(".room-banner[data-mode=ended]").wait_for()  # type: ignore[attr-defined]


def test_followers_watch_an_embed_play(server: str, page: object, phone: object) -> None:
    """An embed in a deck leads like the visualizer: its Play reaches followers
    step by step (paced), not only where it stops."""
    _follow(phone, server, _lead_embed(page, server + "/embed?sp=8"))
    phone.evaluate(  # type: ignore[attr-defined]
        """() => { window.seen = [];
          setInterval(() => { const s = window.convviz.step;
            if (window.seen.at(-1) !== s) window.seen.push(s); }, 20); }"""
    )
    page.click("#btn-play")  # type: ignore[attr-defined]
    page.wait_for_timeout(2500)  # type: ignore[attr-defined]
    page.click("#btn-play")  # type: ignore[attr-defined]
    final = int(page.locator("#step-status").inner_text().split(" / ")[0]) - 1  # type: ignore[attr-defined]
    assert final >= 10, final
    step_is(phone, final)
    seen = phone.evaluate("window.seen")  # type: ignore[attr-defined]
    assert len([s for s in seen if 0 < s < final]) >= 4, seen  # the play, not a jump
    page.click(".room-panel [data-act=end]")  # type: ignore[attr-defined]


def _lead_embed(page: object, url: str) -> str:
    """The lecturer opens a room from an embed at `url`; its code."""
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_function("() => document.documentElement.dataset.ready === '1'")  # type: ignore[attr-defined]
    page.click("[data-room-open]")  # type: ignore[attr-defined]
    code_el = page.locator(".room-panel [data-room=code]")  # type: ignore[attr-defined]
    code_el.filter(has_text="-").wait_for()
    return str(code_el.inner_text()).replace("-", "")


def _follow(phone: object, base: str, code: str) -> None:
    """A student's phone joins room `code` on the server at `base` and follows."""
    phone.goto(f"{base}/r/{code}")  # type: ignore[attr-defined]
    ready(phone)
    phone.locator(".room-banner[data-mode=following]").wait_for()  # type: ignore[attr-defined]
