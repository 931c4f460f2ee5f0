"""The step trace: what the page animates, one step per output cell.

A trace is produced by an operation's *explained* path, a plain loop over output
cells that reads each window, multiplies and sums exactly as a student would. The
fast (vectorised) path must give the same numbers; the tests check that they do.

Every array is indexed by step ``n`` (output cells in row-major order: channel,
then row, then column) and, where it has a second axis, by tap ``t`` (the cells of
one window in kernel order: input channel, then kernel row, then kernel column).
Cell coordinates refer to ``grid``, the tensor the window slides over: the padded
input for a forward pass, the padded (and stride-dilated) ``dE/dO`` for the
gradient of the input, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Trace:
    """One operation's explained path.

    Attributes
    ----------
    grid : ndarray of shape (C, Hg, Wg)
        The tensor the window slides over, padding included.
    grid_origin : (int, int)
        Row and column of the unpadded input's cell (0, 0) inside ``grid``.
    out_index : ndarray of shape (N, 3), int
        ``(channel, row, col)`` of the output cell each step computes.
    window : ndarray of shape (N, 2), int
        ``(row, col)`` in ``grid`` of the window's top-left tap.
    cells : ndarray of shape (N, T, 3), int
        ``(channel, row, col)`` in ``grid`` of each tap (dilation included).
    mask : ndarray of shape (N, T), bool
        Whether a tap counts. False only for taps a pooling window leaves out
        (past the padded edge with ``ceil_mode``); always True for convolutions.
    values : ndarray of shape (N, T)
        ``grid`` under each tap (0 where ``mask`` is False).
    weights : ndarray of shape (N, T) or None
        The kernel's number at each tap (convolutions only).
    products : ndarray of shape (N, T) or None
        ``values * weights`` (convolutions only).
    sums : ndarray of shape (N,)
        The reduction of the window before bias: the sum of products (conv), their
        mean (conv with ``reduce="mean"``), the maximum or the average (pooling).
    bias : ndarray of shape (N,) or None
        The bias added to each step (convolutions only).
    result : ndarray of shape (N,)
        The output cell's value: ``sums + bias`` (or ``sums``).
    argmax : ndarray of shape (N,) or None
        For max pooling, the tap that won (first maximum in scan order, as PyTorch).
    divisor : ndarray of shape (N,) or None
        What the sum was divided by (mean reduce, average pooling).
    """

    grid: np.ndarray
    grid_origin: tuple[int, int]
    out_index: np.ndarray
    window: np.ndarray
    cells: np.ndarray
    mask: np.ndarray
    values: np.ndarray
    sums: np.ndarray
    result: np.ndarray
    weights: np.ndarray | None = None
    products: np.ndarray | None = None
    bias: np.ndarray | None = None
    argmax: np.ndarray | None = None
    divisor: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return int(self.out_index.shape[0])

    def output(self, shape: tuple[int, int, int]) -> np.ndarray:
        """The output tensor this trace computed, laid out as ``(C, H, W)``."""
        out = np.zeros(shape, dtype=np.float64)
        c, r, col = self.out_index.T
        out[c, r, col] = self.result
        return out
