"""The vectorised core of convolution: im2col, its adjoint col2im, and grouped matmuls.

Everything here works on arrays that the public functions have already checked
and padded; nothing validates. The column matrix is laid out *tap-major*:

- one row per ``(c, kh, kw)`` (channel, then kernel row, then kernel column, the
  order of a weight's ``C_in/groups * kH * kW`` numbers, so a group's rows are
  contiguous), one column per output cell ``(oh, ow)`` in row-major order;
- it is filled by looping over the ``kH * kW`` taps only: for tap ``(i, j)`` the
  rows ``(:, i, j)`` receive, for every channel at once, the strided slice of the
  padded input that this tap sees across all windows,
  ``xp[:, i*dH : i*dH + (H_out-1)*sH + 1 : sH, j*dW : j*dW + (W_out-1)*sW + 1 : sW]``.

A convolution is then one matmul per group, ``W_g @ cols_g`` with ``W_g`` the
group's weight reshaped to ``(C_out/groups, C_in/groups * kH * kW)``. Its gradients
are ``dO_g @ cols_g.T`` (weight) and ``col2im(W_g.T @ dO_g)`` (padded input), where
``col2im`` adds each tap's rows back onto the strided slice they came from.
"""

from __future__ import annotations

import numpy as np


def _tap_slices(
    tap: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
) -> tuple[slice, slice]:
    """Rows and columns of the padded input that kernel tap ``(i, j)`` reads, all windows."""
    i, j = tap
    top, left = i * dilation[0], j * dilation[1]
    return (
        slice(top, top + (out_size[0] - 1) * stride[0] + 1, stride[0]),
        slice(left, left + (out_size[1] - 1) * stride[1] + 1, stride[1]),
    )


