"""One place that turns every client mistake into a clear 4xx answer.

FastAPI's default validation handler echoes the rejected value back (and fails
with a 500 when that value is NaN); ours never echoes input, names the field and
says how to fix it. Engine errors (``app.engine.errors``) become 422 as well.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from app.api import limits
from app.engine.errors import EngineError


class LimitError(EngineError):
    """A request over one of the documented limits (``app.api.limits``)."""


def _field(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    parts = [p for p in loc if p not in ("body", "query", "path")]
    # pydantic names union members (e.g. "int", "tuple[int, int]", "constrained-int",
    # a tagged union's "op=max_pool2d") in the location; they mean nothing to a client.
    return [p for p in parts if isinstance(p, int) or not any(c in p for c in "[]()|-=")]


def _message(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in _field(error.get("loc", ())))
    if error.get("type") == "op":  # the export union's own tag error (export_schemas)
        return str(error.get("msg"))
    msg = str(error.get("msg", "is invalid"))
    if error.get("type") == "tensor":
        return f"{where} {msg}" if where else msg
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON: " + str(error.get("ctx", {}).get("error", msg))
    if error.get("type") == "missing":
        return f"{where} is required" if where else "the body is required: send a JSON object"
    if error.get("type") == "extra_forbidden":
        return f"{where} is not a known field; check its spelling against /docs"
    return f"{where}: {msg}" if where else msg


# Pydantic reports one error per member of a union ("stride: int | [int, int]");
# errors that only say "not this member's type" are noise when another member
# explains the real problem, and when none does, the field's accepted forms are
# the useful message.
_TYPE_MISMATCH = {
    "int_type",
    "int_parsing",
    "int_from_float",
    "float_type",
    "float_parsing",
    "tuple_type",
    "list_type",
    "literal_error",
    "string_type",
    "bool_type",
    "bool_parsing",
    "dict_type",
    "model_type",
    "too_short",
    "too_long",
    "missing",  # a missing item of one tuple member (padding [1, 0, 1] vs four values)
}
_FORMS = {
    "stride": "an integer >= 1 or a pair [sH, sW]",
    "dilation": "an integer >= 1 or a pair [dH, dW]",
    "kernel_size": "an integer >= 1 or a pair [kH, kW]",
    "output_padding": "an integer >= 0 or a pair",
    "padding": "an integer >= 0, a pair [pH, pW], four integers [left, right, top, bottom],"
    " 'same' or 'valid' (pooling and transposed convolution: an integer or a pair)",
}


def _pick_union_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_field: dict[Any, list[dict[str, Any]]] = {}
    for error in errors:
        key = tuple(_field(error.get("loc", ()))[:1])  # the body field it is about
        by_field.setdefault(key, []).append(error)
    picked: list[dict[str, Any]] = []
    for key, group in by_field.items():
        field = key[-1] if key else ""
        if len(group) == 1 or field not in _FORMS:
            picked.extend(group)
            continue
        specific = [e for e in group if e.get("type") not in _TYPE_MISMATCH]
        if len(specific) == 1:
            picked.append(specific[0])
        else:
            picked.append({"loc": (field,), "msg": f"must be {_FORMS[field]}", "type": "union"})
    return picked


def validation_error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Errors without the rejected input, deduplicated (one line per field and message),
    at most ``limits.MAX_VALIDATION_ERRORS`` of them and then how many were left out."""
    seen: set[tuple[str, str]] = set()
    items: list[dict[str, Any]] = []
    picked = _pick_union_errors(errors)
    for n, error in enumerate(picked):
        if len(items) == limits.MAX_VALIDATION_ERRORS:
            more = len(picked) - n
            items.append(
                {
                    "loc": [],
                    "msg": f"and {more:,} more errors; fix these first",
                    "type": "more_errors",
                }
            )
            break
        loc = _field(error.get("loc", ())) or (["op"] if error.get("type") == "op" else [])
        msg = _message(error)
        key = (repr(loc), msg)
        if key in seen:
            continue
        seen.add(key)
        item: dict[str, Any] = {
            "loc": loc,
            "msg": msg,
            "type": str(error.get("type", "value_error")),
        }
        ctx = _plain_ctx(error.get("ctx"))
        if ctx:
            item["ctx"] = ctx
        items.append(item)
    return {"detail": items}


def _plain_ctx(ctx: Any) -> dict[str, int | float | str]:
    """Pydantic's parameters of an error (``ge``, ``le``, ``expected``...) that a
    client can word it with: numbers and short strings only, never the input."""
    if not isinstance(ctx, dict):
        return {}
    return {
        str(k): v
        for k, v in ctx.items()
        if isinstance(v, int | float | str) and not isinstance(v, bool) and len(str(v)) <= 200
    }


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content=validation_error_body(list(exc.errors())))


def engine_error_item(exc: EngineError) -> dict[str, Any]:
    """One ``detail`` item for an engine (or limit) error: the English ``msg``, and
    ``type`` and ``code`` (the same stable name, ``app.engine.errors.CODES``) with the
    error's numbers in ``ctx``, for a client to word it in its own language."""
    item: dict[str, Any] = {
        "loc": [exc.field],
        "msg": str(exc),
        "type": exc.code,
        "code": exc.code,
        "ctx": dict(exc.params),
    }
    return item


def api_error_item(loc: str, msg: str, code: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """A ``detail`` item for a 422 the API makes itself (overflow), shaped as the rest."""
    return {"loc": [loc], "msg": msg, "type": code, "code": code, "ctx": ctx}


async def _on_engine_error(request: Request, exc: EngineError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": [engine_error_item(exc)]})


def _body_parse_message(exc: HTTPException) -> str | None:
    """What was wrong with a body FastAPI could not parse, from the error it wraps.

    FastAPI answers any failure of ``json.loads`` other than a syntax error with a
    bare 400 "There was an error parsing the body", raised from the original error.
    """
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None:
        return None
    if isinstance(cause, RecursionError):
        return (
            "the body is not valid JSON: arrays or objects nest too deeply to parse;"
            " tensors have at most 4 dimensions"
        )
    if isinstance(cause, UnicodeDecodeError):
        return "the body is not valid JSON: it is not UTF-8 text"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return (
            "the body is not valid JSON: it holds an integer with thousands of digits;"
            " send numbers that fit in float32"
        )
    return None


async def _on_http_error(request: Request, exc: HTTPException) -> Response:
    """Errors raised as ``HTTPException`` (404, 405, a bad multipart form, a body too
    large) in the same ``{"detail": [{"loc", "msg", "type"}]}`` shape as the rest."""
    parse_message = _body_parse_message(exc)
    if parse_message is not None:
        return JSONResponse(
            status_code=422,
            content={"detail": [{"loc": [], "msg": parse_message, "type": "json_invalid"}]},
        )
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail
    if not isinstance(detail, list):
        detail = [{"loc": [], "msg": str(detail), "type": "http"}]
    return JSONResponse(
        status_code=exc.status_code, content={"detail": detail}, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(EngineError, _on_engine_error)  # type: ignore[arg-type]
