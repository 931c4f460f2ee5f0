"""conv_transpose2d forward and backward against PyTorch, and every error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from app.engine.conv import conv2d, conv2d_backward
from app.engine.conv_transpose import (
    conv_transpose2d,
    conv_transpose2d_backward,
    conv_transpose2d_geometry,
    conv_transpose2d_trace,
)
from app.engine.errors import EngineError, ParameterError, ShapeError
from tests.engine.test_conv import (
    assert_close,
    int_or_pair,
    single_threaded_torch,  # noqa: F401 (autouse fixture)
)


@dataclass
class TransposeCase:
    """One random conv_transpose2d call."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    stride: int | tuple[int, int]
    padding: int | tuple[int, int]
    output_padding: int | tuple[int, int]
    groups: int
    dilation: int | tuple[int, int]
    seed: int

    def kwargs(self) -> dict[str, Any]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "groups": self.groups,
            "dilation": self.dilation,
        }

    def grad_output(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.random.default_rng(self.seed + 1).standard_normal(shape)


def _both(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@st.composite
def transpose_cases(draw: st.DrawFn, max_size: int = 6, max_channels: int = 3) -> TransposeCase:
    """Mostly valid conv_transpose2d calls covering every parameter."""
    layout = draw(st.sampled_from(["2d/2d", "2d/4d", "3d/2d", "3d/4d", "3d/4d", "3d/4d"]))
    if layout == "3d/4d":
        groups = draw(st.integers(1, 3))
        depthwise = draw(st.booleans())
        c_in = groups * (1 if depthwise else draw(st.integers(1, max_channels)))
        out_per_group = draw(st.integers(1, max_channels))
    else:
        groups, c_in = 1, 1
        out_per_group = 1 if layout.endswith("2d") else draw(st.integers(1, max_channels))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, dilation = draw(int_or_pair(1, 3)), draw(int_or_pair(1, 3))
    limits = [max(s, d) - 1 for s, d in zip(_both(stride), _both(dilation), strict=True)]
    output_padding: int | tuple[int, int] = (
        draw(st.integers(0, limits[0])),
        draw(st.integers(0, limits[1])),
    )
    if draw(st.booleans()):
        output_padding = output_padding[0] if output_padding[0] <= limits[1] else output_padding
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    w_shape = (kh, kw) if layout.endswith("2d") else (c_in, out_per_group, kh, kw)
    return TransposeCase(
        x=rng.standard_normal((h, w) if layout.startswith("2d") else (c_in, h, w)),
        w=rng.standard_normal(w_shape),
        b=rng.standard_normal(out_per_group * groups) if draw(st.booleans()) else None,
        stride=stride,
        padding=draw(int_or_pair(0, 2)),
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
        seed=seed,
    )


def torch_conv_transpose2d(
    case: TransposeCase, grad_output: np.ndarray | None = None
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray | None] | None]:
    """PyTorch's output (shaped like ours) and, given ``dE/dO``, its three gradients."""
    x = torch.tensor(case.x, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(case.w, dtype=torch.float64, requires_grad=True)
    b = None if case.b is None else torch.tensor(case.b, dtype=torch.float64, requires_grad=True)
    x4 = x.reshape(1, -1, *case.x.shape[-2:])
    w4 = w if w.ndim == 4 else w.reshape(1, 1, *case.w.shape)
    out = F.conv_transpose2d(
        x4, w4, b, case.stride, case.padding, case.output_padding, case.groups, case.dilation
    )
    out = out[0, 0] if case.x.ndim == 2 and case.w.ndim == 2 else out[0]
    if grad_output is None:
        return out.detach().numpy(), None
    out.backward(torch.tensor(grad_output, dtype=torch.float64))
    assert x.grad is not None and w.grad is not None
    grad_bias = None if b is None or b.grad is None else b.grad.numpy()
    return out.detach().numpy(), (x.grad.numpy(), w.grad.numpy(), grad_bias)


def torch_accepts(case: TransposeCase) -> bool:
    try:
        torch_conv_transpose2d(case)
    except (RuntimeError, ValueError):
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(transpose_cases())
def test_conv_transpose2d_forward_and_backward_match_torch(case: TransposeCase) -> None:
    assume(torch_accepts(case))  # padding that cuts away the whole result
    out = conv_transpose2d(case.x, case.w, case.b, **case.kwargs())
    grad_output = case.grad_output(out.shape)
    ref_out, ref_grads = torch_conv_transpose2d(case, grad_output)
    assert ref_grads is not None
    assert out.dtype == np.float32
    assert_close(out, ref_out)

    grad_input, grad_weight, grad_bias = conv_transpose2d_backward(
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
def loose_transpose_cases(draw: st.DrawFn) -> TransposeCase:
    """Calls that are often invalid: any channels, groups, paddings and output paddings."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c_in, out_per_group = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    w_in = draw(st.sampled_from([c_in, c_in, c_in, 1, 2, 3, 4]))
    h, w, kh, kw = (draw(st.integers(1, 4)) for _ in range(4))
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    bias_length = draw(st.sampled_from([None, out_per_group * groups, out_per_group * groups + 1]))
    return TransposeCase(
        x=rng.standard_normal((c_in, h, w)),
        w=rng.standard_normal((w_in, out_per_group, kh, kw)),
        b=None if bias_length is None else rng.standard_normal(bias_length),
        stride=draw(int_or_pair(1, 3)),
        padding=draw(int_or_pair(0, 4)),
        output_padding=draw(int_or_pair(0, 2)),
        groups=groups,
        dilation=draw(int_or_pair(1, 3)),
        seed=0,
    )


@settings(max_examples=200, deadline=None)
@given(loose_transpose_cases())
def test_conv_transpose2d_rejects_exactly_what_torch_rejects(case: TransposeCase) -> None:
    if torch_accepts(case):
        event("valid")
        conv_transpose2d(case.x, case.w, case.b, **case.kwargs())
    else:
        event("invalid")
        with pytest.raises(EngineError):
            conv_transpose2d(case.x, case.w, case.b, **case.kwargs())


def test_conv_transpose2d_is_the_gradient_of_conv2d() -> None:
    """conv_transpose2d(dO, W) is conv2d's dE/dX, and conv2d(gO, W) its own dE/dX."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((4, 9, 8)), rng.standard_normal((6, 2, 3, 2))
    kw: dict[str, Any] = {"stride": 2, "padding": 1, "dilation": (1, 2), "groups": 2}
    d = rng.standard_normal(conv2d(x, w, **kw).shape)
    grad_input, _, _ = conv2d_backward(d, x, w, **kw)
    # 9 = (5-1)*2 - 2 + 1*(3-1) + 0 + 1 and 8 = (4-1)*2 - 2 + 2*(2-1) + 1 + 1: output_padding
    # gives back the column conv2d's floor dropped.
    transposed = conv_transpose2d(d, w, output_padding=(0, 1), **kw)
    np.testing.assert_allclose(transposed, grad_input, rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(transposed.shape)
    back, _, _ = conv_transpose2d_backward(g, d, w, output_padding=(0, 1), **kw)
    np.testing.assert_allclose(back, conv2d(g, w, **kw), rtol=1e-5, atol=1e-5)


def test_conv_transpose2d_keeps_2d_in_2d_out() -> None:
    x, w = np.arange(6.0).reshape(2, 3), np.ones((2, 2))
    assert conv_transpose2d(x, w).shape == (3, 4)
    assert conv_transpose2d(x, w, stride=2, output_padding=1).shape == (5, 7)
    assert conv_transpose2d(x[None], w).shape == (1, 3, 4)
    assert conv_transpose2d(x, w[None, None]).shape == (1, 3, 4)
    grad_input, grad_weight, grad_bias = conv_transpose2d_backward(np.ones((3, 4)), x, w)
    assert grad_input.shape == (2, 3) and grad_weight.shape == (2, 2) and grad_bias is None
    g = conv_transpose2d_geometry(np.zeros((2, 5, 5)), np.zeros((2, 3, 3, 3)), padding=1)
    assert g.output_size == (5, 5) and g.out_channels == 3


# --- errors ---------------------------------------------------------------------------------

X3 = np.zeros((3, 4, 4))
W3 = np.zeros((3, 2, 3, 3))

ERROR_CASES = [
    # (id, args, kwargs, error type, field, message fragment)
    ("input rank 4", (np.zeros((1, 3, 4, 4)), W3), {}, ShapeError, "input", "(C, H, W) or (H, W)"),
    ("weight rank 3", (X3, np.zeros((3, 3, 3))), {}, ShapeError, "weight", "got 3 axes"),
    (
        "weight rank 3 names the transposed layout",
        (X3, np.zeros((3, 3, 3))),
        {},
        ShapeError,
        "weight",
        "must have shape (C_in, C_out/groups, kH, kW) or (kH, kW)",
    ),
    (
        "weight's first axis is not C_in",
        (X3, np.zeros((2, 3, 3, 3))),
        {},
        ShapeError,
        "weight",
        "laid out (C_in, C_out/groups, kH, kW), so its first axis (2) must equal the input's 3",
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
        (X3, W3),
        {"groups": 2},
        ParameterError,
        "groups",
        "groups=2 must divide the input's 3 channels",
    ),
    ("groups 0", (X3, W3), {"groups": 0}, ParameterError, "groups", "positive integer"),
    (
        "bias length",
        (X3, W3, np.zeros(3)),
        {},
        ShapeError,
        "bias",
        "one number per output channel, shape (2,), got (3,)",
    ),
    ("stride 0", (X3, W3), {"stride": 0}, ParameterError, "stride", "at least 1"),
    ("dilation 0", (X3, W3), {"dilation": 0}, ParameterError, "dilation", "at least 1"),
    ("negative padding", (X3, W3), {"padding": (0, -1)}, ParameterError, "padding", "at least 0"),
    (
        "padding same",
        (X3, W3),
        {"padding": "same"},
        ParameterError,
        "padding",
        "'same', 'valid' and 4-value padding exist only for conv2d",
    ),
    (
        "4-value padding",
        (X3, W3),
        {"padding": (1, 1, 0, 0)},
        ParameterError,
        "padding",
        "takes an integer or a pair (pH, pW)",
    ),
    (
        "negative output padding",
        (X3, W3),
        {"output_padding": -1},
        ParameterError,
        "output_padding",
        "at least 0",
    ),
    (
        "output padding as large as stride and dilation",
        (X3, W3),
        {"stride": (2, 1), "dilation": (1, 3), "output_padding": (1, 3)},
        ParameterError,
        "output_padding",
        "3 along W must be smaller than the stride (1) or the dilation (3);"
        " use output_padding of at most 2",
    ),
    (
        "padding cuts the whole result",
        (X3, W3),
        {"padding": (3, 0)},
        ParameterError,
        "padding",
        "cuts more than the whole result: the output would be 0x6",
    ),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "field", "message"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_conv_transpose2d_rejects(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: type[EngineError],
    field: str,
    message: str,
) -> None:
    x, w, *rest = args
    b = rest[0] if rest else None
    calls: list[Callable[[], Any]] = [
        lambda: conv_transpose2d(x, w, b, **kwargs),
        lambda: conv_transpose2d_trace(x, w, b, **kwargs),
        lambda: conv_transpose2d_backward(np.zeros((1, 1)), x, w, b, **kwargs),
    ]
    for call in calls:
        with pytest.raises(error) as info:
            call()
        assert info.value.field == field
        assert message in info.value.message


def test_conv_transpose2d_backward_rejects_grad_output_of_another_shape() -> None:
    with pytest.raises(ShapeError) as info:
        conv_transpose2d_backward(np.zeros((2, 6, 5)), X3, W3)
    assert info.value.field == "grad_output"
    assert info.value.message == (
        "has shape (2, 6, 5) but the forward output has shape (2, 6, 6);"
        " give a tensor of shape (2, 6, 6)"
    )
