"""HTML pages: the visualizer, rendered in the language asked for.

The strings come from ``static/locales/<lang>.json``, the same files the page's
scripts use when the language is switched in place, so the first paint is already
in the right language and nothing is translated twice.
"""

import json
import re
from functools import cache
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

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
OTHER_PAGES = {
    "forward": ("bw.", "net."),
    "backward": ("net.",),
    "network": ("bw.",),
    "stack": ("bw.", "net."),
    "digits": ("bw.", "net."),
}


#: The words of the API's errors (docs/API.md, "Error codes") weigh on no first view:
#: core/api.js loads them from the locale file with the first error answer. These few
#: are used before any answer (the page's own refusal of a kernel larger than its input).
LAZY_STRINGS = ("apierr.", "apifield.")
EAGER_ERROR_STRINGS = frozenset(
    {
        "apierr.own",
        "apierr.field",
        "apierr.other",
        "apierr.numberLocale",
        "apierr.kernel_larger_than_input",
    }
)


def _page(
    request: Request,
    template: str,
    lang: str,
    page: str,
    extra: dict[str, Any] | None = None,
    page_strings: dict[str, str] | None = None,
) -> HTMLResponse:
    if lang not in LANGUAGES:
        lang = "en"
    strings = {**locale(lang), **(page_strings or {})}
    skip = OTHER_PAGES[page]
    embedded = {
        k: v
        for k, v in strings.items()
        if not k.startswith(skip) and (not k.startswith(LAZY_STRINGS) or k in EAGER_ERROR_STRINGS)
    }
    rendered = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "view": page,
            "t": lambda key: strings.get(key, key),
            "strings_json": STRINGS_SLOT,
            **(extra or {}),
        },
    )
    html = bytes(rendered.body).decode("utf-8")
    # A string the markup already shows (text of a data-i18n element, an attribute
    # named by data-i18n-attr) is read back from the markup by i18n.pageStrings,
    # so it is not embedded a second time.
    shown = in_markup(html, strings)
    embedded = {k: v for k, v in embedded.items() if k not in shown}
    # Embedded for the scripts; "</" is escaped so no string can close the <script>.
    strings_json = json.dumps(embedded, ensure_ascii=False).replace("</", "<\\/")
    return HTMLResponse(html.replace(STRINGS_SLOT, strings_json, 1), rendered.status_code)


#: Where the embedded strings go, filled in once the markup is known.
STRINGS_SLOT = "@@convviz:strings@@"
_TEXT = re.compile(r'<(\w+)[^>]*?\sdata-i18n="([^"]+)"[^>]*>([^<]*)</\1>')
_ATTR_TAG = re.compile(r'<\w+[^>]*?\sdata-i18n-attr="([^"]+)"[^>]*>')


def in_markup(html: str, strings: dict[str, str]) -> set[str]:
    """The keys whose text the markup holds exactly as the locale has it: the text
    of an element ``<x data-i18n="key">text</x>`` (no child elements) and the value
    of each attribute ``data-i18n-attr="attr:key"`` names. The page's scripts read
    these back (static/js/core/i18n.js, pageStrings) instead of an embedded copy."""
    seen: dict[str, set[str]] = {}
    for m in _TEXT.finditer(html):
        seen.setdefault(m[2], set()).add(unescape(m[3]))
    for m in _ATTR_TAG.finditer(html):
        for pair in m[1].split(";"):
            attr, _, key = (x.strip() for x in pair.partition(":"))
            value = re.search(rf'\s{re.escape(attr)}="([^"]*)"', m[0])
            if attr and key and value:
                seen.setdefault(key, set()).add(unescape(value[1]))
    # A key shown anywhere with other text (a placeholder) stays embedded.
    shown = {k for k, texts in seen.items() if k in strings and texts == {strings[k]}}
    return shown


# ---------------------------------------------------------------- lecture mode

STATIC_DIR = LOCALES_DIR.parent
SCENES_FILE = STATIC_DIR / "lecture" / "scenes.json"
#: Query keys that say how a view is watched, not what it computes: a scene's
#: address with only these opens the scene's own numbers.
VIEW_KEYS = frozenset({"lang", "step", "sp"})
#: The embed view's themes and font scales (static/js/core/embed-options.js parses the
#: same; here they style the first paint, so a dark slide never flashes white).
THEMES = ("light", "dark", "high-contrast")
FONT_SCALE = (0.5, 3.0)


@cache
def lecture_locale(lang: str) -> dict[str, str]:
    """The lecture mode's strings (scenes, embed, share): ``locales/lecture/<lang>.json``."""
    path = LOCALES_DIR / "lecture" / f"{lang}.json"
    strings: dict[str, str] = json.loads(path.read_text("utf-8"))
    return strings


