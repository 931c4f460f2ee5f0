"""JSON responses that carry numpy arrays, serialised by orjson.

orjson writes numpy arrays natively (no ``tolist()``), which is what keeps a
16x512x512 output cheap; FastAPI's own path would walk every number in Python.
With ``?encoding=base64`` every array travels in the compact form of
``app.api.tensors.base64_pieces`` instead, its text sent between the document's
parts (see :func:`_render_compact`).
"""

from __future__ import annotations

import math
import secrets
from typing import Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.api.tensors import base64_pieces

Encoding = Literal["json", "base64"]


class NonFiniteAnswer(ValueError):
    """An answer holding inf or NaN (a float32 overflow): JSON would carry it as null.
    ``app.api.route`` turns it into a 422 naming the request field to scale down."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def check_finite(data: Any, where: str = "") -> None:
    """Raise :class:`NonFiniteAnswer` at the first non-finite float in ``data``."""
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            raise NonFiniteAnswer(where or "answer")
    elif isinstance(data, float):
        if not math.isfinite(data):
            raise NonFiniteAnswer(where or "answer")
    elif isinstance(data, dict):
        for key, value in data.items():
            check_finite(value, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list | tuple):
        for value in data:
            if isinstance(value, float | np.ndarray | dict | list | tuple):
                check_finite(value, where)


def _render_compact(data: Any) -> list[bytes]:
    """``data`` as JSON with every array in the compact form: the document's parts, in order.

    orjson writes the document with a placeholder for each array's base64 text,
    and the text goes in between the document's pieces. Passing the text through
    orjson instead meant decoding it to a str and orjson checking each of its
    characters for escapes: ~15 ms of a 16x512x512 output's ~50 ms. Joining the
    parts into one body (``re.sub`` did) copied the 21 MiB answer into fresh,
    page-faulting memory: 10 ms, more than the convolution. So the parts are sent
    one after another instead (:class:`ArrayJSONResponse`). Base64 needs no
    escaping, and the placeholders carry a random token that nothing else in the
    document holds.
    """
    token = secrets.token_hex(8)
    texts: list[list[bytes]] = []

    def compact(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            shape, pieces = base64_pieces(value)
            texts.append(pieces)
            return {"dtype": "float32", "shape": shape, "base64": token}
        if isinstance(value, dict):
            return {k: compact(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [compact(v) for v in value]
        return value

    document = orjson.dumps(compact(data), default=_fallback, option=orjson.OPT_SERIALIZE_NUMPY)
    pieces = document.split(token.encode())  # one more piece than texts, in document order
    parts = [pieces[0]]
    for text, piece in zip(texts, pieces[1:], strict=True):
        parts += [*text, piece]
    return parts


class ArrayJSONResponse(Response):
    """JSON with numpy arrays; with ``encoding="base64"``, sent as its parts (no joined copy)."""

    media_type = "application/json"

    def __init__(self, content: BaseModel, encoding: Encoding = "json", **kwargs: Any) -> None:
        self.encoding = encoding
        self.parts: list[bytes] = []
        super().__init__(content, **kwargs)
        if self.parts:
            self.headers["content-length"] = str(sum(map(len, self.parts)))

    def render(self, content: Any) -> bytes:
        data = content.model_dump() if isinstance(content, BaseModel) else content
        check_finite(data)
        if self.encoding == "base64":
            parts = _render_compact(data)
            if len(parts) > 1:
                self.parts = parts
                return b""  # the body is sent from self.parts by __call__
            return parts[0]
        return orjson.dumps(data, default=_fallback, option=orjson.OPT_SERIALIZE_NUMPY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.parts:
            await super().__call__(scope, receive, send)
            return
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        last = len(self.parts) - 1
        for i, part in enumerate(self.parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < last})
        if self.background is not None:
            await self.background()


def _fallback(value: Any) -> Any:
    """What orjson hands back: non-contiguous arrays (views, transposes) and numpy scalars."""
    if isinstance(value, np.ndarray):
        return (
            np.ascontiguousarray(value).tolist()
            if value.dtype.kind not in "iufb"
            else (np.ascontiguousarray(value))
        )
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")
