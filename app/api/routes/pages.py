"""HTML pages: the visualizer, rendered in the language asked for.

The strings come from ``static/locales/<lang>.json``, the same files the page's
scripts use when the language is switched in place, so the first paint is already
in the right language and nothing is translated twice.
"""

import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)

LOCALES_DIR = Path(__file__).resolve().parents[3] / "static" / "locales"
LANGUAGES = ("en", "ru")


@cache
def locale(lang: str) -> dict[str, str]:
    """The strings of one language (read once per process)."""
    strings: dict[str, str] = json.loads((LOCALES_DIR / f"{lang}.json").read_text("utf-8"))
    return strings


#: Strings each page leaves out of its embedded copy, by key prefix: the backward
#: view's ("bw.") and the X/O network's ("net.") weigh on no other page. A switch
#: of language in place loads the whole file.
OTHER_PAGES = {"forward": ("bw.", "net."), "backward": ("net.",), "network": ("bw.",)}


def _page(request: Request, template: str, lang: str, page: str) -> HTMLResponse:
    if lang not in LANGUAGES:
        lang = "en"
    strings = locale(lang)
    skip = OTHER_PAGES[page]
    embedded = {k: v for k, v in strings.items() if not k.startswith(skip)}
    # Embedded for the scripts; "</" is escaped so no string can close the <script>.
    strings_json = json.dumps(embedded, ensure_ascii=False).replace("</", "<\\/")
    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "view": page,
            "t": lambda key: strings.get(key, key),
            "strings_json": strings_json,
        },
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request, lang: str = "en", view: str = "forward") -> HTMLResponse:
    """The visualizer, forward or backward. An unknown ``lang`` or ``view`` falls back
    to the default rather than failing."""
    return _page(request, "index.html", lang, view if view == "backward" else "forward")
