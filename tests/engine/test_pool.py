"""Pooling: the engine against PyTorch (forward, indices, autograd), the trace against
the fast path, the lecture's slide 5, and every error the engine raises."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from app.engine import pool
from app.engine.errors import EngineError, ParameterError, ShapeError

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ELEMENTS = {
    "float": st.floats(-100, 100, width=32),
    # Few distinct values force ties: the index must be PyTorch's first maximum.
    "ties": st.integers(0, 2).map(float),
    # NaN and -inf take the engine's literal scan of PyTorch's CPU loop.
    "nonfinite": st.sampled_from([-np.inf, np.nan, 0.0, 1.0, np.inf]),
}


def int_or_pair(low: int, high: int) -> st.SearchStrategy[Any]:
    return st.integers(low, high) | st.tuples(st.integers(low, high), st.integers(low, high))


def as_pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


@st.composite
def pool_cases(
    draw: st.DrawFn, *, avg: bool = False, kinds: tuple[str, ...] = ("float", "ties")
) -> tuple[np.ndarray, dict[str, Any]]:
    """A random input (rank 2 or 3, rectangular) and pooling keywords. Padding runs one
    past the legal limit now and then, and small inputs leave no room for some windows,
    so the engine's refusals are compared with PyTorch's too."""
    rank3 = draw(st.booleans())
    shape = ((draw(st.integers(1, 3)),) if rank3 else ()) + (
        draw(st.integers(1, 9)),
        draw(st.integers(1, 9)),
    )
    kernel = draw(int_or_pair(1, 4))
    k = as_pair(kernel)
    kw: dict[str, Any] = {
        "kernel_size": kernel,
        "stride": draw(st.none() | int_or_pair(1, 4)),
        "padding": draw(
            st.tuples(st.integers(0, k[0] // 2), st.integers(0, k[1] // 2))
            | st.integers(0, min(k) // 2)
        ),
        "ceil_mode": draw(st.booleans()),
    }
    if draw(st.integers(0, 7)) == 0:  # one past PyTorch's limit along one axis
        axis = draw(st.integers(0, 1))
        padding = list(as_pair(kw["padding"]))
        padding[axis] = k[axis] // 2 + 1
        kw["padding"] = tuple(padding)
    if avg:
        kw["count_include_pad"] = draw(st.booleans())
    else:
        kw["dilation"] = draw(int_or_pair(1, 3))
    x = draw(hnp.arrays(np.float32, shape, elements=ELEMENTS[draw(st.sampled_from(kinds))]))
    return x, kw


def batched(x: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    """PyTorch's pooling takes (C, H, W) or (N, C, H, W): give a 2-D input one channel."""
    t = torch.from_numpy(x.copy() if x.ndim == 3 else x[None].copy())
    return t.requires_grad_(requires_grad)


def empty_window(size: tuple[int, int], kw: dict[str, Any]) -> bool:
    """Whether some max-pooling window has every tap in the padding (PyTorch: -inf and an
    index outside the input; the engine refuses)."""
    k, p, d = (as_pair(kw[n]) for n in ("kernel_size", "padding", "dilation"))
    s = as_pair(kw["stride"]) if kw["stride"] is not None else k
    for a in (0, 1):
        line = torch.zeros(1, 1, size[a])
        windows = F.max_pool2d(line, (1, k[a]), (1, s[a]), (0, p[a]), (1, d[a]), kw["ceil_mode"])
        for o in range(windows.shape[-1]):
            taps = [o * s[a] - p[a] + i * d[a] for i in range(k[a])]
            if not any(0 <= t < size[a] for t in taps):
                return True
    return False


# ------------------------------------------------------------------ max pooling vs PyTorch


