"""What a validated request will allocate and send, checked before anything is computed.

``app.api.budget`` bounds the work (multiply-adds, window reads, the unfolded input);
this bounds the memory: every stage's tensors (4 bytes a number), the largest
scratch of the computation, and the answer, whose size depends on the encoding
(JSON writes a float32 in up to 16 bytes with its comma, ``?encoding=base64`` in
16/3). The largest ``/api/backprop`` used to answer 733 MiB (base64) or 1.74 GB
(JSON) and peak at 1.26 GB. Each check runs on shapes alone.

The kernel-side limit (``limits.MAX_KERNEL_SIDE``) is checked here for every kernel a
request carries: a conv's ``weight``, a teacher's, the X/O network's ``conv_weight``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.api import limits
from app.api.errors import LimitError
from app.engine.errors import EngineError

JSON_BYTES_PER_NUMBER = 16
BASE64_BYTES_PER_NUMBER = 16 / 3

KERNEL_FIELDS = ("weight", "teacher_weight", "conv_weight")
"""Fields that hold a kernel (their last two axes are its height and width)."""

_TRACE_NUMBERS = 4 * limits.MAX_TRACE_TAPS + 16 * limits.MAX_TRACE_STEPS
"""The most numbers one step trace sent back can hold (values, weights, products and
cells per tap; a dozen per step)."""


@dataclass(frozen=True)
class Cost:
    """Numbers held by the stages (``tensors``), the largest scratch (``work``), and the
    numbers of the answer (``answer``)."""

    tensors: int
    work: int
    answer: int


def _size(value: Any) -> int:
    return int(value.size) if isinstance(value, np.ndarray) else 0


def _mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"


def _mib_number(size: float) -> int:
    """Mebibytes, rounded: the number an error's ``ctx`` carries (``actual``, ``limit``)."""
    return round(size / 2**20)


def check_kernels(body: Any) -> None:
    """Every kernel within ``MAX_KERNEL_SIDE`` on each side, as pooling's kernel_size is."""
    side = limits.MAX_KERNEL_SIDE
    for field in KERNEL_FIELDS:
        kernel = getattr(body, field, None)
        if isinstance(kernel, np.ndarray) and kernel.ndim >= 2:
            kh, kw = kernel.shape[-2:]
            if kh > side or kw > side:
                raise LimitError(
                    field,
                    f"{field} is a {kh}x{kw} kernel; kernels are at most {side}x{side}"
                    " (as pooling's kernel_size): use a smaller kernel",
                    code="kernel_over_limit",
                    params={"kernel_h": kh, "kernel_w": kw, "limit": side},
                )


def _conv_out(body: Any) -> int:
    """Numbers of a convolution's output, from the request's geometry (checked once and
    shared with the route; an EngineError here is worded by the route)."""
    return math.prod(body.geometry().output_shape)


def _trace_numbers(body: Any, traces: int) -> int:
    return _TRACE_NUMBERS * traces if getattr(body, "trace", False) else 0