@cache
def scenes() -> tuple[dict[str, Any], ...]:
    """The lecture's scenes in slide order: id, slides, the state as a query, checks."""
    loaded: list[dict[str, Any]] = json.loads(SCENES_FILE.read_text("utf-8"))
    return tuple(loaded)


def _lecture(lang: str, **extra: Any) -> dict[str, Any]:
    """Template context of the lecture pages: ``L(key, **params)`` for their strings."""
    lecture = lecture_locale(lang if lang in LANGUAGES else "en")

    def lt(key: str, **params: object) -> str:
        text = lecture.get(key, key)
        return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m[1], m[0])), text)

    return {"L": lt, "scenes": scenes(), "scene": None, **extra}


@router.get("/lecture", response_class=HTMLResponse)
def lecture(request: Request, lang: str = "en") -> HTMLResponse:
    """The lecture's scenes in slide order, each a link."""
    return _page(request, "lecture.html", lang, "forward", _lecture(lang))


@router.get("/lecture/{scene_id}", response_class=HTMLResponse, response_model=None)
def lecture_scene(
    request: Request, scene_id: str, lang: str = "en"
) -> HTMLResponse | RedirectResponse:
    """One scene: the visualizer with the slide's numbers and the slide's explanation.

    Without a state in the address, it redirects to the scene's own state (the same
    format as the visualizer's), so the address bar always holds the whole view.
    """
    ids = [s["id"] for s in scenes()]
    if scene_id not in ids:
        detail = f"No scene {scene_id!r}; the list is at /lecture"
        raise HTTPException(status_code=404, detail=detail)
    i = ids.index(scene_id)
    scene = scenes()[i]
    query = scene.get("query", "")
    if query and all(k in VIEW_KEYS for k in request.query_params):
        kept = urlencode(list(request.query_params.multi_items()))
        return RedirectResponse(f"/lecture/{scene_id}?{query}{'&' + kept if kept else ''}", 302)
    nav = {
        "prev": scenes()[i - 1] if i else None,
        "next": scenes()[i + 1] if i + 1 < len(ids) else None,
    }
    template = "lecture.html" if scene.get("kind") == "text" else "index.html"
    return _page(request, template, lang, "forward", _lecture(lang, scene=scene, **nav))


@router.get("/embed", response_class=HTMLResponse)
def embed(request: Request, lang: str = "en", theme: str = "light", fs: str = "1") -> HTMLResponse:
    """The embed view: the animation alone, for an iframe in a slide (framable)."""
    try:
        scale = float(fs)
    except ValueError:
        scale = 1.0
    if not FONT_SCALE[0] <= scale <= FONT_SCALE[1]:
        scale = 1.0
    style = {"theme": theme if theme in THEMES else "light", "fs": scale}
    return _page(request, "embed.html", lang, "forward", _lecture(lang, **style))


@router.get("/", response_class=HTMLResponse)
def index(request: Request, lang: str = "en", view: str = "forward") -> HTMLResponse:
    """The visualizer, forward or backward. An unknown ``lang`` or ``view`` falls back
    to the default rather than failing."""
    return _page(request, "index.html", lang, view if view == "backward" else "forward")


@router.get("/network", response_class=HTMLResponse)
def network(request: Request, lang: str = "en") -> HTMLResponse:
    """The X/O network of the lecture: every stage, the vote, training."""
    return _page(request, "network.html", lang, "network")


# ---------------------------------------------------------------- layers on real pictures


@cache
def layers_locale(lang: str) -> dict[str, str]:
    """The strings of /stack and /digits (``locales/layers/<lang>.json``): no other page
    loads them."""
    path = LOCALES_DIR / "layers" / f"{lang}.json"
    strings: dict[str, str] = json.loads(path.read_text("utf-8"))
    return strings


@router.get("/stack", response_class=HTMLResponse)
def stack(request: Request, lang: str = "en") -> HTMLResponse:
    """A stack of layers composed on a photo or a drawing, every map as a picture."""
    code = lang if lang in LANGUAGES else "en"
    return _page(request, "stack.html", lang, "stack", page_strings=layers_locale(code))


@router.get("/digits", response_class=HTMLResponse)
def digits(request: Request, lang: str = "en") -> HTMLResponse:
    """The trained digit network: draw a digit and watch every layer."""
    code = lang if lang in LANGUAGES else "en"
    return _page(request, "digits.html", lang, "digits", page_strings=layers_locale(code))
