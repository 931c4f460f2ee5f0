"""Colours of the exported frames, and the small fixed palette the GIF uses.

The accent colours are Okabe & Ito's colour-blind-safe set: the sliding window
is orange/vermillion and the kernel and the filled output are blue, a pair that
stays distinct under every common colour-vision deficiency. Text keeps at least a
4.5:1 contrast ratio against the fill it is written on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

RGB = tuple[int, int, int]
ThemeName = Literal["light", "dark", "high-contrast"]


def _hex(code: str) -> RGB:
    return int(code[1:3], 16), int(code[3:5], 16), int(code[5:7], 16)


@dataclass(frozen=True)
class Theme:
    """The colours of one theme (``#rrggbb``) and its line-width factor.

    Attributes
    ----------
    background, text, muted, grid_line : str
        Page, numbers and titles, labels and padding numbers, cell borders.
    cell, padding, hatch : str
        Fill of an input cell, of a padding cell, and the hatch lines over padding.
    window, window_edge, product : str
        Fill of the window's cells (and of the output cell being computed), their
        outline, and the colour the products are written in.
    kernel, kernel_edge, output : str
        Fill of the kernel's cells, its outline, and the fill of a computed output cell.
    winner_edge : str
        Outline of the tap that wins a max pooling.
    line_scale : float
        Multiplies every line width (thicker lines for a projector).
    """

    background: str
    text: str
    muted: str
    grid_line: str
    cell: str
    padding: str
    hatch: str
    window: str
    window_edge: str
    product: str
    kernel: str
    kernel_edge: str
    output: str
    winner_edge: str
    line_scale: float = 1.0

    def rgb(self, name: str) -> RGB:
        """One colour of the theme as an ``(r, g, b)`` tuple."""
        return _hex(getattr(self, name))

    def palette(self) -> list[RGB]:
        """Every colour a frame can hold, for a GIF palette of a few dozen entries.

        Text is antialiased, so its edge pixels are blends of the text colour and
        the fill behind it; three blends per (text, fill) pair keep those edges
        smooth after quantisation while the palette stays far below 256 colours
        (fewer colours, smaller LZW codes, smaller GIF).
        """
        base = [_hex(getattr(self, f.name)) for f in fields(self) if f.name != "line_scale"]
        inks = [self.rgb(n) for n in ("text", "muted", "product")]
        fills = [
            self.rgb(n)
            for n in ("background", "cell", "padding", "hatch", "window", "kernel", "output")
        ]
        blends = [
            tuple(round(i * t + f * (1 - t)) for i, f in zip(ink, fill, strict=True))
            for ink in inks
            for fill in fills
            for t in (0.25, 0.5, 0.75)
        ]
        colours: list[RGB] = []
        for colour in [*base, *blends]:
            if colour not in colours:
                colours.append(colour)  # type: ignore[arg-type]
        return colours


THEMES: dict[str, Theme] = {
    "light": Theme(
        background="#ffffff",
        text="#111111",
        muted="#4d4d4d",
        grid_line="#707070",
        cell="#ffffff",
        padding="#dadada",
        hatch="#c4c4c4",
        window="#ffe0a8",
        window_edge="#d55e00",
        product="#8a3200",
        kernel="#d3eaf8",
        kernel_edge="#0072b2",
        output="#d3eaf8",
        winner_edge="#0072b2",
    ),
    "dark": Theme(
        background="#111418",
        text="#f5f5f5",
        muted="#b0b0b0",
        grid_line="#8a8f98",
        cell="#1c2027",
        padding="#363a42",
        hatch="#4a4f58",
        window="#5c3a00",
        window_edge="#e69f00",
        product="#ffd08a",
        kernel="#0b3a5a",
        kernel_edge="#56b4e9",
        output="#0b3a5a",
        winner_edge="#56b4e9",
    ),
    # For a washed-out projector: black text, saturated fills, thicker lines.
    "high-contrast": Theme(
        background="#ffffff",
        text="#000000",
        muted="#000000",
        grid_line="#000000",
        cell="#ffffff",
        padding="#bdbdbd",
        hatch="#9a9a9a",
        window="#f5b845",
        window_edge="#a33f00",
        product="#000000",
        kernel="#8ccbf0",
        kernel_edge="#004f8c",
        output="#8ccbf0",
        winner_edge="#004f8c",
        line_scale=1.6,
    ),
}
