"""Drawing the steps of a scene.

A frame is a pure function of (scene, layout, theme, step), drawn in three layers:

1. the *base* of the step's output channel: title, labels, the input grid with
   every number (padding grey and hatched), the kernel, the empty output grid;
2. the output cells computed before this step, filled in blue;
3. the step itself: the window's cells in orange with ``value·weight`` and the
   product written in, the current output cell, the step counter and the
   written-out sum.

The layers never overlap in a way that depends on order, so :meth:`render`
(one frame from nothing) and :meth:`frames` (the whole animation, keeping the
base and the filled cells from frame to frame) give identical pixels; the second
is what keeps a GIF of a few hundred steps within a second or two.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw

from app.export import text
from app.export.fonts import font, measure
from app.export.layout import Grid, Layout, labels
from app.export.scene import OUTSIDE, PADDING, Scene
from app.export.theme import Theme
from app.export.words import Phrase, Words

Box = tuple[int, int, int, int]


class FrameRenderer:
    """Draws the frames of one scene at one layout and theme."""

    def __init__(
        self,
        scene: Scene,
        layout: Layout,
        theme: Theme,
        note: Phrase | None = None,
        say: Words | None = None,
    ) -> None:
        """``note``: which steps the animation shows (a schedule's note, e.g. every 4th
        step), written beside the step counter; None when it shows every step. ``say``:
        the words of the page's language (English by default)."""
        self.scene, self.layout, self.theme = scene, layout, theme
        self.say = say or Words()
        self.note = self.say.sampling(note)
        self.title = "  ·  ".join(self.say.phrase(p) for p in scene.description)
        # Formatted once: every frame shows the same grid numbers.
        self.grid_text = np.vectorize(text.number, otypes=[object])(scene.trace.grid)
        self.result_text = [text.number(v) for v in scene.trace.result]
        self.line = max(1, round(layout.cell / 40 * theme.line_scale))
        self.edge = max(2, round(layout.cell / 14 * theme.line_scale))
        self.taps = scene.kernel_size[0] * scene.kernel_size[1]

    # ------------------------------------------------------------------ frames

    def render(self, step: int) -> Image.Image:
        """Frame ``step`` (0-based) as an RGB image."""
        if not 0 <= step < self.scene.trace.steps:
            raise IndexError(f"step {step} is outside 0..{self.scene.trace.steps - 1}")
        image = self._base(step)
        draw = ImageDraw.Draw(image)
        for done in range(self._first(step), step):
            self._filled(draw, done)
        frame = image.copy()
        self._step(ImageDraw.Draw(frame), step)
        return frame

    def frames(self, steps: Sequence[int] | None = None) -> Iterator[Image.Image]:
        """The frames of ``steps`` (ascending; default every step) in order, each an RGB
        image equal to ``render(step)``. Steps not drawn still fill their output cell."""
        wanted = sorted(set(range(self.scene.trace.steps) if steps is None else steps))
        if not wanted:
            return
        canvas = Image.new("RGB", (1, 1))
        next_frame, step = 0, 0  # index into wanted; the step being drawn
        while step <= wanted[-1]:
            if self._first(step) == step:  # a new output channel starts
                end = self._last(step)
                if wanted[next_frame] > end:  # no frame in this channel: skip it
                    step = end + 1
                    continue
                canvas = self._base(step)
            if step == wanted[next_frame]:
                frame = canvas.copy()
                self._step(ImageDraw.Draw(frame), step)
                yield frame
                next_frame += 1
            self._filled(ImageDraw.Draw(canvas), step)
            step += 1

    # ------------------------------------------------------------------ layers

    def _first(self, step: int) -> int:
        """The first step of ``step``'s output channel (steps run row-major in a channel)."""
        _, row, col = (int(v) for v in self.scene.trace.out_index[step])
        return step - (row * self.layout.output.cols + col)

    def _last(self, step: int) -> int:
        """The last step of ``step``'s output channel."""
        return self._first(step) + self.layout.output.rows * self.layout.output.cols - 1

    def _base(self, step: int) -> Image.Image:
        """Everything that stays while ``step``'s output channel is computed."""
        lay, theme, scene = self.layout, self.theme, self.scene
        image = Image.new("RGB", (lay.width, lay.height), theme.background)
        draw = ImageDraw.Draw(image)
        self._title(draw)
        in_labels, k_labels, out_label = labels(scene, step, self.say)
        for panel, channel in enumerate(scene.step_channels(step)):
            self._label(draw, lay.inputs[panel], in_labels[panel])
            self._input(draw, lay.inputs[panel], int(channel))
            if scene.has_kernel:
                self._label(draw, lay.kernels[panel], k_labels[panel])
                self._kernel(draw, lay.kernels[panel], step, panel)
        for x, y, symbol in lay.operators:
            draw.text((x, y), symbol, font=font(lay.operator_size), fill=theme.text, anchor="mm")
        self._label(draw, lay.output, out_label)
        out = lay.output
        for r in range(out.rows):
            for c in range(out.cols):
                self._cell(draw, out.box(r, c), theme.cell)
        return image

    def _filled(self, draw: ImageDraw.ImageDraw, step: int) -> None:
        """Output cell of ``step``, computed: blue with its value."""
        _, row, col = (int(v) for v in self.scene.trace.out_index[step])
        box = self.layout.output.box(row, col)
        self._cell(draw, box, self.theme.output)
        self._number(draw, box, self.result_text[step], self.theme.text)

    def _step(self, draw: ImageDraw.ImageDraw, step: int) -> None:
        """The window, the current output cell, the counter and the sum of ``step``."""
        theme, lay = self.theme, self.layout
        for panel in range(self.scene.channels_per_step):
            self._window(draw, lay.inputs[panel], step, panel)
        _, row, col = (int(v) for v in self.scene.trace.out_index[step])
        box = lay.output.box(row, col)
        self._cell(draw, box, theme.window)
        self._number(draw, box, self.result_text[step], theme.text)
        draw.rectangle(box, outline=theme.window_edge, width=self.edge)
        self._counter(draw, step)
        self._sum(draw, step)

    # ------------------------------------------------------------------ parts

    def _counter_text(self, step: int) -> str:
        counter = self.say("counter", step + 1, self.scene.trace.steps)
        return f"{counter}  ·  {self.note}" if self.note else counter

    def _title(self, draw: ImageDraw.ImageDraw) -> None:
        lay = self.layout
        widest = font(lay.title_size).getlength(self._counter_text(self.scene.trace.steps - 1))
        room = lay.width - 2 * lay.margin - widest - lay.title_size
        size = lay.title_size
        while size > 8 and font(size).getlength(self.title) > room:
            size -= 1  # a long description shrinks rather than running into the counter
        y = lay.margin + (lay.title_size - size) / 2
        draw.text((lay.margin, y), self.title, font=font(size), fill=self.theme.text)

    def _counter(self, draw: ImageDraw.ImageDraw, step: int) -> None:
        lay = self.layout
        draw.text(
            (lay.width - lay.margin, lay.margin),
            self._counter_text(step),
            font=font(lay.title_size),
            fill=self.theme.text,
            anchor="ra",
        )

    def _label(self, draw: ImageDraw.ImageDraw, grid: Grid, label: str) -> None:
        lay = self.layout
        draw.text(
            (grid.centre_x, grid.y - lay.label_gap),
            label,
            font=font(lay.label_size),
            fill=self.theme.muted,
            anchor="mm",
        )

    def _cell(self, draw: ImageDraw.ImageDraw, box: Box, fill: str) -> None:
        draw.rectangle(box, fill=fill, outline=self.theme.grid_line, width=self.line)

    def _hatch(self, draw: ImageDraw.ImageDraw, box: Box) -> None:
        """Diagonal lines across a padding cell, clipped to it (padding stays distinct in
        grey-scale print and to readers who cannot tell the greys apart)."""
        x0, y0, x1, _ = box
        size = x1 - x0
        spacing = max(4, size // 4)
        for t in range(spacing, 2 * size, spacing):
            a = (x0 + min(t, size), y0 + max(0, t - size))
            b = (x0 + max(0, t - size), y0 + min(t, size))
            draw.line([a, b], fill=self.theme.hatch, width=self.line)

    def _number(self, draw: ImageDraw.ImageDraw, box: Box, label: str, colour: str) -> None:
        if self.layout.value_size:
            centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            draw.text(centre, label, font=font(self.layout.value_size), fill=colour, anchor="mm")

    def _grid_cell(self, draw: ImageDraw.ImageDraw, box: Box, channel: int, r: int, c: int) -> None:
        """One input-grid cell outside the window."""
        theme, kind = self.theme, self.scene.cell_kind[r, c]
        if kind == OUTSIDE:
            # Past the padded edge: only an overhanging ceil_mode window reaches it.
            draw.rectangle(box, fill=theme.background, outline=theme.hatch, width=self.line)
        elif kind == PADDING:
            self._cell(draw, box, theme.padding)
            self._hatch(draw, box)
            if self.scene.op != "max_pool2d":  # max pooling's padding is -inf: left blank
                self._number(draw, box, self.grid_text[channel, r, c], theme.muted)
        else:
            self._cell(draw, box, theme.cell)
            self._number(draw, box, self.grid_text[channel, r, c], theme.text)

    def _input(self, draw: ImageDraw.ImageDraw, grid: Grid, channel: int) -> None:
        for r in range(grid.rows):
            for c in range(grid.cols):
                self._grid_cell(draw, grid.box(r, c), channel, r, c)

    def _window(self, draw: ImageDraw.ImageDraw, grid: Grid, step: int, panel: int) -> None:
        """The window's cells of one input panel, its outline and a max pooling's winner."""
        t, theme = self.scene.trace, self.theme
        cells = t.cells[step, panel * self.taps : (panel + 1) * self.taps]
        for k, (_, r, c) in enumerate(cells):
            box = grid.box(int(r), int(c))
            if self.scene.cell_kind[r, c] == OUTSIDE:
                draw.rectangle(box, fill=theme.window, outline=theme.hatch, width=self.line)
            else:
                self._cell(draw, box, theme.window)
                self._window_cell(
                    draw, box, step, panel * self.taps + k, self.scene.cell_kind[r, c]
                )
        rows, cols = cells[:, 1], cells[:, 2]
        outline = grid.span(
            range(int(rows.min()), int(rows.max()) + 1), range(int(cols.min()), int(cols.max()) + 1)
        )
        draw.rectangle(outline, outline=theme.window_edge, width=self.edge)
        if t.argmax is not None:
            _, r, c = t.cells[step, int(t.argmax[step])]
            x0, y0, x1, y1 = grid.box(int(r), int(c))
            inset = self.edge
            draw.rectangle(
                (x0 + inset, y0 + inset, x1 - inset, y1 - inset),
                outline=theme.winner_edge,
                width=self.edge,
            )

    def _window_cell(
        self, draw: ImageDraw.ImageDraw, box: Box, step: int, tap: int, kind: int
    ) -> None:
        t, lay, theme = self.scene.trace, self.layout, self.theme
        if t.products is None or t.weights is None:  # pooling: the value alone
            if not (kind == PADDING and self.scene.op == "max_pool2d"):
                self._number(draw, box, text.number(t.values[step, tap]), theme.text)
            return
        if not lay.product_size:
            return
        x0, y0, x1, y1 = box
        cx, cy, size = (x0 + x1) / 2, (y0 + y1) / 2, y1 - y0
        if lay.factor_size:
            # No parentheses here (one product per cell cannot be misread), so the line
            # stays short enough to read in a small cell.
            top = (
                f"{text.number(t.values[step, tap])}{text.TIMES}{text.number(t.weights[step, tap])}"
            )
            colour = theme.muted if kind == PADDING else theme.text
            draw.text(
                (cx, cy - size * 0.2), top, font=font(lay.factor_size), fill=colour, anchor="mm"
            )
        draw.text(
            (cx, cy + size * (0.17 if lay.factor_size else 0)),
            text.number(t.products[step, tap]),
            font=font(lay.product_size),
            fill=theme.product,
            anchor="mm",
        )

    def _kernel(self, draw: ImageDraw.ImageDraw, grid: Grid, step: int, panel: int) -> None:
        t, theme = self.scene.trace, self.theme
        assert t.weights is not None
        kh, kw = self.scene.kernel_size
        weights = t.weights[step, panel * self.taps : (panel + 1) * self.taps].reshape(kh, kw)
        for r in range(kh):
            for c in range(kw):
                box = grid.box(r, c)
                self._cell(draw, box, theme.kernel)
                self._number(draw, box, text.number(weights[r, c]), theme.text)
        draw.rectangle(grid.span(range(kh), range(kw)), outline=theme.kernel_edge, width=self.edge)

    def _sum(self, draw: ImageDraw.ImageDraw, step: int) -> None:
        lay = self.layout
        head, terms, sep, tail = text.expression(self.scene, step)
        sum_font = font(lay.sum_size)
        width = measure(lay.sum_size)
        lines = text.wrap(head, terms, sep, tail, width, lay.sum_width, lay.sum_lines)
        for i, line in enumerate(lines):
            y = lay.sum_y + i * round(lay.sum_size * 1.35)
            draw.text((lay.margin, y), line, font=sum_font, fill=self.theme.text)
