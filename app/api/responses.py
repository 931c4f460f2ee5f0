"""JSON responses that carry numpy arrays, serialised by orjson.

orjson writes numpy arrays natively (no ``tolist()``), which is what keeps a
16x512x512 output cheap; FastAPI's own path would walk every number in Python.
With ``?encoding=base64`` every array travels in the compact form of
``app.api.tensors.encode_base64`` instead.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel
from starlette.responses import Response

from app.api.tensors import encode_base64

Encoding = Literal["json", "base64"]


def _compact(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return encode_base64(value)
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_compact(v) for v in value]
    return value


class ArrayJSONResponse(Response):
    media_type = "application/json"

    def __init__(self, content: BaseModel, encoding: Encoding = "json", **kwargs: Any) -> None:
        self.encoding = encoding
        super().__init__(content, **kwargs)

    def render(self, content: Any) -> bytes:
        data = content.model_dump() if isinstance(content, BaseModel) else content
        if self.encoding == "base64":
            data = _compact(data)
        return orjson.dumps(data, default=_fallback, option=orjson.OPT_SERIALIZE_NUMPY)


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
