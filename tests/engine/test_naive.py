"""The fast path and the explained path both equal the obvious loop (tests/engine/naive.py).

The style's promise: "the fast path and the explained path must agree, and a test
says so". Both are vectorised, so the loop oracle is the reference each is held to.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings

from app.engine.conv import conv2d, conv2d_geometry, conv2d_trace
from app.engine.conv_transpose import (
    conv_transpose2d,
    conv_transpose2d_geometry,
    conv_transpose2d_trace,
)
from app.engine.errors import EngineError
from tests.engine.naive import conv2d_naive, conv_transpose2d_naive
from tests.engine.test_conv import ConvCase, assert_close, conv_cases
from tests.engine.test_conv_transpose import TransposeCase, transpose_cases


def _chw(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 3 else x[None]


def _oihw(w: np.ndarray) -> np.ndarray:
    return w if w.ndim == 4 else w[None, None]


@settings(max_examples=60, deadline=None)
@given(conv_cases(max_size=7))
def test_conv2d_fast_and_trace_equal_the_loop(case: ConvCase) -> None:
    try:
        g = conv2d_geometry(case.x, case.w, case.b, **case.kwargs())
    except EngineError:
        assume(False)
    p = g.padding
    expected = conv2d_naive(
        _chw(case.x),
        _oihw(case.w),
        case.b,
        g.stride,
        (p.top, p.bottom, p.left, p.right),
        g.dilation,
        g.groups,
        g.padding_mode,
        g.reduce,
    )
    fast = conv2d(case.x, case.w, case.b, **case.kwargs())
    traced = conv2d_trace(case.x, case.w, case.b, **case.kwargs())
    assert fast.dtype == np.float32
    assert_close(fast.reshape(expected.shape), expected)
    np.testing.assert_allclose(traced.output(expected.shape), expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(transpose_cases(max_size=5))
def test_conv_transpose2d_fast_and_trace_equal_the_loop(case: TransposeCase) -> None:
    try:
        g = conv_transpose2d_geometry(case.x, case.w, case.b, **case.kwargs())
    except EngineError:
        assume(False)
    expected = conv_transpose2d_naive(
        _chw(case.x),
        _oihw(case.w),
        case.b,
        g.stride,
        g.padding,
        g.output_padding,
        g.groups,
        g.dilation,
    )
    fast = conv_transpose2d(case.x, case.w, case.b, **case.kwargs())
    traced = conv_transpose2d_trace(case.x, case.w, case.b, **case.kwargs())
    assert fast.dtype == np.float32
    assert_close(fast.reshape(expected.shape), expected)
    np.testing.assert_allclose(traced.output(expected.shape), expected, rtol=1e-10, atol=1e-10)


def test_conv2d_loop_is_the_lecture_sum() -> None:
    """The oracle itself, on numbers a student can check by hand."""
    x = np.arange(9.0).reshape(1, 3, 3)
    w = np.ones((1, 1, 2, 2))
    out = conv2d_naive(x, w, np.array([1.0]), (1, 1), (0, 0, 0, 0), (1, 1), 1)
    np.testing.assert_array_equal(
        out, [[[0 + 1 + 3 + 4 + 1, 1 + 2 + 4 + 5 + 1], [3 + 4 + 6 + 7 + 1, 4 + 5 + 7 + 8 + 1]]]
    )
