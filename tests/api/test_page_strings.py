"""The strings a page embeds for its scripts: none the markup already shows.

static/js/core/i18n.js (pageStrings) reads those back from the markup; every other
string the page's scripts may ask for must be in the embedded JSON.
"""

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from app.api.routes.pages import EAGER_ERROR_STRINGS, LAZY_STRINGS, OTHER_PAGES, locale

STRINGS = re.compile(r'<script type="application/json" id="strings">(.*?)</script>', re.S)


@pytest.mark.parametrize(
    ("url", "lang", "page"),
    [("/", "en", "forward"), ("/?lang=ru", "ru", "forward"), ("/network?lang=ru", "ru", "network")],
)
def test_each_string_is_embedded_or_shown_once(client: TestClient, url, lang, page) -> None:
    body = client.get(url).text
    embedded = json.loads(STRINGS.search(body)[1].replace("<\\/", "</"))
    strings = {k: v for k, v in locale(lang).items() if not k.startswith(OTHER_PAGES[page])}
    # The API errors' words load with the first error answer (core/api.js), all but a few.
    lazy = {k for k in strings if k.startswith(LAZY_STRINGS) and k not in EAGER_ERROR_STRINGS}
    assert lazy and not lazy & set(embedded)
    strings = {k: v for k, v in strings.items() if k not in lazy}
    for key, text in strings.items():
        if key in embedded:
            assert embedded[key] == text
            continue
        # Not embedded: the markup shows it, as an element's whole text or an attribute.
        k = re.escape(key)
        element = re.search(rf'data-i18n="{k}"[^>]*>([^<]*)</', body)
        shown = [html.unescape(element[1])] if element else []
        for tag in re.findall(r'<[^>]*data-i18n-attr="[^"]*"[^>]*>', body):
            pairs = re.search(r'data-i18n-attr="([^"]*)"', tag)[1].split(";")
            for attr, _, name in (p.strip().partition(":") for p in pairs):
                value = re.search(rf'\s{attr}="([^"]*)"', tag)
                if name.strip() == key and value:
                    shown.append(html.unescape(value[1]))
        assert text in shown, f"{key} is neither embedded nor in the markup"
    if page == "forward":
        assert "player.play" not in embedded  # the Play button's text
        assert "player.pause" in embedded  # written by the script
