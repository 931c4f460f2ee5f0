"""The error body every middleware answers with: the API's own shape."""

from __future__ import annotations

from starlette.responses import JSONResponse


def error_response(
    status: int, message: str, kind: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """``{"detail": [{"loc": [], "msg", "type"}]}``: ``loc`` is empty, as the fault is
    the request as a whole rather than one field."""
    return JSONResponse(
        status_code=status,
        content={"detail": [{"loc": [], "msg": message, "type": kind}]},
        headers=headers,
    )
