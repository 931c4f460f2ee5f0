"""Pillow's built-in font (Aileron, embedded in Pillow) at any size, cached.

No font file is downloaded or shipped: ``ImageFont.load_default(size=...)`` needs
only Pillow built with FreeType. Its digits are tabular (all one width), so a
number's width follows from its characters. It lacks ``×``, ``∗``, ``→`` and
``−``; the frames use ``·``, ``*``, ``=`` and ``-`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from PIL import ImageFont

_REFERENCE_SIZE = 100


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """The built-in font at ``size`` pixels (at least 1)."""
    loaded = ImageFont.load_default(size=max(1, int(size)))
    assert isinstance(loaded, ImageFont.FreeTypeFont), "Pillow was built without FreeType"
    return loaded


def text_width(text: str, size: int) -> float:
    """Width of ``text`` in pixels at ``size``."""
    return float(font(size).getlength(text))


@lru_cache(maxsize=64)
def measure(size: int) -> Callable[[str], float]:
    """A fast ``text_width`` at ``size``: the sum of cached character widths.

    Exact for this font: Pillow's basic layout applies no kerning, so a string is as
    wide as its characters (a test checks it). Wrapping a long sum measures many
    strings per frame; FreeType's ``getlength`` costs far more per call than a sum.
    """
    widths: dict[str, float] = {}
    loaded = font(size)

    def width(text: str) -> float:
        total = 0.0
        for char in text:
            w = widths.get(char)
            if w is None:
                w = widths[char] = float(loaded.getlength(char))
            total += w
        return total

    return width


def fit_size(texts: list[str], width: float, largest: float) -> int:
    """The largest font size (at most ``largest``) at which every text is at most ``width``."""
    widest = max((text_width(t, _REFERENCE_SIZE) for t in texts), default=0.0)
    if widest <= 0:
        return max(1, int(largest))
    return max(1, int(min(largest, width * _REFERENCE_SIZE / widest)))
