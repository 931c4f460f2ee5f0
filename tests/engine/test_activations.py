"""Activations and their gradients against PyTorch, the name dispatch, and the errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from app.engine import activations
from app.engine.activations import ACTIVATIONS, activation, activation_backward
from app.engine.errors import EngineError, ParameterError, ShapeError

SLOPES = [0.01, 0.2, 0.0, -0.5, 1.0, 3.0]

# name -> (keywords, the same function in PyTorch)
CASES: list[tuple[str, dict[str, float], Callable[..., torch.Tensor]]] = [
    ("relu", {}, F.relu),
    *(("leaky_relu", {"negative_slope": s}, lambda t, s=s: F.leaky_relu(t, s)) for s in SLOPES),
    ("sigmoid", {}, torch.sigmoid),
    ("tanh", {}, torch.tanh),
]
IDS = [f"{name}{kw.get('negative_slope', '')}" for name, kw, _ in CASES]

# The kinks and the tails: 0 and -0 (relu's gradient there is 0, leaky_relu's the
# slope), tiny values, and magnitudes where exp overflows float32.
EDGES = np.array(
    [0.0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 20.0, -20.0, 100.0, -100.0, 1e4, -1e4],
    dtype=np.float32,
)


def torch_pass(
    fn: Callable[..., torch.Tensor], x: np.ndarray, grad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    t = torch.from_numpy(x.copy()).requires_grad_()
    out = fn(t)
    out.backward(torch.from_numpy(grad.copy()))
    return out.detach().numpy(), t.grad.numpy()


def check_against_torch(name: str, kw: dict[str, float], fn: Any, x: np.ndarray) -> None:
    grad = np.random.default_rng(x.size).standard_normal(x.shape).astype(np.float32)
    expected_out, expected_grad = torch_pass(fn, x, grad)
    forward, backward = ACTIVATIONS[name]
    out = forward(x, **kw)
    grad_input = backward(grad, x, **kw)
    for ours, theirs in ((out, expected_out), (grad_input, expected_grad)):
        assert ours.shape == x.shape and ours.dtype == np.float32
        # PyTorch works in float32: a saturated gradient such as grad * (1 - tanh(x)**2)
        # is off by up to float32's epsilon times grad there (the engine uses float64).
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    # The name dispatch is the same function.
    np.testing.assert_array_equal(activation(name, x, **kw), out)
    np.testing.assert_array_equal(activation_backward(name, grad, x, **kw), grad_input)


@pytest.mark.parametrize(("name", "kw", "fn"), CASES, ids=IDS)
def test_activation_at_zero_and_in_the_tails_matches_torch(
    name: str, kw: dict[str, float], fn: Any
) -> None:
    check_against_torch(name, kw, fn, EDGES)


@pytest.mark.parametrize(("name", "kw", "fn"), CASES, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5),
        elements=st.floats(-30, 30, width=32) | st.sampled_from([0.0, -0.0]),
    )
)
def test_activation_matches_torch_on_any_shape(
    name: str, kw: dict[str, float], fn: Any, x: np.ndarray
) -> None:
    check_against_torch(name, kw, fn, x)


def test_gradients_at_the_kink_are_pytorchs() -> None:
    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    ones = np.ones(3, dtype=np.float32)
    np.testing.assert_array_equal(activations.relu_backward(ones, x), [0, 0, 1])
    np.testing.assert_array_equal(
        activations.leaky_relu_backward(ones, x, 0.1), np.float32([0.1, 0.1, 1])
    )
    np.testing.assert_allclose(activations.sigmoid_backward(ones, x)[1], 0.25)
    np.testing.assert_allclose(activations.tanh_backward(ones, x)[1], 1.0)


def test_relu_keeps_nan_and_negative_zero_like_torch() -> None:
    x = np.array([np.nan, -0.0, -1.0, 1.0], dtype=np.float32)
    out = activations.relu(x)
    expected = F.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))


def test_sigmoid_does_not_overflow() -> None:
    """filterwarnings=error would turn numpy's overflow warning into a failure."""
    x = np.array([-1e30, -100.0, 100.0, 1e30], dtype=np.float32)
    out = activations.sigmoid(x)
    # PyTorch's float32 exp overflows to give 0 at -100; float64 gives the subnormal 3.7e-44.
    np.testing.assert_allclose(out, torch.sigmoid(torch.from_numpy(x)).numpy(), atol=1e-38)
    np.testing.assert_array_equal(out, [0, np.float32(3.72e-44), 1, 1])


def test_nested_lists_are_accepted_and_give_float32() -> None:
    out = activation("leaky_relu", [[-2, 0], [3, -4]], negative_slope=0.5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[-1, 0], [3, -2]])


def test_the_table_lists_the_four_functions() -> None:
    assert list(ACTIVATIONS) == ["relu", "leaky_relu", "sigmoid", "tanh"]
    assert activation("leaky_relu", [-1.0])[0] == pytest.approx(-0.01)  # PyTorch's default


ERRORS = [
    # (call, error type, field, fragments of the message: what is wrong, how to fix)
    (
        lambda: activation("gelu", [1.0]),
        ParameterError,
        "function",
        ["unknown activation 'gelu'", "use one of relu, leaky_relu, sigmoid, tanh"],
    ),
    (
        lambda: activation_backward("Relu", [1.0], [1.0]),
        ParameterError,
        "function",
        ["unknown activation 'Relu'", "use one of relu, leaky_relu, sigmoid, tanh"],
    ),
    (
        lambda: activation("relu", [1.0], negative_slope=0.1),
        ParameterError,
        "negative_slope",
        ["relu takes no parameters", "remove negative_slope"],
    ),
    (
        lambda: activation_backward("leaky_relu", [1.0], [1.0], slope=0.1),
        ParameterError,
        "slope",
        ["leaky_relu takes only negative_slope", "remove slope"],
    ),
    (
        lambda: activations.leaky_relu([1.0], float("nan")),
        ParameterError,
        "negative_slope",
        ["must be a finite number, got nan", "default is 0.01"],
    ),
    (
        lambda: activations.leaky_relu([1.0], "0.1"),
        ParameterError,
        "negative_slope",
        ["must be a finite number, got '0.1'"],
    ),
    (
        lambda: activations.leaky_relu_backward([1.0], [1.0], True),
        ParameterError,
        "negative_slope",
        ["got True"],
    ),
    (
        lambda: activations.relu([[1, 2], [3]]),
        ShapeError,
        "input",
        ["rectangular array of numbers"],
    ),
    (lambda: activations.tanh(np.zeros((2, 0))), ShapeError, "input", ["is empty"]),
    (
        lambda: activations.sigmoid_backward([1.0, 2.0], [1.0, 2.0, 3.0]),
        ShapeError,
        "grad_output",
        ["has shape (2,) but input has shape (3,)", "give a tensor of shape (3,)"],
    ),
    (
        lambda: activation_backward("relu", np.zeros((2, 3)), np.zeros((3, 2))),
        ShapeError,
        "grad_output",
        ["has shape (2, 3) but input has shape (3, 2)"],
    ),
]


@pytest.mark.parametrize(("call", "error", "field", "fragments"), ERRORS)
def test_activation_errors_name_the_field_and_say_how_to_fix(
    call: Any, error: type[EngineError], field: str, fragments: list[str]
) -> None:
    with pytest.raises(error) as err:
        call()
    assert type(err.value) is error
    assert err.value.field == field
    for fragment in fragments:
        assert fragment in err.value.message
