"""Tensors in JSON: nested lists, or base64 of little-endian float32 with a shape.

Parsing is numpy's (fast) with our own checks, so a ragged list, a string, a
boolean, NaN or Infinity each get a message that says where and how to fix it,
and nothing larger than the documented limits is ever allocated from a base64
body. Serialising the other way is done by ``app.api.responses``.
"""

from __future__ import annotations

import binascii
import math
from typing import Annotated, Any

import numpy as np
import pybase64
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.api import limits

FLOAT32_MAX = float(np.finfo(np.float32).max)
_MAX_RANK = 4  # (C_out, C_in, kH, kW) is the largest layout of any operation

_COMPACT_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Compact form: base64 of little-endian float32, row-major.",
    "properties": {
        "dtype": {"const": "float32"},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "base64": {"type": "string"},
    },
    "required": ["dtype", "shape", "base64"],
}

TENSOR_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "array",
            "items": {},
            "description": "Nested lists of numbers in PyTorch's layout without the batch.",
        },
        _COMPACT_JSON_SCHEMA,
    ],
    "examples": [[[0, 1, 0], [1, 1, 1], [0, 1, 0]]],
}

RESPONSE_ARRAY_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "array", "items": {}, "description": "Nested lists (the default)."},
        {**_COMPACT_JSON_SCHEMA, "description": "With ?encoding=base64; integers too."},
    ]
}
"""A response array: nested lists, or the compact form when the request asked for it."""


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("tensor", message)


def _first_ragged(value: Any, path: tuple[int, ...] = ()) -> str:
    """Where a nested list stops being rectangular (only called on the error path)."""
    if not isinstance(value, list):
        return ""
    where = "[" + "][".join(map(str, path)) + "]" if path else "the top level"
    if len(path) >= _MAX_RANK:  # bounded recursion, whatever the client nests
        return f" at {where}: lists nest more than {_MAX_RANK} deep"
    lengths = {len(v) if isinstance(v, list) else -1 for v in value}
    if len(lengths) > 1:
        return f" at {where}: its items have different lengths or mix numbers and lists"
    for i, item in enumerate(value):
        found = _first_ragged(item, (*path, i))
        if found:
            return found
    return ""


def _check_elements(shape: tuple[int, ...]) -> None:
    # math.prod on Python ints: numpy's int64 product wraps or overflows on a hostile
    # shape such as [2**40, 2**40, 2**40] or [10**30].
    count = math.prod(shape)
    if count > limits.MAX_TENSOR_ELEMENTS:
        raise _error(
            f"has {count} numbers, more than the limit of {limits.MAX_TENSOR_ELEMENTS};"
            " send a smaller tensor (scale the image down)"
        )
    if any(side > limits.MAX_SIDE for side in shape[-2:]) or any(
        side > limits.MAX_TENSOR_ELEMENTS for side in shape
    ):
        raise _error(f"has a side over {limits.MAX_SIDE}; send a smaller tensor")


