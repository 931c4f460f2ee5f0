"""Twenty hand-written digits as pen strokes, two styles of each, as a person draws them:
in the order a hand moves, in pad units (0..1, y down), not centred or sized alike.
The browser test draws them with pointer strokes (tests/browser/test_digits.py)."""

from __future__ import annotations

import math

Stroke = list[tuple[float, float]]


def arc(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 16
) -> Stroke:
    """Points along an ellipse, angles in turns (0 = right, 0.25 = down)."""
    return [
        (
            cx + rx * math.cos(2 * math.pi * (start + (end - start) * i / n)),
            cy + ry * math.sin(2 * math.pi * (start + (end - start) * i / n)),
        )
        for i in range(n + 1)
    ]


def figure_eight(cx: float, cy: float, w: float, h: float, n: int = 32) -> Stroke:
    """One stroke crossing itself in the middle (a lemniscate of Gerono), from the top."""
    return [
        (cx - w * math.sin(t) * math.cos(t), cy - h * math.cos(t))
        for t in (2 * math.pi * i / n for i in range(n + 1))
    ]


DRAWINGS: dict[str, list[list[Stroke]]] = {
    "0": [
        [arc(0.5, 0.5, 0.2, 0.33, -0.25, 0.78, 24)],  # an upright oval, from the top
        [arc(0.45, 0.55, 0.16, 0.26, -0.2, 0.85, 20)],  # smaller, lower left, a little open
    ],
    "1": [
        [[(0.5, 0.15), (0.5, 0.85)]],  # one straight stroke
        [[(0.38, 0.3), (0.55, 0.15), (0.55, 0.85)], [(0.4, 0.85), (0.7, 0.85)]],  # flag and base
    ],
    "2": [
        [arc(0.5, 0.33, 0.2, 0.17, 0.5, 1.08, 12) + [(0.3, 0.82), (0.74, 0.82)]],
        [arc(0.52, 0.38, 0.16, 0.15, 0.55, 1.1, 12) + [(0.34, 0.78), (0.7, 0.8)]],
    ],
    "3": [
        [arc(0.48, 0.31, 0.18, 0.15, 0.55, 1.25, 12) + arc(0.48, 0.65, 0.21, 0.19, 0.75, 1.45, 12)],
        [[(0.3, 0.2), (0.68, 0.2), (0.45, 0.46)] + arc(0.48, 0.64, 0.2, 0.19, 0.78, 1.45, 12)],
    ],
    "4": [
        [[(0.6, 0.16), (0.28, 0.6), (0.76, 0.6)], [(0.62, 0.36), (0.62, 0.86)]],  # closed
        [[(0.32, 0.16), (0.3, 0.52), (0.72, 0.52)], [(0.66, 0.18), (0.66, 0.86)]],  # open
    ],
    "5": [
        [[(0.7, 0.18), (0.36, 0.18), (0.33, 0.46)] + arc(0.5, 0.63, 0.2, 0.19, 0.65, 1.35, 12)],
        [
            [(0.36, 0.18), (0.34, 0.46)] + arc(0.5, 0.63, 0.19, 0.19, 0.65, 1.35, 12),
            [(0.36, 0.18), (0.7, 0.17)],
        ],
    ],
    "6": [
        [[(0.64, 0.16)] + arc(0.5, 0.64, 0.2, 0.2, 0.6, 1.6, 20)],
        [arc(0.6, 0.42, 0.26, 0.3, 0.75, 0.5, 8) + arc(0.48, 0.66, 0.18, 0.18, 0.5, 1.5, 18)],
    ],
    "7": [
        [[(0.28, 0.18), (0.74, 0.18), (0.44, 0.86)]],  # plain
        [[(0.28, 0.2), (0.72, 0.2), (0.48, 0.86)], [(0.4, 0.52), (0.7, 0.52)]],  # with a bar
    ],
    "8": [
        [figure_eight(0.5, 0.5, 0.34, 0.34)],  # one stroke, crossing in the middle
        [arc(0.5, 0.31, 0.15, 0.15, 0.25, 1.25, 16) + arc(0.5, 0.64, 0.19, 0.18, -0.25, 0.75, 16)],
    ],
    "9": [
        [arc(0.5, 0.34, 0.19, 0.17, 0, 1, 16) + [(0.69, 0.34), (0.66, 0.86)]],  # straight stem
        [
            arc(0.5, 0.33, 0.18, 0.16, 0, 1, 16)
            + [(0.68, 0.33), (0.64, 0.72)]
            + arc(0.5, 0.7, 0.14, 0.14, 0.05, 0.5, 6)
        ],
    ],
}
"""Each digit's two drawings (each a list of strokes)."""
