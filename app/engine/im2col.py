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

How it is made fast (measured by ``benchmarks/engine.py`` against PyTorch; the
sizes are those of a 3x512x512 input with 16 filters):

- *Bands.* Every pass works on bands of output rows whose columns take about
  :data:`BAND_BYTES`, in one buffer reused from band to band, instead of the
  whole column matrix (28 MB for 3x3, 38 MB for 7x7 stride 2). The numbers are
  the same (columns of different output cells never mix); the band is multiplied
  while it is still in cache, and nothing large is allocated but the result.
- *Threads.* Numpy releases the GIL in its copies and matmuls, so the bands are
  shared among :data:`THREADS` threads, each with its own buffer (the copies,
  half of the work, would otherwise run on one core; see :func:`_run_bands`).
- *Phases.* With a stride, a tap reads every ``s``-th cell; numpy copies such a
  slice two to three times slower than a contiguous one. The padded input is split
  once into its ``sH * sW`` stride phases, in which every tap reads a contiguous
  run (see :class:`_Taps`).
- *Serial BLAS calls.* Each band's product is cut into pieces that OpenBLAS runs
  in the calling thread (see :data:`SERIAL_GEMM_MACS`): our threads already share
  the work, and OpenBLAS's own threads, woken from them, were far slower.
- *Rows of windows* (large inputs, no vertical dilation; see :class:`_Rows`). The
  column matrix repeats every input cell ``kH * kW / (sH * sW)`` times (12 for 7x7
  stride 2): copying it cost as much as its matmul. Unfolding only along the width
  repeats a cell ``kW / sW`` times, and the column matrix of one output row is then
  a strided *view* of that unfolding, so each output row is one matmul and nothing
  is copied per kernel row (7x7 stride 2 at one thread: forward 9.2 -> 4.6 ms,
  backward 31.8 -> 18.3 ms).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

BAND_BYTES = 1 << 20
"""Size of one band's column matrix.

Built whole, the column matrix is written to main memory, read back by the matmul
(whose packing copies it once more), and a fresh allocation that size page-faults
on first touch: together that took twice PyTorch's time. A band that fits in the L2
cache (2 MiB per core here) is multiplied while it is still there. Much smaller
bands cost more numpy calls (one per tap per band) than they save.
"""

THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
"""Threads that share the bands of one operation (the cores this process may use)."""

SERIAL_GEMM_MACS = 65536 * 4
"""Largest matmul, in multiply-adds (M * N * K), that OpenBLAS runs in the calling thread.

OpenBLAS's sgemm (``interface/gemm.c``) is single-threaded up to ``65536 *
GEMM_MULTITHREAD_THRESHOLD`` (4 by default) multiply-adds and wakes its own threads
above. Our threads already share the bands, and a threaded sgemm called from them
was 3 to 13 times slower on a busy 2-core machine (each call waits for a worker
that another process holds), so each band's product is cut into column runs under
this size. Another BLAS only sees smaller calls.
"""


