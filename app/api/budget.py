"""Cost checks run before the engine allocates anything.

Each works from shapes alone, so an absurd request is refused in microseconds.
Shapes the engine would reject anyway (wrong rank, kernel too large) pass here
and get the engine's more precise message.
"""

from __future__ import annotations

import numpy as np

from app.api import limits
from app.api.errors import LimitError
from app.engine.arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    pair,
    pool_output_size,
    resolve_padding,
)


def _spatial(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(channels, height, width) of a (C, H, W) or (H, W) shape."""
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    if len(shape) == 2:
        return 1, shape[0], shape[1]
    return 1, 0, 0


def _check(value: int, limit: int, field: str, what: str, fix: str) -> None:
    if value > limit:
        raise LimitError(field, f"{what} would be {value:,}, over the limit of {limit:,}; {fix}")


def _check_channels(c_in: int, c_out: int) -> None:
    """The documented MAX_CHANNELS: a 1x1 kernel on a tiny input passes every other
    budget with thousands of filters, and a bias is capped at this length too."""
    _check(c_in, limits.MAX_CHANNELS, "input", "the input channels", "use fewer channels")
    _check(c_out, limits.MAX_CHANNELS, "weight", "the output channels", "use fewer filters")


# The full trace is the oracle; the answer's `geometry` describes every step at any size.
_TRACE_FIX = "; `geometry` gives every step (docs/STEPS.md), or use a smaller input"


def trace_allowed(steps: int, taps: int) -> str | None:
    """None when a trace of this size may be sent, else the reason it is left out."""
    if steps > limits.MAX_TRACE_STEPS:
        return (
            f"trace left out: {steps:,} steps is over the limit of {limits.MAX_TRACE_STEPS:,}"
            f"{_TRACE_FIX}"
        )
    if steps * taps > limits.MAX_TRACE_TAPS:
        return (
            f"trace left out: {steps:,} steps x {taps:,} taps is over the limit of"
            f" {limits.MAX_TRACE_TAPS:,}{_TRACE_FIX}"
        )
    return None


def conv2d_cost(
    input: np.ndarray,
    weight: np.ndarray,
    stride: object,
    padding: object,
    dilation: object,
    groups: int,
) -> tuple[int, int]:
    """Check a conv2d request; return (steps, taps) of its trace."""
    c_in, h, w = _spatial(input.shape)
    c_out = weight.shape[0] if weight.ndim == 4 else 1
    if weight.ndim not in (2, 4) or groups < 1:
        return 0, 0
    _check_channels(c_in, c_out)
    kh, kw = weight.shape[-2:]
    s, d = pair(stride, "stride"), pair(dilation, "dilation")  # type: ignore[arg-type]
    p = resolve_padding(padding, (kh, kw), d, s)  # type: ignore[arg-type]
    oh = conv_output_size(h, kh, s[0], p.top + p.bottom, d[0])
    ow = conv_output_size(w, kw, s[1], p.left + p.right, d[1])
    if oh < 1 or ow < 1:
        return 0, 0
    cells = oh * ow
    _check(c_out * cells, limits.MAX_OUTPUT_ELEMENTS, "input", "the output", "use a larger stride")
    taps = max(c_in // groups, 1) * kh * kw
    _check(
        c_in * kh * kw * cells,
        limits.MAX_IM2COL_ELEMENTS,
        "input",
        "the unfolded input (channels x kernel cells x output cells)",
        "use a smaller input, kernel or a larger stride",
    )
    _check(
        c_out * cells * taps, limits.MAX_MACS, "weight", "the multiply-adds", "use fewer filters"
    )
    return c_out * cells, taps


def conv_transpose2d_cost(
    input: np.ndarray,
    weight: np.ndarray,
    stride: object,
    padding: object,
    output_padding: object,
    dilation: object,
    groups: int,
) -> tuple[int, int]:
    """Check a conv_transpose2d request; return (steps, taps) of its trace."""
    c_in, h, w = _spatial(input.shape)
    if weight.ndim not in (2, 4) or groups < 1:
        return 0, 0
    c_out = weight.shape[1] * groups if weight.ndim == 4 else 1
    _check_channels(c_in, c_out)
    kh, kw = weight.shape[-2:]
    s, d = pair(stride, "stride"), pair(dilation, "dilation")  # type: ignore[arg-type]
    p = pair(padding, "padding", minimum=0)  # type: ignore[arg-type]
    op = pair(output_padding, "output_padding", minimum=0)  # type: ignore[arg-type]
    oh = conv_transpose_output_size(h, kh, s[0], p[0], op[0], d[0])
    ow = conv_transpose_output_size(w, kw, s[1], p[1], op[1], d[1])
    if oh < 1 or ow < 1:
        return 0, 0
    cells = oh * ow
    _check(c_out * cells, limits.MAX_OUTPUT_ELEMENTS, "input", "the output", "use a smaller stride")
    taps = max(c_in // groups, 1) * kh * kw
    _check(
        c_out * kh * kw * h * w,
        limits.MAX_IM2COL_ELEMENTS,
        "input",
        "the unfolded output (channels x kernel cells x input cells)",
        "use a smaller input or kernel",
    )
    _check(
        c_out * cells * taps, limits.MAX_MACS, "weight", "the multiply-adds", "use fewer filters"
    )
    return c_out * cells, taps


def pool2d_cost(
    input: np.ndarray,
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
    ceil_mode: bool,
) -> tuple[int, int]:
    """Check a pooling request; return (steps, taps) of its trace."""
    c, h, w = _spatial(input.shape)
    k = pair(kernel_size, "kernel_size")  # type: ignore[arg-type]
    s = pair(stride if stride is not None else k, "stride")  # type: ignore[arg-type]
    p = pair(padding, "padding", minimum=0)  # type: ignore[arg-type]
    d = pair(dilation, "dilation")  # type: ignore[arg-type]
    oh = pool_output_size(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = pool_output_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        return 0, 0
    cells = c * oh * ow
    _check(
        cells * k[0] * k[1],
        limits.MAX_POOL_READS,
        "kernel_size",
        "the window reads (output cells x kernel cells)",
        "use a smaller kernel or a larger stride",
    )
    return cells, k[0] * k[1]
