"""Parse a JSON request body cheaply, whatever it holds.

FastAPI parses a body with ``json.loads`` and validates it on the event loop, and
pydantic reports every unknown key: a 3.5 MB body of 300,000 keys took 8.6 s and
answered with a 34.6 MB list of errors. Here a body is first checked for what would
make parsing or validation expensive (too many list items, too many keys in one
object, nesting too deep), each refused with one 422 that says how to fix it, and
only then parsed (orjson, 2-5x faster than ``json.loads``) and validated.
:class:`app.api.route.GuardedRoute` runs this in a worker thread for bodies over
``limits.INLINE_PARSE_BYTES``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.exceptions import HTTPException

from app.api import limits

_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
"""Every digit to "0" and everything else to a space: a run of 20 digits is then a plain
substring search (a regex took 0.6 s over 33 MB, this 70 ms)."""
_LONG_NUMBER = b"0" * 20


class BodyError(HTTPException):
    """A 422 about the body as a whole, in the API's error shape.

    An ``HTTPException`` because FastAPI re-raises those while it reads a body (any
    other exception there becomes a bare 400)."""

    def __init__(self, loc: list[str | int], message: str, kind: str) -> None:
        super().__init__(422, detail=[{"loc": loc, "msg": message, "type": kind}])


def check_items(body: bytes) -> None:
    """Refuse a body holding more list items or keys than ``MAX_JSON_ITEMS`` before parsing.

    Every item after the first of a list and every key after the first of an object
    follows a comma; commas inside strings only overcount (base64 has none).
    ``bytes.count`` scans 36 MiB in a few milliseconds, parsing it takes 0.2-0.6 s.
    """
    commas = body.count(b",")
    if commas > limits.MAX_JSON_ITEMS:
        raise BodyError(
            [],
            f"the body holds {commas:,} list items or keys, over the limit of"
            f" {limits.MAX_JSON_ITEMS:,}; send large tensors in the compact form"
            " {dtype, shape, base64}",
            "body_too_complex",
        )


def check_structure(value: Any) -> None:
    """Refuse an object with more than ``MAX_JSON_KEYS`` keys, walking containers only (a
    row of numbers is skipped whole) down to ``MAX_JSON_DEPTH``: deeper, validation
    reads nothing (a tensor refuses more than 4 dimensions before looking inside)."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if depth > limits.MAX_JSON_DEPTH:
            continue
        if isinstance(item, dict):
            if len(item) > limits.MAX_JSON_KEYS:
                where = ".".join(map(str, path)) or "the body"
                raise BodyError(
                    list(path),
                    f"{where} has {len(item):,} keys, over the limit of {limits.MAX_JSON_KEYS};"
                    " send only the fields /docs lists",
                    "too_many_keys",
                )
            for k, v in item.items():
                if isinstance(v, dict | list):
                    stack.append((v, depth + 1, (*path, str(k))))
        elif isinstance(item, list) and item and isinstance(item[0], dict | list):
            for i, v in enumerate(item):
                if isinstance(v, dict | list):
                    stack.append((v, depth + 1, (*path, i)))


def parse(body: bytes) -> Any:
    """The parsed body, or :class:`BodyError` for a body too costly to parse or invalid."""
    check_items(body)
    if body.translate(_DIGITS).find(_LONG_NUMBER) >= 0:
        # orjson reads an integer beyond 64 bits as a float; json.loads keeps it exact,
        # so a shape of [10**30] is refused as the integer it is.
        return _checked(_loads_lenient(body))
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = _loads_lenient(body)
    return _checked(value)


def _checked(value: Any) -> Any:
    check_structure(value)
    return value


def _loads_lenient(body: bytes) -> Any:
    """What orjson refused, through ``json.loads``: it reads NaN and Infinity (which the
    tensor validators then name, with where they are) and words its errors as before."""
    fault = "the body is not valid JSON: "
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        message = fault + exc.msg
    except RecursionError:
        message = fault + "arrays or objects nest too deeply to parse; tensors have at most 4"
        message += " dimensions"
    except UnicodeDecodeError:
        message = fault + "it is not UTF-8 text"
    except ValueError:  # an integer of thousands of digits (Python's conversion limit)
        message = fault + "it holds an integer with thousands of digits; send numbers that fit"
        message += " in float32"
    raise BodyError([], message, "json_invalid")
