"""2-D convolution (PyTorch's ``F.conv2d``): forward, backward and their step traces.

Two paths compute the same numbers:

- the fast path (:func:`conv2d`, :func:`conv2d_backward`): float32, padded with
  :func:`~app.engine.padding.pad2d`, unfolded by tap-major im2col and multiplied
  once per group (see :mod:`app.engine.im2col`);
- the explained path (:func:`conv2d_trace` and the two gradient traces):
  :func:`correlation_trace` reads each output cell's window by its flat grid
  indices, multiplies the taps by the kernel, sums and adds the bias, in float64,
  recording every step in a :class:`~app.engine.trace.Trace` for the page to
  animate. It handles all steps at once, one row per step, but shares nothing with
  the fast path beyond the geometry, so each checks the other.

Both are vectorised, so neither is the obvious loop a student would write; that
loop is the tests' oracle (``tests/engine/naive.py``), and both paths must equal it.

The arguments other than the tensors travel together as :class:`Conv2dParams`
(PyTorch's names); they are checked once, into a :class:`Conv2dGeometry`, whose
methods (``forward``, ``backward``, ``trace``, ``grad_weight_trace``,
``grad_input_trace``) compute without checking them again. The functions below
keep ``F.conv2d``'s keyword arguments for API users and the tests; the API builds
the geometry once per request and sends it as the answer's ``geometry``.

"Convolution" is cross-correlation, as in PyTorch and the lecture: the kernel is
not flipped. Layout is PyTorch's without the batch axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from app.engine.arithmetic import (
    IntOrPair,
    Padding2d,
    PaddingArg,
    check_output_size,
    conv_output_size,
    pair,
    resolve_padding,
)
from app.engine.errors import ParameterError, ShapeError
from app.engine.im2col import correlate, correlate_grad_input, correlate_grad_weight
from app.engine.padding import check_padding_mode, pad2d, pad2d_backward
from app.engine.tensors import (
    as_bias,
    as_chw,
    as_grad_output,
    as_weight,
    check_groups,
    shape_text,
)
from app.engine.trace import Trace

REDUCTIONS = ("sum", "mean")


def check_made_for(field: str, shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    """A geometry's method was given a tensor of another shape than it was made for."""
    if shape != expected:
        raise ShapeError(
            field,
            f"has shape {shape_text(shape)} but the geometry was made for"
            f" {shape_text(expected)}; build the geometry from these tensors",
            code="wrong_shape",
            params={"expected": shape_text(expected), "actual": shape_text(shape)},
        )


@dataclass(frozen=True)
class Conv2dParams:
    """:func:`conv2d`'s arguments other than the tensors, as given (PyTorch's names).

    The one place a layer's convolution settings travel together (the API's
    requests, :mod:`app.engine.descent`, :mod:`app.engine.stack`, the exports).
    :meth:`geometry` checks them against the tensors once; everything after that
    takes the resulting :class:`Conv2dGeometry`.
    """

    stride: IntOrPair = 1
    padding: PaddingArg = 0
    dilation: IntOrPair = 1
    groups: int = 1
    padding_mode: str = "zeros"
    reduce: str = "sum"

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`conv2d` and its relatives."""
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "padding_mode": self.padding_mode,
            "reduce": self.reduce,
        }

    def geometry(
        self, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None
    ) -> Conv2dGeometry:
        """Check these settings against the tensors' shapes; the sizes they fix."""
        return _prepare(input, weight, bias, self, np.float32)[3]


