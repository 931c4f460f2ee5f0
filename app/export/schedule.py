"""Which steps an animation draws: all of them, every k-th, or one per output row.

A GIF has a frame budget (the API's limits); an operation with more steps than
that is still exported: every k-th step, with k the smallest that fits, or, on
request, the step that completes each output row (every k-th row if even those
do not fit). The last step is always drawn, so the animation ends on the whole
output. The frame says which steps it shows (:attr:`Schedule.note`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.export.words import Phrase

Per = Literal["step", "row"]


@dataclass(frozen=True)
class Schedule:
    """The steps drawn (ascending, 0-based) and what the frame says about them: a
    phrase of :mod:`app.export.words` (``("every_step", (k,))``...), None for every step."""

    steps: tuple[int, ...]
    note: Phrase | None = None

    @property
    def frames(self) -> int:
        return len(self.steps)


def _thin(items: list[int], most: int) -> tuple[list[int], int]:
    """Every k-th of ``items`` from the first, plus the last, in at most ``most``;
    returns them and k (1: all of them)."""
    if len(items) <= most:
        return items, 1
    k = -(-(len(items) - 1) // (most - 1))  # ceil: (n-1)/k intervals + the last item
    return [*items[: len(items) - 1 : k], items[-1]], k


def schedule(steps: int, out_shape: tuple[int, int, int], most: int, per: Per = "step") -> Schedule:
    """The frames of an animation of ``steps`` steps over an output of ``out_shape``
    ``(C, H_out, W_out)`` (steps in row-major order), in at most ``most`` frames.

    ``per="step"``: every step, or every k-th; ``per="row"``: the last step of each
    output row (the row just completed), or of every k-th row.
    """
    if most < 2:
        raise ValueError(f"an animation needs room for 2 frames, got {most}")
    if per == "step":
        chosen, k = _thin(list(range(steps)), most)
        return Schedule(tuple(chosen), None if k == 1 else ("every_step", (k,)))
    _, _, cols = out_shape
    row_ends = list(range(cols - 1, steps, cols))
    chosen, k = _thin(row_ends, most)
    return Schedule(tuple(chosen), ("per_row", ()) if k == 1 else ("every_row", (k,)))


def every_step(steps: int) -> Schedule:
    return Schedule(tuple(range(steps)))
