"""Scenes the export tests share: the lecture's slides and a few harder shapes."""

from __future__ import annotations

import numpy as np

from app.export.scene import (
    Scene,
    avg_pool2d_scene,
    conv2d_scene,
    conv_transpose2d_scene,
    max_pool2d_scene,
)

# SLIDES.md, slide 6.
PADDING_INPUT = [
    [2, 2, 3, 3, 3],
    [0, 1, 3, 0, 3],
    [2, 3, 0, 1, 3],
    [3, 3, 2, 1, 2],
    [3, 3, 0, 2, 3],
]
PADDING_KERNEL = [[2, 0, 1], [1, 0, 0], [0, 1, 1]]
PADDING_OUTPUT = [[1, 5, 6], [7, 8, 3], [3, 10, 4]]
DIAGONAL = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]


def padding_scene() -> Scene:
    return conv2d_scene(PADDING_INPUT, PADDING_KERNEL, stride=2, padding=1)


def x_glyph() -> np.ndarray:
    """SLIDES.md, slide 5: background -1, the two diagonals of rows 1..7 are +1."""
    g = -np.ones((9, 9))
    for i in range(1, 8):
        g[i, i] = g[i, 8 - i] = 1
    return g


def assorted_scenes() -> dict[str, Scene]:
    """One scene per drawing case: mean, several channels with bias, dilation with
    reflect padding, transposed, max pooling with -inf padding, ceil_mode overhang."""
    rng = np.random.default_rng(5)
    feature_map = conv2d_scene(x_glyph(), DIAGONAL, reduce="mean").output
    return {
        "padding": padding_scene(),
        "xo_mean": conv2d_scene(x_glyph(), DIAGONAL, reduce="mean"),
        "channels_bias": conv2d_scene(
            rng.integers(0, 9, (3, 5, 5)).astype(float),
            rng.integers(-1, 2, (2, 3, 3, 3)).astype(float),
            bias=[0.5, -1.0],
            padding=1,
            stride=2,
        ),
        "dilation_reflect": conv2d_scene(
            np.arange(49.0).reshape(7, 7) / 10,
            [[1, -1], [0.5, 2]],
            dilation=2,
            padding=(1, 2, 0, 1),
            padding_mode="reflect",
        ),
        "transposed": conv_transpose2d_scene(
            [[1, 2], [3, 4]], [[1, 0, 1], [0, 1, 0], [1, 1, 0]], stride=2, padding=1
        ),
        "max_pool_ceil": max_pool2d_scene(feature_map, 2, 2, ceil_mode=True),
        "max_pool_padding": max_pool2d_scene(np.arange(32.0).reshape(2, 4, 4), 3, 2, padding=1),
        "avg_pool": avg_pool2d_scene(
            np.arange(25.0).reshape(5, 5), 2, 2, ceil_mode=True, count_include_pad=False
        ),
    }
