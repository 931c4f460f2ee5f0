"""Element-wise activations and their gradients, as ``torch.nn.functional``.

Each forward is written beside its backward. Every function takes an array of any
shape and returns float32 of the same shape; ``sigmoid`` and ``tanh`` are evaluated
in float64 and rounded once, so a saturated gradient such as ``1 - tanh(8.5)**2``
keeps its digits instead of cancelling to a multiple of float32's epsilon. The
backward takes the forward's *input* ``x`` (not its output), so the page can ask for
either pass with the same tensors; at the kink ``x == 0`` the gradients are
PyTorch's: ``relu`` passes 0, ``leaky_relu`` passes ``negative_slope``.

:data:`ACTIVATIONS` maps each name to its ``(forward, backward)`` pair;
:func:`activation` and :func:`activation_backward` dispatch on a name.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from app.engine.errors import ParameterError
from app.engine.tensors import as_array, check_shape


def _input(x: ArrayLike) -> np.ndarray:
    return as_array(x, "input", np.float32)


def _grad(grad_output: ArrayLike, x: np.ndarray) -> np.ndarray:
    grad = as_array(grad_output, "grad_output", np.float32)
    check_shape(grad, x.shape, "grad_output", "input")
    return grad


def _slope(negative_slope: float) -> np.float32:
    if (
        isinstance(negative_slope, bool)
        or not isinstance(negative_slope, int | float | np.integer | np.floating)
        or not math.isfinite(negative_slope)
    ):
        raise ParameterError(
            "negative_slope",
            f"must be a finite number, got {negative_slope!r}; PyTorch's default is 0.01",
            code="not_finite",
        )
    return np.float32(negative_slope)


def relu(x: ArrayLike) -> np.ndarray:
    """``max(x, 0)``, element-wise; like PyTorch, NaN stays NaN and -0.0 stays -0.0.

    Parameters
    ----------
    x : array_like of any shape

    Returns
    -------
    ndarray of the shape of ``x``, float32
    """
    x = _input(x)
    return np.where(x < 0, np.float32(0), x)


def relu_backward(grad_output: ArrayLike, x: ArrayLike) -> np.ndarray:
    """Gradient of :func:`relu`: ``grad_output * (x > 0)`` (0 at ``x == 0``, as PyTorch).

    Parameters
    ----------
    grad_output : array_like of the shape of ``x``
        dE/d(output).
    x : array_like of any shape
        The forward pass's input.

    Returns
    -------
    ndarray of the shape of ``x``, float32
        dE/dx.
    """
    x = _input(x)
    grad = _grad(grad_output, x)
    return np.where(x > 0, grad, np.float32(0))


def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> np.ndarray:
    """``x`` where ``x > 0``, else ``negative_slope * x``, element-wise.

    Parameters
    ----------
    x : array_like of any shape
    negative_slope : float
        Slope for ``x <= 0`` (any finite number; PyTorch's default 0.01).

    Returns
    -------
    ndarray of the shape of ``x``, float32
    """
    slope = _slope(negative_slope)
    x = _input(x)
    return np.where(x > 0, x, x * slope)


def leaky_relu_backward(
    grad_output: ArrayLike, x: ArrayLike, negative_slope: float = 0.01
) -> np.ndarray:
    """Gradient of :func:`leaky_relu`: ``grad_output`` where ``x > 0``, else
    ``grad_output * negative_slope`` (so at ``x == 0`` the slope, as PyTorch).

    Parameters
    ----------
    grad_output : array_like of the shape of ``x``
        dE/d(output).
    x : array_like of any shape
        The forward pass's input.
    negative_slope : float
        As in the forward pass.

    Returns
    -------
    ndarray of the shape of ``x``, float32
        dE/dx.
    """
    slope = _slope(negative_slope)
    x = _input(x)
    grad = _grad(grad_output, x)
    return np.where(x > 0, grad, grad * slope)


def sigmoid(x: ArrayLike) -> np.ndarray:
    """``1 / (1 + exp(-x))``, element-wise, without overflow for large ``|x|``.

    Parameters
    ----------
    x : array_like of any shape

    Returns
    -------
    ndarray of the shape of ``x``, float32, in [0, 1]
    """
    return _sigmoid(_input(x)).astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """float64 sigmoid; exp(-|x|) never overflows, and for x < 0 the same value is
    exp(x) / (1 + exp(x))."""
    x = x.astype(np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(grad_output: ArrayLike, x: ArrayLike) -> np.ndarray:
    """Gradient of :func:`sigmoid`: ``grad_output * y * (1 - y)`` with ``y = sigmoid(x)``.

    Parameters
    ----------
    grad_output : array_like of the shape of ``x``
        dE/d(output).
    x : array_like of any shape
        The forward pass's input.

    Returns
    -------
    ndarray of the shape of ``x``, float32
        dE/dx.
    """
    x = _input(x)
    grad = _grad(grad_output, x)
    y = _sigmoid(x)
    return (grad * ((1 - y) * y)).astype(np.float32)


def tanh(x: ArrayLike) -> np.ndarray:
    """``tanh(x)``, element-wise.

    Parameters
    ----------
    x : array_like of any shape

    Returns
    -------
    ndarray of the shape of ``x``, float32, in [-1, 1]
    """
    return np.tanh(_input(x).astype(np.float64)).astype(np.float32)


def tanh_backward(grad_output: ArrayLike, x: ArrayLike) -> np.ndarray:
    """Gradient of :func:`tanh`: ``grad_output * (1 - y**2)`` with ``y = tanh(x)``.

    Parameters
    ----------
    grad_output : array_like of the shape of ``x``
        dE/d(output).
    x : array_like of any shape
        The forward pass's input.

    Returns
    -------
    ndarray of the shape of ``x``, float32
        dE/dx.
    """
    x = _input(x)
    grad = _grad(grad_output, x)
    y = np.tanh(x.astype(np.float64))
    return (grad * (1 - y * y)).astype(np.float32)


Activation = Callable[..., np.ndarray]

#: name -> (forward, backward); the forward takes ``(x, **kw)``, the backward
#: ``(grad_output, x, **kw)``, where ``kw`` is ``negative_slope`` for ``leaky_relu``.
ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
}


def _lookup(name: str, kw: dict[str, object]) -> tuple[Activation, Activation]:
    """The pair for ``name``; a ParameterError for an unknown name or keyword."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ParameterError(
            "function",
            f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}",
            code="unknown_choice",
            params={"choices": ", ".join(ACTIVATIONS)},
        )
    pair = ACTIVATIONS[name]
    accepted = list(inspect.signature(pair[0]).parameters)[1:]
    for key in kw:
        if key not in accepted:
            takes = f"takes only {', '.join(accepted)}" if accepted else "takes no parameters"
            raise ParameterError(
                key, f"{name} {takes}; remove {key}", code="unused_parameter", params={"by": name}
            )
    return pair


def activation(name: str, x: ArrayLike, **kw: float) -> np.ndarray:
    """Apply the activation called ``name`` (a key of :data:`ACTIVATIONS`) to ``x``.

    Raises
    ------
    ParameterError
        ``function`` for an unknown name (the message lists the valid ones), or the
        keyword's own name for a keyword the activation does not take.
    """
    forward, _ = _lookup(name, kw)
    return forward(x, **kw)


def activation_backward(name: str, grad_output: ArrayLike, x: ArrayLike, **kw: float) -> np.ndarray:
    """The gradient of the activation called ``name`` at ``x``; see :func:`activation`."""
    _, backward = _lookup(name, kw)
    return backward(grad_output, x, **kw)