@SETTINGS
@given(pool_cases(kinds=("float", "ties", "nonfinite")))
def test_max_pool2d_matches_torch_forward_indices_and_backward(
    case: tuple[np.ndarray, dict[str, Any]],
) -> None:
    x, kw = case
    t = batched(x, requires_grad=True)
    try:
        out_t, idx_t = F.max_pool2d(t, return_indices=True, **kw)
    except RuntimeError:
        with pytest.raises(EngineError):
            pool.max_pool2d(x, **kw)
        return
    if empty_window(x.shape[-2:], kw):
        with pytest.raises(ParameterError) as err:
            pool.max_pool2d(x, **kw)
        assert err.value.field == "dilation"
        return

    out, idx = pool.max_pool2d(x, **kw)
    assert out.dtype == np.float32 and idx.dtype == np.int64
    assert out.ndim == x.ndim and out.shape == idx.shape
    np.testing.assert_array_equal(out, out_t.detach().numpy().reshape(out.shape))
    np.testing.assert_array_equal(idx, idx_t.numpy().reshape(idx.shape))

    grad = np.random.default_rng(x.size).standard_normal(out.shape).astype(np.float32)
    out_t.backward(torch.from_numpy(grad.reshape(out_t.shape)))
    grad_input = pool.max_pool2d_backward(grad, idx, x.shape)
    assert grad_input.shape == x.shape and grad_input.dtype == np.float32
    np.testing.assert_allclose(grad_input, t.grad.numpy().reshape(x.shape), rtol=1e-5, atol=1e-6)


def test_max_pool2d_ties_take_the_first_maximum_in_scan_order() -> None:
    x = np.array([[1, 3, 3], [3, 0, 3], [3, 3, 3]], dtype=np.float32)
    out, idx = pool.max_pool2d(x, 2, stride=1)
    np.testing.assert_array_equal(out, [[3, 3], [3, 3]])
    np.testing.assert_array_equal(idx, [[1, 1], [3, 5]])
    _, idx_t = F.max_pool2d(torch.from_numpy(x)[None], 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx, idx_t[0].numpy())


