"""Every page's shell comes from templates/_base.html: the same language attribute,
character set, viewport, icon and house style sheet, in the same order at the top of
the head, whatever the page, its language or its options."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.templating import TEMPLATES_DIR

# The head's first lines on every page, the title (the page's own) left out.
SHELL = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">',
    '<link rel="stylesheet" href="/static/css/app.css">',
]

PAGES = [
    "/",
    "/?view=backward",
    "/network",
    "/stack",
    "/digits",
    "/embed?theme=dark&fs=1.5",
    "/lecture",
    "/lecture/intro",
    "/lecture/pixels",
]


def head_lines(html: str) -> list[str]:
    head = re.search(r"<head>\n(.*?)</head>", html, re.S)
    assert head, "no <head>"
    return [line for line in head[1].split("\n") if line]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("url", PAGES)
def test_every_page_head_starts_with_the_same_shell(
    client: TestClient, url: str, lang: str
) -> None:
    page = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
    assert page.status_code == 200
    html = page.text
    assert html.startswith(f'<!doctype html>\n<html lang="{lang}"')
    lines = head_lines(html)
    assert lines[:2] == SHELL[:2]
    assert re.fullmatch(r"<title[^>]*>[^<]+</title>", lines[2]), lines[2]
    assert lines[3:5] == SHELL[2:]
    # Each shell line once: a page adds its own sheets and scripts after them, never again.
    for line in SHELL:
        assert html.count(line) == 1, line
    assert html.rstrip().endswith("</body>\n</html>")


def test_every_page_template_extends_the_base() -> None:
    pages = sorted(p for p in Path(TEMPLATES_DIR).glob("*.html") if not p.name.startswith("_"))
    assert [p.name for p in pages] == [
        "digits.html",
        "embed.html",
        "index.html",
        "lecture.html",
        "network.html",
        "stack.html",
    ]
    for p in pages:
        text = p.read_text()
        assert "{% extends '_base.html' %}" in text, p.name
        assert "<!doctype" not in text.lower() and "<head>" not in text, p.name
        assert '<meta charset="utf-8">' not in text, p.name
