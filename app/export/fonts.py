"""DejaVu Sans, shipped beside this module with its licence, at any size, cached.

Exported frames speak the page's language, so the font must have Cyrillic as well as
``×`` and ``−``: Pillow's built-in font (Aileron) has neither. DejaVu Sans has both,
is freely licensed (Bitstream Vera licence, DejaVu changes public domain; see
``fonts_data/LICENSE-DejaVu.txt``) and is shipped rather than looked up on the
system, so a slim Docker image draws the same frames. Its digits are tabular (all
one width), so a number's width follows from its characters.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_FILE = Path(__file__).with_name("fonts_data") / "DejaVuSans.ttf"
_REFERENCE_SIZE = 100


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at ``size`` pixels (at least 1), laid out without kerning.

    Basic layout (not Raqm) keeps :func:`measure`'s sum of character widths exact.
    """
    return ImageFont.truetype(
        str(FONT_FILE), size=max(1, int(size)), layout_engine=ImageFont.Layout.BASIC
    )


def text_width(text: str, size: int) -> float:
    """Width of ``text`` in pixels at ``size``."""
    return float(font(size).getlength(text))


@lru_cache(maxsize=64)
def measure(size: int) -> Callable[[str], float]:
    """A fast ``text_width`` at ``size``: the sum of cached character widths.

    Within a pixel of ``getlength``: basic layout adds only the font's pair kerning,
    a fraction of a pixel per pair on these strings (a test checks it). Wrapping a long
    sum measures many strings per frame; FreeType's ``getlength`` costs far more per
    call than a sum.
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
