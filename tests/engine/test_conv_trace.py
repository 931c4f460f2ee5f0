"""The explained path: every convolution trace is self-consistent and equals the fast path.

Also the lecture's backprop slides (12-13): ``dE/dF = conv(X, dE/dO)`` and ``dE/dX``
= full correlation of the zero-padded (and, with stride, dilated) ``dE/dO`` with
the 180-degree-rotated kernel, as the traces must show them.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings

from app.engine.conv import (
    conv2d,
    conv2d_backward,
    conv2d_geometry,
    conv2d_grad_input_trace,
    conv2d_grad_weight_trace,
    conv2d_trace,
)
from app.engine.conv_transpose import conv_transpose2d, conv_transpose2d_trace
from app.engine.trace import Trace
from tests.engine.test_conv import (
    ConvCase,
    assert_close,
    conv_cases,
    single_threaded_torch,  # noqa: F401 (autouse fixture)
    torch_accepts,
)
from tests.engine.test_conv_transpose import TransposeCase, transpose_cases
from tests.engine.test_conv_transpose import torch_accepts as torch_accepts_transpose


def check_trace(trace: Trace, out_shape: tuple[int, int, int]) -> None:
    """What every convolution trace must satisfy, whatever it computes."""
    n, taps = trace.values.shape
    assert trace.steps == n == int(np.prod(out_shape))
    assert trace.weights is not None and trace.products is not None
    # One step per output cell, in row-major order (channel, row, column).
    expected_index = np.stack(np.unravel_index(np.arange(n), out_shape), axis=1)
    np.testing.assert_array_equal(trace.out_index, expected_index)
    assert trace.cells.shape == (n, taps, 3)
    assert trace.mask.all()
    # The window's first tap is its top-left cell; every tap is inside the grid.
    np.testing.assert_array_equal(trace.window, trace.cells[:, 0, 1:])
    assert (trace.cells >= 0).all()
    assert (trace.cells < np.array(trace.grid.shape)).all()
    c, r, col = np.moveaxis(trace.cells, -1, 0)
    np.testing.assert_array_equal(trace.values, trace.grid[c, r, col])
    np.testing.assert_array_equal(trace.products, trace.values * trace.weights)
    divisor = 1.0 if trace.divisor is None else trace.divisor
    np.testing.assert_allclose(trace.sums, trace.products.sum(axis=1) / divisor, rtol=1e-12)
    bias = 0.0 if trace.bias is None else trace.bias
    np.testing.assert_allclose(trace.result, trace.sums + bias, rtol=1e-12)


def _three_d(shape: tuple[int, ...]) -> tuple[int, int, int]:
    return (1, shape[0], shape[1]) if len(shape) == 2 else (shape[0], shape[1], shape[2])


@settings(max_examples=100, deadline=None)
@given(conv_cases(max_size=6, max_channels=2))
def test_conv2d_traces_equal_the_fast_path(case: ConvCase) -> None:
    assume(torch_accepts(case))
    kw = case.kwargs()
    out = conv2d(case.x, case.w, case.b, **kw)
    g = conv2d_geometry(case.x, case.w, case.b, **kw)
    out_shape = _three_d(out.shape)

    forward = conv2d_trace(case.x, case.w, case.b, **kw)
    check_trace(forward, out_shape)
    assert forward.grid_origin == (g.padding.top, g.padding.left)
    assert (forward.divisor is not None) == (case.reduce == "mean")
    assert (forward.bias is not None) == (case.b is not None)
    assert_close(forward.output(out_shape).reshape(out.shape), out)

    grad_output = case.grad_output(out.shape)
    grad_input, grad_weight, _ = conv2d_backward(grad_output, case.x, case.w, case.b, **kw)

    weight_trace = conv2d_grad_weight_trace(grad_output, case.x, case.w, **kw)
    c_out, c_per_group = g.out_channels, g.in_channels // g.groups
    check_trace(weight_trace, (c_out * c_per_group, *g.kernel_size))
    np.testing.assert_array_equal(weight_trace.grid, forward.grid)
    assert_close(
        weight_trace.output((c_out * c_per_group, *g.kernel_size)).reshape(grad_weight.shape),
        grad_weight,
    )

    input_trace = conv2d_grad_input_trace(grad_output, case.x, case.w, **kw)
    check_trace(input_trace, (g.in_channels, *g.padded_size))
    # The grid is dE/dO, stride-dilated, with d*(k-1) zeros before it.
    d = grad_output.reshape(c_out, *g.output_size)
    top, left = input_trace.grid_origin
    assert (top, left) == (
        g.dilation[0] * (g.kernel_size[0] - 1),
        g.dilation[1] * (g.kernel_size[1] - 1),
    )
    spread = input_trace.grid[
        :,
        top : top + (g.output_size[0] - 1) * g.stride[0] + 1 : g.stride[0],
        left : left + (g.output_size[1] - 1) * g.stride[1] + 1 : g.stride[1],
    ]
    np.testing.assert_array_equal(spread, d)
    assert np.count_nonzero(input_trace.grid) == np.count_nonzero(d)
    padded = input_trace.output((g.in_channels, *g.padded_size))
    assert_close(g.fold_grad_input(padded), grad_input)


@settings(max_examples=100, deadline=None)
@given(transpose_cases(max_size=5, max_channels=2))
def test_conv_transpose2d_trace_equals_the_fast_path(case: TransposeCase) -> None:
    assume(torch_accepts_transpose(case))
    out = conv_transpose2d(case.x, case.w, case.b, **case.kwargs())
    out_shape = _three_d(out.shape)
    trace = conv_transpose2d_trace(case.x, case.w, case.b, **case.kwargs())
    check_trace(trace, out_shape)
    assert_close(trace.output(out_shape).reshape(out.shape), out)
    # The grid is the input, stride-dilated, at grid_origin; zeros elsewhere.
    x = case.x.reshape(-1, *case.x.shape[-2:])
    (sh, sw) = (case.stride, case.stride) if isinstance(case.stride, int) else case.stride
    top, left = trace.grid_origin
    spread = trace.grid[
        :, top : top + (x.shape[1] - 1) * sh + 1 : sh, left : left + (x.shape[2] - 1) * sw + 1 : sw
    ]
    np.testing.assert_array_equal(spread, x)
    assert np.count_nonzero(trace.grid) == np.count_nonzero(x)


def test_conv_transpose2d_trace_is_conv_arithmetics_picture() -> None:
    """Dumoulin & Visin: 3x3 kernel, stride 2, padding 1 over a 3x3 input -> 5x5 output."""
    x = np.arange(1.0, 10.0).reshape(3, 3)
    w = np.arange(9.0).reshape(3, 3)
    trace = conv_transpose2d_trace(x, w, stride=2, padding=1)
    # Dilated to 5x5, padded by d*(k-1) - p = 1 on every side: 7x7.
    expected_grid = np.zeros((7, 7))
    expected_grid[1:6:2, 1:6:2] = x
    np.testing.assert_array_equal(trace.grid[0], expected_grid)
    assert trace.grid_origin == (1, 1)
    np.testing.assert_array_equal(trace.weights, np.tile(w[::-1, ::-1].ravel(), (25, 1)))
    np.testing.assert_allclose(
        trace.output((1, 5, 5))[0], conv_transpose2d(x, w, stride=2, padding=1)
    )


# --- slides 12-13 ---------------------------------------------------------------------------

X = np.array([[1.0, 2.0, -1.0], [0.0, 3.0, 1.0], [2.0, -2.0, 4.0]])
FILTER = np.array([[1.0, -1.0], [2.0, 0.5]])
D_OUT = np.array([[0.5, -1.0], [2.0, 1.5]])


def torch_gradients(
    x: np.ndarray, f: np.ndarray, d: np.ndarray, stride: int
) -> tuple[np.ndarray, np.ndarray]:
    xt = torch.tensor(x[None, None], requires_grad=True)
    ft = torch.tensor(f[None, None], requires_grad=True)
    F.conv2d(xt, ft, stride=stride).backward(torch.tensor(d[None, None]))
    assert xt.grad is not None and ft.grad is not None
    return xt.grad[0, 0].numpy(), ft.grad[0, 0].numpy()


def test_slide12_each_output_is_a_sum_of_four_products() -> None:
    trace = conv2d_trace(X, FILTER)
    # O11 = X11 F11 + X12 F12 + X21 F21 + X22 F22 (1-based, as on the slide).
    np.testing.assert_array_equal(trace.cells[0], [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1]])
    np.testing.assert_array_equal(trace.products[0], X[:2, :2].ravel() * FILTER.ravel())
    # O22 = X22 F11 + X23 F12 + X32 F21 + X33 F22.
    np.testing.assert_array_equal(trace.cells[3], [[0, 1, 1], [0, 1, 2], [0, 2, 1], [0, 2, 2]])
    np.testing.assert_array_equal(trace.output((1, 2, 2))[0], conv2d(X, FILTER))


def test_slide13_grad_filter_is_conv_of_x_with_grad_output() -> None:
    _, grad_filter, _ = conv2d_backward(D_OUT, X, FILTER)
    np.testing.assert_allclose(grad_filter, conv2d(X, D_OUT), rtol=1e-6)
    np.testing.assert_allclose(grad_filter, torch_gradients(X, FILTER, D_OUT, 1)[1], rtol=1e-6)
    trace = conv2d_grad_weight_trace(D_OUT, X, FILTER)
    # dE/dO slides over X: the grid is X, the weights are dE/dO in every step.
    np.testing.assert_array_equal(trace.grid[0], X)
    assert trace.weights is not None
    np.testing.assert_array_equal(trace.weights, np.tile(D_OUT.ravel(), (4, 1)))
    np.testing.assert_allclose(trace.output((1, 2, 2))[0], grad_filter, rtol=1e-6)


def test_slide13_grad_input_is_full_correlation_with_the_rotated_filter() -> None:
    grad_input, _, _ = conv2d_backward(D_OUT, X, FILTER)
    np.testing.assert_allclose(grad_input, torch_gradients(X, FILTER, D_OUT, 1)[0], rtol=1e-6)
    rotated = FILTER[::-1, ::-1]
    full = np.pad(D_OUT, 1)
    np.testing.assert_allclose(grad_input, conv2d(full, rotated), rtol=1e-6)
    trace = conv2d_grad_input_trace(D_OUT, X, FILTER)
    # The grid is dE/dO zero-padded by k-1 = 1; the weights are F rotated by 180 degrees.
    np.testing.assert_array_equal(trace.grid[0], full)
    assert trace.grid_origin == (1, 1)
    assert trace.weights is not None
    np.testing.assert_array_equal(trace.weights, np.tile(rotated.ravel(), (9, 1)))
    # dE/dX11 = dE/dO11 * F11 (only the corner of the padded dE/dO overlaps).
    assert trace.result[0] == D_OUT[0, 0] * FILTER[0, 0]
    np.testing.assert_allclose(trace.output((1, 3, 3))[0], grad_input, rtol=1e-6)


def test_slide13_with_stride_2_grad_output_is_dilated_first() -> None:
    x = np.arange(16.0).reshape(4, 4) - 7
    grad_input, grad_filter, _ = conv2d_backward(D_OUT, x, FILTER, stride=2)
    ref_input, ref_filter = torch_gradients(x, FILTER, D_OUT, 2)
    np.testing.assert_allclose(grad_input, ref_input, rtol=1e-6)
    np.testing.assert_allclose(grad_filter, ref_filter, rtol=1e-6)
    # s - 1 = 1 zero between the entries of dE/dO, then the full padding of k - 1 = 1.
    dilated = np.zeros((3, 3))
    dilated[::2, ::2] = D_OUT
    trace = conv2d_grad_input_trace(D_OUT, x, FILTER, stride=2)
    np.testing.assert_array_equal(trace.grid[0], np.pad(dilated, 1))
    assert trace.weights is not None
    np.testing.assert_array_equal(trace.weights, np.tile(FILTER[::-1, ::-1].ravel(), (16, 1)))
    np.testing.assert_allclose(trace.output((1, 4, 4))[0], grad_input, rtol=1e-6)
    # dE/dF: dE/dO slides over X with its taps 2 apart (the stride).
    weight_trace = conv2d_grad_weight_trace(D_OUT, x, FILTER, stride=2)
    np.testing.assert_array_equal(weight_trace.cells[0, :, 1:], [[0, 0], [0, 2], [2, 0], [2, 2]])
    np.testing.assert_allclose(weight_trace.output((1, 2, 2))[0], grad_filter, rtol=1e-6)
