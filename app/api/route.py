"""The API's route class: bodies parsed and checked cheaply, answers never silently null.

FastAPI reads a JSON body with ``json.loads`` and validates it on the event loop. A
:class:`GuardedRoute` hands FastAPI a request whose ``json()`` does it instead:

- parses with the checks of :mod:`app.api.json_body` (item count, keys per object,
  depth) and validates against the route's body model, in a worker thread when the
  body is over ``limits.INLINE_PARSE_BYTES``; FastAPI's own validation then gets the
  model instance and passes it through untouched;
- lists at most ``limits.MAX_VALIDATION_ERRORS`` validation errors (then how many more);
- checks the request against :mod:`app.api.request_budget` (kernel sides, the memory
  its stages take, its answer's size) before the route computes anything.

An answer holding a number that overflowed float32 (``inf``, which JSON would carry
as ``null``) is refused with 422 naming the request field with the largest numbers,
the one to scale down (see ``app.api.responses.NonFiniteAnswer``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.api import json_body, limits, request_budget
from app.api.errors import api_error_item, engine_error_item, validation_error_body
from app.api.responses import NonFiniteAnswer
from app.engine.errors import EngineError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _parse_and_validate(body: bytes, route: APIRoute, encoding: str) -> Any:
    value = json_body.parse(body)
    field = route.body_field
    if field is None:
        return value
    model, errors = field.validate(value, {}, loc=("body",))
    if errors:
        raise HTTPException(422, detail=validation_error_body(list(errors))["detail"])
    try:
        request_budget.check(model, encoding)
    except EngineError as exc:  # answered as app.api.errors answers it from a route
        raise HTTPException(422, detail=[engine_error_item(exc)]) from None
    return model


class GuardedRequest(Request):
    """A request whose ``json()`` is the validated body model (see the module's doc)."""

    route: APIRoute
    model: Any = None

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            encoding = self.query_params.get("encoding", "json")
            if len(body) <= limits.INLINE_PARSE_BYTES:
                self._json = _parse_and_validate(body, self.route, encoding)
            else:
                self._json = await run_in_threadpool(
                    _parse_and_validate, body, self.route, encoding
                )
            self.model = self._json
        return self._json


def _largest_field(model: Any) -> str:
    """The request tensor with the largest magnitude: what to scale down on overflow."""
    best, field = -1.0, "input"
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, np.ndarray) and v.size and v.dtype.kind == "f":
                top = float(np.abs(v).max())
                if top > best:
                    best, field = top, name
    return field


class GuardedRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            wrapped = GuardedRequest(request.scope, request.receive, request._send)
            wrapped.route = self
            try:
                # An overflow is refused below, by the answer it leaves; numpy need not warn
                # (errstate is a context variable: the route's worker thread inherits it).
                with np.errstate(over="ignore", invalid="ignore"):
                    return await handler(wrapped)
            except NonFiniteAnswer as exc:
                field = _largest_field(wrapped.model) if wrapped.model is not None else "input"
                message = (
                    f"the answer's {exc.where} overflows float32 (a number beyond"
                    f" ±3.4e38, which JSON cannot carry); scale {field} down"
                )
                item = api_error_item(
                    field, message, "overflow", {"where": exc.where, "scale_down": field}
                )
                raise HTTPException(422, detail=[item]) from None

        return guarded