@dataclass(frozen=True)
class Conv2dGeometry:
    """Everything the arguments of :func:`conv2d` fix, after checking.

    Attributes
    ----------
    in_channels, out_channels, groups : int
    input_size : (int, int)
        ``(H, W)`` of the unpadded input.
    kernel_size, stride, dilation : (int, int)
    padding : Padding2d
        Padding of each side, resolved from ints, pairs, 4 values, "same" or "valid".
    padding_mode : str
    reduce : str
        ``"sum"`` or ``"mean"``.
    output_size : (int, int)
        ``(H_out, W_out)``.
    input_shape, weight_shape, output_shape : tuple of int
        The shapes as the caller sees them (2-D or not).
    """

    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: Padding2d
    padding_mode: str
    reduce: str
    output_size: tuple[int, int]
    input_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    @property
    def padded_size(self) -> tuple[int, int]:
        """``(Hp, Wp)``: the input's size with the padding of every side added."""
        p = self.padding
        return self.input_size[0] + p.top + p.bottom, self.input_size[1] + p.left + p.right

    @property
    def window_size(self) -> int:
        """Weights in one window: ``C_in/groups * kH * kW`` (the divisor of ``reduce="mean"``)."""
        return self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]

    @property
    def divisor(self) -> int | None:
        """What each window's sum is divided by, or None for ``reduce="sum"``."""
        return self.window_size if self.reduce == "mean" else None

    def fold_grad_input(self, grad_padded: np.ndarray) -> np.ndarray:
        """Fold a gradient on the padded grid back onto the input.

        ``grad_padded`` has shape ``(C_in, Hp, Wp)``, e.g.
        ``conv2d_grad_input_trace(...).output((C_in, Hp, Wp))``. With zero padding
        the padded border is cut off; with reflect, replicate or circular padding
        each padded cell's gradient is added to the input cell it copies. Returns
        the input's shape.
        """
        grad = pad2d_backward(grad_padded, self.padding, self.padding_mode)
        return np.ascontiguousarray(grad).reshape(self.input_shape)

    def tensors(
        self, input: ArrayLike | None, weight: ArrayLike, bias: ArrayLike | None, dtype: DTypeLike
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(C_in, H, W)`` input, 4-D weight and bias in ``dtype``, checked against this
        geometry's shapes (a ShapeError when they are not the ones it was made for)."""
        x = np.empty(0)
        if input is not None:  # the dE/dX trace reads only the weight
            x, _ = as_chw(input, "input", dtype)
            check_made_for("input", x.shape, (self.in_channels, *self.input_size))
        w, _ = as_weight(weight, "weight", dtype)
        c_per_group = self.in_channels // self.groups
        check_made_for("weight", w.shape, (self.out_channels, c_per_group, *self.kernel_size))
        return x, w, as_bias(bias, self.out_channels, "bias", dtype)

    def forward(
        self, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None
    ) -> np.ndarray:
        """:func:`conv2d` with this geometry."""
        return _forward(self, *self.tensors(input, weight, bias, np.float32))

    def backward(
        self,
        grad_output: ArrayLike,
        input: ArrayLike,
        weight: ArrayLike,
        bias: ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:func:`conv2d_backward` with this geometry."""
        return _backward(self, grad_output, *self.tensors(input, weight, bias, np.float32))

    def trace(self, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> Trace:
        """:func:`conv2d_trace` with this geometry."""
        return _trace(self, *self.tensors(input, weight, bias, np.float64))

    def grad_weight_trace(
        self, grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike
    ) -> Trace:
        """:func:`conv2d_grad_weight_trace` with this geometry."""
        x, _, _ = self.tensors(input, weight, None, np.float64)
        return _grad_weight_trace(self, x, self.grad_output(grad_output))

    def grad_input_trace(self, grad_output: ArrayLike, weight: ArrayLike) -> Trace:
        """:func:`conv2d_grad_input_trace` with this geometry (the input is not read)."""
        _, w, _ = self.tensors(None, weight, None, np.float64)
        return _grad_input_trace(self, w, self.grad_output(grad_output))

    def grad_output(self, grad_output: ArrayLike) -> np.ndarray:
        """``dE/dO`` as ``(C_out, H_out, W_out)`` float64, checked against the output's shape."""
        return as_grad_output(grad_output, self.output_shape, np.float64)


def _prepare(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
    params: Conv2dParams,
    dtype: DTypeLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Conv2dGeometry]:
    """Check conv2d's arguments; return ``(C_in, H, W)`` input, 4-D weight, bias, geometry.

    The only place the parameters are checked: every other path takes the geometry.
    """
    x, input_2d = as_chw(input, "input", dtype)
    w, weight_2d = as_weight(weight, "weight", dtype)
    stride_hw = pair(params.stride, "stride")
    dilation_hw = pair(params.dilation, "dilation")
    groups = check_groups(params.groups)
    padding_mode, reduce = params.padding_mode, params.reduce
    c_in, h, wd = x.shape
    c_out, c_per_group, kh, kw = w.shape
    if c_in % groups:
        raise ParameterError(
            "groups",
            f"groups={groups} must divide the input's {c_in} channels; use a divisor of {c_in}",
            code="groups_divide_input",
            params={"groups": groups, "channels": c_in},
        )
    if c_out % groups:
        raise ParameterError(
            "groups",
            f"groups={groups} must divide the weight's {c_out} output channels (weight.shape[0]);"
            f" use a divisor of {c_out}",
            code="groups_divide_output",
            params={"groups": groups, "channels": c_out},
        )
    if c_per_group * groups != c_in:
        if weight_2d:
            hint = (
                f"a (kH, kW) weight is one filter over a one-channel input; give a weight of"
                f" shape (C_out, {c_in // groups}, {kh}, {kw})"
            )
        else:
            hint = f"give a weight of shape ({c_out}, {c_in // groups}, {kh}, {kw})"
        raise ShapeError(
            "weight",
            f"reads {c_per_group} channel(s) per group (weight.shape[1]), so with groups={groups}"
            f" it needs an input of {c_per_group * groups} channel(s), but the input has {c_in};"
            f" {hint}",
            code="channels_mismatch",
            params={"needed": c_per_group * groups, "actual": c_in},
        )
    b = as_bias(bias, c_out, "bias", dtype)
    if reduce not in REDUCTIONS:
        raise ParameterError(
            "reduce",
            f"unknown reduce {reduce!r}; use 'sum' or 'mean'",
            code="unknown_choice",
            params={"choices": "sum, mean"},
        )
    pad = resolve_padding(params.padding, (kh, kw), dilation_hw, stride_hw)
    check_padding_mode(padding_mode, pad, h, wd)
    padded = (h + pad.top + pad.bottom, wd + pad.left + pad.right)
    out = (
        conv_output_size(h, kh, stride_hw[0], pad.top + pad.bottom, dilation_hw[0]),
        conv_output_size(wd, kw, stride_hw[1], pad.left + pad.right, dilation_hw[1]),
    )
    effective = (dilation_hw[0] * (kh - 1) + 1, dilation_hw[1] * (kw - 1) + 1)
    check_output_size(out, padded, effective)
    output_shape = out if input_2d and weight_2d else (c_out, *out)
    geometry = Conv2dGeometry(
        in_channels=c_in,
        out_channels=c_out,
        groups=groups,
        input_size=(h, wd),
        kernel_size=(kh, kw),
        stride=stride_hw,
        dilation=dilation_hw,
        padding=pad,
        padding_mode=padding_mode,
        reduce=reduce,
        output_size=out,
        input_shape=(h, wd) if input_2d else (c_in, h, wd),
        weight_shape=(kh, kw) if weight_2d else (c_out, c_per_group, kh, kw),
        output_shape=output_shape,
    )
    return x, w, b, geometry


def conv2d_geometry(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> Conv2dGeometry:
    """Check :func:`conv2d`'s arguments and return the sizes they fix (no computation)."""
    return Conv2dParams(stride, padding, dilation, groups, padding_mode, reduce).geometry(
        input, weight, bias
    )


def conv2d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> np.ndarray:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` on one sample.

    Parameters
    ----------
    input : array_like of shape (C_in, H, W) or (H, W)
    weight : array_like of shape (C_out, C_in/groups, kH, kW) or (kH, kW)
        A ``(kH, kW)`` weight is one filter over a one-channel input.
    bias : array_like of shape (C_out,), optional
    stride, dilation : int or (int, int)
        At least 1.
    padding : int, (int, int), (left, right, top, bottom), "same" or "valid"
        Cells added around the input; four values are ``F.pad``'s order.
    groups : int
        Splits input and output channels into ``groups`` independent blocks.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        What the padded cells hold (``torch.nn.Conv2d``'s ``padding_mode``).
    reduce : {"sum", "mean"}
        ``"mean"`` divides each window's sum by its number of weights before the
        bias is added (the lecture's X/O normalisation).

    Returns
    -------
    ndarray of float32, shape (C_out, H_out, W_out), or (H_out, W_out) when both
    ``input`` and ``weight`` are 2-D.

    Raises
    ------
    ShapeError
        Wrong rank, channel mismatch, bias length, kernel larger than the padded input.
    ParameterError
        Stride, padding, dilation, groups, padding_mode or reduce out of range.

    Notes
    -----
    With ``pT, pB, pL, pR`` the padding of each side::

        H_out = floor((H + pT + pB - dH * (kH - 1) - 1) / sH) + 1
        W_out = floor((W + pL + pR - dW * (kW - 1) - 1) / sW) + 1

        out[o, y, x] = sum_{c, i, j} w[o, c, i, j] * xp[g*C_in/groups + c, y*sH + i*dH, x*sW + j*dW]
                       / n + b[o]

    where ``xp`` is the padded input, ``g = o // (C_out/groups)`` the group of
    output channel ``o``, and ``n = C_in/groups * kH * kW`` for ``reduce="mean"``
    (1 for ``"sum"``).
    """
    params = Conv2dParams(stride, padding, dilation, groups, padding_mode, reduce)
    x, w, b, g = _prepare(input, weight, bias, params, np.float32)
    return _forward(g, x, w, b)


def _forward(g: Conv2dGeometry, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    xp = pad2d(x, g.padding, g.padding_mode)
    if g.divisor is None:
        out = correlate(xp, w, g.groups, g.stride, g.dilation, g.output_size, b)
    else:  # the mean comes before the bias
        out = correlate(xp, w, g.groups, g.stride, g.dilation, g.output_size)
        out /= np.float32(g.divisor)
        if b is not None:
            out += b[:, None, None]
    return out.reshape(g.output_shape)


def conv2d_backward(
    grad_output: ArrayLike,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv2d` with respect to input, weight and bias.

    Parameters
    ----------
    grad_output : array_like, shape of :func:`conv2d`'s output
        ``dE/dO``.
    input, weight, bias, stride, padding, dilation, groups, padding_mode, reduce
        As for :func:`conv2d`.

    Returns
    -------
    grad_input : ndarray of float32, shape of ``input``
    grad_weight : ndarray of float32, shape of ``weight``
    grad_bias : ndarray of float32, shape (C_out,), or None when ``bias`` is None

    Notes
    -----
    With ``cols`` the tap-major unfolding of the padded input ``xp`` and ``dO``
    divided by ``n`` for ``reduce="mean"``, per group::

        dE/dW = dO @ cols.T                       (dE/dO sliding over xp)
        dE/dxp = col2im(W.T @ dO)                 (every window's share added back)
        dE/dX = pad2d_backward(dE/dxp)            (padded cells folded onto their sources)
        dE/db = sum of dE/dO over each channel    (not divided: the bias is added after the mean)

    ``dE/dxp`` equals the full cross-correlation of the stride-dilated ``dE/dO``
    with the 180-degree-rotated kernel (see :func:`conv2d_grad_input_trace`).
    """
    params = Conv2dParams(stride, padding, dilation, groups, padding_mode, reduce)
    x, w, b, g = _prepare(input, weight, bias, params, np.float32)
    return _backward(g, grad_output, x, w, b)


def _backward(
    g: Conv2dGeometry, grad_output: ArrayLike, x: np.ndarray, w: np.ndarray, b: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    d = as_grad_output(grad_output, g.output_shape, np.float32)
    grad_bias = d.sum(axis=(1, 2)) if b is not None else None
    if g.divisor is not None:
        d = d / np.float32(g.divisor)
    xp = pad2d(x, g.padding, g.padding_mode)
    grad_weight = correlate_grad_weight(d, xp, g.groups, g.stride, g.dilation, w.shape)
    grad_weight = grad_weight.reshape(g.weight_shape)
    grad_padded = correlate_grad_input(d, w, g.groups, g.stride, g.dilation, g.padded_size)
    return g.fold_grad_input(grad_padded), grad_weight, grad_bias


# The explained path --------------------------------------------------------------------------


def _group_channels(g: Conv2dGeometry) -> np.ndarray:
    """``(C_out, C_in/groups)``: the input channels each output channel reads (its group's)."""
    c_per_group = g.in_channels // g.groups
    first = np.arange(g.out_channels) // (g.out_channels // g.groups) * c_per_group
    return first[:, None] + np.arange(c_per_group)


def correlation_trace(
    grid: np.ndarray,
    kernels: np.ndarray,
    channels: np.ndarray,
    *,
    out_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    grid_origin: tuple[int, int],
    start: tuple[int, int] = (0, 0),
    bias: np.ndarray | None = None,
    divisor: int | None = None,
) -> Trace:
    """What every convolution trace is made of: slide a kernel over a grid, cell by cell.

    Parameters
    ----------
    grid : ndarray of shape (C, Hg, Wg)
        What the window slides over (padding already in it).
    kernels : ndarray of shape (Q, M, kH, kW)
        ``kernels[q]`` is the kernel that makes output channel ``q``.
    channels : int ndarray of shape (Q, M)
        ``channels[q, m]``: the grid channel that kernel channel ``m`` of output
        channel ``q`` reads (this is where groups come in).
    out_size : (int, int)
        ``(H_out, W_out)``.
    stride, dilation : (int, int)
        Step between windows and spacing between taps, in grid cells.
    grid_origin : (int, int)
        Where the unpadded tensor's cell (0, 0) sits in ``grid`` (recorded only).
    start : (int, int)
        Top-left tap of the first window.
    bias : ndarray of shape (Q,), optional
    divisor : int, optional
        Divide each sum by this before the bias (``reduce="mean"``).

    Returns
    -------
    Trace
        ``Q * H_out * W_out`` steps of ``M * kH * kW`` taps; ``trace.output((Q,
        H_out, W_out))`` is the result.

    Notes
    -----
    Output cell ``(q, y, x)`` is::

        sum_{m, i, j} kernels[q, m, i, j]
                      * grid[channels[q, m], start_r + y*sH + i*dH, start_c + x*sW + j*dW]
        / divisor + bias[q]
    """
    n_out, n_in, kh, kw = kernels.shape
    out_h, out_w = out_size
    _, grid_h, grid_w = grid.shape
    n_steps, n_taps = n_out * out_h * out_w, n_in * kh * kw
    # The taps of one window in kernel order (kernel channel, kernel row, kernel column),
    # as offsets from the window's top-left cell.
    tap = np.arange(n_taps)
    tap_m, tap_i, tap_j = tap // (kh * kw), tap // kw % kh, tap % kw
    tap_rows, tap_cols = tap_i * dilation[0], tap_j * dilation[1]

    # Step n computes output cell (q, y, x), in row-major order; its window's top-left
    # cell is (start_r + y*sH, start_c + x*sW), and tap t of it reads grid channel
    # channels[q, tap_m[t]] at (top + tap_rows[t], left + tap_cols[t]). (Filled in
    # place: np.stack's overhead was a fifth of a small trace's time.)
    step = np.arange(n_steps, dtype=np.int64)
    out_index = np.empty((n_steps, 3), dtype=np.int64)
    out_index[:, 0], rest = np.divmod(step, out_h * out_w)
    out_index[:, 1], out_index[:, 2] = np.divmod(rest, out_w)
    q_of_step = out_index[:, 0]
    window = np.empty((n_steps, 2), dtype=np.int64)
    window[:, 0] = start[0] + out_index[:, 1] * stride[0]
    window[:, 1] = start[1] + out_index[:, 2] * stride[1]
    cells = np.empty((n_steps, n_taps, 3), dtype=np.int64)
    cells[..., 0] = channels[q_of_step][:, tap_m]
    cells[..., 1] = window[:, :1] + tap_rows
    cells[..., 2] = window[:, 1:] + tap_cols

    # What a student does at each step, one row per step (every step at once: a
    # Python loop over steps cost 10 us each, most of a lecture request's time).
    flat_cells = (cells[..., 0] * grid_h + cells[..., 1]) * grid_w + cells[..., 2]
    values = grid.ravel()[flat_cells].astype(np.float64, copy=False)  # read the window's taps
    weights = kernels.reshape(n_out, n_taps)[q_of_step].astype(np.float64)
    products = values * weights  # multiply each by the kernel's number
    sums = products.sum(axis=1)  # sum (row by row, as each window's own sum)
    if divisor is not None:
        sums = sums / divisor  # mean
    step_bias = None if bias is None else np.asarray(bias, dtype=np.float64)[q_of_step]
    result = sums + (0.0 if step_bias is None else step_bias)  # add the bias
    return Trace(
        grid=np.array(grid, dtype=np.float64),
        grid_origin=(int(grid_origin[0]), int(grid_origin[1])),
        out_index=out_index,
        window=window,
        cells=cells,
        mask=np.ones((n_steps, n_taps), dtype=bool),
        values=values,
        sums=sums,
        result=result,
        weights=weights,
        products=products,
        bias=step_bias,
        divisor=None if divisor is None else np.full(n_steps, float(divisor)),
    )


def transposed_correlation_trace(
    input: np.ndarray,
    weight: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[int, int],
    out_size: tuple[int, int],
    bias: np.ndarray | None = None,
    divisor: int | None = None,
) -> Trace:
    """The gather view of a transposed convolution, also conv2d's gradient of the input.

    The input is stride-dilated (``s - 1`` zeros between entries), zero-padded by
    ``P = d * (k - 1)`` minus ``padding`` on each side, and the kernel, rotated by
    180 degrees and with its two channel axes swapped, slides over it with stride 1
    and the given dilation, as in Dumoulin & Visin's transposed-convolution
    animations.

    Parameters
    ----------
    input : ndarray of shape (A, H, W)
        The transposed convolution's input (conv2d's ``dE/dO``).
    weight : ndarray of shape (A, B/groups, kH, kW)
        ``ConvTranspose2d``'s layout (conv2d's weight ``(C_out, C_in/groups, kH, kW)``).
    groups : int
    stride, dilation : (int, int)
    padding : (int, int)
        Rows and columns cut from each side of the full result (0 for conv2d's
        gradient, which is computed on the padded input's grid).
    out_size : (int, int)
        Rows and columns of the result; rows past the last contribution are 0.
    bias : ndarray of shape (B,), optional
    divisor : int, optional

    Returns
    -------
    Trace
        ``B * out_size`` steps. ``grid`` has shape ``(A, Hg, Wg)``: the input's
        entry ``(a, y, x)`` sits at ``(a, grid_origin[0] + y*sH, grid_origin[1] +
        x*sW)`` and every other cell is 0. Output channel ``b`` (group ``g = b //
        (B/groups)``) reads grid channels ``g*A/groups ...`` with kernel channel
        ``m`` = ``rot180(weight[g*A/groups + m, b % (B/groups)])``.

    Notes
    -----
    With ``P = d*(k-1)`` the first window starts at ``max(padding - P, 0)`` and
    ``grid_origin = max(P - padding, 0)``; the bottom and right are padded with as
    many zeros as the last window needs, e.g. ``P - padding + output_padding`` for
    a transposed convolution.
    """
    a_channels, h, w = input.shape
    a_per_group, b_per_group, kh, kw = weight.shape[0] // groups, weight.shape[1], *weight.shape[2:]
    full = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
    origin = (max(full[0] - padding[0], 0), max(full[1] - padding[1], 0))
    start = (max(padding[0] - full[0], 0), max(padding[1] - full[1], 0))
    dilated = ((h - 1) * stride[0] + 1, (w - 1) * stride[1] + 1)
    grid_h = max(start[0] + out_size[0] + full[0], origin[0] + dilated[0])
    grid_w = max(start[1] + out_size[1] + full[1], origin[1] + dilated[1])
    grid = np.zeros((a_channels, grid_h, grid_w), dtype=np.float64)
    grid[
        :,
        origin[0] : origin[0] + dilated[0] : stride[0],
        origin[1] : origin[1] + dilated[1] : stride[1],
    ] = input

    n_out = b_per_group * groups
    kernels = np.zeros((n_out, a_per_group, kh, kw), dtype=np.float64)
    channels = np.zeros((n_out, a_per_group), dtype=np.int64)
    for b in range(n_out):
        first = (b // b_per_group) * a_per_group
        kernels[b] = weight[first : first + a_per_group, b % b_per_group, ::-1, ::-1]
        channels[b] = np.arange(first, first + a_per_group)
    return correlation_trace(
        grid,
        kernels,
        channels,
        out_size=out_size,
        stride=(1, 1),
        dilation=dilation,
        grid_origin=origin,
        start=start,
        bias=bias,
        divisor=divisor,
    )


def conv2d_trace(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> Trace:
    """The explained forward pass of :func:`conv2d`: one step per output cell.

    Arguments as for :func:`conv2d` (computed in float64).

    Returns
    -------
    Trace
        ``grid`` is the padded input ``(C_in, Hp, Wp)`` (``padding_mode`` applied),
        ``grid_origin = (pad_top, pad_left)``; step ``(o, y, x)`` reads the
        ``C_in/groups * kH * kW`` taps of group ``o // (C_out/groups)``, weights are
        ``weight[o]`` in kernel order; ``divisor`` is ``C_in/groups * kH * kW`` for
        ``reduce="mean"``. ``trace.output((C_out, H_out, W_out))`` equals
        :func:`conv2d` (reshape for a 2-D result).
    """
    params = Conv2dParams(stride, padding, dilation, groups, padding_mode, reduce)
    x, w, b, g = _prepare(input, weight, bias, params, np.float64)
    return _trace(g, x, w, b)


def _trace(g: Conv2dGeometry, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> Trace:
    return correlation_trace(
        pad2d(x, g.padding, g.padding_mode),
        w,
        _group_channels(g),
        out_size=g.output_size,
        stride=g.stride,
        dilation=g.dilation,
        grid_origin=(g.padding.top, g.padding.left),
        bias=b,
        divisor=g.divisor,
    )


def conv2d_grad_weight_trace(
    grad_output: ArrayLike,
    input: ArrayLike,
    weight: ArrayLike,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> Trace:
    """The explained ``dE/dW``: ``dE/dO`` slides over the padded input, as a kernel.

    Arguments as for :func:`conv2d_backward` (no bias; computed in float64).

    Returns
    -------
    Trace
        ``grid`` is the padded input ``(C_in, Hp, Wp)``, ``grid_origin = (pad_top,
        pad_left)``. Output channel ``q = o * C_in/groups + c`` is ``dE/dW[o, c]``:
        its "kernel" is ``dE/dO[o]`` (``H_out * W_out`` taps, spaced by the
        convolution's *stride*), its windows step by the convolution's *dilation*,
        and it reads the one grid channel ``g * C_in/groups + c`` of its group.
        ``trace.output((C_out * C_in/groups, kH, kW)).reshape(weight.shape)`` is
        ``dE/dW``; ``divisor`` is set for ``reduce="mean"``.

    Notes
    -----
    ``dE/dW[o, c, i, j] = sum_{y, x} dE/dO[o, y, x] * xp[g*C_in/groups + c, i*dH + y*sH,
    j*dW + x*sW] / n``: the lecture's ``dE/dF = conv(X, dE/dO)``.
    """
    params = Conv2dParams(stride, padding, dilation, groups, padding_mode, reduce)
    x, _, _, g = _prepare(input, weight, None, params, np.float64)
    return _grad_weight_trace(g, x, g.grad_output(grad_output))


def _grad_weight_trace(g: Conv2dGeometry, x: np.ndarray, d: np.ndarray) -> Trace:
    # Step channel q = o * C_in/groups + c: dE/dO[o] as the kernel, over grid channel
    # _group_channels(g)[o, c] alone.
    kernels = np.repeat(d[:, None], g.in_channels // g.groups, axis=0)
    return correlation_trace(
        pad2d(x, g.padding, g.padding_mode),
        kernels,
        _group_channels(g).reshape(-1, 1),
        out_size=g.kernel_size,
        stride=g.dilation,
        dilation=g.stride,
        grid_origin=(g.padding.top, g.padding.left),
        divisor=g.divisor,
    )


def conv2d_grad_input_trace(
    grad_output: ArrayLike,
    input: ArrayLike,
    weight: ArrayLike,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> Trace:
    """The explained ``dE/dX``: full correlation of the dilated ``dE/dO`` with the rotated kernel.

    Arguments as for :func:`conv2d_backward` (no bias; computed in float64).

    Returns
    -------
    Trace
        ``grid`` has shape ``(C_out, Hg, Wg)``: ``dE/dO`` stride-dilated (``s - 1``
        zeros between entries) and zero-padded by ``d * (k - 1)`` on every side
        (plus zero rows/columns at the bottom/right for padded-input cells that no
        window reached), with ``grid_origin = (dH*(kH-1), dW*(kW-1))`` where
        ``dE/dO[:, 0, 0]`` sits. Output channel ``c`` (group ``g``) reads the
        ``C_out/groups`` channels of its group with the kernels
        ``rot180(weight[o, c % (C_in/groups)])``, stride 1, the convolution's
        dilation. The result is on the *padded* input's grid:
        ``trace.output((C_in, Hp, Wp))`` is ``dE/d(padded X)`` (``Hp, Wp`` from
        :attr:`Conv2dGeometry.padded_size`), and
        ``conv2d_geometry(...).fold_grad_input(that)`` folds it back to ``dE/dX``
        (zeros: the border is cut off; reflect, replicate, circular: each border
        cell's gradient is added to the input cell it copied). ``divisor`` is set
        for ``reduce="mean"``.

    Notes
    -----
    ``dE/dxp[c, r, q] = sum_{o, i, j} rot180(W)[o, c, i, j] * G[o, r + i*dH, q + j*dW] / n``
    with ``G`` the grid: the lecture's "dE/dX = full convolution of dE/dO with
    the 180-degree-rotated F".
    """
    params = Conv2dParams(stride, padding, dilation, groups, padding_mode, reduce)
    _, w, _, g = _prepare(input, weight, None, params, np.float64)
    return _grad_input_trace(g, w, g.grad_output(grad_output))


def _grad_input_trace(g: Conv2dGeometry, w: np.ndarray, d: np.ndarray) -> Trace:
    return transposed_correlation_trace(
        d,
        w,
        g.groups,
        g.stride,
        g.dilation,
        padding=(0, 0),
        out_size=g.padded_size,
        divisor=g.divisor,
    )


__all__ = [
    "Conv2dGeometry",
    "Conv2dParams",
    "conv2d",
    "conv2d_backward",
    "conv2d_geometry",
    "conv2d_grad_input_trace",
    "conv2d_grad_weight_trace",
    "conv2d_trace",
    "correlation_trace",
    "transposed_correlation_trace",
]
