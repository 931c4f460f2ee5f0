"""What an exported animation shows: an operation's step trace plus what the trace
alone does not say (which grid cells are the input and which are padding, the
kernel's size, the output's shape, a one-line description).

Builders take the engine's arguments, run the engine's explained path and return a
:class:`Scene`; the renderer (:mod:`app.export.frames`) draws scenes only, so one
drawing path serves convolution, transposed convolution and both poolings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from app.engine import activations, conv, conv_transpose, pool
from app.engine.arithmetic import IntOrPair, PaddingArg, pair
from app.engine.errors import ParameterError
from app.engine.tensors import shape_text
from app.engine.trace import Trace
from app.export.words import Phrase

Op = Literal["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "activation"]

INPUT, PADDING, OUTSIDE = 0, 1, 2
"""Kinds of grid cell: an input number, a padding (or inserted) cell, a cell past the
padded edge that only an overhanging ``ceil_mode`` pooling window reaches."""


@dataclass(frozen=True)
class Scene:
    """One operation, ready to draw step by step.

    Attributes
    ----------
    op : {"conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"}
    trace : Trace
        The engine's explained path; one frame per step.
    cell_kind : ndarray of shape (Hg, Wg), int8
        ``INPUT``, ``PADDING`` or ``OUTSIDE`` for each cell of ``trace.grid``.
    kernel_size : (int, int)
        ``(kH, kW)``: the window's taps per channel are ``kH * kW``.
    out_shape : (int, int, int)
        ``(C_out, H_out, W_out)`` as traced (the API's 2-D output has ``C_out == 1``).
    output : ndarray
        The result in the API's shape (2-D in, 2-D out).
    tensors : dict of str to ndarray or None
        The request's tensors (``input``, ``weight``, ``bias``) in their own shapes.
    description : tuple of Phrase
        The frame's title as phrases of :mod:`app.export.words`, e.g. "conv2d  ·  5x5
        input, 3x3 kernel", "padding 1", "stride 2" (joined by "  ·  " when drawn).
    grid_label : str
        The key of what ``trace.grid`` is (``"input_padded"``...), for the panel label.
    function : (str, float) or None
        An activation's name and ``negative_slope`` (``op == "activation"`` only).
    """

    op: Op
    trace: Trace
    cell_kind: np.ndarray
    kernel_size: tuple[int, int]
    out_shape: tuple[int, int, int]
    output: np.ndarray
    tensors: dict[str, np.ndarray | None]
    description: tuple[Phrase, ...]
    grid_label: str
    function: tuple[str, float] | None = None

    @property
    def channels_per_step(self) -> int:
        """Grid channels one window reads (``C_in/groups`` for a convolution, 1 for pooling)."""
        return int(self.trace.cells.shape[1]) // (self.kernel_size[0] * self.kernel_size[1])

    @property
    def has_kernel(self) -> bool:
        return self.trace.weights is not None

    def step_channels(self, step: int) -> np.ndarray:
        """The grid channels step ``step`` reads, in tap order."""
        taps = self.kernel_size[0] * self.kernel_size[1]
        return self.trace.cells[step, ::taps, 0]


def _text(value: IntOrPair | str, name: str) -> str:
    if isinstance(value, str):
        return value
    a, b = pair(value, name, minimum=0)
    return str(a) if a == b else f"{a}x{b}"


def _shape(array: np.ndarray) -> str:
    return "x".join(map(str, array.shape))


def _kinds(
    grid_size: tuple[int, int], origin: tuple[int, int], size: tuple[int, int], step=(1, 1)
) -> np.ndarray:
    """PADDING everywhere but the input's cells (every ``step``-th from ``origin``)."""
    kinds = np.full(grid_size, PADDING, dtype=np.int8)
    rows = origin[0] + step[0] * np.arange(size[0])
    cols = origin[1] + step[1] * np.arange(size[1])
    kinds[np.ix_(rows, cols)] = INPUT
    return kinds


def _traced_output(trace: Trace, two_d: bool) -> tuple[tuple[int, int, int], np.ndarray]:
    shape = tuple(int(v) + 1 for v in trace.out_index.max(axis=0))
    out = trace.output(shape)  # type: ignore[arg-type]
    return shape, out[0] if two_d else out  # type: ignore[return-value]


def conv2d_scene(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> Scene:
    """The scene of :func:`app.engine.conv.conv2d` (arguments as there)."""
    params = conv.Conv2dParams(stride, padding, dilation, groups, padding_mode, reduce)
    return conv_scene(params.geometry(input, weight, bias), input, weight, bias)


def conv_scene(
    g: conv.Conv2dGeometry, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None
) -> Scene:
    """The scene of a conv2d whose geometry ``g`` is already checked."""
    x, w = np.asarray(input), np.asarray(weight)
    trace = g.trace(x, w, bias)
    shape, output = _traced_output(trace, len(g.output_shape) == 2)
    p = g.padding
    parts: list[Phrase] = [("title_conv", ("conv2d", _shape(x), _shape(w)))]
    if not p.is_zero:
        mode = "" if g.padding_mode == "zeros" else f" ({g.padding_mode})"  # PyTorch's names
        if (p.top, p.left) == (p.bottom, p.right):
            parts.append(("padding", (_text((p.top, p.left), "padding") + mode,)))
        else:
            parts.append(("padding_sides", (p.left, p.right, p.top, f"{p.bottom}{mode}")))
    parts += _pairs_text({"stride": g.stride, "dilation": g.dilation}, 1)
    if g.groups != 1:
        parts.append(("groups", (g.groups,)))
    if g.reduce == "mean":
        parts.append(("mean_of", (g.window_size,)))
    if bias is not None:
        parts.append(("bias", ()))
    return Scene(
        op="conv2d",
        trace=trace,
        cell_kind=_kinds(trace.grid.shape[1:], trace.grid_origin, g.input_size),
        kernel_size=g.kernel_size,
        out_shape=shape,
        output=output,
        tensors={"input": x, "weight": w, "bias": None if bias is None else np.asarray(bias)},
        description=tuple(parts),
        grid_label="input_padded" if not p.is_zero else "input",
    )


def _pairs_text(values: dict[str, tuple[int, int]], default: int) -> list[Phrase]:
    """ "stride 2", "output padding 1x0": a phrase for each pair that is not ``default``."""
    return [
        (name, (_text(value, name),))
        for name, value in values.items()
        if value != (default, default)
    ]


def conv_transpose2d_scene(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> Scene:
    """The scene of :func:`app.engine.conv_transpose.conv_transpose2d` (gather view)."""
    g = conv_transpose.conv_transpose2d_geometry(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    return conv_transpose_scene(g, input, weight, bias)


def conv_transpose_scene(
    g: conv_transpose.ConvTranspose2dGeometry,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
) -> Scene:
    """The scene of a conv_transpose2d whose geometry ``g`` is already checked."""
    x, w = np.asarray(input), np.asarray(weight)
    trace = g.trace(x, w, bias)
    shape, output = _traced_output(trace, len(g.output_shape) == 2)
    parts: list[Phrase] = [("title_conv", ("conv_transpose2d", _shape(x), _shape(w)))]
    parts += _pairs_text({"stride": g.stride}, 1)
    parts += _pairs_text({"padding": g.padding, "output_padding": g.output_padding}, 0)
    parts += _pairs_text({"dilation": g.dilation}, 1)
    if g.groups != 1:
        parts.append(("groups", (g.groups,)))
    if bias is not None:
        parts.append(("bias", ()))
    return Scene(
        op="conv_transpose2d",
        trace=trace,
        cell_kind=_kinds(trace.grid.shape[1:], trace.grid_origin, g.input_size, g.stride),
        kernel_size=g.kernel_size,
        out_shape=shape,
        output=output,
        tensors={"input": x, "weight": w, "bias": None if bias is None else np.asarray(bias)},
        description=tuple(parts),
        grid_label="input_dilated",
    )


def max_pool2d_scene(
    input: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> Scene:
    """The scene of :func:`app.engine.pool.max_pool2d` (arguments as there)."""
    x = np.asarray(input)
    g = pool.pool2d_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return pool_scene("max_pool2d", g, x)


def avg_pool2d_scene(
    input: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Scene:
    """The scene of :func:`app.engine.pool.avg_pool2d` (arguments as there)."""
    x = np.asarray(input)
    g = pool.pool2d_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    return pool_scene("avg_pool2d", g, x, count_include_pad)


def pool_scene(
    op: Literal["max_pool2d", "avg_pool2d"],
    g: pool.Pool2dGeometry,
    input: ArrayLike,
    count_include_pad: bool = True,
) -> Scene:
    """The scene of a pooling whose geometry ``g`` is already checked."""
    x = np.asarray(input)
    trace = g.max_trace(x) if op == "max_pool2d" else g.avg_trace(x, count_include_pad)
    (kh, kw), (h, w), (ph, pw) = g.kernel, g.size, g.padding
    parts: list[Phrase] = [
        ("title_pool", (op, _shape(x), f"{kh}x{kw}")),
        ("stride", (_text(g.stride, "stride"),)),
    ]
    parts += _pairs_text({"padding": g.padding}, 0)
    if op == "max_pool2d":
        parts += _pairs_text({"dilation": g.dilation}, 1)
    if g.ceil_mode:
        parts.append(("ceil_mode", ()))
    if op == "avg_pool2d" and not count_include_pad and (ph, pw) != (0, 0):
        parts.append(("padding_not_counted", ()))
    kinds = _kinds(trace.grid.shape[1:], trace.grid_origin, (h, w))
    kinds[h + 2 * ph :, :] = OUTSIDE
    kinds[:, w + 2 * pw :] = OUTSIDE
    shape, output = _traced_output(trace, x.ndim == 2)
    label = "input" if (ph, pw) == (0, 0) else "input_padded"
    if op == "max_pool2d" and (ph, pw) != (0, 0):
        label = "input_padded_max"
    return Scene(
        op=op,
        trace=trace,
        cell_kind=kinds,
        kernel_size=g.kernel,
        out_shape=shape,
        output=output,
        tensors={"input": x, "weight": None, "bias": None},
        description=tuple(parts),
        grid_label=label,
    )


FORMULAS: dict[str, str] = {
    "relu": "max(0, {x})",
    "leaky_relu": "max(0, {x}) + {slope}·min(0, {x})",
    "sigmoid": "1 / (1 + e^(−{x}))",
    "tanh": "(e^{x} − e^(−{x})) / (e^{x} + e^(−{x}))",
}
"""Each activation's right-hand side, ``{x}`` for its argument: symbols only, so the
same in every language."""


def formula(
    function: str, negative_slope: float = 0.01, x: str = "x", arg: str | None = None
) -> str:
    """``f(x) = ...`` of an activation, e.g. ``"relu(x) = max(0, x)"``; with ``x`` a
    number's text (``arg`` its unparenthesised form), that number put in:
    ``"relu(-2) = max(0, (-2))"``."""
    rhs = FORMULAS[function].format(x=x, slope=f"{negative_slope:g}")
    return f"{function}({arg or x}) = {rhs}"


def activation_scene(function: str, input: ArrayLike, negative_slope: float = 0.01) -> Scene:
    """The scene of an element-wise activation: one step per cell, ``x -> f(x)``.

    Drawn as a 1x1 window over the input (``(C, H, W)`` or ``(H, W)``); each step's
    line is the function applied to that cell's number.
    """
    x = np.asarray(input, dtype=np.float32)
    if x.ndim not in (2, 3):
        raise ParameterError(
            "input",
            f"has {x.ndim} dimensions; an export draws (C, H, W) or (H, W)",
            code="wrong_shape",
            params={"expected": "(C, H, W) | (H, W)", "actual": shape_text(x.shape)},
        )
    kwargs = {"negative_slope": negative_slope} if function == "leaky_relu" else {}
    y = np.asarray(activations.activation(function, x, **kwargs), dtype=np.float32)
    grid = x if x.ndim == 3 else x[None]
    out = y if y.ndim == 3 else y[None]
    c, h, w = grid.shape
    index = np.indices((c, h, w)).reshape(3, -1).T.astype(np.int64)
    values = grid.reshape(-1, 1).astype(np.float64)
    result = out.reshape(-1).astype(np.float64)
    trace = Trace(
        grid=grid,
        grid_origin=(0, 0),
        out_index=index,
        window=index[:, 1:].copy(),
        cells=index[:, None, :].copy(),
        mask=np.ones((index.shape[0], 1), dtype=bool),
        values=values,
        sums=result,
        result=result,
    )
    slope = float(negative_slope) if function == "leaky_relu" else 0.0
    return Scene(
        op="activation",
        trace=trace,
        cell_kind=np.full((h, w), INPUT, dtype=np.int8),
        kernel_size=(1, 1),
        out_shape=(c, h, w),
        output=y,
        tensors={"input": x, "weight": None, "bias": None},
        description=(
            ("title_act", (function, _shape(x))),
            ("each_cell", (formula(function, slope),)),
        ),
        grid_label="input",
        function=(function, slope),
    )
