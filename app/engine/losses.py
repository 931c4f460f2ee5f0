"""Losses and their gradients: what the backward pass starts from.

Each loss is written beside its gradient, as ``torch.nn.functional`` defines it:

- :func:`mse` is ``F.mse_loss(output, target)`` with ``reduction="mean"``;
- :func:`sum_loss` is ``output.sum()``: every output cell gets ``dE/dO = 1``, the
  simplest loss to watch a backward pass with (the lecture's slide 11);
- :func:`cross_entropy` is ``F.cross_entropy(logits, labels)`` over a batch, with
  :func:`softmax` for the class probabilities (the X/O network's vote).

The third case of the backward view, a hand-set ``dE/dO``, needs no loss at all.
Losses are summed in float64 and returned as Python floats (one number for a plot);
gradients are float32 like every other engine tensor.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from app.engine.errors import ParameterError, ShapeError
from app.engine.tensors import as_array, check_shape, shape_text

LOSSES = ("mse", "sum")
"""The losses a conv layer's output can be scored with (see :func:`loss_and_grad`)."""


def mse(output: ArrayLike, target: ArrayLike) -> float:
    """Mean squared error, ``mean((output - target)**2)``.

    Parameters
    ----------
    output : array_like of any shape
    target : array_like of the shape of ``output``

    Returns
    -------
    float
    """
    o, t = _pair(output, target)
    diff = (o.astype(np.float64) - t).ravel()
    return float(diff @ diff) / diff.size  # np.mean's bookkeeping costs more on small maps


def mse_backward(output: ArrayLike, target: ArrayLike) -> np.ndarray:
    """Gradient of :func:`mse` with respect to ``output``: ``2 * (output - target) / N``.

    Parameters
    ----------
    output : array_like of any shape
    target : array_like of the shape of ``output``

    Returns
    -------
    ndarray of float32, the shape of ``output``
        ``dE/dO``; ``N`` is the number of cells (the mean divides by it).
    """
    o, t = _pair(output, target)
    return (2.0 * (o.astype(np.float64) - t) / o.size).astype(np.float32)


def _pair(output: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    o = as_array(output, "output", np.float32)
    t = as_array(target, "target", np.float32)
    check_shape(t, o.shape, "target", "the output")
    return o, t


def sum_loss(output: ArrayLike) -> float:
    """``output.sum()``: the loss whose gradient is 1 for every output cell.

    Parameters
    ----------
    output : array_like of any shape

    Returns
    -------
    float
    """
    return float(as_array(output, "output", np.float32).sum(dtype=np.float64))


def sum_loss_backward(output: ArrayLike) -> np.ndarray:
    """Gradient of :func:`sum_loss`: ones shaped like ``output`` (float32)."""
    return np.ones_like(as_array(output, "output", np.float32))


def loss_and_grad(
    kind: str, output: ArrayLike, target: ArrayLike | None = None
) -> tuple[float, np.ndarray]:
    """One of :data:`LOSSES` and its ``dE/dO``, by name.

    Parameters
    ----------
    kind : {"mse", "sum"}
    output : array_like of any shape
    target : array_like of the shape of ``output``, optional
        Required for ``"mse"``, ignored by ``"sum"``.

    Returns
    -------
    loss : float
    grad_output : ndarray of float32, the shape of ``output``
    """
    if kind == "mse":
        if target is None:
            raise ParameterError(
                "target",
                "the mse loss needs a target shaped like the output",
                code="needs_one_target",
            )
        return mse(output, target), mse_backward(output, target)
    if kind == "sum":
        return sum_loss(output), sum_loss_backward(output)
    raise ParameterError(
        "loss",
        f"unknown loss {kind!r}; use one of {', '.join(LOSSES)}",
        code="unknown_choice",
        params={"choices": ", ".join(LOSSES)},
    )


# --------------------------------------------------------------------------- classification


def softmax(logits: ArrayLike) -> np.ndarray:
    """Class probabilities along the last axis, ``exp(z) / sum(exp(z))``.

    Parameters
    ----------
    logits : array_like of shape (..., K)

    Returns
    -------
    ndarray of float32, shape (..., K)
        Each row sums to 1. The row maximum is subtracted first, so large logits
        never overflow.
    """
    return _softmax64(as_array(logits, "logits", np.float64)).astype(np.float32)


def _softmax64(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _labels(logits: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(N, K)`` float64 logits and ``(N,)`` int labels, checked against each other."""
    z = as_array(logits, "logits", np.float64)
    if z.ndim != 2:
        raise ShapeError(
            "logits",
            f"must have shape (N, K), got {shape_text(z.shape)}; add the batch axis",
            code="wrong_shape",
            params={"expected": "(N, K)", "actual": shape_text(z.shape)},
        )
    y = np.asarray(labels)
    if y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ShapeError(
            "labels",
            f"must be {z.shape[0]} integer class numbers, one per row of logits",
            code="count_mismatch",
            params={"given": int(y.size), "needed": int(z.shape[0])},
        )
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise ParameterError(
            "labels",
            f"class numbers must lie in 0..{z.shape[1] - 1}",
            code="values_in_range",
            params={"min": 0, "max": int(z.shape[1]) - 1},
        )
    return z, y.astype(np.int64)


def cross_entropy(logits: ArrayLike, labels: ArrayLike) -> float:
    """Mean negative log-probability of the right class, as ``F.cross_entropy``.

    Parameters
    ----------
    logits : array_like of shape (N, K)
        Unnormalised class scores.
    labels : array_like of int, shape (N,)
        The right class of each row, ``0 <= labels < K``.

    Returns
    -------
    float
        ``mean_n( logsumexp(z_n) - z_n[labels_n] )``.
    """
    z, y = _labels(logits, labels)
    top = z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))


def cross_entropy_backward(logits: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits.

    Returns
    -------
    ndarray of float32, shape (N, K)
        ``(softmax(z) - onehot(labels)) / N``: each row pushes its right class up
        and the others down, in proportion to how wrong the vote was.
    """
    z, y = _labels(logits, labels)
    grad = _softmax64(z)
    grad[np.arange(len(y)), y] -= 1.0
    return (grad / len(y)).astype(np.float32)


__all__ = [
    "LOSSES",
    "cross_entropy",
    "cross_entropy_backward",
    "loss_and_grad",
    "mse",
    "mse_backward",
    "softmax",
    "sum_loss",
    "sum_loss_backward",
]
