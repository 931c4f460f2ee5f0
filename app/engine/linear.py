"""The fully connected (dense) layer, as ``torch.nn.functional.linear``, forward and
backward side by side, and ``flatten`` with its inverse.

A batch of ``B`` rows of ``F_in`` features becomes ``B`` rows of ``F_out``:
``y = x @ W.T + b`` with ``W`` shaped ``(F_out, F_in)``, PyTorch's layout (row ``o``
of ``W`` holds the weights of output ``o``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from app.engine.errors import ShapeError
from app.engine.tensors import as_array, shape_text


def _check(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    if weight.ndim != 2:
        raise ShapeError(
            "weight",
            f"must have shape (F_out, F_in), got {shape_text(weight.shape)}",
            code="wrong_shape",
            params={"expected": "(F_out, F_in)", "actual": shape_text(weight.shape)},
        )
    if x.ndim != 2:
        raise ShapeError(
            "input",
            f"must have shape (B, F_in), got {shape_text(x.shape)}; flatten it first",
            code="wrong_shape",
            params={"expected": "(B, F_in)", "actual": shape_text(x.shape)},
        )
    if x.shape[1] != weight.shape[1]:
        raise ShapeError(
            "weight",
            f"takes {weight.shape[1]} features but the input has {x.shape[1]};"
            f" use a weight of shape ({weight.shape[0]}, {x.shape[1]})",
            code="features_mismatch",
            params={"needed": int(weight.shape[1]), "actual": int(x.shape[1])},
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(
            "bias",
            f"must have shape ({weight.shape[0]},), got {shape_text(bias.shape)}",
            code="wrong_shape",
            params={"expected": f"({weight.shape[0]},)", "actual": shape_text(bias.shape)},
        )


def linear(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> np.ndarray:
    """``F.linear``: ``input @ weight.T + bias``.

    Parameters
    ----------
    input : array_like, shape (B, F_in)
    weight : array_like, shape (F_out, F_in)
    bias : array_like, shape (F_out,), optional

    Returns
    -------
    ndarray of float32, shape (B, F_out)
    """
    x = as_array(input, "input", np.float32)
    w = as_array(weight, "weight", np.float32)
    b = None if bias is None else as_array(bias, "bias", np.float32)
    _check(x, w, b)
    y = x @ w.T
    if b is not None:
        y += b
    return y


def linear_backward(
    grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, has_bias: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`linear` with respect to input, weight and bias.

    Parameters
    ----------
    grad_output : array_like, shape (B, F_out)
        ``dE/dy``.
    input : array_like, shape (B, F_in)
    weight : array_like, shape (F_out, F_in)
    has_bias : bool
        Whether the forward had a bias (else the third result is None).

    Returns
    -------
    grad_input : (B, F_in) = dE/dy @ W
    grad_weight : (F_out, F_in) = dE/dy.T @ x       (summed over the batch)
    grad_bias : (F_out,) = dE/dy summed over the batch, or None
    """
    g = as_array(grad_output, "grad_output", np.float32)
    x = as_array(input, "input", np.float32)
    w = as_array(weight, "weight", np.float32)
    _check(x, w, None)
    if g.shape != (x.shape[0], w.shape[0]):
        raise ShapeError(
            "grad_output",
            f"must have shape ({x.shape[0]}, {w.shape[0]}), got {shape_text(g.shape)}",
            code="wrong_shape",
            params={"expected": f"({x.shape[0]}, {w.shape[0]})", "actual": shape_text(g.shape)},
        )
    grad_bias = g.sum(axis=0) if has_bias else None
    return g @ w, g.T @ x, grad_bias


def flatten(input: ArrayLike) -> np.ndarray:
    """``torch.flatten(x, 1)``: ``(B, C, H, W)`` (or any ``(B, ...)``) to ``(B, C*H*W)``,
    channel by channel, row by row."""
    x = as_array(input, "input", np.float32)
    return x.reshape(x.shape[0], -1)


def flatten_backward(grad_output: ArrayLike, input_shape: tuple[int, ...]) -> np.ndarray:
    """The gradient of :func:`flatten`: ``dE/dy`` reshaped back to the input's shape."""
    return as_array(grad_output, "grad_output", np.float32).reshape(input_shape)


__all__ = ["flatten", "flatten_backward", "linear", "linear_backward"]
