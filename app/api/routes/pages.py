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


@router.get("/", response_class=HTMLResponse)
def index(request: Request, lang: str = "en") -> HTMLResponse:
    """The visualizer. An unknown ``lang`` falls back to English rather than failing."""
    if lang not in LANGUAGES:
        lang = "en"
    strings = locale(lang)
    # Embedded for the scripts; "</" is escaped so no string can close the <script>.
    strings_json = json.dumps(strings, ensure_ascii=False).replace("</", "<\\/")
    return templates.TemplateResponse(
        request,
        "index.html",
        {"lang": lang, "t": lambda key: strings.get(key, key), "strings_json": strings_json},
    )
