"""Turning arguments into arrays of the rank an operation expects.

Every operation takes tensors in PyTorch's layout without the batch axis. These
helpers convert nested lists or arrays to numpy, accept the shorter ranks the
page allows (a ``(H, W)`` image, a ``(kH, kW)`` kernel) and raise
:class:`~app.engine.errors.ShapeError` naming the argument when a tensor does
not fit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from app.engine.errors import ParameterError, ShapeError


def as_array(value: ArrayLike, field: str, dtype: DTypeLike = np.float32) -> np.ndarray:
    """``value`` as a numpy array of ``dtype``, or a ShapeError naming ``field``."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ShapeError(
            field,
            "must be a rectangular array of numbers (every row of the same length)",
            code="not_rectangular",
        ) from exc
    if array.size == 0:
        raise ShapeError(
            field,
            f"is empty (shape {shape_text(array.shape)}); give every axis at least one cell",
            code="empty",
            params={"shape": shape_text(array.shape)},
        )
    return array


def shape_text(shape: tuple[int, ...]) -> str:
    """``(3, 5, 5)`` -> ``"(3, 5, 5)"``; ``(4,)`` -> ``"(4,)"``."""
    return str(tuple(int(s) for s in shape))


def as_chw(
    value: ArrayLike, field: str = "input", dtype: DTypeLike = np.float32
) -> tuple[np.ndarray, bool]:
    """An image tensor as ``(C, H, W)``.

    Parameters
    ----------
    value : array_like of shape (C, H, W) or (H, W)
        A ``(H, W)`` array is one channel.
    field : str
        The argument's name, for the error.
    dtype : numpy dtype
        The dtype of the returned array.

    Returns
    -------
    array : ndarray of shape (C, H, W)
    was_2d : bool
        Whether ``value`` had no channel axis (so a result can drop it again).
    """
    array = as_array(value, field, dtype)
    if array.ndim == 2:
        return array[None], True
    if array.ndim == 3:
        return array, False
    raise ShapeError(
        field,
        f"must have shape (C, H, W) or (H, W), got {array.ndim} axes {shape_text(array.shape)};"
        " drop the batch axis or add a channel axis",
        code="wrong_shape",
        params={"expected": "(C, H, W) | (H, W)", "actual": shape_text(array.shape)},
    )


def as_weight(
    value: ArrayLike,
    field: str = "weight",
    dtype: DTypeLike = np.float32,
    layout: str = "(C_out, C_in/groups, kH, kW)",
) -> tuple[np.ndarray, bool]:
    """A convolution kernel as ``(A, B, kH, kW)``.

    Parameters
    ----------
    value : array_like of shape (A, B, kH, kW) or (kH, kW)
        A ``(kH, kW)`` array is one filter over one channel: ``(1, 1, kH, kW)``.
        ``A, B`` are ``C_out, C_in/groups`` for a convolution and
        ``C_in, C_out/groups`` for a transposed convolution, as in PyTorch.
    layout : str
        The 4-axis layout the error message names (a transposed convolution's
        differs from a convolution's).

    Returns
    -------
    array : ndarray of shape (A, B, kH, kW)
    was_2d : bool
        Whether ``value`` was a single ``(kH, kW)`` kernel.
    """
    array = as_array(value, field, dtype)
    if array.ndim == 2:
        return array[None, None], True
    if array.ndim == 4:
        return array, False
    raise ShapeError(
        field,
        f"must have shape {layout} or (kH, kW), got {array.ndim} axes"
        f" {shape_text(array.shape)}; give one (kH, kW) kernel or a full 4-axis weight",
        code="wrong_shape",
        params={"expected": f"{layout} | (kH, kW)", "actual": shape_text(array.shape)},
    )


def as_bias(
    value: ArrayLike | None, channels: int, field: str = "bias", dtype: DTypeLike = np.float32
) -> np.ndarray | None:
    """A bias of one number per output channel, shape ``(channels,)``, or None."""
    if value is None:
        return None
    array = as_array(value, field, dtype)
    if array.shape != (channels,):
        raise ShapeError(
            field,
            f"must hold one number per output channel, shape ({channels},), got"
            f" {shape_text(array.shape)}; give {channels} value{'s' * (channels != 1)} or no bias",
            code="wrong_shape",
            params={"expected": f"({channels},)", "actual": shape_text(array.shape)},
        )
    return array


def check_shape(array: np.ndarray, expected: tuple[int, ...], field: str, what: str) -> None:
    """Fail unless ``array.shape == expected``; ``what`` names the tensor it must match."""
    if tuple(array.shape) != tuple(expected):
        raise ShapeError(
            field,
            f"has shape {shape_text(array.shape)} but {what} has shape {shape_text(expected)};"
            f" give a tensor of shape {shape_text(expected)}",
            code="wrong_shape",
            params={"expected": shape_text(expected), "actual": shape_text(array.shape)},
        )


def as_grad_output(
    value: ArrayLike, output_shape: tuple[int, ...], dtype: DTypeLike = np.float32
) -> np.ndarray:
    """``dE/dO`` checked against the forward output's shape, returned as ``(C, H_out, W_out)``.

    ``output_shape`` is the forward output's shape as the caller sees it (2-D or 3-D).
    """
    array = as_array(value, "grad_output", dtype)
    check_shape(array, output_shape, "grad_output", "the forward output")
    return array.reshape(-1, output_shape[-2], output_shape[-1])


def check_groups(groups: int) -> int:
    """``groups`` as an int, or a ParameterError unless it is a positive integer."""
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ParameterError(
            "groups",
            f"must be a positive integer, got {groups!r}",
            code="at_least",
            params={"min": 1, "actual": str(groups)[:20]},
        )
    return int(groups)