def im2col(
    xp: np.ndarray,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
) -> np.ndarray:
    """Unfold the windows of a padded input into a tap-major column matrix.

    Parameters
    ----------
    xp : ndarray of shape (C, Hp, Wp)
        The padded input.
    kernel_size, stride, dilation : (int, int)
    out_size : (int, int)
        ``(H_out, W_out)``; the windows of these output cells must fit in ``xp``.

    Returns
    -------
    cols : ndarray of shape (C * kH * kW, H_out * W_out)
        ``cols[(c*kH + i)*kW + j, oh*W_out + ow] = xp[c, oh*sH + i*dH, ow*sW + j*dW]``.
    """
    channels = xp.shape[0]
    kh, kw = kernel_size
    cols = np.empty((channels, kh, kw, out_size[0], out_size[1]), dtype=xp.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _tap_slices((i, j), stride, dilation, out_size)
            cols[:, i, j] = xp[:, rows, columns]
    return cols.reshape(channels * kh * kw, out_size[0] * out_size[1])


def col2im(
    cols: np.ndarray,
    padded_size: tuple[int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
) -> np.ndarray:
    """Adjoint of :func:`im2col`: add every column entry back onto the cell it was read from.

    Parameters
    ----------
    cols : ndarray of shape (C * kH * kW, H_out * W_out)
    padded_size : (int, int)
        ``(Hp, Wp)`` of the padded input the columns were (or would be) read from.

    Returns
    -------
    ndarray of shape (C, Hp, Wp)
        Cells that no window covers are 0.
    """
    kh, kw = kernel_size
    channels = cols.shape[0] // (kh * kw)
    taps = cols.reshape(channels, kh, kw, out_size[0], out_size[1])
    xp = np.zeros((channels, padded_size[0], padded_size[1]), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _tap_slices((i, j), stride, dilation, out_size)
            xp[:, rows, columns] += taps[:, i, j]
    return xp


def grouped_matmul(weight2d: np.ndarray, cols: np.ndarray, groups: int) -> np.ndarray:
    """``W_g @ cols_g`` for every group: ``(C_out, K) x (groups*K, L) -> (C_out, L)``."""
    c_out, k = weight2d.shape
    w = weight2d.reshape(groups, c_out // groups, k)
    return np.matmul(w, cols.reshape(groups, k, -1)).reshape(c_out, -1)


def grouped_matmul_grad_weight(d_out: np.ndarray, cols: np.ndarray, groups: int) -> np.ndarray:
    """``dO_g @ cols_g.T`` for every group: ``(C_out, L) x (groups*K, L) -> (C_out, K)``.

    Computed as ``(cols_g @ dO_g.T).T``: the same numbers, but OpenBLAS's threaded
    sgemm is pathologically slow (up to 100x, measured on 2 cores) for the short-wide
    ``dO_g @ cols_g.T`` shape, and never slower this way round.
    """
    c_out, length = d_out.shape
    d = d_out.reshape(groups, c_out // groups, length)
    product = np.matmul(cols.reshape(groups, -1, length), d.transpose(0, 2, 1))  # (G, K, C_out/G)
    return product.transpose(0, 2, 1).reshape(c_out, -1)


def grouped_matmul_grad_cols(weight2d: np.ndarray, d_out: np.ndarray, groups: int) -> np.ndarray:
    """``W_g.T @ dO_g`` for every group: ``(C_out, K) x (C_out, L) -> (groups*K, L)``."""
    c_out, k = weight2d.shape
    w = weight2d.reshape(groups, c_out // groups, k).transpose(0, 2, 1)
    return np.matmul(w, d_out.reshape(groups, c_out // groups, -1)).reshape(groups * k, -1)


def correlate(
    xp: np.ndarray,
    weight: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Grouped cross-correlation of a padded input (no bias, no mean).

    Parameters
    ----------
    xp : ndarray of shape (C_in, Hp, Wp)
    weight : ndarray of shape (C_out, C_in/groups, kH, kW)
    out_size : (int, int)
        Usually ``conv_output_size`` of each axis; a smaller size computes only the
        first rows and columns (the transposed convolution's backward needs that).

    Returns
    -------
    out : ndarray of shape (C_out, H_out, W_out)
    cols : ndarray of shape (C_in * kH * kW, H_out * W_out)
        The unfolded input, kept for the weight gradient.
    """
    c_out, _, kh, kw = weight.shape
    cols = im2col(xp, (kh, kw), stride, dilation, out_size)
    out = grouped_matmul(weight.reshape(c_out, -1), cols, groups)
    return out.reshape(c_out, out_size[0], out_size[1]), cols


def correlate_grad_weight(
    d_out: np.ndarray, cols: np.ndarray, groups: int, weight_shape: tuple[int, ...]
) -> np.ndarray:
    """Gradient of :func:`correlate` with respect to its weight.

    ``d_out`` has shape ``(C_out, H_out, W_out)``; ``cols`` is :func:`correlate`'s
    second result. Returns shape ``weight_shape`` = ``(C_out, C_in/groups, kH, kW)``.
    """
    d = d_out.reshape(d_out.shape[0], -1)
    return grouped_matmul_grad_weight(d, cols, groups).reshape(weight_shape)


def correlate_grad_input(
    d_out: np.ndarray,
    weight: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padded_size: tuple[int, int],
) -> np.ndarray:
    """Gradient of :func:`correlate` with respect to its padded input.

    Parameters
    ----------
    d_out : ndarray of shape (C_out, H_out, W_out)
    weight : ndarray of shape (C_out, C_in/groups, kH, kW)
    padded_size : (int, int)
        ``(Hp, Wp)``; rows and columns beyond the last window get 0.

    Returns
    -------
    ndarray of shape (C_in, Hp, Wp)
    """
    c_out, _, kh, kw = weight.shape
    out_size = (d_out.shape[1], d_out.shape[2])
    grad_cols = grouped_matmul_grad_cols(
        weight.reshape(c_out, -1), d_out.reshape(c_out, -1), groups
    )
    return col2im(grad_cols, padded_size, (kh, kw), stride, dilation, out_size)
