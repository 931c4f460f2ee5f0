"""conv2d forward and backward against PyTorch, the lecture's numbers, and every error.

The reference is ``torch.nn.Conv2d`` (through ``torch.func.functional_call``, so
its own ``padding`` and ``padding_mode`` handling is what we compare with) in
float64; four-value padding is ``F.pad`` followed by ``F.conv2d``, and
``reduce="mean"`` is the reference's sum divided by ``C_in/groups * kH * kW``
before the bias.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from app.engine import im2col
from app.engine.conv import (
    conv2d,
    conv2d_backward,
    conv2d_geometry,
    conv2d_grad_input_trace,
    conv2d_grad_weight_trace,
    conv2d_trace,
)
from app.engine.errors import EngineError, ParameterError, ShapeError

MODES = ("zeros", "reflect", "replicate", "circular")


@pytest.fixture(autouse=True, scope="module")
def single_threaded_torch() -> Iterator[None]:
    """The reference tensors are tiny: torch's thread pool only costs time (3x on a busy
    2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """float32 result against a float64 reference, tolerance relative to the magnitude."""
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * scale)


@dataclass
class ConvCase:
    """One random conv2d call: the tensors and every parameter."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    stride: int | tuple[int, int]
    padding: Any
    dilation: int | tuple[int, int]
    groups: int
    padding_mode: str
    reduce: str
    seed: int

    def kwargs(self) -> dict[str, Any]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "padding_mode": self.padding_mode,
            "reduce": self.reduce,
        }

    def grad_output(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.random.default_rng(self.seed + 1).standard_normal(shape)


def int_or_pair(low: int, high: int) -> st.SearchStrategy[int | tuple[int, int]]:
    value = st.integers(low, high)
    return st.one_of(value, st.tuples(value, value))


def _both(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@st.composite
def conv_cases(draw: st.DrawFn, max_size: int = 9, max_channels: int = 3) -> ConvCase:
    """Mostly valid conv2d calls covering every parameter and their combinations."""
    layout = draw(st.sampled_from(["2d/2d", "2d/4d", "3d/2d", "3d/4d", "3d/4d", "3d/4d"]))
    if layout == "3d/4d":
        groups = draw(st.integers(1, 3))
        depthwise = draw(st.booleans())
        c_in = groups * (1 if depthwise else draw(st.integers(1, max_channels)))
        c_out = groups * draw(st.integers(1, max_channels))
    else:
        groups, c_in = 1, 1
        c_out = 1 if layout.endswith("2d") else draw(st.integers(1, max_channels))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["int", "pair", "four", "same", "valid"]))
    stride = 1 if kind == "same" else draw(int_or_pair(1, 3))
    dilation = draw(int_or_pair(1, 3))
    dh, dw = _both(dilation)
    if kind == "int":
        padding: Any = draw(st.integers(0, 3))
        pads = (2 * padding, 2 * padding)
    elif kind == "pair":
        padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        pads = (2 * padding[0], 2 * padding[1])
    elif kind == "four":
        padding = tuple(draw(st.integers(0, 3)) for _ in range(4))
        pads = (padding[2] + padding[3], padding[0] + padding[1])
    elif kind == "same":
        padding = "same"
        pads = (dh * (kh - 1), dw * (kw - 1))
    else:
        padding = "valid"
        pads = (0, 0)
    # Sizes from "the kernel just fits" upwards, so few draws are thrown away.
    low_h, low_w = max(1, dh * (kh - 1) + 1 - pads[0]), max(1, dw * (kw - 1) + 1 - pads[1])
    h = draw(st.integers(low_h, max(low_h, max_size) + 2))
    w = draw(st.integers(low_w, max(low_w, max_size) + 2))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((h, w) if layout.startswith("2d") else (c_in, h, w))
    w_shape = (kh, kw) if layout.endswith("2d") else (c_out, c_in // groups, kh, kw)
    bias = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return ConvCase(
        x=x,
        w=rng.standard_normal(w_shape),
        b=bias,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=draw(st.sampled_from(MODES)),
        reduce=draw(st.sampled_from(["sum", "mean"])),
        seed=seed,
    )


def torch_conv2d(
    case: ConvCase, grad_output: np.ndarray | None = None
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray | None] | None]:
    """PyTorch's output (shaped like ours) and, given ``dE/dO``, its three gradients."""
    x = torch.tensor(case.x, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(case.w, dtype=torch.float64, requires_grad=True)
    b = None if case.b is None else torch.tensor(case.b, dtype=torch.float64, requires_grad=True)
    x4 = x.reshape(1, -1, *case.x.shape[-2:])
    w4 = w if w.ndim == 4 else w.reshape(1, 1, *case.w.shape)
    c_out, c_per_group, kh, kw = w4.shape
    # With reduce="mean" the bias is added after the division, so torch's comes later.
    torch_bias = b if case.reduce == "sum" else None
    if isinstance(case.padding, tuple) and len(case.padding) == 4:
        mode = "constant" if case.padding_mode == "zeros" else case.padding_mode
        padded = F.pad(x4, case.padding, mode=mode)
        out = F.conv2d(padded, w4, torch_bias, case.stride, 0, case.dilation, case.groups)
    else:
        layer = torch.nn.Conv2d(
            x4.shape[1],
            c_out,
            (kh, kw),
            stride=case.stride,
            padding=case.padding,
            dilation=case.dilation,
            groups=case.groups,
            bias=torch_bias is not None,
            padding_mode=case.padding_mode,
            dtype=torch.float64,
        )
        parameters = {"weight": w4} if torch_bias is None else {"weight": w4, "bias": torch_bias}
        with warnings.catch_warnings():
            # torch warns once that an even kernel with padding="same" pads a copy.
            warnings.simplefilter("ignore", UserWarning)
            out = torch.func.functional_call(layer, parameters, (x4,))
    if case.reduce == "mean":
        out = out / (c_per_group * kh * kw)
        if b is not None:
            out = out + b.reshape(1, -1, 1, 1)
    out = out[0, 0] if case.x.ndim == 2 and case.w.ndim == 2 else out[0]
    if grad_output is None:
        return out.detach().numpy(), None
    out.backward(torch.tensor(grad_output, dtype=torch.float64))
    assert x.grad is not None and w.grad is not None
    grad_bias = None if b is None or b.grad is None else b.grad.numpy()
    return out.detach().numpy(), (x.grad.numpy(), w.grad.numpy(), grad_bias)


def torch_accepts(case: ConvCase) -> bool:
    try:
        torch_conv2d(case)
    except (RuntimeError, ValueError):
        return False
    return True


# --- against PyTorch ------------------------------------------------------------------------


@contextmanager
def correlation_path(path: str) -> Iterator[None]:
    """Send every correlation through im2col's column matrix or its rows of windows
    (:class:`app.engine.im2col._Rows`; vertically dilated ones always take im2col)."""
    saved = im2col.ROWS_MIN_CELLS, im2col.ROWS_MIN_WIDTH
    rows = path == "rows"
    im2col.ROWS_MIN_CELLS, im2col.ROWS_MIN_WIDTH = (0, 1) if rows else (1 << 62, 1 << 62)
    try:
        yield
    finally:
        im2col.ROWS_MIN_CELLS, im2col.ROWS_MIN_WIDTH = saved


@pytest.mark.parametrize("path", ["im2col", "rows"])
@settings(max_examples=200, deadline=None)
@given(case=conv_cases())
def test_conv2d_forward_and_backward_match_torch(path: str, case: ConvCase) -> None:
    assume(torch_accepts(case))  # e.g. reflect padding as large as the input
    with correlation_path(path):
        out = conv2d(case.x, case.w, case.b, **case.kwargs())
    grad_output = case.grad_output(out.shape)
    ref_out, ref_grads = torch_conv2d(case, grad_output)
    assert ref_grads is not None
    assert out.dtype == np.float32
    assert_close(out, ref_out)

    with correlation_path(path):
        grad_input, grad_weight, grad_bias = conv2d_backward(
            grad_output, case.x, case.w, case.b, **case.kwargs()
        )
    assert grad_input.dtype == grad_weight.dtype == np.float32
    assert_close(grad_input, ref_grads[0])
    assert_close(grad_weight, ref_grads[1])
    if case.b is None:
        assert grad_bias is None
    else:
        assert grad_bias is not None
        assert_close(grad_bias, ref_grads[2])


@st.composite
def loose_conv_cases(draw: st.DrawFn) -> ConvCase:
    """Calls that are often invalid: any channels, groups, kernel and padding sizes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    c_per_group = draw(st.sampled_from([max(c_in // groups, 1), 1, 2, 3]))
    h, w, kh, kw = (draw(st.integers(1, 5)) for _ in range(4))
    padding = draw(
        st.one_of(
            st.integers(0, 5),
            st.tuples(st.integers(0, 5), st.integers(0, 5)),
            st.tuples(*(st.integers(0, 5) for _ in range(4))),
            st.sampled_from(["same", "valid"]),
        )
    )
    bias_length = draw(st.sampled_from([None, c_out, c_out + 1]))
    return ConvCase(
        x=rng.standard_normal((c_in, h, w)),
        w=rng.standard_normal((c_out, c_per_group, kh, kw)),
        b=None if bias_length is None else rng.standard_normal(bias_length),
        stride=draw(int_or_pair(1, 3)),
        padding=padding,
        dilation=draw(int_or_pair(1, 3)),
        groups=groups,
        padding_mode=draw(st.sampled_from(MODES)),
        reduce="sum",
        seed=0,
    )


@settings(max_examples=200, deadline=None)
@given(loose_conv_cases())
def test_conv2d_rejects_exactly_what_torch_rejects(case: ConvCase) -> None:
    if torch_accepts(case):
        event("valid")
        conv2d(case.x, case.w, case.b, **case.kwargs())
    else:
        event("invalid")
        with pytest.raises(EngineError):
            conv2d(case.x, case.w, case.b, **case.kwargs())


def test_conv2d_keeps_2d_in_2d_out() -> None:
    x, w = np.arange(20.0).reshape(4, 5), np.ones((2, 3))
    assert conv2d(x, w).shape == (3, 3)
    assert conv2d(x[None], w).shape == (1, 3, 3)
    assert conv2d(x, w[None, None]).shape == (1, 3, 3)
    grad_input, grad_weight, grad_bias = conv2d_backward(np.ones((3, 3)), x, w, [0.5])
    assert grad_input.shape == (4, 5) and grad_weight.shape == (2, 3)
    assert grad_bias is not None and grad_bias.shape == (1,)


def test_conv2d_accepts_nested_lists_and_leaves_its_arguments_alone() -> None:
    x = np.arange(16.0).reshape(4, 4)
    before = x.copy()
    out = conv2d(x.tolist(), [[1, 0], [0, -1]], padding="same")
    np.testing.assert_array_equal(x, before)
    assert out.shape == (4, 4) and out[0, 0] == 0 - 5


def test_conv2d_geometry_reports_the_sizes() -> None:
    g = conv2d_geometry(np.zeros((3, 5, 7)), np.zeros((6, 1, 3, 2)), groups=3, padding=1)
    assert g.padded_size == (7, 9) and g.output_size == (5, 8) and g.window_size == 6


# --- the lecture ----------------------------------------------------------------------------


def x_glyph() -> np.ndarray:
    glyph = -np.ones((9, 9))
    for i in range(1, 8):
        glyph[i, i] = glyph[i, 8 - i] = 1
    return glyph


# The deck's feature map (slide 5), as printed: truncated, not rounded, to two decimals.
DECK_DIAGONAL_MAP = [
    [0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33],
    [-0.11, 1.00, -0.11, 0.33, -0.11, 0.11, -0.11],
    [0.11, -0.11, 1.00, -0.33, 0.11, -0.11, 0.55],
    [0.33, 0.33, -0.33, 0.55, -0.33, 0.33, 0.33],
    [0.55, -0.11, 0.11, -0.33, 1.00, -0.11, 0.11],
    [-0.11, 0.11, -0.11, 0.33, -0.11, 1.00, -0.11],
    [0.33, -0.11, 0.55, 0.33, 0.11, -0.11, 0.77],
]


def test_slide5_diagonal_filter_on_the_x_glyph_with_mean() -> None:
    diagonal = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    feature_map = conv2d(x_glyph(), diagonal, reduce="mean")
    assert feature_map.shape == (7, 7)
    np.testing.assert_allclose(
        feature_map[0], np.array([7, -1, 1, 3, 5, -1, 3]) / 9, rtol=0, atol=1e-6
    )
    # 1 on the diagonal, 7/9 in the corners and 5/9 in the centre, where the two
    # strokes cross (the deck prints 0.55 there; SLIDES.md's summary leaves it out).
    np.testing.assert_allclose(
        np.diag(feature_map), np.array([7, 9, 9, 5, 9, 9, 7]) / 9, rtol=0, atol=1e-6
    )
    ninths = feature_map.astype(np.float64) * 9
    np.testing.assert_allclose(ninths, np.round(ninths), rtol=0, atol=1e-5)
    truncated = np.trunc(np.round(ninths) / 9 * 100) / 100
    np.testing.assert_array_equal(truncated, DECK_DIAGONAL_MAP)


def test_slide6_zero_padding_1_stride_2() -> None:
    x = [[2, 2, 3, 3, 3], [0, 1, 3, 0, 3], [2, 3, 0, 1, 3], [3, 3, 2, 1, 2], [3, 3, 0, 2, 3]]
    kernel = [[2, 0, 1], [1, 0, 0], [0, 1, 1]]
    out = conv2d(x, kernel, padding=1, stride=2)
    np.testing.assert_array_equal(out, [[1, 5, 6], [7, 8, 3], [3, 10, 4]])


def test_slide8_kernel_size() -> None:
    x = [[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]]
    kernel = [[1, 4, 1], [1, 4, 3], [3, 3, 1]]
    np.testing.assert_array_equal(conv2d(x, kernel), [[122, 148], [126, 134]])


# --- errors ---------------------------------------------------------------------------------


def _every_entry_point(x: Any, w: Any, b: Any = None, **kw: Any) -> list[Callable[[], Any]]:
    """conv2d and every function that takes the same arguments, for one call."""
    d = np.zeros((1, 1))  # wrong for most calls, but checked after the arguments
    calls = [
        lambda: conv2d(x, w, b, **kw),
        lambda: conv2d_trace(x, w, b, **kw),
        lambda: conv2d_backward(d, x, w, b, **kw),
    ]
    if b is None:  # the gradient traces take no bias
        calls.append(lambda: conv2d_grad_weight_trace(d, x, w, **kw))
        calls.append(lambda: conv2d_grad_input_trace(d, x, w, **kw))
    return calls


X3 = np.zeros((3, 5, 5))
W3 = np.zeros((2, 3, 3, 3))

ERROR_CASES = [
    # (id, args, kwargs, error type, field, message fragment)
    ("input rank 1", (np.zeros(5), W3), {}, ShapeError, "input", "must have shape (C, H, W) or"),
    ("input rank 4", (np.zeros((1, 3, 5, 5)), W3), {}, ShapeError, "input", "drop the batch"),
    ("ragged input", ([[1, 2], [3]], np.ones((1, 1))), {}, ShapeError, "input", "rectangular"),
    ("empty input", (np.zeros((3, 0, 5)), W3), {}, ShapeError, "input", "is empty"),
    ("weight rank 3", (X3, np.zeros((3, 3, 3))), {}, ShapeError, "weight", "(C_out, C_in/groups"),
    (
        "channel mismatch",
        (X3, np.zeros((2, 2, 3, 3))),
        {},
        ShapeError,
        "weight",
        "needs an input of 2 channel(s), but the input has 3; give a weight of shape (2, 3, 3, 3)",
    ),
    (
        "2-D weight on 3 channels",
        (X3, np.zeros((3, 3))),
        {},
        ShapeError,
        "weight",
        "a (kH, kW) weight is one filter over a one-channel input",
    ),
    (
        "groups do not divide C_in",
        (X3, np.zeros((2, 1, 3, 3))),
        {"groups": 2},
        ParameterError,
        "groups",
        "groups=2 must divide the input's 3 channels",
    ),
    (
        "groups do not divide C_out",
        (X3, np.zeros((2, 1, 3, 3))),
        {"groups": 3},
        ParameterError,
        "groups",
        "must divide the weight's 2 output channels",
    ),
    ("groups 0", (X3, W3), {"groups": 0}, ParameterError, "groups", "positive integer"),
    ("groups bool", (X3, W3), {"groups": True}, ParameterError, "groups", "positive integer"),
    (
        "bias length",
        (X3, W3, np.zeros(3)),
        {},
        ShapeError,
        "bias",
        "must hold one number per output channel, shape (2,), got (3,)",
    ),
    (
        "kernel larger than padded input",
        (X3, np.zeros((2, 3, 4, 4))),
        {"dilation": 2},
        ShapeError,
        "weight",
        "the kernel spans 7x7 cells (with dilation) but the padded input is only 5x5",
    ),
    ("stride 0", (X3, W3), {"stride": 0}, ParameterError, "stride", "must be at least 1"),
    ("stride triple", (X3, W3), {"stride": (1, 1, 1)}, ParameterError, "stride", "a pair"),
    ("dilation 0", (X3, W3), {"dilation": (1, 0)}, ParameterError, "dilation", "at least 1"),
    ("negative padding", (X3, W3), {"padding": -1}, ParameterError, "padding", "at least 0"),
    (
        "negative 4-value padding",
        (X3, W3),
        {"padding": (0, 1, -1, 0)},
        ParameterError,
        "padding",
        "non-negative",
    ),
    ("unknown padding", (X3, W3), {"padding": "full"}, ParameterError, "padding", "'same'"),
    (
        "same with stride 2",
        (X3, W3),
        {"padding": "same", "stride": 2},
        ParameterError,
        "padding",
        "'same' needs stride 1",
    ),
    (
        "unknown padding mode",
        (X3, W3),
        {"padding_mode": "mirror"},
        ParameterError,
        "padding_mode",
        "unknown mode 'mirror'; use one of zeros, reflect, replicate, circular",
    ),
    (
        "reflect padding as large as the input",
        (X3, W3),
        {"padding": 5, "padding_mode": "reflect"},
        ParameterError,
        "padding",
        "reflect padding must be smaller than the input (5x5)",
    ),
    (
        "circular padding larger than the input",
        (X3, W3),
        {"padding": (0, 0, 6, 0), "padding_mode": "circular"},
        ParameterError,
        "padding",
        "circular padding must be at most the input size",
    ),
    (
        "reflect padding too large says the fix",
        (X3, W3),
        {"padding": 5, "padding_mode": "reflect"},
        ParameterError,
        "padding",
        "use at most 4 rows and 4 columns, or another padding_mode",
    ),
    (
        "circular padding too large says the fix",
        (X3, W3),
        {"padding": (0, 0, 6, 0), "padding_mode": "circular"},
        ParameterError,
        "padding",
        "use at most 5 rows and 5 columns, or another padding_mode",
    ),
    (
        "unknown reduce",
        (X3, W3),
        {"reduce": "max"},
        ParameterError,
        "reduce",
        "unknown reduce 'max'; use 'sum' or 'mean'",
    ),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "field", "message"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_conv2d_rejects(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: type[EngineError],
    field: str,
    message: str,
) -> None:
    for call in _every_entry_point(*args, **kwargs):
        with pytest.raises(error) as info:
            call()
        assert info.value.field == field
        assert message in info.value.message
        assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    "call",
    [
        lambda d: conv2d_backward(d, X3, W3),
        lambda d: conv2d_grad_weight_trace(d, X3, W3),
        lambda d: conv2d_grad_input_trace(d, X3, W3),
    ],
    ids=["backward", "grad weight trace", "grad input trace"],
)
@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 3), (1, 2, 3, 3)])
def test_conv2d_backward_rejects_grad_output_of_another_shape(
    call: Callable[[np.ndarray], Any], shape: tuple[int, ...]
) -> None:
    with pytest.raises(ShapeError) as info:
        call(np.zeros(shape))
    assert info.value.field == "grad_output"
    assert info.value.message == (
        f"has shape {shape} but the forward output has shape (2, 3, 3);"
        " give a tensor of shape (2, 3, 3)"
    )
