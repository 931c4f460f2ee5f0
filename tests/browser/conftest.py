"""Browser fixtures: the real app under uvicorn, driven through Debian's Chromium.

The server runs in a subprocess on a free loopback port while this package runs;
every page records console errors, uncaught exceptions and requests, and each
test fails if any error was logged or any request left 127.0.0.1.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Package scope, not session: Playwright's sync API keeps an asyncio loop running
# in the main thread while it is open, and tests collected after this package
# that call asyncio.run() would fail until it is closed.
@pytest.fixture(scope="package")
def server() -> Iterator[str]:
    """Base URL of the app, served by uvicorn in a subprocess."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/api/presets", timeout=1) as res:
                    if res.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"uvicorn did not start:\n{err}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watch:
    """What a page did that a test may want to look at."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    #: Console errors a test provokes on purpose (Chromium logs every 4xx answer).
    expected: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


def _open(
    browser: object, watch: Watch, width: int, height: int, touch: bool = False
) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": height}, has_touch=touch
    )
    page = context.new_page()
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
    page.on("request", lambda r: watch.requests.append(r.url))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    unexpected = [e for e in watch.errors if not any(x in e for x in watch.expected)]
    assert unexpected == [], f"console errors: {unexpected}"
    away = [u for u in watch.requests if urlparse(u).hostname not in ("127.0.0.1", None)]
    assert away == [], f"requests left the machine: {away}"


@pytest.fixture
def page(browser: object, watch: Watch) -> Iterator[object]:
    """A 1280x800 page (the projector) that fails the test on any console error."""
    yield from _open(browser, watch, 1280, 800)


@pytest.fixture
def phone(browser: object, watch: Watch) -> Iterator[object]:
    """A 390x844 page with a touch screen (a phone)."""
    yield from _open(browser, watch, 390, 844, touch=True)
