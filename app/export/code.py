"""The current operation as runnable PyTorch code and as a curl call to our API.

Both are generated from the same request fields the API takes, so the code panel
and the page cannot disagree: the PyTorch program prints ``out.tolist()``, which
equals the ``output`` of ``POST /api/<op>`` (to float32 rounding), and the curl
command posts the request itself.

Tensors of up to :data:`INLINE_ELEMENTS` numbers are written as nested lists (each
number in the shortest form that reads back as the same float32); larger ones as
base64 of little-endian float32, the API's compact form, so an uploaded image
still gives a program of manageable size that reproduces it bit for bit.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.engine.arithmetic import Padding2d, pair, resolve_padding
from app.export.scene import Op

INLINE_ELEMENTS = 4096
"""Largest tensor written out as nested lists (a 64x64 drawing); larger ones go as base64."""

_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular"}  # fmt: skip


def _short(value: float) -> int | float:
    """The shortest Python number that reads back as the same float32 (``0.1``, not
    ``0.10000000149011612``); integers as ints."""
    f = np.float32(value)
    if float(f).is_integer() and abs(f) < 2**53:
        return int(f)
    return float(str(f))


def tensor_value(array: np.ndarray) -> Any:
    """``array`` as JSON: nested lists of short numbers, or the compact base64 form."""
    a = np.asarray(array, dtype=np.float32)
    if a.size > INLINE_ELEMENTS:
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        return {"dtype": "float32", "shape": list(a.shape),
                "base64": base64.b64encode(data).decode("ascii")}  # fmt: skip

    def convert(value: Any) -> Any:
        return [convert(v) for v in value] if isinstance(value, list) else _short(value)

    return convert(a.tolist())


def _literal(value: Any, indent: str = "") -> str:
    """Python source for nested lists: one innermost row per line."""
    if not isinstance(value, list):
        return repr(value)
    if not value or not isinstance(value[0], list):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    inner = indent + "    "
    return "[\n" + "".join(f"{inner}{_literal(v, inner)},\n" for v in value) + indent + "]"


def _tensor_code(name: str, array: np.ndarray, what: str) -> str:
    value = tensor_value(array)
    shape = ", ".join(map(str, np.shape(array)))
    if isinstance(value, dict):
        return (
            f"{name} = torch.frombuffer(  # {what}, shape ({shape}), little-endian float32\n"
            f'    bytearray(base64.b64decode("{value["base64"]}")), dtype=torch.float32\n'
            f").reshape({shape})"
        )
    return f"{name} = torch.tensor({_literal(value)}, dtype=torch.float32)  # {what}, ({shape})"


def _arg(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return repr(value)


def _conv_padding(fields: Mapping[str, Any], kernel: tuple[int, int]) -> tuple[str, Padding2d]:
    """What ``F.conv2d`` can take itself (``"padding=..."``), or the ``F.pad`` it needs."""
    padding, mode = fields.get("padding", 0), fields.get("padding_mode", "zeros")
    four = isinstance(padding, list | tuple) and len(padding) == 4
    if mode == "zeros" and not four:
        return f"padding={_arg(padding)}", Padding2d(0, 0, 0, 0)
    stride = pair(fields.get("stride", 1), "stride")
    dilation = pair(fields.get("dilation", 1), "dilation")
    return "padding=0", resolve_padding(padding, kernel, dilation, stride)


def pytorch_code(op: Op, fields: Mapping[str, Any]) -> str:
    """A standalone Python program computing ``op`` on ``fields`` with PyTorch.

    Parameters
    ----------
    op : {"conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "activation"}
    fields : mapping
        The API request's fields: ``input`` (and ``weight``) as arrays, ``bias`` a
        list or None, the parameters as the API takes them. ``grad_output`` and
        ``trace`` are ignored: the program is the forward pass.

    Returns
    -------
    str
        Source that imports torch, builds the tensors, runs ``torch.nn.functional``
        and prints ``out.tolist()`` in the API's output shape.
    """
    x = np.asarray(fields["input"])
    weight = fields.get("weight")
    w = None if weight is None else np.asarray(weight)
    bias = fields.get("bias")
    tensors = [x] if w is None else [x, w]
    lines = [f"# convviz: {op}, the same numbers as POST /api/{op}"]
    if any(t.size > INLINE_ELEMENTS for t in tensors):
        lines.append("import base64")
    lines += ["import torch", "import torch.nn.functional as F", ""]
    lines.append(_tensor_code("x", x, "input"))
    if w is not None:
        lines.append(_tensor_code("w", w, "weight"))
    if bias is not None:
        values = ", ".join(repr(_short(v)) for v in bias)
        lines.append(f"b = torch.tensor([{values}], dtype=torch.float32)  # bias, (C_out,)")
    lines.append("")
    channels = x.shape[0] if x.ndim == 3 else 1
    lines.append(
        f"x = x.reshape(1, {channels}, {x.shape[-2]}, {x.shape[-1]})"
        "  # torch.nn.functional wants a batch: (N, C, H, W)"
    )
    if w is not None and w.ndim == 2:
        layout = "(C_out, C_in/groups" if op == "conv2d" else "(C_in, C_out/groups"
        lines.append(f"w = w.reshape(1, 1, {w.shape[0]}, {w.shape[1]})  # {layout}, kH, kW)")
    lines += _call(op, fields, w, bias is not None)
    two_d = x.ndim == 2 and (w is None or w.ndim == 2)
    lines.append(
        "out = out[0, 0]  # drop the batch and channel axes: 2-D in, 2-D out, as the API"
        if two_d
        else "out = out[0]  # drop the batch axis, as the API"
    )
    lines.append("print(out.tolist())")
    return "\n".join(lines) + "\n"


def _call(op: Op, fields: Mapping[str, Any], w: np.ndarray | None, has_bias: bool) -> list[str]:
    """The lines that compute ``out`` (batched)."""
    get = fields.get
    bias = "b" if has_bias else "None"
    if op == "conv2d":
        assert w is not None
        pad_arg, pad = _conv_padding(fields, (w.shape[-2], w.shape[-1]))
        lines = []
        mode = get("padding_mode", "zeros")
        if not pad.is_zero:
            lines.append(
                f"x = F.pad(x, ({pad.left}, {pad.right}, {pad.top}, {pad.bottom}),"
                f' mode="{_PAD_MODES[mode]}")  # padding_mode="{mode}": (left, right, top, bottom)'
            )
        mean = get("reduce", "sum") == "mean"
        args = (
            f"stride={_arg(get('stride', 1))}, {pad_arg}, dilation={_arg(get('dilation', 1))},"
            f" groups={get('groups', 1)}"
        )
        lines.append(f"out = F.conv2d(x, w, {'None' if mean else bias}, {args})")
        if mean:
            n = (w.shape[1] if w.ndim == 4 else 1) * w.shape[-2] * w.shape[-1]
            lines.append(
                f'out = out / {n}  # reduce="mean": divide by the window\'s C_in/groups * kH * kW'
                " weights"
            )
            if has_bias:
                lines.append("out = out + b.reshape(1, -1, 1, 1)  # the bias comes after the mean")
        return lines
    if op == "conv_transpose2d":
        return [
            f"out = F.conv_transpose2d(x, w, {bias}, stride={_arg(get('stride', 1))},"
            f" padding={_arg(get('padding', 0))}, output_padding={_arg(get('output_padding', 0))},"
            f" groups={get('groups', 1)}, dilation={_arg(get('dilation', 1))})"
        ]
    if op == "activation":
        function = fields["function"]
        if function == "leaky_relu":
            return [
                f"out = F.leaky_relu(x, negative_slope={_short(get('negative_slope', 0.01))!r})"
            ]
        return [f"out = torch.{function}(x)"]
    stride = get("stride")
    args = f"kernel_size={_arg(fields['kernel_size'])}"
    args += f", stride={_arg(stride)}" if stride is not None else ""  # None: kernel_size
    args += f", padding={_arg(get('padding', 0))}"
    if op == "max_pool2d":
        args += f", dilation={_arg(get('dilation', 1))}"
    args += f", ceil_mode={bool(get('ceil_mode', False))}"
    if op == "avg_pool2d":
        args += f", count_include_pad={bool(get('count_include_pad', True))}"
    return [f"out = F.{op}(x, {args})"]


def request_json(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as JSON values (tensors as :func:`tensor_value`)."""
    return {
        key: tensor_value(value) if isinstance(value, np.ndarray) else value
        for key, value in fields.items()
    }


def curl_command(op: Op, fields: Mapping[str, Any], base_url: str) -> str:
    """A shell command posting ``fields`` to ``POST {base_url}api/{op}``.

    ``fields`` are the request as sent (the keys the client set); the body is
    their JSON, quoted for a POSIX shell.
    """
    body = json.dumps(request_json(fields), separators=(", ", ": "))
    url = base_url.rstrip("/") + f"/api/{op}"
    return (
        f"curl -sS -X POST {shlex.quote(url)} -H 'Content-Type: application/json'"
        f" -d {shlex.quote(body)}"
    )
