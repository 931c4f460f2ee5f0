"""A seeded generator of X and O glyphs to train the X/O network on.

Every glyph is a ``size x size`` grid of -1 (background) with +1 strokes, like the
lecture's (slide 5): an X is the two diagonals of a square, an O a ring with cut
corners (the preset O). Variety comes from three sources, each bounded by an
argument so the page can show what the network was trained on:

- the square's side, from ``sides`` (odd, so an X has a centre cell);
- its position: up to ``max_shift`` cells off centre in each direction, never
  past the edge (slide 4's shifts);
- noise: each cell flips sign with probability ``noise``.

The same ``seed`` gives the same glyphs on every machine (numpy's PCG64).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.engine.errors import ParameterError

DEFAULT_SIDES = (5, 7)


def draw_glyph(kind: str, side: int, top: int, left: int, size: int = 9) -> np.ndarray:
    """One clean glyph: an ``X`` or ``O`` of ``side`` cells with its corner at ``(top, left)``.

    Parameters
    ----------
    kind : {"X", "O"}
    side : int
        At least 3, at most ``size``.
    top, left : int
        The square's top-left cell; it must fit inside the grid.
    size : int
        The grid's height and width.

    Returns
    -------
    ndarray of float32, shape (size, size)
        -1 background, +1 strokes. ``draw_glyph("X", 7, 1, 1)`` is the lecture's X
        and ``draw_glyph("O", 7, 1, 1)`` the preset O.
    """
    if kind not in ("X", "O"):
        raise ParameterError(
            "kind",
            f"unknown glyph {kind!r}; use 'X' or 'O'",
            code="unknown_choice",
            params={"choices": "X, O"},
        )
    if not 3 <= side <= size or not (0 <= top <= size - side and 0 <= left <= size - side):
        raise ParameterError(
            "sides",
            f"a {side}-cell glyph at ({top}, {left}) does not fit a {size}x{size} grid",
            code="glyph_does_not_fit",
            params={"side": side, "size": size},
        )
    grid = -np.ones((size, size), dtype=np.float32)
    i = np.arange(side)
    if kind == "X":
        grid[top + i, left + i] = 1
        grid[top + i, left + side - 1 - i] = 1
    else:
        inner = np.arange(1, side - 1)
        grid[top, left + inner] = grid[top + side - 1, left + inner] = 1
        grid[top + inner, left] = grid[top + inner, left + side - 1] = 1
    return grid


def shift_glyph(glyph: np.ndarray, dy: int, dx: int, fill: float | None = None) -> np.ndarray:
    """``glyph`` moved ``dy`` rows down and ``dx`` columns right (negative: up, left).

    Cells shifted out are lost; cells shifted in hold ``fill``, by default the
    glyph's smallest value (its background, -1 for the lecture's glyphs, 0 for a
    0..1 drawing). The shape is kept, so the network sees the same grid size.

    Parameters
    ----------
    glyph : ndarray of shape (H, W)
    dy, dx : int
    fill : float, optional

    Returns
    -------
    ndarray of float32, shape (H, W)
    """
    h, w = glyph.shape
    background = float(glyph.min()) if fill is None else fill
    out = np.full((h, w), background, dtype=np.float32)
    if abs(dy) < h and abs(dx) < w:
        out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = glyph[
            max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
        ]
    return out


def _check(count: int, noise: float, max_shift: int, sides: Sequence[int], size: int) -> None:
    if count < 1:
        raise ParameterError(
            "samples",
            f"must be at least 1, got {count}",
            code="at_least",
            params={"min": 1, "actual": count},
        )
    if not 0 <= noise <= 0.5:
        raise ParameterError(
            "noise",
            f"must be in [0, 0.5] (a flip probability), got {noise}",
            code="in_range",
            params={"min": 0, "max": 0.5, "actual": float(noise)},
        )
    if max_shift < 0:
        raise ParameterError(
            "max_shift",
            f"must be at least 0, got {max_shift}",
            code="at_least",
            params={"min": 0, "actual": max_shift},
        )
    if not sides or any(not 3 <= s <= size for s in sides):
        raise ParameterError(
            "sides",
            f"each side must be in 3..{size}, got {list(sides)}",
            code="in_range",
            params={"min": 3, "max": size, "actual": str(list(sides))[:40]},
        )


def generate(
    count: int,
    seed: int | np.random.SeedSequence,
    *,
    noise: float = 0.05,
    max_shift: int = 1,
    sides: Sequence[int] = DEFAULT_SIDES,
    size: int = 9,
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` glyphs, half X and half O (in random order), with their labels.

    Parameters
    ----------
    count : int
    seed : int
    noise : float
        Probability that a cell flips sign, in [0, 0.5].
    max_shift : int
        Largest offset from the centred position, in cells, per axis.
    sides : sequence of int
        The squares' sides to draw from.
    size : int

    Returns
    -------
    glyphs : ndarray of float32, shape (count, size, size)
    labels : ndarray of int64, shape (count,)
        0 for X, 1 for O (the order of ``app.engine.xo_net.CLASSES``).
    """
    _check(count, noise, max_shift, sides, size)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 2).astype(np.int64)
    glyphs = np.empty((count, size, size), dtype=np.float32)
    chosen = rng.choice(np.asarray(sides), size=count)
    offsets = rng.integers(-max_shift, max_shift + 1, size=(count, 2))
    for n in range(count):
        side = int(chosen[n])
        centre = (size - side) // 2
        top, left = (int(np.clip(centre + o, 0, size - side)) for o in offsets[n])
        glyphs[n] = draw_glyph("XO"[labels[n]], side, top, left, size)
    flips = rng.random(glyphs.shape) < noise
    glyphs[flips] *= -1
    return glyphs, labels


__all__ = ["DEFAULT_SIDES", "draw_glyph", "generate", "shift_glyph"]