def test_max_pool2d_overlapping_windows_accumulate_the_gradient() -> None:
    x = np.zeros((4, 4), dtype=np.float32)
    x[1, 1] = 5  # wins all four 3x3 windows at stride 1
    out, idx = pool.max_pool2d(x, 3, stride=1)
    np.testing.assert_array_equal(idx, np.full((2, 2), 5))
    grad = np.array([[1, 2], [3, 4]], dtype=np.float32)
    grad_input = pool.max_pool2d_backward(grad, idx, x.shape)
    assert grad_input[1, 1] == 10 and grad_input.sum() == 10


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize(
    ("kernel_size", "stride", "padding"),
    [(2, 2, 0), (3, 1, 1), (3, 2, 1), ((2, 3), (1, 2), (1, 0))],
)
@pytest.mark.parametrize("values", ["float", "ties"])
def test_max_pool2d_backward_is_pytorchs_float32_sum_bit_for_bit(
    per_channel: bool,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    values: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Non-overlapping and overlapping windows, ties (three values: many windows share a
    winner), each channel scattered alone or all in one call: PyTorch's CPU kernel adds
    each window's gradient in scan order in float32, and so must the engine."""
    monkeypatch.setattr(pool, "SCATTER_MIN_CELLS", 0 if per_channel else 1 << 62)
    rng = np.random.default_rng(7)
    shape = (3, 37, 41)
    x = (
        rng.standard_normal(shape, dtype=np.float32)
        if values == "float"
        else rng.integers(0, 3, shape).astype(np.float32)
    )
    out, idx = pool.max_pool2d(x, kernel_size, stride, padding)
    grad = rng.standard_normal(out.shape, dtype=np.float32)
    t = batched(x, requires_grad=True)
    out_t, idx_t = F.max_pool2d(t, kernel_size, stride, padding, return_indices=True)
    np.testing.assert_array_equal(idx, idx_t.numpy())
    out_t.backward(torch.from_numpy(grad))
    np.testing.assert_array_equal(pool.max_pool2d_backward(grad, idx, shape), t.grad.numpy())


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize(
    ("index", "dtype", "holds"),
    [(9, np.int64, 9), (-1, np.int64, -1), (-9, np.int32, -9), (2**64 - 1, np.uint64, 2**64 - 1)],
)
def test_max_pool2d_backward_rejects_an_index_outside_its_channel(
    per_channel: bool, index: int, dtype: Any, holds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the last channel and cell, so an index past the end is not caught by landing in
    another channel; negative ones must not count from the end."""
    monkeypatch.setattr(pool, "SCATTER_MIN_CELLS", 0 if per_channel else 1 << 62)
    indices = np.zeros((2, 2, 2), dtype=dtype)
    indices[1, 1, 1] = index
    with pytest.raises(ParameterError, match=f"holds {holds}, outside the input's flat range 0..8"):
        pool.max_pool2d_backward(np.ones((2, 2, 2)), indices, (2, 3, 3))
    with pytest.raises(ParameterError, match=f"holds {holds}"):  # before the gradient's shape
        pool.max_pool2d_backward(np.ones((2, 2, 3)), indices, (2, 3, 3))


def test_max_pool2d_backward_takes_any_integer_indices() -> None:
    grad = np.arange(1, 5, dtype=np.float32).reshape(2, 2)
    for dtype in (np.int8, np.int32, np.uint16, np.uint64):
        indices = np.array([[0, 0], [8, 4]], dtype=dtype)
        expected = np.array([[3, 0, 0], [0, 4, 0], [0, 0, 3]], dtype=np.float32)
        np.testing.assert_array_equal(pool.max_pool2d_backward(grad, indices, (3, 3)), expected)


def test_max_pool2d_padding_never_wins_even_over_negative_inputs() -> None:
    x = -np.arange(1, 10, dtype=np.float32).reshape(3, 3)
    out, idx = pool.max_pool2d(x, 3, stride=1, padding=1)
    t_out, t_idx = F.max_pool2d(torch.from_numpy(x)[None], 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(out, t_out[0].numpy())
    np.testing.assert_array_equal(idx, t_idx[0].numpy())
    assert out.max() < 0


def test_max_pool2d_is_vectorised() -> None:
    """A 16x256x256 max pool takes milliseconds; a loop over cells would take seconds."""
    x = np.random.default_rng(0).random((16, 256, 256), dtype=np.float32)
    pool.max_pool2d(x, 2)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        pool.max_pool2d(x, 2)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.1


# -------------------------------------------------------------- average pooling vs PyTorch


@SETTINGS
@given(pool_cases(avg=True))
def test_avg_pool2d_matches_torch_forward_and_backward(
    case: tuple[np.ndarray, dict[str, Any]],
) -> None:
    x, kw = case
    t = batched(x, requires_grad=True)
    try:
        out_t = F.avg_pool2d(t, **kw)
    except RuntimeError:
        with pytest.raises(EngineError):
            pool.avg_pool2d(x, **kw)
        return

    out = pool.avg_pool2d(x, **kw)
    assert out.dtype == np.float32 and out.ndim == x.ndim
    np.testing.assert_allclose(out, out_t.detach().numpy().reshape(out.shape), rtol=1e-6, atol=1e-5)

    grad = np.random.default_rng(x.size).standard_normal(out.shape).astype(np.float32)
    out_t.backward(torch.from_numpy(grad.reshape(out_t.shape)))
    grad_input = pool.avg_pool2d_backward(grad, x.shape, **kw)
    assert grad_input.shape == x.shape and grad_input.dtype == np.float32
    np.testing.assert_allclose(grad_input, t.grad.numpy().reshape(x.shape), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("count_include_pad", "divisors"), [(True, (9, 4, 6)), (False, (4, 1, 3))])
def test_avg_pool2d_divisor_of_a_ceil_mode_window(
    count_include_pad: bool, divisors: tuple[int, int, int]
) -> None:
    """6x6 ones, kernel 3, stride 2, padding 1, ceil_mode: 4x4 windows. The last starts
    at input row 5 and is cut at the padded edge (row 7): PyTorch divides by its 2 rows
    (input row 5 and padded row 6), or by its 1 input row without the padding."""
    x = np.ones((6, 6), dtype=np.float32)
    kw = {"ceil_mode": True, "count_include_pad": count_include_pad}
    out = pool.avg_pool2d(x, 3, 2, 1, **kw)
    expected = F.avg_pool2d(torch.ones(1, 6, 6), 3, 2, 1, **kw)[0].numpy()
    assert out.shape == (4, 4)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    divisor = pool.avg_pool2d_trace(x, 3, 2, 1, **kw).divisor.reshape(out.shape)
    assert (divisor[0, 0], divisor[-1, -1], divisor[-1, 1]) == divisors


# ------------------------------------------------------------------- trace == fast path


def trace_output(trace: Any, shape: tuple[int, ...]) -> np.ndarray:
    c = shape[0] if len(shape) == 3 else 1
    return trace.output((c, *shape[-2:])).reshape(shape)


def check_trace_geometry(trace: Any, x: np.ndarray, kw: dict[str, Any]) -> None:
    """Conventions every pooling trace keeps (see app/engine/pool.py's docstring)."""
    x3 = x if x.ndim == 3 else x[None]
    c, h, w = x3.shape
    ph, pw = as_pair(kw["padding"])
    assert trace.grid_origin == (ph, pw)
    assert trace.grid.shape[0] == c
    assert trace.grid.shape[1] >= h + 2 * ph and trace.grid.shape[2] >= w + 2 * pw
    np.testing.assert_array_equal(trace.grid[:, ph : ph + h, pw : pw + w], x3)
    outside = np.ones(trace.grid.shape, dtype=bool)
    outside[:, ph : ph + h, pw : pw + w] = False
    assert not trace.grid[outside].any()  # padding and overhang are drawn as zeros
    # Steps in row-major order; window = first tap; every tap indexes the grid.
    order = np.lexsort(trace.out_index.T[::-1])
    np.testing.assert_array_equal(order, np.arange(trace.steps))
    np.testing.assert_array_equal(trace.window, trace.cells[:, 0, 1:])
    np.testing.assert_array_equal(
        trace.cells[:, :, 0], trace.out_index[:, :1].repeat(trace.cells.shape[1], axis=1)
    )
    assert (trace.cells >= 0).all()
    assert (trace.cells[..., 1] < trace.grid.shape[1]).all()
    assert (trace.cells[..., 2] < trace.grid.shape[2]).all()
    under = trace.grid[trace.cells[..., 0], trace.cells[..., 1], trace.cells[..., 2]]
    np.testing.assert_array_equal(trace.values, np.where(trace.mask, under, 0.0))
    np.testing.assert_array_equal(trace.sums, trace.result)
    assert trace.weights is None and trace.products is None and trace.bias is None


@settings(max_examples=150, deadline=None)
@given(pool_cases(kinds=("float", "ties", "nonfinite")))
def test_max_pool2d_trace_matches_fast_path(case: tuple[np.ndarray, dict[str, Any]]) -> None:
    x, kw = case
    try:
        out, idx = pool.max_pool2d(x, **kw)
    except EngineError:
        with pytest.raises(EngineError):
            pool.max_pool2d_trace(x, **kw)
        return
    trace = pool.max_pool2d_trace(x, **kw)
    check_trace_geometry(trace, x, kw)
    np.testing.assert_array_equal(trace_output(trace, out.shape), out)
    assert trace.divisor is None
    # The winning tap is on the input, and it is the cell the fast path's index names.
    n = np.arange(trace.steps)
    assert trace.mask[n, trace.argmax].all()
    ch, row, col = trace.cells[n, trace.argmax].T
    ph, pw = trace.grid_origin
    width = x.shape[-1]
    np.testing.assert_array_equal((row - ph) * width + (col - pw), idx.ravel())
    # Max pooling counts exactly the taps on the input.
    h = x.shape[-2]
    on_input = (
        (trace.cells[..., 1] >= ph)
        & (trace.cells[..., 1] < ph + h)
        & (trace.cells[..., 2] >= pw)
        & (trace.cells[..., 2] < pw + width)
    )
    np.testing.assert_array_equal(trace.mask, on_input)


@settings(max_examples=150, deadline=None)
@given(pool_cases(avg=True))
def test_avg_pool2d_trace_matches_fast_path(case: tuple[np.ndarray, dict[str, Any]]) -> None:
    x, kw = case
    try:
        out = pool.avg_pool2d(x, **kw)
    except EngineError:
        with pytest.raises(EngineError):
            pool.avg_pool2d_trace(x, **kw)
        return
    trace = pool.avg_pool2d_trace(x, **kw)
    check_trace_geometry(trace, x, kw)
    np.testing.assert_allclose(trace_output(trace, out.shape), out, rtol=1e-6, atol=1e-5)
    assert trace.argmax is None
    np.testing.assert_array_equal(trace.divisor, trace.mask.sum(axis=1))
    np.testing.assert_allclose(
        trace.result * trace.divisor, trace.values.sum(axis=1), rtol=1e-9, atol=1e-9
    )
    # count_include_pad=True counts the padding but never the ceil_mode overhang.
    ph, pw = trace.grid_origin
    h, w = x.shape[-2:]
    inside = (trace.cells[..., 1] < h + 2 * ph) & (trace.cells[..., 2] < w + 2 * pw)
    if kw["count_include_pad"]:
        np.testing.assert_array_equal(trace.mask, inside)
    else:
        assert not (trace.mask & ~inside).any()


def test_trace_extends_the_grid_for_ceil_mode_overhang() -> None:
    """5x5, kernel 2, stride 2, ceil_mode: the third window reads row/column 5, past
    the input; the grid grows to 6x6 and those taps have mask False."""
    x = np.arange(25, dtype=np.float32).reshape(5, 5)
    trace = pool.max_pool2d_trace(x, 2, ceil_mode=True)
    assert trace.grid.shape == (1, 6, 6) and trace.grid_origin == (0, 0)
    assert trace.steps == 9
    last = trace.steps - 1
    np.testing.assert_array_equal(trace.cells[last], [[0, 4, 4], [0, 4, 5], [0, 5, 4], [0, 5, 5]])
    np.testing.assert_array_equal(trace.mask[last], [True, False, False, False])
    assert trace.result[last] == 24 and trace.argmax[last] == 0


# ----------------------------------------------------------------------- lecture slide 5


def x_glyph() -> np.ndarray:
    """SLIDES.md: 9x9, background -1; for i in 1..7 the cells (i, i) and (i, 8-i) are +1."""
    glyph = -np.ones((9, 9))
    for i in range(1, 8):
        glyph[i, i] = glyph[i, 8 - i] = 1
    return glyph


def mean_feature_map(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The deck's convolution: cross-correlation, each window's sum over the kernel size."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = (image[r : r + kh, c : c + kw] * kernel).sum() / kernel.size
    return out


def test_lecture_slide_5_max_pooling_of_the_diagonal_feature_map() -> None:
    diagonal = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    feature_map = mean_feature_map(x_glyph(), diagonal)
    assert feature_map.shape == (7, 7)
    np.testing.assert_allclose(feature_map[0], np.array([7, -1, 1, 3, 5, -1, 3]) / 9)
    # SLIDES.md says the main diagonal is 1.00 but for the corners; the centre, where the
    # two strokes cross, is 5/9 (the deck's 0.55).
    np.testing.assert_allclose(np.diag(feature_map), [7 / 9, 1, 1, 5 / 9, 1, 1, 7 / 9])

    out, idx = pool.max_pool2d(feature_map, 2, stride=2, ceil_mode=True)
    assert out.shape == (4, 4)
    assert out[0, 0] == pytest.approx(1.0)
    assert idx[0, 0] == 1 * 7 + 1  # the centre of the diagonal, not the 7/9 corner
    t_out, t_idx = F.max_pool2d(
        torch.tensor(feature_map, dtype=torch.float32)[None],
        2,
        2,
        ceil_mode=True,
        return_indices=True,
    )
    np.testing.assert_array_equal(out, t_out[0].numpy())
    np.testing.assert_array_equal(idx, t_idx[0].numpy())
    # Without ceil_mode the partial last row and column are dropped.
    assert pool.max_pool2d(feature_map, 2, stride=2)[0].shape == (3, 3)
    # The trace shows the partial windows: a 4x4 output over an 8x8 grid.
    trace = pool.max_pool2d_trace(feature_map, 2, stride=2, ceil_mode=True)
    assert trace.steps == 16 and trace.grid.shape == (1, 8, 8)
    assert trace.mask[-1].tolist() == [True, False, False, False]
    np.testing.assert_allclose(trace_output(trace, (4, 4)), out, rtol=1e-7)


# --------------------------------------------------------------------------- error paths

X = np.zeros((3, 5, 5), dtype=np.float32)

ERRORS = [
    # (call, error type, field, fragments of the message: what is wrong, how to fix)
    (
        lambda: pool.max_pool2d(np.zeros(5), 2),
        ShapeError,
        "input",
        ["must have shape (C, H, W) or (H, W)", "add a channel axis"],
    ),
    (
        lambda: pool.max_pool2d(np.zeros((1, 1, 4, 4)), 2),
        ShapeError,
        "input",
        ["got 4 axes", "drop the batch axis"],
    ),
    (
        lambda: pool.avg_pool2d([[1, 2], [3]], 1),
        ShapeError,
        "input",
        ["rectangular array of numbers"],
    ),
    (
        lambda: pool.max_pool2d(np.zeros((3, 0, 4)), 1),
        ShapeError,
        "input",
        ["is empty", "at least one cell"],
    ),
    (lambda: pool.max_pool2d(X, 0), ParameterError, "kernel_size", ["must be at least 1, got 0"]),
    (
        lambda: pool.avg_pool2d(X, (2, 2, 2)),
        ParameterError,
        "kernel_size",
        ["must be an integer or a pair of integers"],
    ),
    (lambda: pool.max_pool2d(X, True), ParameterError, "kernel_size", ["not a boolean"]),
    (
        lambda: pool.max_pool2d(X, 2, stride=0),
        ParameterError,
        "stride",
        ["must be at least 1, got 0"],
    ),
    (
        lambda: pool.avg_pool2d(X, 2, stride=(1, -1)),
        ParameterError,
        "stride",
        ["must be at least 1, got -1"],
    ),
    (
        lambda: pool.max_pool2d(X, 2, padding=-1),
        ParameterError,
        "padding",
        ["must be at least 0, got -1"],
    ),
    (
        lambda: pool.max_pool2d(X, 3, padding=2),
        ParameterError,
        "padding",
        [
            "pad should be at most half of the kernel size",
            "padding along H is 2 for kernel_size 3",
            "use padding <= 1",
            "or a kernel_size of at least 4",
        ],
    ),
    (
        lambda: pool.max_pool2d(X, 2, padding=(0, 2), dilation=3),
        ParameterError,
        "padding",
        [
            "padding along W is 2 for kernel_size 2",
            "use padding <= 1",
            "dilation does not raise this limit",
        ],
    ),
    (
        lambda: pool.avg_pool2d(X, (3, 1), padding=(1, 1)),
        ParameterError,
        "padding",
        ["padding along W is 1 for kernel_size 1", "use padding <= 0"],
    ),
    (
        lambda: pool.max_pool2d(X, 2, dilation=0),
        ParameterError,
        "dilation",
        ["must be at least 1, got 0"],
    ),
    (
        lambda: pool.max_pool2d(X, 2, ceil_mode="yes"),
        ParameterError,
        "ceil_mode",
        ["must be true or false, got 'yes'"],
    ),
    (
        lambda: pool.avg_pool2d(X, 2, count_include_pad=1),
        ParameterError,
        "count_include_pad",
        ["must be true or false, got 1"],
    ),
    (
        lambda: pool.max_pool2d(np.zeros((2, 2)), 3),
        ShapeError,
        "input",
        [
            "is 2x2, too small for the pooling window",
            "the window spans 3 cells",
            "H_out = floor((2 + 2*0 - 1*(3-1) - 1) / 3) + 1 = 0",
            "use a larger input, more padding, or a smaller kernel_size or dilation",
        ],
    ),
    (
        lambda: pool.max_pool2d(np.zeros((4, 3)), 2, stride=1, dilation=(1, 3)),
        ShapeError,
        "input",
        ["along W the window spans 4 cells", "the padded input has 3"],
    ),
    (
        lambda: pool.max_pool2d_trace(np.zeros((2, 2)), 2, stride=1, padding=1, dilation=3),
        ParameterError,
        "dilation",
        [
            "output row 0 has every tap in the padding",
            "input rows [-1, 2]",
            "PyTorch returns -inf",
            "use a smaller dilation or padding, or a larger input",
        ],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((3, 2, 2)), np.zeros((3, 2, 2), int), (3, 5)),
        ShapeError,
        "indices",
        ["has shape (3, 2, 2)", "pools to (H_out, W_out)"],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((2, 2)), np.zeros((2, 2)), (5, 5)),
        ParameterError,
        "indices",
        ["must hold integers", "pass the indices max_pool2d returned"],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((2, 2)), np.full((2, 2), 25), (5, 5)),
        ParameterError,
        "indices",
        ["holds 25, outside the input's flat range 0..24"],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((2, 2)), np.full((2, 2), -1), (5, 5)),
        ParameterError,
        "indices",
        ["holds -1"],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((2, 3)), np.zeros((2, 2), int), (5, 5)),
        ShapeError,
        "grad_output",
        ["has shape (2, 3) but the pooled output has shape (2, 2)", "one gradient per output cell"],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((2, 2)), np.zeros((2, 2), int), (5, 0)),
        ShapeError,
        "input",
        ["input_shape must be (C, H, W) or (H, W) with positive sizes"],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((2, 2)), np.zeros((2, 2), int), 25),
        ShapeError,
        "input",
        ["input_shape must be (C, H, W) or (H, W)", "got (25,)"],
    ),
    (
        lambda: pool.avg_pool2d(X, 1, padding=1),
        ParameterError,
        "padding",
        ["padding along H is 1 for kernel_size 1; use padding <= 0 or a kernel_size of at least 2"],
    ),
    (
        lambda: pool.max_pool2d_backward(np.zeros((2, 2)), np.zeros((2, 2), int), (1, 1, 5, 5)),
        ShapeError,
        "input",
        ["pass the shape of the forward pass's input"],
    ),
    (
        lambda: pool.avg_pool2d_backward(np.zeros((3, 2, 2)), (3, 5, 5), 3),
        ShapeError,
        "grad_output",
        ["has shape (3, 2, 2) but the pooled output has shape (3, 1, 1)"],
    ),
    (
        lambda: pool.avg_pool2d_backward(np.zeros((1, 1)), (5, 5), 3, padding=2),
        ParameterError,
        "padding",
        ["use padding <= 1"],
    ),
    (
        lambda: pool.avg_pool2d_trace(X, 2, ceil_mode=None),
        ParameterError,
        "ceil_mode",
        ["must be true or false"],
    ),
]


