"""Where everything goes on a 16:9 frame, computed once per scene and width.

The layout is the same for every frame of an animation (a GIF whose panels jumped
between frames would be unwatchable), so it is sized for the widest number, label
and written-out sum of the whole scene. Reading left to right::

    title                                                         step n / N
    input, padded        kernel            output
    [grid]          *    [kernel]     =    [output]
    2·0 + 0·1 + ... = 1

With ``C_in/groups > 1`` channels per window, one (grid, kernel) panel per channel,
arranged in the rows and columns that give the largest cells. Pooling has no kernel
panel and writes "max" or "avg" where the ``=`` goes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.export import text
from app.export.fonts import fit_size, measure, text_width
from app.export.scene import OUTSIDE, PADDING, Scene
from app.export.words import Words

MIN_NUMBER_SIZE = 8
"""Below this font size (pixels) numbers are left out of the cells: colours only."""

MIN_FACTOR_SIZE = 10
"""Below this size the small ``value·weight`` line of a window cell is left out."""

_SUM_MAX_LINES = 3


@dataclass(frozen=True)
class Grid:
    """A grid of square cells with its top-left corner at ``(x, y)``."""

    x: int
    y: int
    rows: int
    cols: int
    cell: int

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """The pixel rectangle ``(x0, y0, x1, y1)`` of one cell (inclusive, as Pillow's)."""
        x0, y0 = self.x + col * self.cell, self.y + row * self.cell
        return x0, y0, x0 + self.cell, y0 + self.cell

    def span(self, rows: range, cols: range) -> tuple[int, int, int, int]:
        """The rectangle around a block of cells."""
        x0, y0, _, _ = self.box(rows.start, cols.start)
        _, _, x1, y1 = self.box(rows.stop - 1, cols.stop - 1)
        return x0, y0, x1, y1

    @property
    def centre_x(self) -> float:
        return self.x + self.cols * self.cell / 2


@dataclass(frozen=True)
class Layout:
    """Pixel positions and font sizes of every part of a frame.

    Attributes
    ----------
    width, height, margin, cell : int
    inputs, kernels : tuple of Grid
        One per channel a window reads (``kernels`` is empty for pooling).
    output : Grid
    operators : tuple of (x, y, str)
        Centres of the ``*`` and ``=`` (or ``max``/``avg``) between the panels.
    title_size, label_size, operator_size, sum_size : int
        Font sizes in pixels.
    value_size : int
        Numbers in ordinary cells (0: the cells are too small for numbers).
    factor_size, product_size : int
        The two lines of a window cell: ``value·weight`` above, the product below.
    sum_y, sum_lines, sum_width : int
        Top of the written-out sum, its number of lines and their width.
    """

    width: int
    height: int
    margin: int
    cell: int
    inputs: tuple[Grid, ...]
    kernels: tuple[Grid, ...]
    output: Grid
    operators: tuple[tuple[float, float, str], ...]
    title_size: int
    label_size: int
    operator_size: int
    sum_size: int
    value_size: int
    factor_size: int
    product_size: int
    sum_y: int
    sum_lines: int
    sum_width: int

    @property
    def label_gap(self) -> int:
        """Distance from a label's centre line down to its grid's top edge."""
        return round(self.label_size * 0.8)


def labels(scene: Scene, step: int, say: Words) -> tuple[list[str], list[str], str]:
    """Labels of the input panels, the kernel panels and the output at ``step``."""
    t = scene.trace
    channel = int(t.out_index[step, 0])
    grid_channels = scene.step_channels(step)
    many_inputs = t.grid.shape[0] > 1
    inputs = [
        say("input_channel", c) if many_inputs else say(scene.grid_label) for c in grid_channels
    ]
    kernels: list[str] = []
    if scene.op == "conv2d":
        single = scene.out_shape[0] == 1 and len(grid_channels) == 1
        kernels = [
            say("kernel") if single else say("weight", channel, j)
            for j in range(len(grid_channels))
        ]
    elif scene.op == "conv_transpose2d":
        per_group = scene.tensors["weight"].shape[1] if scene.tensors["weight"].ndim == 4 else 1
        kernels = [
            say("weight_rotated", a, channel % per_group)
            if many_inputs or scene.out_shape[0] > 1
            else say("kernel_rotated")
            for a in grid_channels
        ]
    output = say("output") if scene.out_shape[0] == 1 else say("output_channel", channel)
    return inputs, kernels, output


def _widest(values: np.ndarray, formatter=text.number, limit: int = 2048) -> list[str]:
    """Formatted candidates for the widest number among ``values``.

    Digits are tabular, so the longest strings are the widest; the largest
    magnitudes and an even sample stand in for a huge set of distinct values.
    """
    unique = np.unique(np.asarray(values, dtype=np.float64).ravel())
    if unique.size > limit:
        by_size = unique[np.argsort(-np.abs(unique))[: limit // 2]]
        sample = unique[:: unique.size // (limit // 2) + 1]
        unique = np.concatenate([by_size, sample])
    strings = [formatter(v) for v in unique]
    longest = max((len(s) for s in strings), default=0)
    return [s for s in strings if len(s) >= longest - 1]


def _sample_steps(steps: int, count: int = 32) -> np.ndarray:
    return np.unique(np.linspace(0, steps - 1, min(steps, count)).round().astype(int))


def _cell_texts(scene: Scene) -> tuple[list[str], list[str], list[str]]:
    """Candidates for the widest plain number, ``value·weight`` and product."""
    t = scene.trace
    kinds = np.broadcast_to(scene.cell_kind, t.grid.shape)
    shown = kinds != OUTSIDE
    if scene.op == "max_pool2d":
        shown &= kinds != PADDING  # -inf there: left blank
    plain = [t.grid[shown], t.result]
    if t.weights is None:
        return _widest(np.concatenate([p.ravel() for p in plain])), [], []
    assert t.products is not None
    plain.append(t.weights)
    factors = _widest(t.grid[shown])
    weights = _widest(t.weights)
    tops = [f"{v}{text.TIMES}{w}" for v in factors for w in weights[:4]]
    return _widest(np.concatenate([p.ravel() for p in plain])), tops, _widest(t.products)


def _sum_lines(scene: Scene, size: int, width: float) -> int:
    width_of = measure(size)
    needed = 1
    for step in _sample_steps(scene.trace.steps):
        head, terms, sep, tail = text.expression(scene, int(step))
        lines = text.wrap(head, terms, sep, tail, width_of, width, _SUM_MAX_LINES)
        needed = max(needed, len(lines))
    return needed


def make_layout(scene: Scene, width: int, say: Words | None = None) -> Layout:
    """The layout of ``scene`` on a ``width`` x ``width * 9/16`` frame."""
    height = round(width * 9 / 16)
    margin = round(width * 0.025)
    title_size = max(12, round(width / 46))
    label_size = max(10, round(title_size * 0.75))
    operator_size = round(title_size * 1.2)
    sum_size = max(11, round(title_size * 0.95))
    sum_width = width - 2 * margin
    sum_lines = _sum_lines(scene, sum_size, sum_width)
    sum_height = round(sum_lines * sum_size * 1.35)
    label_h = round(label_size * 1.6)

    top = margin + round(title_size * 1.7)
    bottom = height - margin - sum_height - round(sum_size * 0.6)
    avail_w, avail_h = width - 2 * margin, bottom - top

    _, hg, wg = scene.trace.grid.shape
    kh, kw = scene.kernel_size
    _, ho, wo = scene.out_shape
    panels = scene.channels_per_step
    say = say or Words()
    in_labels, k_labels, out_label = labels(scene, scene.trace.steps - 1, say)
    first_in, first_k, _ = labels(scene, 0, say)
    label_in = max(text_width(s, label_size) for s in in_labels + first_in)
    label_k = max((text_width(s, label_size) for s in k_labels + first_k), default=0.0)
    label_out = text_width(out_label, label_size)
    out_operator = {"max_pool2d": "max", "avg_pool2d": "avg"}.get(scene.op, "=")
    op_w = text_width(out_operator, operator_size) + 2 * label_size
    star_w = text_width("*", operator_size) + 2 * label_size

    def size(cell: int, cols: int) -> tuple[float, float, dict[str, float]]:
        parts = {
            "slot_in": max(wg * cell, label_in),
            "star": max(0.9 * cell, star_w) if scene.has_kernel else 0.0,
            "slot_k": max(kw * cell, label_k) if scene.has_kernel else 0.0,
            "gap": max(cell, 2.0 * label_size),
            "eq": max(1.2 * cell, op_w),
            "slot_out": max(wo * cell, label_out),
            "row_h": label_h + hg * cell,
            "row_gap": label_size,
        }
        rows = math.ceil(panels / cols)
        panel_w = parts["slot_in"] + parts["star"] + parts["slot_k"]
        block_w = cols * panel_w + (cols - 1) * parts["gap"]
        block_h = rows * parts["row_h"] + (rows - 1) * parts["row_gap"]
        parts.update(panel_w=panel_w, block_w=block_w, block_h=block_h)
        total_w = block_w + parts["eq"] + parts["slot_out"]
        return total_w, max(block_h, label_h + ho * cell), parts

    def largest(cols: int) -> int:
        low, high, best = 1, max(1, round(width * 0.1)), 1
        while low <= high:
            mid = (low + high) // 2
            w, h, _ = size(mid, cols)
            if w <= avail_w and h <= avail_h:
                best, low = mid, mid + 1
            else:
                high = mid - 1
        return best

    cols = max(range(1, panels + 1), key=lambda k: (largest(k), -k))
    cell = largest(cols)
    total_w, total_h, p = size(cell, cols)
    x0 = round(margin + (avail_w - total_w) / 2)
    y0 = round(top + (avail_h - total_h) / 2)
    block_top = y0 + (total_h - p["block_h"]) / 2

    inputs, kernels, operators = [], [], []
    for i in range(panels):
        col, row = i % cols, i // cols
        px = x0 + col * (p["panel_w"] + p["gap"])
        gy = round(block_top + row * (p["row_h"] + p["row_gap"]) + label_h)
        gx = round(px + (p["slot_in"] - wg * cell) / 2)
        inputs.append(Grid(gx, gy, hg, wg, cell))
        if scene.has_kernel:
            kx = px + p["slot_in"] + p["star"]
            ky = round(gy + (hg - kh) * cell / 2)
            kernels.append(Grid(round(kx + (p["slot_k"] - kw * cell) / 2), ky, kh, kw, cell))
            operators.append((px + p["slot_in"] + p["star"] / 2, gy + hg * cell / 2, "*"))
    out_x = x0 + p["block_w"] + p["eq"]
    out_top = block_top + (p["block_h"] - (label_h + ho * cell)) / 2
    output = Grid(
        round(out_x + (p["slot_out"] - wo * cell) / 2), round(out_top + label_h), ho, wo, cell
    )
    operators.append((x0 + p["block_w"] + p["eq"] / 2, output.y + ho * cell / 2, out_operator))

    plain, tops, products = _cell_texts(scene)
    value_size = fit_size(plain, 0.84 * cell, 0.42 * cell)
    factor_size = fit_size(tops, 0.88 * cell, 0.3 * cell) if tops else 0
    if factor_size < MIN_FACTOR_SIZE:
        factor_size = 0  # too small to read: the window cells show the products alone
    product_size = fit_size(products, 0.84 * cell, 0.38 * cell) if products else 0
    if value_size < MIN_NUMBER_SIZE:
        value_size = factor_size = product_size = 0
    return Layout(
        width=width,
        height=height,
        margin=margin,
        cell=cell,
        inputs=tuple(inputs),
        kernels=tuple(kernels),
        output=output,
        operators=tuple(operators),
        title_size=title_size,
        label_size=label_size,
        operator_size=operator_size,
        sum_size=sum_size,
        value_size=value_size,
        factor_size=factor_size,
        product_size=product_size,
        sum_y=height - margin - sum_height,
        sum_lines=sum_lines,
        sum_width=sum_width,
    )
