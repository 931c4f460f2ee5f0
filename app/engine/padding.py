"""Padding of a ``(C, H, W)`` tensor in PyTorch's four modes, and its adjoint.

``zeros`` adds zeros; ``reflect`` mirrors without repeating the edge; ``replicate``
repeats the edge; ``circular`` wraps around. The backward pass of a padding sends
each padded cell's gradient back to the input cell it was copied from, so the
padded grid (what the page draws) and the gradient agree by construction: both
come from one map of source indices.
"""

from __future__ import annotations

import numpy as np

from app.engine.arithmetic import PADDING_MODES, Padding2d
from app.engine.errors import ParameterError

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def check_padding_mode(mode: str, padding: Padding2d, height: int, width: int) -> None:
    """Reject unknown modes and paddings a mode cannot produce (as PyTorch does)."""
    if mode not in PADDING_MODES:
        raise ParameterError(
            "padding_mode",
            f"unknown mode {mode!r}; use one of {', '.join(PADDING_MODES)}",
            code="unknown_choice",
            params={"choices": ", ".join(PADDING_MODES)},
        )
    if mode == "reflect" and (
        max(padding.top, padding.bottom) >= height or max(padding.left, padding.right) >= width
    ):
        raise ParameterError(
            "padding",
            f"reflect padding must be smaller than the input ({height}x{width}); use at most"
            f" {height - 1} rows and {width - 1} columns, or another padding_mode",
            code="reflect_padding_too_large",
            params={"rows": height, "cols": width, "max_h": height - 1, "max_w": width - 1},
        )
    if mode == "circular" and (
        max(padding.top, padding.bottom) > height or max(padding.left, padding.right) > width
    ):
        raise ParameterError(
            "padding",
            f"circular padding must be at most the input size ({height}x{width}); use at most"
            f" {height} rows and {width} columns, or another padding_mode",
            code="circular_padding_too_large",
            params={"rows": height, "cols": width},
        )


def source_index(height: int, width: int, padding: Padding2d, mode: str) -> np.ndarray:
    """For each cell of the padded ``H x W`` grid, the flat index ``h * W + w`` of the
    input cell it copies, or -1 for a zero.

    Returns an int64 array of shape ``(H + top + bottom, W + left + right)``.
    """
    index = np.arange(height * width, dtype=np.int64).reshape(height, width)
    widths = ((padding.top, padding.bottom), (padding.left, padding.right))
    if mode == "zeros":
        return np.pad(index, widths, mode="constant", constant_values=-1)
    return np.pad(index, widths, mode=_NUMPY_MODE[mode])


def pad2d(x: np.ndarray, padding: Padding2d, mode: str = "zeros") -> np.ndarray:
    """Pad the last two axes of ``x`` (shape ``(C, H, W)``).

    Returns shape ``(C, H + top + bottom, W + left + right)``.
    """
    if padding.is_zero:
        return x
    c, h, w = x.shape
    check_padding_mode(mode, padding, h, w)
    if mode == "zeros":
        # A zero grid and one copy: np.pad's general path costs ~50 us even for a
        # 5x5 slide, a tenth of a lecture request.
        padded = np.zeros(
            (c, h + padding.top + padding.bottom, w + padding.left + padding.right), dtype=x.dtype
        )
        padded[:, padding.top : padding.top + h, padding.left : padding.left + w] = x
        return padded
    widths = ((0, 0), (padding.top, padding.bottom), (padding.left, padding.right))
    return np.pad(x, widths, mode=_NUMPY_MODE[mode])


def pad2d_backward(grad_padded: np.ndarray, padding: Padding2d, mode: str = "zeros") -> np.ndarray:
    """Adjoint of :func:`pad2d`: fold the gradient of the padded grid onto the input.

    ``grad_padded`` has shape ``(C, Hp, Wp)``; returns ``(C, H, W)``.
    """
    if padding.is_zero:
        return grad_padded
    c, hp, wp = grad_padded.shape
    h = hp - padding.top - padding.bottom
    w = wp - padding.left - padding.right
    if mode == "zeros":
        return grad_padded[:, padding.top : padding.top + h, padding.left : padding.left + w]
    # One bincount over all channels: offset each channel's source indices by
    # its own block of h*w bins.
    index = source_index(h, w, padding, mode).ravel()
    offsets = (np.arange(c, dtype=np.int64) * (h * w))[:, None]
    flat = np.bincount(
        (index[None, :] + offsets).ravel(),
        weights=grad_padded.reshape(-1),
        minlength=c * h * w,
    )
    return flat.reshape(c, h, w).astype(grad_padded.dtype, copy=False)
