"""Slow, obvious loop versions of the engine's convolutions: a test oracle.

The fast path (im2col and matmuls) and the explained path (``correlation_trace``,
which reads every window by fancy indexing, all steps at once) are both vectorised;
this module is the per-cell loop a student would write from the formulas in the
docstrings, so a test can check that both of them equal it. Nothing here is fast or
clever on purpose: float64, one Python loop per index.
"""

from __future__ import annotations

import numpy as np

_NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def conv2d_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, int],
    padding: tuple[int, int, int, int],
    dilation: tuple[int, int],
    groups: int,
    padding_mode: str = "zeros",
    reduce: str = "sum",
) -> np.ndarray:
    """Per output cell, the window's sum, as conv2d's docstring writes it::

        out[o, y, x] = sum_{c, i, j} w[o, c, i, j] * xp[g*C/groups + c, y*sH + i*dH, x*sW + j*dW]

    ``x`` has shape (C_in, H, W), ``w`` (C_out, C_in/groups, kH, kW); ``padding`` is
    (top, bottom, left, right). Returns (C_out, H_out, W_out); ``reduce="mean"``
    divides each sum by ``C_in/groups * kH * kW`` before the bias.
    """
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right)), mode=_NUMPY_MODE[padding_mode])
    c_out, c_per_group, kh, kw = w.shape
    out_per_group = c_out // groups
    out_h = (xp.shape[1] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (xp.shape[2] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((c_out, out_h, out_w))
    for o in range(c_out):
        first = (o // out_per_group) * c_per_group  # the first input channel of o's group
        for y in range(out_h):
            for x_ in range(out_w):
                total = 0.0
                for c in range(c_per_group):
                    for i in range(kh):
                        for j in range(kw):
                            r, q = y * stride[0] + i * dilation[0], x_ * stride[1] + j * dilation[1]
                            total += w[o, c, i, j] * xp[first + c, r, q]
                if reduce == "mean":
                    total /= c_per_group * kh * kw
                out[o, y, x_] = total + (0.0 if b is None else b[o])
    return out


def conv_transpose2d_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    output_padding: tuple[int, int],
    groups: int,
    dilation: tuple[int, int],
) -> np.ndarray:
    """Scatter: ``x[c, y, x] * w[c, m, i, j]`` is added at ``(y*sH + i*dH - pH, x*sW + j*dW - pW)``.

    ``x`` has shape (C_in, H, W), ``w`` (C_in, C_out/groups, kH, kW). Returns
    (C_out, H_out, W_out) with ``H_out = (H-1)*sH - 2*pH + dH*(kH-1) + output_padding_H + 1``.
    """
    c_in, h, wd = x.shape
    _, out_per_group, kh, kw = w.shape
    in_per_group = c_in // groups
    out_h = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    out_w = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    out = np.zeros((out_per_group * groups, out_h, out_w))
    for c in range(c_in):
        group = c // in_per_group
        for y in range(h):
            for x_ in range(wd):
                for m in range(out_per_group):
                    for i in range(kh):
                        for j in range(kw):
                            r = y * stride[0] + i * dilation[0] - padding[0]
                            q = x_ * stride[1] + j * dilation[1] - padding[1]
                            if 0 <= r < out_h and 0 <= q < out_w:
                                out[group * out_per_group + m, r, q] += x[c, y, x_] * w[c, m, i, j]
    if b is not None:
        out += b[:, None, None]
    return out