def _from_base64(value: dict[str, Any]) -> np.ndarray:
    if set(value) != {"dtype", "shape", "base64"}:
        raise _error("a compact tensor has exactly the keys dtype, shape and base64")
    if value["dtype"] != "float32":
        raise _error("compact tensors must have dtype 'float32' (little-endian)")
    shape = value["shape"]
    if not isinstance(shape, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise _error("shape must be a list of non-negative integers")
    if len(shape) > _MAX_RANK:
        raise _error(f"shape has {len(shape)} dimensions; at most {_MAX_RANK} are accepted")
    _check_elements(tuple(shape))
    text = value["base64"]
    if not isinstance(text, str):
        raise _error("base64 must be a string")
    expected = math.prod(shape) * 4
    if len(text) > 4 * (expected // 3 + 1) + 8:
        raise _error(f"base64 is longer than a float32 tensor of shape {shape} needs")
    try:
        # pybase64: SIMD, 20-90x the standard library's base64 on a 512x512 RGB image.
        raw = pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _error("base64 is not valid base64 text") from None
    if len(raw) != expected:
        raise _error(f"base64 holds {len(raw)} bytes but shape {shape} needs {expected}")
    return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)


def _depth(value: Any, stop: int) -> int:
    """How deep lists nest along the first items, counting at most to ``stop``."""
    depth = 0
    while isinstance(value, list) and depth < stop:
        depth += 1
        value = value[0] if value else None
    return depth


def _from_lists(value: list[Any]) -> np.ndarray:
    # Deeper nesting is refused before numpy (which stops at 64 dimensions with a
    # misleading "inhomogeneous" error) and before _first_ragged recurses into it.
    if _depth(value, _MAX_RANK + 1) > _MAX_RANK:
        raise _error(
            f"nests lists more than {_MAX_RANK} deep; a tensor has at most {_MAX_RANK} dimensions"
        )
    try:
        array = np.array(value)
    except (ValueError, TypeError):
        raise _error(
            "is not rectangular" + _first_ragged(value) + "; every row must have the same length"
        ) from None
    if array.dtype.kind == "O":
        detail = _first_ragged(value)
        if detail:
            raise _error("is not rectangular" + detail + "; every row must have the same length")
        raise _error("holds something other than numbers (or an integer too large); send numbers")
    if array.dtype.kind not in "iuf":
        kind = {"b": "booleans", "U": "strings", "S": "strings"}.get(
            array.dtype.kind, "non-numbers"
        )
        raise _error(f'holds {kind}; send numbers, e.g. 1 or 0.5, not true or "1"')
    return array


def parse_tensor(value: Any) -> np.ndarray:
    """Validate a JSON tensor and return it as a float32 array (any rank)."""
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, dict):
        array = _from_base64(value)
    elif isinstance(value, list):
        array = _from_lists(value)
    else:
        raise _error("must be nested lists of numbers or a {dtype, shape, base64} object")
    _check_elements(array.shape)
    if array.size == 0:  # no operation has anything to do with one, and numpy reductions fail
        shape = ", ".join(map(str, array.shape)) + ("," if array.ndim == 1 else "")
        raise _error(f"is empty (shape ({shape})); give every axis at least one cell")
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            where = list(map(int, np.argwhere(~finite)[0]))
            raise _error(f"holds NaN or Infinity at {where}; send finite numbers")
    if np.abs(array).max() > FLOAT32_MAX:
        raise _error("holds a number too large for float32 (over 3.4e38); scale it down")
    return np.ascontiguousarray(array, dtype=np.float32)


Tensor = Annotated[
    np.ndarray,
    PlainValidator(parse_tensor),
    PlainSerializer(lambda a: a.tolist(), when_used="json"),
    WithJsonSchema(TENSOR_JSON_SCHEMA),
]
"""A request or response tensor (see ``parse_tensor``)."""


BASE64_PIECE_BYTES = 3 * 2**18
"""Bytes of an array encoded per piece: 768 KiB, 1 MiB of text, a multiple of 3.

A multiple of 3 bytes encodes to whole base64 quanta with no padding, so the
pieces' texts laid end to end are the whole array's text. One 21 MiB text for a
16x512x512 output landed in fresh memory on every request: 5,400 page faults,
5-30 ms on this VM (3x the encoding itself); 1 MiB pieces reuse freed memory.
"""


def base64_pieces(array: np.ndarray) -> tuple[list[int], list[bytes]]:
    """The shape of ``array`` and its base64 text (ASCII) as little-endian float32, in pieces.

    The pieces, joined, are the base64 of the whole array (see ``BASE64_PIECE_BYTES``).
    """
    data = np.ascontiguousarray(array, dtype="<f4")
    raw = data.reshape(-1).view(np.uint8)  # a view: pybase64 reads the array's buffer
    step = BASE64_PIECE_BYTES
    pieces = [pybase64.b64encode(raw[i : i + step]) for i in range(0, raw.size, step)]
    return list(data.shape), pieces or [b""]
