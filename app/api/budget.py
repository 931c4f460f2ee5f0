"""Cost checks run before the engine allocates anything.

Each works from the operation's geometry (shapes and parameters, checked once by
the engine, which allocates nothing for it), so an absurd request is refused in
microseconds, and a malformed one gets the engine's precise message first.
"""

from __future__ import annotations

from app.api import limits
from app.api.errors import LimitError
from app.engine.conv import Conv2dGeometry
from app.engine.conv_transpose import ConvTranspose2dGeometry
from app.engine.pool import Pool2dGeometry


def _check(value: int, limit: int, field: str, what: str, fix: str, code: str) -> None:
    if value > limit:
        raise LimitError(
            field,
            f"{what} would be {value:,}, over the limit of {limit:,}; {fix}",
            code=code,
            params={"actual": value, "limit": limit},
        )


def _check_channels(c_in: int, c_out: int) -> None:
    """The documented MAX_CHANNELS: a 1x1 kernel on a tiny input passes every other
    budget with thousands of filters, and a bias is capped at this length too."""
    _check(
        c_in,
        limits.MAX_CHANNELS,
        "input",
        "the input channels",
        "use fewer channels",
        "channels_over_limit",
    )
    _check(
        c_out,
        limits.MAX_CHANNELS,
        "weight",
        "the output channels",
        "use fewer filters",
        "filters_over_limit",
    )


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


def conv2d_cost(g: Conv2dGeometry) -> tuple[int, int]:
    """Check a conv2d's size against the budget; return (steps, taps) of its trace."""
    _check_channels(g.in_channels, g.out_channels)
    kh, kw = g.kernel_size
    cells = g.output_size[0] * g.output_size[1]
    _check(
        g.out_channels * cells,
        limits.MAX_OUTPUT_ELEMENTS,
        "input",
        "the output",
        "use a larger stride",
        "output_over_limit",
    )
    _check(
        g.in_channels * kh * kw * cells,
        limits.MAX_IM2COL_ELEMENTS,
        "input",
        "the unfolded input (channels x kernel cells x output cells)",
        "use a smaller input, kernel or a larger stride",
        "unfolded_over_limit",
    )
    steps, taps = g.out_channels * cells, g.window_size
    _check(
        steps * taps,
        limits.MAX_MACS,
        "weight",
        "the multiply-adds",
        "use fewer filters",
        "macs_over_limit",
    )
    return steps, taps


def conv_transpose2d_cost(g: ConvTranspose2dGeometry) -> tuple[int, int]:
    """Check a conv_transpose2d's size against the budget; return (steps, taps) of its trace."""
    _check_channels(g.in_channels, g.out_channels)
    kh, kw = g.kernel_size
    cells = g.output_size[0] * g.output_size[1]
    _check(
        g.out_channels * cells,
        limits.MAX_OUTPUT_ELEMENTS,
        "input",
        "the output",
        "use a smaller stride",
        "transpose_output_over_limit",
    )
    h, w = g.input_size
    _check(
        g.out_channels * kh * kw * h * w,
        limits.MAX_IM2COL_ELEMENTS,
        "input",
        "the unfolded output (channels x kernel cells x input cells)",
        "use a smaller input or kernel",
        "unfolded_over_limit",
    )
    steps, taps = g.out_channels * cells, g.in_channels // g.groups * kh * kw
    _check(
        steps * taps,
        limits.MAX_MACS,
        "weight",
        "the multiply-adds",
        "use fewer filters",
        "macs_over_limit",
    )
    return steps, taps


def pool2d_cost(channels: int, g: Pool2dGeometry) -> tuple[int, int]:
    """Check a pooling's size against the budget; return (steps, taps) of its trace."""
    steps, taps = channels * g.out[0] * g.out[1], g.kernel[0] * g.kernel[1]
    _check(
        steps * taps,
        limits.MAX_POOL_READS,
        "kernel_size",
        "the window reads (output cells x kernel cells)",
        "use a smaller kernel or a larger stride",
        "pool_reads_over_limit",
    )
    return steps, taps