@pytest.mark.parametrize(("call", "error", "field", "fragments"), ERRORS)
def test_pool_errors_name_the_field_and_say_how_to_fix(
    call: Any, error: type[EngineError], field: str, fragments: list[str]
) -> None:
    with pytest.raises(error) as err:
        call()
    assert type(err.value) is error
    assert err.value.field == field
    for fragment in fragments:
        assert fragment in err.value.message
    assert str(err.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kernel_size": 3, "padding": 2}, "pad should be at most half of effective kernel size"),
        ({"kernel_size": 2, "padding": 2, "dilation": 3}, "pad should be smaller than or equal"),
        ({"kernel_size": 6}, "Output size is too small"),
        ({"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 3}, None),  # -inf window
    ],
)
def test_pool_errors_are_where_torch_refuses(kw: dict[str, Any], message: str | None) -> None:
    """The engine refuses exactly these; PyTorch refuses the first three and returns
    -inf with an index outside the input for the last."""
    x = np.zeros((1, 5, 5) if message else (1, 2, 2), dtype=np.float32)
    if message is None:
        out, idx = F.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
        assert torch.isneginf(out).all() and (idx >= x.size).any()
    else:
        with pytest.raises(RuntimeError, match=message):
            F.max_pool2d(torch.from_numpy(x), **kw)
    with pytest.raises(EngineError):
        pool.max_pool2d(x, **kw)
