"""The fast path's splits change no number: bands, threads, stride phases and rows.

The other tests' tensors are small enough to fit in one band, to skip the stride
phases and to take im2col rather than the rows of windows, so here ``BAND_BYTES`` is
shrunk until every band is one or a few output rows, shared by one or three
threads, with and without phases, by im2col or by rows of windows, and the results
are compared with the one-band im2col computation of the same call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings

from app.engine import im2col
from app.engine.conv import conv2d, conv2d_backward
from app.engine.conv_transpose import conv_transpose2d, conv_transpose2d_backward
from app.engine.errors import EngineError
from tests.engine.test_conv import ConvCase, conv_cases
from tests.engine.test_conv_transpose import TransposeCase, transpose_cases

# (band bytes, threads, smallest input split into stride phases, rows of windows):
# 1 byte is one output row per band; 300 bytes a few rows, the last band shorter; 3
# threads give runs of unequal length; 0 splits every strided input (the one-band
# reference computation of these small tensors splits none); rows True sends every
# correlation without vertical dilation through im2col._Rows, however narrow.
SPLITS = [
    (1, 1, 0, False),
    (1, 3, 0, False),
    (300, 1, 0, False),
    (300, 3, 1 << 30, False),
    (1 << 20, 1, 1 << 30, True),
    (1, 1, 1 << 30, True),
    (300, 3, 1 << 30, True),
]
_KNOBS = ("BAND_BYTES", "THREADS", "PHASES_MIN_CELLS", "ROWS_MIN_CELLS", "ROWS_MIN_WIDTH")


def _split(split: tuple[int, int, int, bool], compute: Callable[[], Any]) -> Any:
    saved = [getattr(im2col, name) for name in _KNOBS]
    band_bytes, threads, phases, rows = split
    rows_min = (0, 1) if rows else (saved[3], saved[4])
    for name, value in zip(_KNOBS, (band_bytes, threads, phases, *rows_min), strict=True):
        setattr(im2col, name, value)
    try:
        return compute()
    finally:
        for name, value in zip(_KNOBS, saved, strict=True):
            setattr(im2col, name, value)


def _assert_same(banded: Any, whole: Any) -> None:
    """Equal up to float32 summation order (bands add a weight gradient in pieces)."""
    for a, b in zip(banded, whole, strict=True):
        if b is None:
            assert a is None
            continue
        scale = max(1.0, float(np.abs(b).max(initial=0.0)))
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * scale)


def test_row_bands_cover_every_row_once() -> None:
    bands = im2col.row_bands(10, im2col.BAND_BYTES // 3)
    assert bands == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert im2col.row_bands(4, 10 * im2col.BAND_BYTES) == [(0, 1), (1, 2), (2, 3), (3, 4)]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize(("rows", "row_bytes"), [(253, 42504), (10, 1), (3, 1), (7, 1 << 30)])
def test_even_bands_cover_every_row_once_in_a_multiple_of_threads(
    threads: int, rows: int, row_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(im2col, "THREADS", threads)
    bands = im2col.even_bands(rows, row_bytes)
    assert [first for first, _ in bands[1:]] == [stop for _, stop in bands[:-1]]
    assert bands[0][0] == 0 and bands[-1][1] == rows
    heights = {stop - first for first, stop in bands}
    assert min(heights) >= 1 and max(heights) - min(heights) <= 1
    assert len(bands) % threads == 0 or len(bands) == rows
    assert max(heights) <= max(1, im2col.BAND_BYTES // row_bytes)


@pytest.mark.parametrize("split", SPLITS)
@settings(max_examples=40, deadline=None)
@given(case=conv_cases())
def test_conv2d_in_bands_equals_one_band(split: tuple[int, int, int, bool], case: ConvCase) -> None:
    def compute() -> tuple[np.ndarray, ...]:
        out = conv2d(case.x, case.w, case.b, **case.kwargs())
        grad_output = case.grad_output(out.shape)
        grads = conv2d_backward(grad_output, case.x, case.w, case.b, **case.kwargs())
        return (out, *grads)

    try:
        whole = compute()
    except EngineError:
        assume(False)
    _assert_same(_split(split, compute), whole)


@pytest.mark.parametrize("split", SPLITS)
@settings(max_examples=40, deadline=None)
@given(case=transpose_cases())
def test_conv_transpose2d_in_bands_equals_one_band(
    split: tuple[int, int, int, bool], case: TransposeCase
) -> None:
    def compute() -> tuple[np.ndarray, ...]:
        out = conv_transpose2d(case.x, case.w, case.b, **case.kwargs())
        grad_output = case.grad_output(out.shape)
        grads = conv_transpose2d_backward(grad_output, case.x, case.w, case.b, **case.kwargs())
        return (out, *grads)

    try:
        whole = compute()
    except EngineError:
        assume(False)
    _assert_same(_split(split, compute), whole)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize(
    ("channels", "filters", "kernel", "stride", "padding", "groups"),
    [(3, 5, 7, 2, 3, 1), (6, 4, 3, 1, 1, 2), (2, 3, (2, 5), (3, 2), (1, 2), 1)],
)
def test_rows_of_windows_in_column_parts_equal_im2col(
    threads: int,
    channels: int,
    filters: int,
    kernel: Any,
    stride: Any,
    padding: Any,
    groups: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows wide enough (50+ cells) to be cut into column parts of 16, in several bands."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((channels, 61, 107), dtype=np.float32)
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    w = rng.standard_normal((filters, channels // groups, *k), dtype=np.float32)
    b = rng.standard_normal(filters, dtype=np.float32)
    kwargs = {"stride": stride, "padding": padding, "groups": groups}

    def compute() -> tuple[np.ndarray, ...]:
        out = conv2d(x, w, b, **kwargs)
        grad_output = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
        return (out, *conv2d_backward(grad_output, x, w, b, **kwargs))

    monkeypatch.setattr(im2col, "ROWS_MIN_CELLS", 1 << 62)
    whole = compute()
    monkeypatch.setattr(im2col, "ROWS_MIN_CELLS", 0)
    monkeypatch.setattr(im2col, "ROW_PART_BYTES", 1)
    monkeypatch.setattr(im2col, "SERIAL_GEMM_MACS", 1)
    monkeypatch.setattr(im2col, "BAND_BYTES", 50_000)
    monkeypatch.setattr(im2col, "THREADS", threads)
    assert im2col._rows_path((1, 1), whole[0].shape[1:])
    assert len(im2col._row_parts(whole[0].shape[2], filters, 49, 4)) > 1
    _assert_same(compute(), whole)