def _serial_parts(cells: int, m: int, k: int) -> list[slice]:
    """Column runs of an ``(m x k) @ (k x cells)`` product, each under SERIAL_GEMM_MACS.

    At least 32 columns each: past ``m * k = SERIAL_GEMM_MACS / 32`` (hundreds of
    channels) a product is compute-bound, and there BLAS's own threads pay.
    """
    n = max(32, SERIAL_GEMM_MACS // max(m * k, 1))
    return [slice(a, min(a + n, cells)) for a in range(0, cells, n)]


ROW_PART_BYTES = 32768
"""Most bytes of column matrix one matmul of :func:`_correlate_rows` reads (the L1 cache).

At one thread, the 7x7 stride-2 forward (147 rows of columns) took 4.0 to 4.3 ms
with parts of 111 columns (65 KB, the :data:`SERIAL_GEMM_MACS` limit) or whole rows
of 253, and 3.7 to 3.9 ms with 32 or 48 columns (19 or 28 KB); 64 (38 KB) was as
slow as 111. A 3x3 kernel's rows (27 of columns) fit whole; at two threads the
serial limit already cuts finer and this changed nothing.
"""


def _row_parts(cells: int, m: int, k: int, itemsize: int) -> list[slice]:
    """:func:`_serial_parts`, cut further into runs of 16 columns or a multiple whose
    ``k x n`` block of columns fits in :data:`ROW_PART_BYTES`."""
    fits = max(16, ROW_PART_BYTES // max(k * itemsize, 1) // 16 * 16)
    n = min(fits, max(32, SERIAL_GEMM_MACS // max(m * k, 1)))
    return [slice(a, min(a + n, cells)) for a in range(0, cells, n)]


PHASES_MIN_CELLS = 1 << 14
"""Smallest padded input (cells, all channels) that is split into stride phases."""

ROWS_MIN_CELLS = 1 << 10
"""Smallest output (cells per channel) that takes the rows-of-windows path (:class:`_Rows`).

That path makes one BLAS call per output row (and column part) against one per band
for im2col. Measured at one thread, it was faster from about 28x28 outputs up (5x5
kernel: 0.045 against 0.056 ms forward; 3x128x128, 3x3: 0.17 against 0.28 ms), and
slower below (3x3 kernel, 30x30 output: 0.038 against 0.033 ms).
"""

ROWS_MIN_WIDTH = 16
"""Narrowest output row that takes the rows-of-windows path: a narrower row's matmul
is mostly call overhead."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_T = TypeVar("_T")


def row_bands(rows: int, row_bytes: int) -> list[tuple[int, int]]:
    """``(first, stop)`` output rows of each band, ``row_bytes`` being one row's columns."""
    per_band = max(1, BAND_BYTES // max(row_bytes, 1))
    return [(first, min(first + per_band, rows)) for first in range(0, rows, per_band)]


def even_bands(rows: int, row_bytes: int) -> list[tuple[int, int]]:
    """Like :func:`row_bands`, but a multiple of :data:`THREADS` bands of equal height
    (within one row), so that every thread's run has the same number of rows.

    With 11 bands of 24 rows on 2 threads one thread did 6 and the other waited for
    it: 7x7 stride 2 forward took 2.73 ms, against 2.58 ms with 12 bands of 21 rows.
    """
    per_band = max(1, BAND_BYTES // max(row_bytes, 1))
    threads = max(1, THREADS or 1)
    count = min(rows, math.ceil(math.ceil(rows / per_band) / threads) * threads)
    return [(rows * b // count, rows * (b + 1) // count) for b in range(count)]


def _shared_pool() -> ThreadPoolExecutor:
    """The band threads, created on first need: no idle threads in processes that never
    convolve. Under the lock, because requests run in several threads at once and two
    first calls would otherwise each start a pool (one left running, unused)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(1, (THREADS or 1) - 1), thread_name_prefix="im2col")
        return _pool


def _run_bands(
    bands: list[tuple[int, int]], work: Callable[[Sequence[tuple[int, int]]], _T]
) -> list[_T]:
    """``work`` on consecutive runs of ``bands``, one run per thread; the results in order.

    The calling thread takes the first run, so a one-band call (every lecture-size
    tensor) never touches the pool. ``work`` must not share writable memory
    between runs: each gets its own buffer, and results that overlap (a gradient's
    rows) are combined by the caller.
    """
    threads = max(1, min(THREADS or 1, len(bands)))
    if threads == 1:
        return [work(bands)]
    pool = _shared_pool()
    runs = [
        bands[t * len(bands) // threads : (t + 1) * len(bands) // threads] for t in range(threads)
    ]
    others = [pool.submit(work, run) for run in runs[1:]]
    first = work(runs[0])
    return [first, *(future.result() for future in others)]


class _Taps:
    """Where each kernel tap reads the padded input, for the windows of a band of rows.

    Output cell ``(y, x)``'s tap ``(i, j)`` reads padded cell ``(y*sH + i*dH,
    x*sW + j*dW)``. Writing ``i*dH = q*sH + a`` (``0 <= a < sH``), that row is
    ``(y + q)*sH + a``: row ``y + q`` of the phase ``xp[:, a::sH]``. So in the
    phases ``xp[:, a::sH, b::sW]``, made contiguous once, every tap reads a
    contiguous block of rows and columns, which numpy copies two to three times
    faster than the strided slice of ``xp``. Without a stride there is one phase, ``xp``.
    """

    def __init__(
        self,
        xp: np.ndarray,
        kernel_size: tuple[int, int],
        stride: tuple[int, int],
        dilation: tuple[int, int],
        out_width: int,
    ) -> None:
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.out_width = out_width
        (sh, sw), (kh, kw) = stride, kernel_size
        # Splitting costs one copy of xp; it pays when taps overlap (each cell read
        # by several windows), not for a kernel that tiles the input exactly once,
        # nor for a lecture-size input, where each copy's call costs more than its data.
        self.xp = xp
        self.phases: list[list[np.ndarray]] | None = None
        if (sh, sw) != (1, 1) and kh * kw > sh * sw and xp.size >= PHASES_MIN_CELLS:
            self.phases = [
                [np.ascontiguousarray(xp[:, a::sh, b::sw]) for b in range(sw)] for a in range(sh)
            ]

    def read(self, i: int, j: int, rows: tuple[int, int]) -> np.ndarray:
        """The cells tap ``(i, j)`` reads for output rows ``rows``: a view (C, R, W_out)."""
        (sh, sw), (dh, dw), width = self.stride, self.dilation, self.out_width
        first, stop = rows
        if self.phases is None:
            top, left = first * sh + i * dh, j * dw
            return self.xp[
                :,
                top : top + (stop - first - 1) * sh + 1 : sh,
                left : left + (width - 1) * sw + 1 : sw,
            ]
        q, a = divmod(i * dh, sh)
        r, b = divmod(j * dw, sw)
        return self.phases[a][b][:, first + q : stop + q, r : r + width]


def _sum_slabs(
    slabs: list[tuple[int, np.ndarray]],
    channels: int,
    padded_size: tuple[int, int],
    dtype: np.dtype,
) -> np.ndarray:
    """The gradient of the padded input, (C, Hp, Wp), from the runs' overlapping slabs.

    Each slab starts at row ``top`` and reaches the bottom when it is the last run's,
    so a single run's slab is already the whole gradient.
    """
    if len(slabs) == 1:
        return slabs[0][1]
    grad = np.zeros((channels, *padded_size), dtype=dtype)
    for top, slab in slabs:
        grad[:, top : top + slab.shape[1]] += slab
    return grad


def _tap_slices(
    tap: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    rows: tuple[int, int],
    out_width: int,
) -> tuple[slice, slice]:
    """Rows and columns of the padded input that kernel tap ``(i, j)`` reads for the
    windows of output rows ``rows[0] .. rows[1] - 1`` (all columns)."""
    i, j = tap
    top, left = rows[0] * stride[0] + i * dilation[0], j * dilation[1]
    return (
        slice(top, top + (rows[1] - rows[0] - 1) * stride[0] + 1, stride[0]),
        slice(left, left + (out_width - 1) * stride[1] + 1, stride[1]),
    )


class _Rows:
    """The padded input unfolded along its width only: each output row's column matrix is a view.

    For the input rows ``top .. top + R_in - 1`` of a band, ``y`` (G, R_in, C/G, kW,
    W_out) holds ``y[g, r, c, j, x] = xp[g*C/G + c, top + r, x*sW + j*dW]``. Output row
    ``t`` of the band (``top = first*sH``) reads, with tap ``(i, c, j)``, row
    ``t*sH + i`` of ``y``, so with its rows ordered ``(i, c, j)`` (not the weight's
    ``(c, i, j)``) its column matrix is::

        y[g].flat[(t*sH + i) * S + (c*kW + j) * W_out + x] = y[g].flat[t*sH*S + k*W_out + x]

    with ``S = C/G * kW * W_out`` and ``k = (i*C/G + c)*kW + j``: a matrix of strides
    ``(W_out, 1)``, one every ``sH * S`` (consecutive rows' matrices overlap, as the
    windows do). That uniform row stride needs ``dH == 1``; larger vertical dilations
    keep to :func:`im2col`. The copy is ``kW / sW`` times the input, against
    ``kH * kW / (sH * sW)`` for the column matrix.
    """

    def __init__(
        self,
        xp: np.ndarray,
        groups: int,
        kernel_size: tuple[int, int],
        stride: tuple[int, int],
        dilation: tuple[int, int],
        out_width: int,
    ) -> None:
        self.xp, self.groups = xp, groups
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.out_width = out_width

    def input_rows(self, out_rows: int) -> int:
        """Input rows ``R_in`` that ``out_rows`` consecutive output rows read."""
        return (out_rows - 1) * self.stride[0] + self.kernel_size[0]

    def buffer(self, bands: Sequence[tuple[int, int]]) -> np.ndarray:
        """A flat buffer for the largest band's unfolding."""
        rows = max(stop - first for first, stop in bands)
        width = self.xp.shape[0] * self.kernel_size[1] * self.out_width
        return np.empty(self.input_rows(rows) * width, dtype=self.xp.dtype)

    def unfold(self, rows: tuple[int, int], buffer: np.ndarray) -> np.ndarray:
        """``y`` (G, R_in, C/G, kW, W_out) for output rows ``rows``, filled into ``buffer``."""
        kw, (sh, sw), dw = self.kernel_size[1], self.stride, self.dilation[1]
        width = self.out_width
        channels, groups = self.xp.shape[0], self.groups
        top, count = rows[0] * sh, self.input_rows(rows[1] - rows[0])
        shape = (groups, count, channels // groups, kw, width)
        y = buffer[: math.prod(shape)].reshape(shape)
        # The same numbers as a view of xp, copied in one call: 10% faster than one
        # copy per kernel column (a 7-column kernel), as numpy then runs one loop nest.
        rows_of_xp = self.xp[:, top : top + count]
        by_channel, by_row, by_column = rows_of_xp.strides
        source = np.lib.stride_tricks.as_strided(
            rows_of_xp,
            shape=shape,
            strides=(
                by_channel * (channels // groups),
                by_row,
                by_channel,
                by_column * dw,
                by_column * sw,
            ),
            writeable=False,
        )
        np.copyto(y, source)
        return y

    def windows(self, y_group: np.ndarray, out_rows: int) -> np.ndarray:
        """The column matrices of ``out_rows`` output rows: a read-only view (R, K, W_out).

        ``y_group`` is one group's contiguous ``y[g]`` (R_in, C/G, kW, W_out); ``K`` is
        ``kH * C/G * kW``, ordered ``(i, c, j)``.
        """
        rows_in, per_group, kw, width = y_group.shape
        item = y_group.itemsize
        return np.lib.stride_tricks.as_strided(
            y_group,
            shape=(out_rows, self.kernel_size[0] * per_group * kw, width),
            strides=(self.stride[0] * per_group * kw * width * item, width * item, item),
            writeable=False,
        )


def _rows_path(dilation: tuple[int, int], out_size: tuple[int, int]) -> bool:
    """Whether a correlation takes :class:`_Rows`: unit vertical dilation and an output
    of at least :data:`ROWS_MIN_CELLS` cells in rows of at least :data:`ROWS_MIN_WIDTH`."""
    height, width = out_size
    return dilation[0] == 1 and width >= ROWS_MIN_WIDTH and height * width >= ROWS_MIN_CELLS


def _weight_rows(weight: np.ndarray, groups: int) -> np.ndarray:
    """The weight (C_out, C/G, kH, kW) as ``(G, C_out/G, K)``, ``K`` ordered ``(i, c, j)``."""
    c_out, per_group, kh, kw = weight.shape
    by_group = weight.reshape(groups, c_out // groups, per_group, kh, kw)
    return by_group.transpose(0, 1, 3, 2, 4).reshape(groups, c_out // groups, -1)


def _buffer(
    rows_of_columns: int, bands: Sequence[tuple[int, int]], width: int, dtype: np.dtype
) -> np.ndarray:
    """A flat buffer for the largest band's ``rows_of_columns x (R * W_out)`` columns."""
    rows = max(stop - first for first, stop in bands)
    return np.empty(rows_of_columns * rows * width, dtype=dtype)


def im2col(
    taps: _Taps,
    channels: int,
    rows: tuple[int, int],
    buffer: np.ndarray,
) -> np.ndarray:
    """Unfold the windows of output rows ``rows`` into a tap-major column matrix.

    Parameters
    ----------
    taps : _Taps
        The padded input ``xp`` (C, Hp, Wp) with the geometry.
    channels : int
        ``C``.
    rows : (int, int)
        Output rows ``rows[0] .. rows[1] - 1`` (a band).
    buffer : flat ndarray
        Memory to fill, at least the result's size, ``xp``'s dtype.

    Returns
    -------
    cols : ndarray of shape (C * kH * kW, R * W_out)
        With ``R`` rows from ``r0 = rows[0]``:
        ``cols[(c*kH + i)*kW + j, r*W_out + ow] = xp[c, (r0 + r)*sH + i*dH, ow*sW + j*dW]``.
    """
    kh, kw = taps.kernel_size
    shape = (channels, kh, kw, rows[1] - rows[0], taps.out_width)
    cols = buffer[: math.prod(shape)].reshape(shape)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = taps.read(i, j, rows)
    return cols.reshape(channels * kh * kw, -1)


def col2im_add(
    cols: np.ndarray,
    xp: np.ndarray,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_width: int,
    rows: tuple[int, int],
    row_offset: int = 0,
) -> None:
    """Adjoint of :func:`im2col`: add every column entry onto the cell of ``xp`` it reads.

    ``cols`` has shape ``(C * kH * kW, R * W_out)``, the columns of output rows
    ``rows`` (``R`` of them); ``xp`` (C, Hp', Wp) is updated in place, its row 0
    being padded row ``row_offset``. Bands overlap in ``xp`` where windows do, so
    they must be added one after another.
    """
    kh, kw = kernel_size
    taps = cols.reshape(xp.shape[0], kh, kw, rows[1] - rows[0], out_width)
    for i in range(kh):
        for j in range(kw):
            r, c = _tap_slices((i, j), stride, dilation, rows, out_width)
            r = slice(r.start - row_offset, r.stop - row_offset, r.step)
            xp[:, r, c] += taps[:, i, j]


def correlate(
    xp: np.ndarray,
    weight: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Grouped cross-correlation of a padded input, plus a bias: ``W_g @ cols_g + b``.

    Parameters
    ----------
    xp : ndarray of shape (C_in, Hp, Wp)
    weight : ndarray of shape (C_out, C_in/groups, kH, kW)
    out_size : (int, int)
        Usually ``conv_output_size`` of each axis; a smaller size computes only the
        first rows and columns (the transposed convolution's backward needs that).
    bias : ndarray of shape (C_out,), optional
        Added band by band, while the band is in cache.

    Returns
    -------
    out : ndarray of shape (C_out, H_out, W_out)
    """
    if _rows_path(dilation, out_size):
        return _correlate_rows(xp, weight, groups, stride, dilation, out_size, bias)
    c_out, _, kh, kw = weight.shape
    channels, (height, width) = xp.shape[0], out_size
    w = weight.reshape(groups, c_out // groups, -1)
    out = np.empty((c_out, height * width), dtype=xp.dtype)
    out_by_group = out.reshape(groups, c_out // groups, -1)
    taps = _Taps(xp, (kh, kw), stride, dilation, width)
    bands = row_bands(height, channels * kh * kw * width * xp.itemsize)

    def work(run: Sequence[tuple[int, int]]) -> None:
        buffer = _buffer(channels * kh * kw, run, width, xp.dtype)
        for band in run:
            cols = im2col(taps, channels, band, buffer)
            cells = slice(band[0] * width, band[1] * width)
            cols_g, out_g = cols.reshape(groups, -1, cols.shape[1]), out_by_group[:, :, cells]
            # Straight into the output: a slice of its rows is a valid BLAS operand.
            for part in _serial_parts(cols.shape[1], w.shape[1], w.shape[2]):
                np.matmul(w, cols_g[:, :, part], out=out_g[:, :, part])
            if bias is not None:
                out[:, cells] += bias[:, None]

    _run_bands(bands, work)
    return out.reshape(c_out, height, width)


def correlate_grad_weight(
    d_out: np.ndarray,
    xp: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    weight_shape: tuple[int, ...],
) -> np.ndarray:
    """Gradient of :func:`correlate` with respect to its weight: ``dO_g @ cols_g.T``.

    Parameters
    ----------
    d_out : ndarray of shape (C_out, H_out, W_out)
    xp : ndarray of shape (C_in, Hp, Wp)
        The padded input the forward pass read.
    weight_shape : (C_out, C_in/groups, kH, kW)

    Returns
    -------
    ndarray of shape ``weight_shape``

    Notes
    -----
    Each band adds ``(cols_g @ dO_g.T).T``: the same numbers as ``dO_g @ cols_g.T``,
    but OpenBLAS's threaded sgemm is pathologically slow (up to 100x, measured on 2
    cores) for that short-wide shape, and never slower this way round.
    """
    if _rows_path(dilation, d_out.shape[1:]):
        return _grad_weight_rows(d_out, xp, groups, stride, dilation, weight_shape)
    c_out, height, width = d_out.shape
    channels, kh, kw = xp.shape[0], weight_shape[2], weight_shape[3]
    d = d_out.reshape(groups, c_out // groups, height * width)
    taps = _Taps(xp, (kh, kw), stride, dilation, width)
    bands = row_bands(height, channels * kh * kw * width * xp.itemsize)

    def work(run: Sequence[tuple[int, int]]) -> np.ndarray:
        buffer = _buffer(channels * kh * kw, run, width, xp.dtype)
        grad_t = np.zeros((groups, channels // groups * kh * kw, c_out // groups), d_out.dtype)
        for band in run:
            cols = im2col(taps, channels, band, buffer)
            d_band = d[:, :, band[0] * width : band[1] * width]
            cols_g = cols.reshape(groups, -1, cols.shape[1])
            for part in _serial_parts(cols.shape[1], cols_g.shape[1], d_band.shape[1]):
                grad_t += np.matmul(cols_g[:, :, part], d_band[:, :, part].transpose(0, 2, 1))
        return grad_t

    grad_t = sum(_run_bands(bands, work))  # each thread's share of the sum over cells
    return np.asarray(grad_t).transpose(0, 2, 1).reshape(weight_shape)


def correlate_grad_input(
    d_out: np.ndarray,
    weight: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padded_size: tuple[int, int],
) -> np.ndarray:
    """Gradient of :func:`correlate` with respect to its padded input: ``col2im(W_g.T @ dO_g)``.

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
    if _rows_path(dilation, d_out.shape[1:]):
        return _grad_input_rows(d_out, weight, groups, stride, dilation, padded_size)
    c_out, c_per_group, kh, kw = weight.shape
    channels, (height, width) = c_per_group * groups, d_out.shape[1:]
    w_t = weight.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)  # (G, K, C_out/G)
    d = d_out.reshape(groups, c_out // groups, height * width)
    bands = row_bands(height, channels * kh * kw * width * d_out.itemsize)
    reach = (kh - 1) * dilation[0] + 1  # padded rows one window spans

    def work(run: Sequence[tuple[int, int]]) -> tuple[int, np.ndarray]:
        # The padded rows this run's windows touch, in a slab of its own: runs
        # overlap by a window's reach, so threads never add into the same memory.
        # The last run's slab reaches the bottom, so a single run's slab is the result.
        top = run[0][0] * stride[0]
        last = run[-1][1] == height
        slab_rows = padded_size[0] - top if last else (run[-1][1] - 1) * stride[0] + reach - top
        slab = np.zeros((channels, slab_rows, padded_size[1]), dtype=d_out.dtype)
        buffer = _buffer(channels * kh * kw, run, width, d_out.dtype)
        for band in run:
            cells = (band[1] - band[0]) * width
            cols = buffer[: channels * kh * kw * cells].reshape(groups, -1, cells)
            d_band = d[:, :, band[0] * width : band[1] * width]
            for part in _serial_parts(cells, w_t.shape[1], w_t.shape[2]):
                np.matmul(w_t, d_band[:, :, part], out=cols[:, :, part])
            col2im_add(cols, slab, (kh, kw), stride, dilation, width, band, top)
        return top, slab

    return _sum_slabs(_run_bands(bands, work), channels, padded_size, d_out.dtype)


# Rows of windows (see :class:`_Rows`) --------------------------------------------------------


def _correlate_rows(
    xp: np.ndarray,
    weight: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
    bias: np.ndarray | None,
) -> np.ndarray:
    """:func:`correlate` by :class:`_Rows`: one matmul per output row (and column part).

    Each row is computed transposed, ``(W_out x K) @ (K x C_out/G)``, written straight
    into the output as a column-major block: that way round OpenBLAS ran the 7x7
    stride-2 case in 2.0 ms against 2.7 ms for ``(C_out/G x K) @ (K x W_out)``.
    """
    c_out, per_group, kh, kw = weight.shape
    channels, (height, width), m = xp.shape[0], out_size, c_out // groups
    w_t = np.ascontiguousarray(_weight_rows(weight, groups).transpose(0, 2, 1))  # (G, K, M)
    out = np.empty((c_out, height, width), dtype=xp.dtype)
    out_by_group = out.reshape(groups, m, height, width)
    rows = _Rows(xp, groups, (kh, kw), stride, dilation, width)
    bands = even_bands(height, stride[0] * channels * kw * width * xp.itemsize)
    parts = _row_parts(width, m, w_t.shape[1], xp.itemsize)

    def work(run: Sequence[tuple[int, int]]) -> None:
        buffer = rows.buffer(run)
        for first, stop in run:
            y = rows.unfold((first, stop), buffer)
            for g in range(groups):
                cols_t = rows.windows(y[g], stop - first).transpose(0, 2, 1)  # (R, W_out, K)
                out_t = out_by_group[g, :, first:stop].transpose(1, 2, 0)  # (R, W_out, M)
                for part in parts:
                    np.matmul(cols_t[:, part], w_t[g], out=out_t[:, part])
            if bias is not None:
                out[:, first:stop] += bias[:, None, None]

    _run_bands(bands, work)
    return out


def _grad_weight_rows(
    d_out: np.ndarray,
    xp: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    weight_shape: tuple[int, ...],
) -> np.ndarray:
    """:func:`correlate_grad_weight` by :class:`_Rows`: ``sum_t cols_t @ dO[:, t].T``.

    The sum over the cells of one output row is BLAS's; the sum over rows is numpy's,
    over the batch of per-row products ``(R, K, C_out/G)`` (small: a band's rows).
    """
    c_out, height, width = d_out.shape
    channels, (_, per_group, kh, kw), m = xp.shape[0], weight_shape, c_out // groups
    d = d_out.reshape(groups, m, height, width)
    rows = _Rows(xp, groups, (kh, kw), stride, dilation, width)
    bands = even_bands(height, stride[0] * channels * kw * width * xp.itemsize)
    k = kh * per_group * kw
    parts = _serial_parts(width, k, m)

    def work(run: Sequence[tuple[int, int]]) -> np.ndarray:
        buffer = rows.buffer(run)
        grad_t = np.zeros((groups, k, m), dtype=d_out.dtype)
        for first, stop in run:
            y = rows.unfold((first, stop), buffer)
            for g in range(groups):
                cols = rows.windows(y[g], stop - first)  # (R, K, W_out)
                d_t = d[g, :, first:stop].transpose(1, 2, 0)  # (R, W_out, M)
                for part in parts:
                    grad_t[g] += np.matmul(cols[:, :, part], d_t[:, part]).sum(axis=0)
        return grad_t

    grad_t = sum(_run_bands(bands, work))  # (G, K, M), K ordered (i, c, j)
    by_tap = np.asarray(grad_t).reshape(groups, kh, per_group, kw, m)
    return by_tap.transpose(0, 4, 2, 1, 3).reshape(weight_shape)


def _grad_input_rows(
    d_out: np.ndarray,
    weight: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padded_size: tuple[int, int],
) -> np.ndarray:
    """:func:`correlate_grad_input` by :class:`_Rows`: the adjoint of its unfolding.

    Per output row, ``W_g.T @ dO[:, t]`` gives the row's column matrix (K, W_out); its
    ``kH`` blocks (one per kernel row) are added onto rows ``t*sH + i`` of a width
    unfolding, ``kH`` adds of whole bands, each row contiguous; that unfolding is then
    folded onto the padded input with ``kW`` strided adds. :func:`col2im_add` makes
    ``kH * kW`` strided adds of the same data, and took twice as long (7x7 stride 2).
    """
    c_out, per_group, kh, kw = weight.shape
    channels, (height, width), m = per_group * groups, d_out.shape[1:], c_out // groups
    (sh, sw), dw = stride, dilation[1]
    k = kh * per_group * kw
    w_t = _weight_rows(weight, groups).transpose(0, 2, 1)  # (G, K, M)
    d = d_out.reshape(groups, m, height, width)
    bands = even_bands(height, k * groups * width * d_out.itemsize)
    parts = _serial_parts(width, k, m)

    def work(run: Sequence[tuple[int, int]]) -> tuple[int, np.ndarray]:
        # As in correlate_grad_input: each run adds into a slab of its own.
        top = run[0][0] * sh
        last = run[-1][1] == height
        slab_rows = padded_size[0] - top if last else (run[-1][1] - 1) * sh + kh - top
        slab = np.zeros((channels, slab_rows, padded_size[1]), dtype=d_out.dtype)
        slab_by_group = slab.reshape(groups, per_group, slab_rows, padded_size[1])
        most = max(stop - first for first, stop in run)
        products = np.empty(most * k * width, dtype=d_out.dtype)
        unfolded = np.empty(((most - 1) * sh + kh) * per_group * kw * width, dtype=d_out.dtype)
        for first, stop in run:
            count, rows_in, row0 = stop - first, (stop - first - 1) * sh + kh, first * sh - top
            cols = products[: count * k * width].reshape(count, k, width)
            u = unfolded[: rows_in * per_group * kw * width].reshape(rows_in, -1, width)
            for g in range(groups):
                d_g = d[g, :, first:stop].transpose(1, 0, 2)  # (R, M, W_out)
                for part in parts:
                    np.matmul(w_t[g], d_g[:, :, part], out=cols[:, :, part])
                _add_kernel_rows(u, cols.reshape(count, kh, -1, width), sh)
                u_taps = u.reshape(rows_in, per_group, kw, width)
                for j in range(kw):
                    left = j * dw
                    target = slab_by_group[
                        g, :, row0 : row0 + rows_in, left : left + (width - 1) * sw + 1 : sw
                    ]
                    target += u_taps[:, :, j].transpose(1, 0, 2)
        return top, slab

    return _sum_slabs(_run_bands(bands, work), channels, padded_size, d_out.dtype)


def _add_kernel_rows(u: np.ndarray, cols: np.ndarray, stride: int) -> None:
    """``u[t*stride + i] = sum of cols[t, i]`` over every output row ``t`` and kernel row ``i``.

    ``u`` (R_in, C/G * kW, W_out) is overwritten; ``cols`` is (R, kH, C/G * kW, W_out).
    The first ``stride`` kernel rows land on disjoint rows that cover ``u`` up to
    ``R * stride``, so they are assigned (no zeroing pass); the rest are added.
    """
    count, kh = cols.shape[:2]
    if kh < stride:  # rows between windows, which no tap reads
        u[...] = 0
        assigned = 0
    else:  # the rows past the first kernel rows' reach
        u[count * stride :] = 0
        assigned = stride
    for i in range(kh):
        target = u[i : i + (count - 1) * stride + 1 : stride]
        if i < assigned:
            target[...] = cols[:, i]
        else:
            target += cols[:, i]
