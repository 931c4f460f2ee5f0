"""Every ES module, as the server sends it (minified: app/static_files.py), imports
in Chromium, and every page runs on them without an error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


def entry_points() -> set[str]:
    """Modules a template starts with a script tag: they run the page they are on."""
    found: set[str] = set()
    for html in TEMPLATES.glob("*.html"):
        found |= set(re.findall(r'src="/static/(js/[\w/.-]+\.js)"', html.read_text()))
    return found


def test_every_module_imports_in_chromium(page, server: str) -> None:
    entries = entry_points()
    assert "js/pages/main.js" in entries
    modules = sorted(
        p.relative_to(ROOT / "static").as_posix() for p in (ROOT / "static" / "js").rglob("*.js")
    )
    libraries = [m for m in modules if m not in entries]
    page.goto(server + "/")
    page.locator('table[aria-label^="Output"]').first.wait_for(state="attached")
    failed = page.evaluate(
        """async (names) => {
          const failed = [];
          for (const n of names) {
            try { await import('/static/' + n); } catch (e) { failed.push(n + ': ' + e.message); }
          }
          return failed;
        }""",
        libraries,
    )
    assert failed == []
    assert len(libraries) > 40


@pytest.mark.parametrize(
    "path",
    ["/", "/?lang=ru", "/?view=backward", "/network", "/lecture", "/embed", "/stack", "/digits"],
)
def test_every_page_runs_on_the_served_modules(page, server: str, path: str) -> None:
    """The page fixture fails the test on any console error or uncaught exception."""
    page.goto(server + path)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.readyState") == "complete"
