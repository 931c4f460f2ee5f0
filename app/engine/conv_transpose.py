"""2-D transposed convolution (PyTorch's ``F.conv_transpose2d``): forward, backward, trace.

A transposed convolution is the gradient of a convolution with respect to its
input, so nothing new is computed here: with ``conv`` the conv2d whose weight is
this layer's weight (``(C_in, C_out/groups, kH, kW)`` read as conv2d's ``(C_out,
C_in/groups, kH, kW)``), the same stride, dilation and zero padding, and whose
input has the transposed output's size,

- forward = conv's gradient of the input, with this layer's input as ``dE/dO``;
- gradient of the input = conv's forward applied to ``grad_output``;
- gradient of the weight = conv's gradient of the weight, with this layer's input
  as ``dE/dO`` and ``grad_output`` as conv's input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from app.engine.arithmetic import IntOrPair, Padding2d, conv_transpose_output_size, pair
from app.engine.conv import check_made_for, transposed_correlation_trace
from app.engine.errors import ParameterError, ShapeError
from app.engine.im2col import correlate, correlate_grad_input, correlate_grad_weight
from app.engine.padding import pad2d, pad2d_backward
from app.engine.tensors import as_bias, as_chw, as_grad_output, as_weight, check_groups
from app.engine.trace import Trace


@dataclass(frozen=True)
class ConvTranspose2dGeometry:
    """Everything the arguments of :func:`conv_transpose2d` fix, after checking.

    ``padding`` is per side (rows, columns), as in PyTorch; ``output_size`` is
    ``(H_out, W_out)``; the shapes are as the caller sees them. Build it with
    :func:`conv_transpose2d_geometry`; its methods compute without checking the
    parameters again.
    """

    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    dilation: tuple[int, int]
    output_size: tuple[int, int]
    input_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    @property
    def conv_padding(self) -> Padding2d:
        """The equivalent conv2d's padding of each side."""
        ph, pw = self.padding
        return Padding2d(ph, ph, pw, pw)

    @property
    def conv_padded_size(self) -> tuple[int, int]:
        """``(H_out + 2*pH, W_out + 2*pW)``: the full result before the padding is cut off."""
        return (
            self.output_size[0] + 2 * self.padding[0],
            self.output_size[1] + 2 * self.padding[1],
        )

    def tensors(
        self, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None, dtype: DTypeLike
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(C_in, H, W)`` input, 4-D weight and bias in ``dtype``, checked against the
        shapes this geometry was made for."""
        x, _ = as_chw(input, "input", dtype)
        check_made_for("input", x.shape, (self.in_channels, *self.input_size))
        w, _ = as_weight(weight, "weight", dtype, layout="(C_in, C_out/groups, kH, kW)")
        c_per_group = self.out_channels // self.groups
        check_made_for("weight", w.shape, (self.in_channels, c_per_group, *self.kernel_size))
        return x, w, as_bias(bias, self.out_channels, "bias", dtype)

    def forward(
        self, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None
    ) -> np.ndarray:
        """:func:`conv_transpose2d` with this geometry."""
        return _forward(self, *self.tensors(input, weight, bias, np.float32))

    def backward(
        self,
        grad_output: ArrayLike,
        input: ArrayLike,
        weight: ArrayLike,
        bias: ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:func:`conv_transpose2d_backward` with this geometry."""
        return _backward(self, grad_output, *self.tensors(input, weight, bias, np.float32))

    def trace(self, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> Trace:
        """:func:`conv_transpose2d_trace` with this geometry."""
        return _trace(self, *self.tensors(input, weight, bias, np.float64))


def _padding_pair(padding: IntOrPair) -> tuple[int, int]:
    if isinstance(padding, str) or (
        not isinstance(padding, int) and hasattr(padding, "__len__") and len(padding) != 2
    ):
        raise ParameterError(
            "padding",
            f"conv_transpose2d takes an integer or a pair (pH, pW) as PyTorch does, got"
            f" {padding!r}; 'same', 'valid' and 4-value padding exist only for conv2d",
            code="padding_form",
        )
    return pair(padding, "padding", minimum=0)


def _prepare(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
    stride: IntOrPair,
    padding: IntOrPair,
    output_padding: IntOrPair,
    groups: int,
    dilation: IntOrPair,
    dtype: DTypeLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvTranspose2dGeometry]:
    """Check the arguments; return ``(C_in, H, W)`` input, 4-D weight, bias, geometry."""
    x, input_2d = as_chw(input, "input", dtype)
    w, weight_2d = as_weight(weight, "weight", dtype, layout="(C_in, C_out/groups, kH, kW)")
    stride_hw = pair(stride, "stride")
    dilation_hw = pair(dilation, "dilation")
    padding_hw = _padding_pair(padding)
    output_padding_hw = pair(output_padding, "output_padding", minimum=0)
    groups = check_groups(groups)
    c_in, h, wd = x.shape
    w_in, out_per_group, kh, kw = w.shape
    if c_in % groups:
        raise ParameterError(
            "groups",
            f"groups={groups} must divide the input's {c_in} channels; use a divisor of {c_in}",
            code="groups_divide_input",
            params={"groups": groups, "channels": c_in},
        )
    if w_in != c_in:
        if weight_2d:
            hint = (
                f"a (kH, kW) weight is one filter over a one-channel input; give a weight of"
                f" shape ({c_in}, C_out/groups, {kh}, {kw})"
            )
        else:
            hint = f"give a weight of shape ({c_in}, {out_per_group}, {kh}, {kw})"
        raise ShapeError(
            "weight",
            f"a transposed convolution's weight is laid out (C_in, C_out/groups, kH, kW), so its"
            f" first axis ({w_in}) must equal the input's {c_in} channel(s); {hint}",
            code="channels_mismatch",
            params={"needed": w_in, "actual": c_in},
        )
    c_out = out_per_group * groups
    b = as_bias(bias, c_out, "bias", dtype)
    for axis, op, s, d in zip("HW", output_padding_hw, stride_hw, dilation_hw, strict=True):
        if op >= max(s, d):
            raise ParameterError(
                "output_padding",
                f"{op} along {axis} must be smaller than the stride ({s}) or the dilation ({d});"
                f" use output_padding of at most {max(s, d) - 1}",
                code="output_padding_too_large",
                params={"max": max(s, d) - 1},
            )
    out = (
        conv_transpose_output_size(
            h, kh, stride_hw[0], padding_hw[0], output_padding_hw[0], dilation_hw[0]
        ),
        conv_transpose_output_size(
            wd, kw, stride_hw[1], padding_hw[1], output_padding_hw[1], dilation_hw[1]
        ),
    )
    if out[0] < 1 or out[1] < 1:
        raise ParameterError(
            "padding",
            f"cuts more than the whole result: the output would be {out[0]}x{out[1]};"
            " use less padding, or a larger kernel, stride or dilation",
            code="transpose_padding_too_large",
            params={"rows": out[0], "cols": out[1]},
        )
    geometry = ConvTranspose2dGeometry(
        in_channels=c_in,
        out_channels=c_out,
        groups=groups,
        input_size=(h, wd),
        kernel_size=(kh, kw),
        stride=stride_hw,
        padding=padding_hw,
        output_padding=output_padding_hw,
        dilation=dilation_hw,
        output_size=out,
        input_shape=(h, wd) if input_2d else (c_in, h, wd),
        weight_shape=(kh, kw) if weight_2d else (c_in, out_per_group, kh, kw),
        output_shape=out if input_2d and weight_2d else (c_out, *out),
    )
    return x, w, b, geometry


def conv_transpose2d_geometry(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> ConvTranspose2dGeometry:
    """Check :func:`conv_transpose2d`'s arguments and return the sizes they fix."""
    return _prepare(
        input, weight, bias, stride, padding, output_padding, groups, dilation, np.float32
    )[3]


def conv_transpose2d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d`` on one sample.

    Parameters
    ----------
    input : array_like of shape (C_in, H, W) or (H, W)
    weight : array_like of shape (C_in, C_out/groups, kH, kW) or (kH, kW)
        PyTorch's transposed layout; a ``(kH, kW)`` weight is one filter over a
        one-channel input.
    bias : array_like of shape (C_out,), optional
    stride, dilation : int or (int, int)
        At least 1.
    padding : int or (int, int)
        Rows and columns removed from each side of the full result.
    output_padding : int or (int, int)
        Rows and columns added at the bottom and right; smaller than
        ``max(stride, dilation)`` along each axis.
    groups : int

    Returns
    -------
    ndarray of float32, shape (C_out, H_out, W_out), or (H_out, W_out) when both
    ``input`` and ``weight`` are 2-D.

    Notes
    -----
    ::

        H_out = (H - 1) * sH - 2 * pH + dH * (kH - 1) + output_padding_H + 1

    Each input cell scatters ``input[c, y, x] * weight[c, :, :, :]`` onto the output
    at ``(y*sH + i*dH - pH, x*sW + j*dW - pW)``; this is conv2d's gradient of the
    input (:func:`app.engine.im2col.correlate_grad_input`) with the padding cut off.
    """
    x, w, b, g = _prepare(
        input, weight, bias, stride, padding, output_padding, groups, dilation, np.float32
    )
    return _forward(g, x, w, b)


def _forward(
    g: ConvTranspose2dGeometry, x: np.ndarray, w: np.ndarray, b: np.ndarray | None
) -> np.ndarray:
    full = correlate_grad_input(x, w, g.groups, g.stride, g.dilation, g.conv_padded_size)
    out = np.ascontiguousarray(pad2d_backward(full, g.conv_padding))
    if b is not None:
        out += b[:, None, None]
    return out.reshape(g.output_shape)


def conv_transpose2d_backward(
    grad_output: ArrayLike,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_transpose2d` with respect to input, weight and bias.

    Parameters
    ----------
    grad_output : array_like, shape of :func:`conv_transpose2d`'s output
    input, weight, bias, stride, padding, output_padding, groups, dilation
        As for :func:`conv_transpose2d`.

    Returns
    -------
    grad_input : ndarray of float32, shape of ``input``
    grad_weight : ndarray of float32, shape of ``weight``
    grad_bias : ndarray of float32, shape (C_out,), or None when ``bias`` is None

    Notes
    -----
    With ``gp`` the zero-padded ``grad_output`` and ``cols`` its unfolding::

        dE/dX = conv2d(gp, W)  (the first H x W windows)   = W @ cols per group
        dE/dW = conv2d's dE/dW with X as dE/dO              = X @ cols.T per group
        dE/db = sum of grad_output over each channel
    """
    x, w, b, g = _prepare(
        input, weight, bias, stride, padding, output_padding, groups, dilation, np.float32
    )
    return _backward(g, grad_output, x, w, b)


def _backward(
    g: ConvTranspose2dGeometry,
    grad_output: ArrayLike,
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    d = as_grad_output(grad_output, g.output_shape, np.float32)
    padded = pad2d(d, g.conv_padding)
    grad_input = correlate(padded, w, g.groups, g.stride, g.dilation, g.input_size)
    grad_weight = correlate_grad_weight(x, padded, g.groups, g.stride, g.dilation, w.shape)
    grad_bias = d.sum(axis=(1, 2)) if b is not None else None
    return grad_input.reshape(g.input_shape), grad_weight.reshape(g.weight_shape), grad_bias


def conv_transpose2d_trace(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> Trace:
    """The explained :func:`conv_transpose2d`, gathered: one step per output cell.

    Arguments as for :func:`conv_transpose2d` (computed in float64).

    Returns
    -------
    Trace
        ``grid`` has shape ``(C_in, Hg, Wg)``: the input stride-dilated (``s - 1``
        zeros between entries) and zero-padded by ``d*(k-1) - p`` on the top and
        left and ``d*(k-1) - p + output_padding`` on the bottom and right, so that
        ``grid_origin = (dH*(kH-1) - pH, dW*(kW-1) - pW)`` is where ``input[:, 0,
        0]`` sits (when ``p > d*(k-1)`` the origin is 0 and the first window starts
        ``p - d*(k-1)`` cells in). Output channel ``o`` (group ``g``) reads the
        ``C_in/groups`` channels of its group with the kernels
        ``rot180(weight[g*C_in/groups + m, o % (C_out/groups)])``, stride 1 and the
        layer's dilation. ``trace.output((C_out, H_out, W_out))`` equals
        :func:`conv_transpose2d`.
    """
    x, w, b, g = _prepare(
        input, weight, bias, stride, padding, output_padding, groups, dilation, np.float64
    )
    return _trace(g, x, w, b)


def _trace(g: ConvTranspose2dGeometry, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> Trace:
    return transposed_correlation_trace(
        x, w, g.groups, g.stride, g.dilation, g.padding, g.output_size, bias=b
    )
