"""Max and average pooling over ``(C, H, W)`` or ``(H, W)``: forward, backward, step trace.

Names and semantics are PyTorch's (``torch.nn.functional.max_pool2d`` with
``return_indices=True`` and ``avg_pool2d``, CPU kernels): ``stride`` defaults to
``kernel_size``; ``padding`` is at most half the kernel; max pooling pads with
``-inf`` implicitly, so a padded cell never wins; ties go to the first maximum in
scan order; the average's divisor counts the window's cells inside the padded input
(``count_include_pad=True``) or inside the input (``False``), and a ``ceil_mode``
window that runs past the padded edge is cut there.

Each operation has three paths side by side: a vectorised fast path (numpy,
float32, one strided view per kernel tap), its backward, and a plain loop over
output cells that fills a :class:`~app.engine.trace.Trace` for the page to animate.
The tests check all of them against PyTorch and against each other.

Trace conventions (both poolings):

- ``grid`` is the input padded by ``padding`` on every side with zeros (for drawing;
  max pooling treats those cells as ``-inf``), extended with more zero rows at the
  bottom and columns at the right when a ``ceil_mode`` window overhangs the padded
  edge, so that every tap's ``cells`` entry indexes ``grid``. ``grid_origin`` is
  ``(padding_h, padding_w)``; the padded input is ``grid[:, :H + 2*pH, :W + 2*pW]``
  and anything beyond is overhang.
- ``mask`` is True for the taps that count: taps on the input for max pooling and
  for average pooling with ``count_include_pad=False``; taps on the padded input
  (padding included, overhang excluded) for average pooling with
  ``count_include_pad=True``. ``values`` is 0 where ``mask`` is False.
- max pooling: ``argmax`` is the winning tap, ``sums == result`` the maximum;
  average pooling: ``divisor`` (int) equals ``mask.sum(axis=1)``, ``sums == result``
  the average. ``weights``, ``products`` and ``bias`` are None.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from app.engine.arithmetic import IntOrPair, pair, pool_formula, pool_output_size
from app.engine.errors import ParameterError, ShapeError
from app.engine.tensors import as_array, as_chw, shape_text
from app.engine.trace import Trace

_AXES = ("H", "W")


class Pool2dGeometry(NamedTuple):
    """Validated pooling geometry for one input size (see :func:`pool2d_geometry`)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    ceil_mode: bool
    size: tuple[int, int]  # input (H, W)
    out: tuple[int, int]  # output (H_out, W_out)

    @property
    def grid(self) -> tuple[int, int]:
        """Rows and columns every window's taps fit in: the padded input, plus the
        overhang of ``ceil_mode`` windows past its bottom or right edge."""
        rows, cols = (
            max(
                self.size[a] + 2 * self.padding[a],
                (self.out[a] - 1) * self.stride[a] + (self.kernel[a] - 1) * self.dilation[a] + 1,
            )
            for a in (0, 1)
        )
        return rows, cols

    def taps(self, axis: int) -> np.ndarray:
        """Input coordinate of tap ``i`` of window ``o`` along ``axis``: shape (out, kernel)."""
        starts = np.arange(self.out[axis]) * self.stride[axis] - self.padding[axis]
        return starts[:, None] + np.arange(self.kernel[axis])[None, :] * self.dilation[axis]

    # The operations with this geometry, without checking the parameters again (the
    # API checks them once, into the geometry it also sends as the answer's).

    def max_pool(self, input: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """:func:`max_pool2d` with this geometry."""
        x, was_2d = self._input(input)
        output, indices = _max_pool_fast(x, self)
        return (output[0], indices[0]) if was_2d else (output, indices)

    def max_trace(self, input: ArrayLike) -> Trace:
        """:func:`max_pool2d_trace` with this geometry."""
        return _trace(self._input(input)[0], self, "max", count_include_pad=False)

    def avg_pool(self, input: ArrayLike, count_include_pad: bool = True) -> np.ndarray:
        """:func:`avg_pool2d` with this geometry (whose dilation must be 1)."""
        x, was_2d = self._input(input)
        output = _avg_pool(x, self, _check_flag(count_include_pad, "count_include_pad"))
        return output[0] if was_2d else output

    def avg_trace(self, input: ArrayLike, count_include_pad: bool = True) -> Trace:
        """:func:`avg_pool2d_trace` with this geometry."""
        include = _check_flag(count_include_pad, "count_include_pad")
        return _trace(self._input(input)[0], self, "avg", count_include_pad=include)

    def avg_backward(
        self, grad_output: ArrayLike, input_shape: tuple[int, ...], count_include_pad: bool = True
    ) -> np.ndarray:
        """:func:`avg_pool2d_backward` with this geometry."""
        include = _check_flag(count_include_pad, "count_include_pad")
        return _avg_backward(grad_output, input_shape, self, include)

    def _input(self, input: ArrayLike) -> tuple[np.ndarray, bool]:
        x, was_2d = _input(input)
        if x.shape[1:] != self.size:
            raise ShapeError(
                "input",
                f"is {x.shape[1]}x{x.shape[2]} but the geometry was made for"
                f" {self.size[0]}x{self.size[1]}; build the geometry from this input",
                code="wrong_shape",
                params={
                    "expected": f"{self.size[0]}x{self.size[1]}",
                    "actual": f"{x.shape[1]}x{x.shape[2]}",
                },
            )
        return x, was_2d


def _check_flag(value: object, field: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(field, f"must be true or false, got {value!r}", code="not_boolean")
    return bool(value)


def _resolve(
    size: tuple[int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    dilation: IntOrPair,
    ceil_mode: bool,
) -> Pool2dGeometry:
    """Check the parameters against each other and the input size, in PyTorch's order."""
    kernel = pair(kernel_size, "kernel_size")
    steps = kernel if stride is None else pair(stride, "stride")
    pad = pair(padding, "padding", minimum=0)
    dil = pair(dilation, "dilation")
    ceil = _check_flag(ceil_mode, "ceil_mode")
    for a in (0, 1):
        # PyTorch checks pad <= half the *effective* kernel, then pad <= kernel // 2;
        # the second is the stricter, so dilation does not raise the limit.
        if pad[a] > kernel[a] // 2:
            note = " (dilation does not raise this limit)" if dil[a] > 1 else ""
            raise ParameterError(
                "padding",
                f"pad should be at most half of the kernel size, but padding along {_AXES[a]} is"
                f" {pad[a]} for kernel_size {kernel[a]}; use padding <= {kernel[a] // 2}{note}"
                f" or a kernel_size of at least {2 * pad[a]}",
                code="pool_padding_over_half",
                params={"padding": pad[a], "kernel": kernel[a], "max": kernel[a] // 2},
            )
    out = tuple(
        pool_output_size(size[a], kernel[a], steps[a], pad[a], dil[a], ceil) for a in (0, 1)
    )
    if min(out) < 1:
        a = 0 if out[0] < 1 else 1
        span = (kernel[a] - 1) * dil[a] + 1
        raise ShapeError(
            "input",
            f"is {size[0]}x{size[1]}, too small for the pooling window: along {_AXES[a]} the"
            f" window spans {span} cells (kernel_size with dilation) but the padded input has"
            f" {size[a] + 2 * pad[a]}, so"
            f" {pool_formula(size[a], kernel[a], steps[a], pad[a], dil[a], ceil, _AXES[a])};"
            " use a larger input, more padding, or a smaller kernel_size or dilation",
            code="pool_input_too_small",
            params={"span": span, "padded": size[a] + 2 * pad[a]},
        )
    geometry = Pool2dGeometry(kernel, steps, pad, dil, ceil, size, out)  # type: ignore[arg-type]
    for a in (0, 1):
        taps = geometry.taps(a)
        on_input = (taps >= 0) & (taps < size[a])
        empty = np.flatnonzero(~on_input.any(axis=1))
        if empty.size:
            o = int(empty[0])
            raise ParameterError(
                "dilation",
                f"the window of output {'row' if a == 0 else 'column'} {o} has every tap in the"
                f" padding (input {'rows' if a == 0 else 'columns'} {taps[o].tolist()}, the input"
                f" has 0..{size[a] - 1}), where PyTorch returns -inf and an index outside the"
                " input; use a smaller dilation or padding, or a larger input",
                code="pool_window_in_padding",
            )
    return geometry


def pool2d_geometry(
    input_shape: tuple[int, ...],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> Pool2dGeometry:
    """Check a pooling's parameters against an input shape and return the sizes they fix.

    ``input_shape`` is ``(C, H, W)`` or ``(H, W)``; average pooling passes ``dilation=1``.
    No tensor is read: this is what an answer's ``geometry`` is made from.
    """
    (_, h, w), _ = _input_shape(input_shape)
    return _resolve((h, w), kernel_size, stride, padding, dilation, ceil_mode)


def _input(input: ArrayLike) -> tuple[np.ndarray, bool]:
    return as_chw(input, "input", np.float32)


def _input_shape(input_shape: tuple[int, ...]) -> tuple[tuple[int, int, int], bool]:
    """``(C, H, W)`` or ``(H, W)`` as ``(C, H, W)`` plus whether it was 2-D."""
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = (input_shape,)
    if len(shape) not in (2, 3) or not all(
        isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1 for s in shape
    ):
        raise ShapeError(
            "input",
            f"input_shape must be (C, H, W) or (H, W) with positive sizes, got {shape!r};"
            " pass the shape of the forward pass's input",
            code="wrong_shape",
            params={"expected": "(C, H, W) | (H, W)", "actual": str(shape)[:40]},
        )
    dims = tuple(int(s) for s in shape)
    if len(dims) == 2:
        return (1, dims[0], dims[1]), True
    return (dims[0], dims[1], dims[2]), False


def _grad_output(
    grad_output: ArrayLike, channels: int, out: tuple[int, int], was_2d: bool
) -> np.ndarray:
    """``grad_output`` as ``(C, H_out, W_out)``, or a ShapeError saying which shape it needs."""
    grad = as_array(grad_output, "grad_output", np.float32)
    expected = out if was_2d else (channels, *out)
    if grad.shape != expected:
        raise ShapeError(
            "grad_output",
            f"has shape {shape_text(grad.shape)} but the pooled output has shape"
            f" {shape_text(expected)}; give one gradient per output cell",
            code="wrong_shape",
            params={"expected": shape_text(expected), "actual": shape_text(grad.shape)},
        )
    return grad.reshape(channels, *out)


def _first_on_input(geometry: Pool2dGeometry) -> np.ndarray:
    """Tap number (kernel order) of each window's first tap on the input: (H_out, W_out).

    PyTorch starts each window's maximum at this tap, so it wins when every cell is -inf.
    """
    first = []
    for a in (0, 1):
        taps = geometry.taps(a)
        first.append(np.argmax((taps >= 0) & (taps < geometry.size[a]), axis=1))
    return first[0][:, None] * geometry.kernel[1] + first[1][None, :]


def _tap_view(grid: np.ndarray, geometry: Pool2dGeometry, i: int, j: int) -> np.ndarray:
    """The cells tap ``(i, j)`` of every window reads: a strided view (C, H_out, W_out)."""
    (sh, sw), (dh, dw), (oh, ow) = geometry.stride, geometry.dilation, geometry.out
    return grid[
        :, i * dh : i * dh + (oh - 1) * sh + 1 : sh, j * dw : j * dw + (ow - 1) * sw + 1 : sw
    ]


def _padded(x: np.ndarray, geometry: Pool2dGeometry, fill: float) -> np.ndarray:
    """``x`` (C, H, W) inside a grid of ``fill`` big enough for every tap (``geometry.grid``)."""
    (h, w), (ph, pw) = geometry.size, geometry.padding
    if geometry.grid == (h, w):  # no padding and no ceil_mode overhang
        return x
    grid = np.full((x.shape[0], *geometry.grid), fill, dtype=x.dtype)
    grid[:, ph : ph + h, pw : pw + w] = x
    return grid


# --------------------------------------------------------------------------- max pooling


def max_pool2d(
    input: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """2-D max pooling with the argmax of every window, as ``F.max_pool2d(return_indices=True)``.

    Parameters
    ----------
    input : array_like of shape (C, H, W) or (H, W)
    kernel_size : int or (int, int)
        Window size ``(kH, kW)``, at least 1.
    stride : int or (int, int), optional
        Step of the window, at least 1; defaults to ``kernel_size``.
    padding : int or (int, int)
        Implicit ``-inf`` cells on each side, at most ``kernel_size // 2``.
    dilation : int or (int, int)
        Spacing between taps, at least 1.
    ceil_mode : bool
        Round the output size up, keeping a last window that starts inside the
        input or the left padding.

    Returns
    -------
    output : ndarray of shape (C, H_out, W_out) or (H_out, W_out), float32
        Same rank as ``input``.
    indices : ndarray of shape like ``output``, int64
        Flat index ``h * W + w`` of each maximum in the unpadded input of its channel.
        Ties go to the first maximum in scan order; a NaN wins, as on PyTorch's CPU.

    Raises
    ------
    ShapeError
        ``input`` is not 2-D or 3-D, or too small for the window.
    ParameterError
        A parameter is out of its domain, or a window lies wholly in the padding.

    Notes
    -----
    ``H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1`` (``ceil`` with
    ``ceil_mode``, dropping a last window that would start in the right padding);
    ``W_out`` likewise.
    """
    x, was_2d = _input(input)
    geometry = _resolve(x.shape[1:], kernel_size, stride, padding, dilation, ceil_mode)
    output, indices = _max_pool_fast(x, geometry)
    if was_2d:
        return output[0], indices[0]
    return output, indices


def _max_pool_fast(x: np.ndarray, geometry: Pool2dGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The maximum over one strided view per tap, then the first tap that attains it.

    Both passes are branch-free ufuncs (a masked copy per tap is several times slower
    on random data). They rely on every window's maximum being a finite or +inf value
    on the input; inputs holding NaN or -inf take :func:`_max_pool_scan` instead.
    """
    smallest = x.min()
    if not smallest > -np.inf:  # NaN or -inf somewhere
        return _max_pool_scan(x, geometry)
    (kh, kw), taps = geometry.kernel, geometry.kernel[0] * geometry.kernel[1]
    grid = _padded(x, geometry, -np.inf)
    views = [_tap_view(grid, geometry, i, j) for i in range(kh) for j in range(kw)]
    best = views[0].copy()
    for view in views[1:]:
        np.maximum(best, view, out=best)
    # score = taps - t for the first tap t equal to the maximum: the largest score wins.
    dtype = np.min_scalar_type(taps)
    score = np.zeros(best.shape, dtype=dtype)
    hit = np.empty(best.shape, dtype=bool)
    candidate = np.empty(best.shape, dtype=dtype)
    for t, view in enumerate(views):
        np.equal(view, best, out=hit)
        np.multiply(hit, dtype.type(taps - t), out=candidate)
        np.maximum(score, candidate, out=score)
    return best, _flat_indices(geometry, taps - score.astype(np.int64))


def _max_pool_scan(x: np.ndarray, geometry: Pool2dGeometry) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's CPU rule literally: each window's race starts at its first tap on the
    input; a later tap replaces the maximum if strictly greater or NaN (so the first
    maximum wins a tie and the last NaN wins over everything)."""
    (kh, kw) = geometry.kernel
    grid = _padded(x, geometry, -np.inf)
    best = np.full((x.shape[0], *geometry.out), -np.inf, dtype=x.dtype)
    winner = np.broadcast_to(_first_on_input(geometry), best.shape).copy()
    better = np.empty(best.shape, dtype=bool)
    for i in range(kh):
        for j in range(kw):
            view = _tap_view(grid, geometry, i, j)
            np.greater(view, best, out=better)
            better |= np.isnan(view)
            np.copyto(best, view, where=better)
            np.copyto(winner, i * kw + j, where=better)
    return best, _flat_indices(geometry, winner)


def _flat_indices(geometry: Pool2dGeometry, winner: np.ndarray) -> np.ndarray:
    """Flat input index ``h * W + w`` of each window's winning tap: (C, H_out, W_out) int64."""
    (kh, kw), (dh, dw), width = geometry.kernel, geometry.dilation, geometry.size[1]
    offset = (np.arange(kh)[:, None] * dh * width + np.arange(kw)[None, :] * dw).ravel()
    origin = geometry.taps(0)[:, 0][:, None] * width + geometry.taps(1)[:, 0][None, :]
    return (origin + np.take(offset, winner)).astype(np.int64, copy=False)


def max_pool2d_backward(
    grad_output: ArrayLike, indices: ArrayLike, input_shape: tuple[int, ...]
) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to its input.

    Each output cell's gradient goes to the input cell that won its window; a cell
    that wins several (overlapping) windows receives their sum.

    Parameters
    ----------
    grad_output : array_like of shape (C, H_out, W_out) or (H_out, W_out)
        dE/d(output).
    indices : array_like of int, same shape as ``grad_output``
        The ``indices`` :func:`max_pool2d` returned.
    input_shape : tuple of int
        ``(C, H, W)`` or ``(H, W)``: the forward input's shape.

    Returns
    -------
    grad_input : ndarray of shape ``input_shape``, float32
        dE/d(input): zero except at the argmax cells.

    Notes
    -----
    ``grad_input[c].flat[indices[c, i, j]] += grad_output[c, i, j]`` for every output cell,
    in scan order and in float32: PyTorch's CPU loop, so the sums are bitwise its own.
    """
    (c, h, w), was_2d = _input_shape(input_shape)
    index = as_array(indices, "indices", None)
    if not np.issubdtype(index.dtype, np.integer):
        raise ParameterError(
            "indices",
            "must hold integers; pass the indices max_pool2d returned",
            code="not_integer",
        )
    rank = 2 if was_2d else 3
    if index.ndim != rank or (not was_2d and index.shape[0] != c):
        expected = "(H_out, W_out)" if was_2d else f"({c}, H_out, W_out)"
        raise ShapeError(
            "indices",
            f"has shape {shape_text(index.shape)} but an input of shape"
            f" {shape_text(tuple(input_shape))} pools to {expected}; pass the indices"
            " max_pool2d returned for this input",
            code="wrong_shape",
            params={"expected": expected, "actual": shape_text(index.shape)},
        )
    # One cheap pass rules out what np.add.at would not catch: negative indices, which
    # it would count from the end, and unsigned ones too large to be intp. Indices past
    # the end raise IndexError in the scatter. A full check (two comparisons and a
    # reduction over the indices) took 0.2 to 0.8 ms on 16x256x256, about half of
    # PyTorch's whole backward; one min, 0.04 to 0.3 ms.
    if index.size and (index.max() >= h * w if index.dtype.kind == "u" else index.min() < 0):
        _check_indices(index, h * w)
    try:
        grad = _grad_output(grad_output, c, index.shape[-2:], was_2d)
    except ShapeError:
        _check_indices(index, h * w)  # a bad index is reported first, whatever the gradient
        raise
    grad_input = np.zeros((c, h * w), dtype=np.float32)
    try:
        _scatter_add(grad_input, index.reshape(c, -1).astype(np.intp, copy=False), grad)
    except IndexError:
        _check_indices(index, h * w)
        raise
    grad_input = grad_input.reshape(c, h, w)
    return grad_input[0] if was_2d else grad_input


SCATTER_MIN_CELLS = 1 << 12
"""Smallest output (cells per channel) whose gradient is scattered one channel at a time.

Per channel, the indices are already offsets into that channel's input; across all
channels they first need each channel's offset added, one more pass over them (0.6 ms
of the 3x3 stride-1 case's 2 ms), but one call instead of one per channel (about 5 us
each), which pays for many small channels (a batch of feature maps).
"""


def _scatter_add(grad_input: np.ndarray, index: np.ndarray, grad: np.ndarray) -> None:
    """``grad_input[c, index[c, n]] += grad[c].flat[n]`` in scan order, in place.

    ``grad_input`` (C, H*W) float32 zeros, ``index`` (C, N) intp, ``grad`` (C, H_out,
    W_out) float32. ``np.add.at`` adds one element after another, unlike a fancy
    ``+=`` (which keeps one of the duplicates); it replaced ``np.bincount``, whose
    float64 weights and result cost two conversions and twice the memory (the whole
    backward of 16x256x256 went from 4.8 to 2.4 ms for 3x3 stride 1, from 2.1 to
    0.8 ms for 2x2). Raises IndexError for an index at or past ``H*W``.
    """
    channels, cells = grad_input.shape
    values = grad.reshape(channels, -1)
    if channels == 1 or index.shape[1] >= SCATTER_MIN_CELLS:
        for c in range(channels):
            np.add.at(grad_input[c], index[c], values[c])
        return
    if index.max(initial=0) >= cells:  # would land in the next channel
        raise IndexError("index past the channel's input")
    flat = index + np.arange(0, channels * cells, cells, dtype=np.intp)[:, None]
    np.add.at(grad_input.reshape(-1), flat.reshape(-1), values.reshape(-1))


def _check_indices(index: np.ndarray, size: int) -> None:
    """Raise the ParameterError for the first index outside ``0 .. size - 1``, if any."""
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise ParameterError(
            "indices",
            f"holds {int(index[bad].flat[0])}, outside the input's flat range 0..{size - 1};"
            " pass the indices max_pool2d returned for this input",
            code="index_out_of_range",
            params={"max": size - 1},
        )


def max_pool2d_trace(
    input: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> Trace:
    """The explained path of :func:`max_pool2d`: one step per output cell.

    Parameters are those of :func:`max_pool2d`.

    Returns
    -------
    trace : Trace
        ``grid`` (C, Hg, Wg) is the zero-padded input (padding counts as -inf: its
        taps have ``mask`` False); ``argmax`` (N,) is each window's winning tap, the
        first maximum among the taps on the input; ``sums`` and ``result`` (N,) the
        maximum. See the module docstring for the grid and mask conventions.
    """
    x, _ = _input(input)
    geometry = _resolve(x.shape[1:], kernel_size, stride, padding, dilation, ceil_mode)
    return _trace(x, geometry, "max", count_include_pad=False)


# ----------------------------------------------------------------------- average pooling


def _divisor(geometry: Pool2dGeometry, count_include_pad: bool) -> np.ndarray:
    """PyTorch's CPU divisor of every window, shape (H_out, W_out).

    The window's end is clipped to the padded input (``H + pH``) to get its pool
    size; with ``count_include_pad=False`` it is then clipped to the input.
    """
    counts = []
    for a in (0, 1):
        start = np.arange(geometry.out[a]) * geometry.stride[a] - geometry.padding[a]
        end = np.minimum(start + geometry.kernel[a], geometry.size[a] + geometry.padding[a])
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, geometry.size[a]) - np.maximum(start, 0))
    return counts[0][:, None] * counts[1][None, :]


def avg_pool2d(
    input: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """2-D average pooling, as ``F.avg_pool2d``.

    Parameters
    ----------
    input : array_like of shape (C, H, W) or (H, W)
    kernel_size : int or (int, int)
        Window size ``(kH, kW)``, at least 1.
    stride : int or (int, int), optional
        Step of the window, at least 1; defaults to ``kernel_size``.
    padding : int or (int, int)
        Zero cells on each side, at most ``kernel_size // 2``.
    ceil_mode : bool
        Round the output size up, keeping a last window that starts inside the
        input or the left padding.
    count_include_pad : bool
        Whether padded zeros count in the divisor.

    Returns
    -------
    output : ndarray of shape (C, H_out, W_out) or (H_out, W_out), float32
        Same rank as ``input``.

    Raises
    ------
    ShapeError
        ``input`` is not 2-D or 3-D, or too small for the window.
    ParameterError
        A parameter is out of its domain.

    Notes
    -----
    ``H_out = floor((H + 2*pH - (kH - 1) - 1) / sH) + 1`` (``ceil`` with
    ``ceil_mode``, dropping a last window that would start in the right padding);
    ``W_out`` likewise. The window starting at input row ``r0 = i*sH - pH`` has
    ``min(r0 + kH, H + pH) - r0`` rows for the divisor, or, with
    ``count_include_pad=False``, ``min(r0 + kH, H) - max(r0, 0)``; columns likewise,
    and the divisor is rows * columns.
    """
    x, was_2d = _input(input)
    geometry = _resolve(x.shape[1:], kernel_size, stride, padding, 1, ceil_mode)
    output = _avg_pool(x, geometry, _check_flag(count_include_pad, "count_include_pad"))
    return output[0] if was_2d else output


def _avg_pool(x: np.ndarray, geometry: Pool2dGeometry, include: bool) -> np.ndarray:
    grid = _padded(x, geometry, 0.0)
    total = np.zeros((x.shape[0], *geometry.out), dtype=np.float32)
    for i in range(geometry.kernel[0]):
        for j in range(geometry.kernel[1]):
            total += _tap_view(grid, geometry, i, j)  # tap order = PyTorch's summation order
    return total / _divisor(geometry, include).astype(np.float32)


def avg_pool2d_backward(
    grad_output: ArrayLike,
    input_shape: tuple[int, ...],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Gradient of :func:`avg_pool2d` with respect to its input.

    Each output cell's gradient is split evenly: every input cell of its window
    receives ``grad_output / divisor`` (padded cells' shares are dropped).

    Parameters
    ----------
    grad_output : array_like of shape (C, H_out, W_out) or (H_out, W_out)
        dE/d(output).
    input_shape : tuple of int
        ``(C, H, W)`` or ``(H, W)``: the forward input's shape.
    kernel_size, stride, padding, ceil_mode, count_include_pad
        As in the forward pass.

    Returns
    -------
    grad_input : ndarray of shape ``input_shape``, float32

    Notes
    -----
    ``grad_input[c, r, q] = sum over windows (i, j) covering (r, q) of
    grad_output[c, i, j] / divisor[i, j]``, the divisor as in :func:`avg_pool2d`.
    """
    (_, h, w), _ = _input_shape(input_shape)
    geometry = _resolve((h, w), kernel_size, stride, padding, 1, ceil_mode)
    include = _check_flag(count_include_pad, "count_include_pad")
    return _avg_backward(grad_output, input_shape, geometry, include)


def _avg_backward(
    grad_output: ArrayLike,
    input_shape: tuple[int, ...],
    geometry: Pool2dGeometry,
    include: bool,
) -> np.ndarray:
    (c, h, w), was_2d = _input_shape(input_shape)
    grad = _grad_output(grad_output, c, geometry.out, was_2d)
    share = grad / _divisor(geometry, include).astype(np.float32)
    grid = np.zeros((c, *geometry.grid), dtype=np.float32)
    for i in range(geometry.kernel[0]):
        for j in range(geometry.kernel[1]):
            _tap_view(grid, geometry, i, j)[...] += share
    (ph, pw) = geometry.padding
    grad_input = np.ascontiguousarray(grid[:, ph : ph + h, pw : pw + w])
    return grad_input[0] if was_2d else grad_input


def avg_pool2d_trace(
    input: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Trace:
    """The explained path of :func:`avg_pool2d`: one step per output cell.

    Parameters are those of :func:`avg_pool2d`.

    Returns
    -------
    trace : Trace
        ``grid`` (C, Hg, Wg) is the zero-padded input; ``mask`` (N, T) marks the taps
        that count (see the module docstring); ``divisor`` (N,) is their number and
        ``sums`` and ``result`` (N,) the sum of their values over the divisor.
    """
    x, _ = _input(input)
    geometry = _resolve(x.shape[1:], kernel_size, stride, padding, 1, ceil_mode)
    include = _check_flag(count_include_pad, "count_include_pad")
    return _trace(x, geometry, "avg", count_include_pad=include)


# ------------------------------------------------------------------------- explained path


def _trace(x: np.ndarray, geometry: Pool2dGeometry, kind: str, count_include_pad: bool) -> Trace:
    """A plain loop over output cells and their taps, as a student would pool by hand.

    Deliberately shares nothing with the fast paths but the validated geometry, so
    the tests comparing the two compare two computations.
    """
    channels, h, w = x.shape
    (kh, kw), (sh, sw) = geometry.kernel, geometry.stride
    (ph, pw), (dh, dw) = geometry.padding, geometry.dilation
    (oh, ow), (gh, gw) = geometry.out, geometry.grid
    grid = np.zeros((channels, gh, gw), dtype=np.float64)
    grid[:, ph : ph + h, pw : pw + w] = x

    out_index, window, cells, mask, values, result, argmax, divisor = ([] for _ in range(8))
    for c in range(channels):
        for r in range(oh):
            for q in range(ow):
                top, left = r * sh, q * sw
                step_cells, step_mask, step_values = [], [], []
                for i in range(kh):
                    for j in range(kw):
                        row, col = top + i * dh, left + j * dw
                        on_input = ph <= row < ph + h and pw <= col < pw + w
                        on_padded = row < h + 2 * ph and col < w + 2 * pw
                        counts = on_padded if kind == "avg" and count_include_pad else on_input
                        step_cells.append((c, row, col))
                        step_mask.append(counts)
                        step_values.append(float(grid[c, row, col]) if counts else 0.0)
                if kind == "max":
                    best, winner = -np.inf, -1
                    for t, (counts, v) in enumerate(zip(step_mask, step_values, strict=True)):
                        # The first tap on the input starts the race; later ones must be
                        # strictly greater (ties keep the first), and a NaN always wins.
                        if counts and (winner < 0 or v > best or np.isnan(v)):
                            best, winner = v, t
                    result.append(best)
                    argmax.append(winner)
                else:
                    count = sum(step_mask)
                    total = 0.0
                    for counts, v in zip(step_mask, step_values, strict=True):
                        if counts:
                            total += v
                    result.append(total / count)
                    divisor.append(count)
                out_index.append((c, r, q))
                window.append((top, left))
                cells.append(step_cells)
                mask.append(step_mask)
                values.append(step_values)

    sums = np.array(result, dtype=np.float64)
    return Trace(
        grid=grid,
        grid_origin=(ph, pw),
        out_index=np.array(out_index, dtype=np.int64).reshape(-1, 3),
        window=np.array(window, dtype=np.int64).reshape(-1, 2),
        cells=np.array(cells, dtype=np.int64).reshape(-1, kh * kw, 3),
        mask=np.array(mask, dtype=bool).reshape(-1, kh * kw),
        values=np.array(values, dtype=np.float64).reshape(-1, kh * kw),
        sums=sums,
        result=sums.copy(),
        argmax=np.array(argmax, dtype=np.int64) if kind == "max" else None,
        divisor=np.array(divisor, dtype=np.int64) if kind == "avg" else None,
    )
