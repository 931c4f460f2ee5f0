"""The words and numbers written on a frame: number formatting and the written-out
sum of one step ("2·0 + 0·1 + ... = 1"), wrapped to fit a width.

Pure functions of a scene and a step; the width of a piece of text comes from a
``measure`` callable (the font's ``getlength``), so nothing here draws.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from app.export.scene import Scene, formula

TIMES = "·"
"""Multiplication sign. Pillow's built-in font has no ``×`` or ``∗`` glyph; it has ``·``."""

ELLIPSIS = "…"


def number(value: float) -> str:
    """A number as short as a grid cell needs: integers exact, others to 2 decimals.

    Display rounding only (the JSON export carries the exact values):
    ``7/9 -> "0.78"``, ``-1/9 -> "-0.11"``, ``3.0 -> "3"``, ``123.456 -> "123.5"``,
    ``1e-4 -> "1e-04"``.
    """
    v = float(value)
    if v == 0 or abs(v) < 5e-13:
        return "0"
    if abs(v - round(v)) < 1e-9 * max(1.0, abs(v)) and abs(v) < 1e9:
        return str(int(round(v)))
    a = abs(v)
    if a >= 1e6 or a < 0.005:
        return f"{v:.1e}".replace(".0e", "e")
    text = f"{v:.0f}" if a >= 1000 else f"{v:.1f}" if a >= 100 else f"{v:.2f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def factor(value: float) -> str:
    """:func:`number`, in parentheses when negative, so ``3·(-1)`` reads as a product."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def _signed(value: float) -> str:
    return f"- {number(-value)}" if value < 0 else f"+ {number(value)}"


def expression(scene: Scene, step: int) -> tuple[str, list[str], str, str]:
    """Step ``step``'s arithmetic as ``(head, terms, separator, tail)``.

    The written-out line is ``head + separator.join(terms) + tail``, e.g.
    ``("", ["2·0", "0·1", ...], " + ", " = 1")``; ``"max(", [...], ", ", ") = 3"``
    for max pooling; ``"(", [...], " + ", ") / 9 = 7 / 9 = 0.78"`` for a mean.
    """
    t = scene.trace
    taps = t.mask[step]
    result = number(t.result[step])
    if scene.op == "activation":
        assert scene.function is not None
        function, slope = scene.function
        x = float(t.values[step, 0])
        return "", [formula(function, slope, factor(x), number(x))], "", f" = {result}"
    if scene.op == "max_pool2d":
        return "max(", [number(v) for v in t.values[step][taps]], ", ", f") = {result}"
    if scene.op == "avg_pool2d":
        values = t.values[step][taps]
        divisor = int(t.divisor[step])  # type: ignore[index]
        total = number(values.sum())
        terms = [factor(v) for v in values]
        return "(", terms, " + ", f") / {divisor} = {total} / {divisor} = {result}"

    assert t.weights is not None and t.products is not None
    terms = [
        f"{factor(v)}{TIMES}{factor(w)}"
        for v, w in zip(t.values[step], t.weights[step], strict=True)
    ]
    raw = float(np.sum(t.products[step]))
    if t.divisor is not None:
        d = number(t.divisor[step])
        head, tail = "(", f") / {d} = {number(raw)} / {d} = {number(t.sums[step])}"
    else:
        head, tail = "", f" = {number(raw)}"
    if t.bias is not None:
        tail += f" {_signed(float(t.bias[step]))} = {result}"
    return head, terms, " + ", tail


def _pieces(head: str, terms: list[str], sep: str, tail: str) -> list[str]:
    pieces = [head + terms[0]] + [sep + term for term in terms[1:]] if terms else [head]
    # The tail may break before each " = ", " / ", " + " or " - ".
    return pieces + [p for p in re.split(r"(?= [=/+-] )", tail) if p]


def _lines(pieces: list[str], measure: Callable[[str], float], width: float) -> list[str]:
    """Greedy line filling. A line's width is taken as the sum of its pieces' widths:
    measuring each growing line again would take quadratic time on a long sum."""
    lines: list[str] = []
    line, used = "", 0.0
    for piece in pieces:
        if line and used + measure(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
            used = measure(line)
        else:
            line += piece
            used += measure(piece)
    lines.append(line.rstrip())
    return lines


def wrap(
    head: str,
    terms: list[str],
    sep: str,
    tail: str,
    measure: Callable[[str], float],
    width: float,
    max_lines: int,
) -> list[str]:
    """The expression broken at its separators into at most ``max_lines`` lines.

    When it does not fit, middle terms give way to ``"… (N more)"`` (the head, the
    first terms and the whole tail, with the result, always stay).
    """
    lines = _lines(_pieces(head, terms, sep, tail), measure, width)
    if len(lines) <= max_lines:
        return lines
    best = _lines(_pieces(head, [f"{ELLIPSIS} ({len(terms)} terms)"], sep, tail), measure, width)
    low, high = 1, len(terms) - 1  # the most leading terms that still fit, by bisection
    while low <= high:
        keep = (low + high) // 2
        shown = [*terms[:keep], f"{ELLIPSIS} ({len(terms) - keep} more)"]
        candidate = _lines(_pieces(head, shown, sep, tail), measure, width)
        if len(candidate) <= max_lines:
            best, low = candidate, keep + 1
        else:
            high = keep - 1
    return best[:max_lines]