def conv_cost(body: Any, transpose: bool = False) -> Cost:
    x, w = body.input, body.weight
    out = _conv_out(body)
    backward = body.grad_output is not None
    kernel = int(np.prod(w.shape[-2:]))
    c_in = x.shape[0] if x.ndim == 3 else 1
    if transpose:  # the unfolded output: output channels x kernel cells x input cells
        c_out = w.shape[1] * body.groups if w.ndim == 4 else 1
        work = c_out * kernel * (x.size // c_in)
    else:  # the unfolded input: input channels x kernel cells x output cells
        c_out = w.shape[0] if w.ndim == 4 else 1
        work = c_in * kernel * (out // c_out)
    tensors = x.size + w.size + out + (out + x.size + w.size if backward else 0)
    answer = out + (x.size + w.size + c_out if backward else 0)
    return Cost(tensors, work, answer + _trace_numbers(body, 3 if backward else 1))


def pool_cost(body: Any) -> Cost:
    from app.engine.arithmetic import pair, pool_output_size

    x = body.input
    c = x.shape[0] if x.ndim == 3 else 1
    k = pair(body.kernel_size, "kernel_size")
    s = pair(body.stride if body.stride is not None else body.kernel_size, "stride")
    p = pair(body.padding, "padding", minimum=0)
    d = pair(getattr(body, "dilation", 1), "dilation")
    h, w = x.shape[-2:]
    oh = pool_output_size(h, k[0], s[0], p[0], d[0], body.ceil_mode)
    ow = pool_output_size(w, k[1], s[1], p[1], d[1], body.ceil_mode)
    out = c * max(oh, 0) * max(ow, 0)
    backward = body.grad_output is not None
    padded = c * (h + 2 * p[0]) * (w + 2 * p[1])
    tensors = x.size + 2 * out + (out + x.size if backward else 0)  # output and indices
    answer = 2 * out + (x.size if backward else 0)
    return Cost(tensors, padded, answer + _trace_numbers(body, 1))


def activation_cost(body: Any) -> Cost:
    n = body.input.size
    backward = body.grad_output is not None
    return Cost(n * (4 if backward else 2), n, n * (2 if backward else 1))


def backprop_cost(body: Any) -> Cost:
    """conv -> activation -> pooling and back: each stage's output and its two gradients,
    the activation's gate, the pooling's indices, the loss's target."""
    conv = conv_cost(body)
    z = _conv_out(body)
    x, w = body.input, body.weight
    stages = 12 * z  # conv, activation and pooling stages, each with its gradients
    tensors = x.size + 2 * w.size + stages + _size(body.target) + _size(body.grad_output)
    answer = 2 * x.size + 3 * w.size + stages + _trace_numbers(body, 4)
    return Cost(tensors, conv.work, answer)


def generic_cost(body: Any) -> Cost:
    """Requests whose answers the route bounds itself (descent, the X/O network): their
    tensors, as many again for the answer."""
    held = sum(_size(getattr(body, name, None)) for name in type(body).model_fields)
    lists = sum(
        sum(_size(t) for t in value)
        for value in (getattr(body, name, None) for name in type(body).model_fields)
        if isinstance(value, list)
    )
    return Cost(2 * (held + lists), held + lists, held + lists)


def _work_checks(body: Any, name: str) -> None:
    """The work limits of ``app.api.budget`` first: their messages name the exact limit.
    They take the request's geometry, the same object the route computes with."""
    from app.api import budget

    if name.startswith("Conv2d") or name == "BackpropRequest":
        budget.conv2d_cost(body.geometry())
    elif name.startswith("ConvTranspose2d"):
        budget.conv_transpose2d_cost(body.geometry())
    elif name.startswith(("MaxPool2d", "AvgPool2d")):
        channels = body.input.shape[0] if body.input.ndim == 3 else 1
        budget.pool2d_cost(channels, body.geometry())


def _cost(body: Any) -> Cost:
    name = type(body).__name__
    _work_checks(body, name)
    if name.startswith(("Conv2d", "ConvTranspose2d")):
        return conv_cost(body, transpose=name.startswith("ConvTranspose2d"))
    if name.startswith(("MaxPool2d", "AvgPool2d")):
        return pool_cost(body)
    if name == "ActivationRequest":
        return activation_cost(body)
    if name == "BackpropRequest":
        return backprop_cost(body)
    return generic_cost(body)


def answer_bytes(numbers: int, encoding: str) -> int:
    per = BASE64_BYTES_PER_NUMBER if encoding == "base64" else JSON_BYTES_PER_NUMBER
    return int(numbers * per)


def check(body: Any, encoding: str = "json") -> None:
    """Refuse (422, ``LimitError``) a request over the kernel, answer or memory budget."""
    check_kernels(body)
    try:
        cost = _cost(body)
    except LimitError:
        raise
    except EngineError:  # shapes the engine refuses: the route words the reason
        return
    answer = answer_bytes(cost.answer, encoding)
    if answer > limits.MAX_ANSWER_BYTES:
        fix = (
            "ask for ?encoding=base64 (a third of the size) or send a smaller input"
            if encoding != "base64"
            else "send a smaller input, fewer filters or a larger stride"
        )
        raise LimitError(
            "input",
            f"the answer would be about {_mib(answer)}, over the limit of"
            f" {_mib(limits.MAX_ANSWER_BYTES)}; {fix}",
            code="answer_over_limit_base64" if encoding == "base64" else "answer_over_limit",
            params={"actual": _mib_number(answer), "limit": _mib_number(limits.MAX_ANSWER_BYTES)},
        )
    memory = 4 * cost.tensors + max(4 * cost.work, answer)
    if memory > limits.MAX_REQUEST_BYTES:
        raise LimitError(
            "input",
            f"the computation would hold about {_mib(memory)} (its tensors, scratch and"
            f" answer), over the limit of {_mib(limits.MAX_REQUEST_BYTES)}; send a smaller"
            " input, fewer filters or a larger stride",
            code="memory_over_limit",
            params={"actual": _mib_number(memory), "limit": _mib_number(limits.MAX_REQUEST_BYTES)},
        )
