"""What a lecturer may publish: a page's path and query, checked as strictly as a URL.

The page writes its whole view state into the query (static/js/core/state.js); that
query is what a room carries, so a follower applies it exactly as if it had opened
the link. The server checks it before anyone sees it:

- the path is a page of this app that holds a view: ``/``, ``/lecture`` or a
  lecture scene ``/lecture/<id>``;
- the query is at most ``MAX_QUERY_CHARS``, uses only the characters state.js
  writes (letters, digits, ``, . : * _ ~ -`` and ``%XX`` escapes), names each key
  once, and only the keys state.js declares;
- each value, unescaped, keeps to that alphabet (numbers, tensors such as
  ``1x3x3:0,1*4``, preset names): no markup, quotes, spaces or control characters
  can reach a follower's page, which then parses each value with its own codecs.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import parse_qsl

MAX_QUERY_CHARS = 48 * 1024
"""A painted 64x64 input and a kernel, as the page writes them (state.js caps one
tensor's text at 32,768 characters); lecture views are a few hundred characters."""

#: The URL keys of static/js/core/state.js (PROPS); tests/rooms checks the two agree.
STATE_KEYS = frozenset(
    "lang view in sch k b s p d g pm r flip act ns pool pk ps pp pc pi um ms sp step"
    " loss tg go lr mo it gd tc op".split()
)
_RAW = re.compile(r"^[A-Za-z0-9,.:*_~%&=+-]*$")
_VALUE = re.compile(r"^[A-Za-z0-9,.:*_~+-]*$")
_SCENE = re.compile(r"^/lecture/([a-z0-9-]{1,64})$")


class ViewError(ValueError):
    """A published view that would not be a valid link; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class View:
    path: str
    query: str  # "" or starting with "?"

    @property
    def url(self) -> str:
        return self.path + self.query


def check_view(path: str, query: str, scene_ids: Collection[str]) -> View:
    """The view as published, or :class:`ViewError` saying what is wrong and how to fix it."""
    scene = _SCENE.match(path)
    if path not in ("/", "/lecture") and not (scene and scene[1] in scene_ids):
        raise ViewError("path", "path must be /, /lecture or /lecture/<scene id> of this app")
    body = query[1:] if query.startswith("?") else query
    if len(body) > MAX_QUERY_CHARS:
        raise ViewError(
            "query",
            f"query is longer than {MAX_QUERY_CHARS} characters; use a smaller input or a preset",
        )
    if not _RAW.match(body):
        raise ViewError("query", "query holds characters a view's link never has")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body))
    except ValueError:
        raise ViewError("query", "query is not key=value pairs joined by &") from None
    seen: set[str] = set()
    for key, value in pairs:
        if key not in STATE_KEYS:
            raise ViewError("query", f"query key {key[:20]!r} is not part of a view's state")
        if key in seen:
            raise ViewError("query", f"query key {key!r} appears twice")
        seen.add(key)
        if not _VALUE.match(value):
            raise ViewError("query", f"query value of {key!r} holds characters no view writes")
    return View(path, f"?{body}" if body else "")
