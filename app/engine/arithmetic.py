"""Output-size arithmetic and parameter normalisation, shared by every operation.

The formulas are PyTorch's (see the shape notes of ``torch.nn.Conv2d``,
``ConvTranspose2d`` and ``MaxPool2d``) and Dumoulin & Visin, "A guide to
convolution arithmetic for deep learning" (arXiv:1603.07285).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from app.engine.errors import ParameterError, ShapeError

IntOrPair = int | Sequence[int]
PaddingArg = int | str | Sequence[int]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Padding2d(NamedTuple):
    """Explicit padding of each side, in rows (top, bottom) and columns (left, right)."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def is_zero(self) -> bool:
        return not any(self)


def pair(value: IntOrPair, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(2, 1) -> (2, 1)``; rejects values below ``minimum``."""
    if isinstance(value, bool):
        raise ParameterError(
            name, "must be an integer or a pair of integers, not a boolean", code="not_integer"
        )
    if isinstance(value, int):
        result = (value, value)
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        result = (value[0], value[1])
    else:
        raise ParameterError(
            name, f"must be an integer or a pair of integers, got {value!r}", code="not_integer"
        )
    for v in result:
        if not isinstance(v, int) or isinstance(v, bool):
            raise ParameterError(name, f"must hold integers, got {v!r}", code="not_integer")
        if v < minimum:
            raise ParameterError(
                name,
                f"must be at least {minimum}, got {v}",
                code="at_least",
                params={"min": minimum, "actual": v},
            )
    return result


def resolve_padding(
    padding: PaddingArg,
    kernel_size: tuple[int, int],
    dilation: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
) -> Padding2d:
    """Turn PyTorch-style ``padding`` into the padding of each side.

    Accepts an int, a pair ``(pH, pW)``, four values in ``torch.nn.functional.pad``
    order ``(left, right, top, bottom)`` for asymmetric padding, ``"valid"`` (none)
    or ``"same"`` (output as large as the input; stride 1 only, the odd extra row
    or column goes to the bottom or right, as in PyTorch).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return Padding2d(0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ParameterError(
                    "padding",
                    "'same' needs stride 1; use an explicit padding with stride > 1",
                    code="same_needs_stride_1",
                    params={"stride_h": stride[0], "stride_w": stride[1]},
                )
            rows = dilation[0] * (kernel_size[0] - 1)
            cols = dilation[1] * (kernel_size[1] - 1)
            return Padding2d(rows // 2, rows - rows // 2, cols // 2, cols - cols // 2)
        raise ParameterError(
            "padding",
            f"unknown padding {padding!r}; use an integer, a pair, 'same' or 'valid'",
            code="unknown_choice",
            params={"choices": "same, valid"},
        )
    if isinstance(padding, Sequence) and not isinstance(padding, str) and len(padding) == 4:
        values = list(padding)
        for v in values:
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ParameterError(
                    "padding",
                    f"must hold non-negative integers, got {padding!r}",
                    code="not_integer",
                )
        left, right, top, bottom = values
        return Padding2d(top, bottom, left, right)
    ph, pw = pair(padding, "padding", minimum=0)
    return Padding2d(ph, ph, pw, pw)


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a convolution along one axis.

    ``out = floor((size + padding - dilation * (kernel - 1) - 1) / stride) + 1``
    where ``padding`` is the total added on both sides. Returns 0 or less when the
    (dilated) kernel does not fit in the padded input.
    """
    return (size + padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """Output length of a pooling along one axis (``padding`` is per side).

    ``out = floor_or_ceil((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1``;
    with ``ceil_mode`` the last window must still start inside the input or the
    left padding, as in PyTorch.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    # No early exit for span < 0: with ceil_mode a window larger than the padded input
    # still gives one (clipped) output when -stride < span < 0, as in PyTorch.
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return max(out, 0)


def conv_transpose_output_size(
    size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    """Output length of a transposed convolution along one axis (``padding`` is per side).

    ``out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv_parameter_count(
    out_channels: int, in_channels: int, groups: int, kernel_size: tuple[int, int], bias: bool
) -> int:
    """Trainable numbers of a conv layer: ``C_out * C_in/groups * kH * kW (+ C_out)``."""
    weights = out_channels * (in_channels // groups) * kernel_size[0] * kernel_size[1]
    return weights + (out_channels if bias else 0)


def check_output_size(
    out: tuple[int, int], padded: tuple[int, int], effective_kernel: tuple[int, int]
) -> None:
    """Fail with a clear message when the (dilated) kernel does not fit the padded input."""
    if out[0] < 1 or out[1] < 1:
        raise ShapeError(
            "weight",
            f"the kernel spans {effective_kernel[0]}x{effective_kernel[1]} cells (with dilation)"
            f" but the padded input is only {padded[0]}x{padded[1]}; use a smaller kernel or"
            " dilation, or more padding",
            code="kernel_larger_than_input",
            params={
                "kernel_h": effective_kernel[0],
                "kernel_w": effective_kernel[1],
                "input_h": padded[0],
                "input_w": padded[1],
            },
        )


def conv_formula(
    size: int, kernel: int, stride: int, padding: int, dilation: int, axis: str = "H"
) -> str:
    """The conv output-size formula with the numbers filled in, e.g. for the lecture's
    padding slide ``H_out = floor((5 + 2 - 1*(3-1) - 1) / 2) + 1 = 3``."""
    out = conv_output_size(size, kernel, stride, padding, dilation)
    return (
        f"{axis}_out = floor(({size} + {padding} - {dilation}*({kernel}-1) - 1) / {stride})"
        f" + 1 = {out}"
    )


def pool_formula(
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    ceil_mode: bool,
    axis: str = "H",
) -> str:
    """The pooling output-size formula with numbers (``padding`` per side)."""
    out = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    rounding = "ceil" if ceil_mode else "floor"
    return (
        f"{axis}_out = {rounding}(({size} + 2*{padding} - {dilation}*({kernel}-1) - 1)"
        f" / {stride}) + 1 = {out}"
    )


def conv_transpose_formula(
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    output_padding: int,
    dilation: int,
    axis: str = "H",
) -> str:
    """The transposed-convolution output-size formula with numbers (``padding`` per side)."""
    out = conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation)
    return (
        f"{axis}_out = ({size}-1)*{stride} - 2*{padding} + {dilation}*({kernel}-1)"
        f" + {output_padding} + 1 = {out}"
    )
