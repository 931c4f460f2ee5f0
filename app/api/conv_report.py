"""What the API reports about a convolution (or a pooling) besides its output.

Both /api/conv2d and /api/backprop's conv stage report the output-size formula,
the parameter count and up to three step traces; this is the one place that
builds them, so the two answers cannot drift apart. Each trace is checked
against the trace limits on its own: the dE/dX trace has a step per padded
input cell and the dE/dW trace a step per weight, not one per output cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from app.api.budget import trace_allowed
from app.api.schemas import TRACE_NOT_REQUESTED, Formula, TraceOut, trace_out
from app.engine import conv, conv_transpose, pool
from app.engine.arithmetic import (
    conv_formula,
    conv_parameter_count,
    conv_transpose_formula,
    pool_formula,
)


def formula(geo: conv.Conv2dGeometry) -> Formula:
    """The output-size formula of each axis, with this layer's numbers."""
    (kh, kw), (sh, sw), (dh, dw), p = geo.kernel_size, geo.stride, geo.dilation, geo.padding
    return Formula(
        height=conv_formula(geo.input_size[0], kh, sh, p.top + p.bottom, dh, "H"),
        width=conv_formula(geo.input_size[1], kw, sw, p.left + p.right, dw, "W"),
    )


def parameter_count(geo: conv.Conv2dGeometry, has_bias: bool) -> int:
    return conv_parameter_count(
        geo.out_channels, geo.in_channels, geo.groups, geo.kernel_size, has_bias
    )


def transpose_formula(geo: conv_transpose.ConvTranspose2dGeometry) -> Formula:
    """The transposed convolution's output-size formula of each axis."""
    (h, w), (kh, kw), (sh, sw) = geo.input_size, geo.kernel_size, geo.stride
    (ph, pw), (oh, ow), (dh, dw) = geo.padding, geo.output_padding, geo.dilation
    return Formula(
        height=conv_transpose_formula(h, kh, sh, ph, oh, dh, "H"),
        width=conv_transpose_formula(w, kw, sw, pw, ow, dw, "W"),
    )


def transpose_parameter_count(geo: conv_transpose.ConvTranspose2dGeometry, has_bias: bool) -> int:
    """As many weights as the conv it transposes (C_in x C_out/groups x kH x kW), and
    one bias per output channel."""
    weights = conv_parameter_count(
        geo.in_channels, geo.out_channels, geo.groups, geo.kernel_size, False
    )
    return weights + (geo.out_channels if has_bias else 0)


def pooling_formula(geo: pool.Pool2dGeometry) -> Formula:
    """A pooling's output-size formula of each axis."""
    (h, w), (kh, kw), (sh, sw) = geo.size, geo.kernel, geo.stride
    (ph, pw), (dh, dw) = geo.padding, geo.dilation
    return Formula(
        height=pool_formula(h, kh, sh, ph, dh, geo.ceil_mode, "H"),
        width=pool_formula(w, kw, sw, pw, dw, geo.ceil_mode, "W"),
    )


@dataclass
class ConvTraces:
    trace: TraceOut | None = None
    grad_weight_trace: TraceOut | None = None
    grad_input_trace: TraceOut | None = None
    note: str | None = None


def traces(
    geo: conv.Conv2dGeometry,
    x: np.ndarray,
    w: np.ndarray,
    b: ArrayLike | None,
    grad_output: np.ndarray | None,
    requested: bool,
) -> ConvTraces:
    """The forward trace and, with ``grad_output``, the dE/dW and dE/dX traces.

    A trace over the limits is left out and ``note`` says why (the first reason).
    Nothing is built when no trace is requested.
    """
    if not requested:
        return ConvTraces(note=TRACE_NOT_REQUESTED)
    kh, kw = geo.kernel_size
    cells = geo.output_size[0] * geo.output_size[1]
    hp, wp = geo.padded_size
    out = ConvTraces()
    notes = [trace_allowed(geo.out_channels * cells, geo.window_size)]
    if notes[0] is None:
        out.trace = trace_out(geo.trace(x, w, b))
    if grad_output is not None:
        notes.append(trace_allowed(int(w.size), cells))
        if notes[-1] is None:
            out.grad_weight_trace = trace_out(geo.grad_weight_trace(grad_output, x, w))
        notes.append(
            trace_allowed(geo.in_channels * hp * wp, geo.out_channels // geo.groups * kh * kw)
        )
        if notes[-1] is None:
            out.grad_input_trace = trace_out(geo.grad_input_trace(grad_output, w))
    out.note = next((n for n in notes if n is not None), None)
    return out
