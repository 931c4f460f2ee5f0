"""One place that turns every client mistake into a clear 4xx answer.

FastAPI's default validation handler echoes the rejected value back (and fails
with a 500 when that value is NaN); ours never echoes input, names the field and
says how to fix it. Engine errors (``app.engine.errors``) become 422 as well.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.engine.errors import EngineError


class LimitError(EngineError):
    """A request over one of the documented limits (``app.api.limits``)."""


def _field(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    parts = [p for p in loc if p not in ("body", "query", "path")]
    # pydantic names union members (e.g. "int", "tuple[int, int]") in the location;
    # they mean nothing to a client.
    return [p for p in parts if isinstance(p, int) or not any(c in p for c in "[]()|")]


def _message(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in _field(error.get("loc", ())))
    msg = str(error.get("msg", "is invalid"))
    if error.get("type") == "tensor":
        return f"{where} {msg}" if where else msg
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON: " + str(error.get("ctx", {}).get("error", msg))
    if error.get("type") == "missing":
        return f"{where} is required"
    if error.get("type") == "extra_forbidden":
        return f"{where} is not a known field; check its spelling against /docs"
    return f"{where}: {msg}" if where else msg


def validation_error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Errors without the rejected input, deduplicated (one line per field and message)."""
    seen: set[tuple[str, str]] = set()
    items = []
    for error in errors:
        loc = _field(error.get("loc", ()))
        msg = _message(error)
        key = (repr(loc), msg)
        if key in seen:
            continue
        seen.add(key)
        items.append({"loc": loc, "msg": msg, "type": str(error.get("type", "value_error"))})
    return {"detail": items}


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content=validation_error_body(list(exc.errors())))


async def _on_engine_error(request: Request, exc: EngineError) -> JSONResponse:
    kind = "limit" if isinstance(exc, LimitError) else type(exc).__name__
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": [exc.field], "msg": str(exc), "type": kind}]},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(EngineError, _on_engine_error)  # type: ignore[arg-type]
