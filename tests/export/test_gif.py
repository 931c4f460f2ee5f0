"""The GIF and PNG renderers: frames per step, durations, sizes, pixels, layout."""

from __future__ import annotations

import io
from itertools import combinations, pairwise

import numpy as np
import pytest
from PIL import Image

from app.export import gif, schedule
from app.export.layout import Grid, make_layout
from app.export.scene import INPUT, OUTSIDE, PADDING
from app.export.words import Words
from tests.export.scenes import PADDING_OUTPUT, assorted_scenes, padding_scene

SCENES = assorted_scenes()


def frames_of(data: bytes) -> list[Image.Image]:
    image = Image.open(io.BytesIO(data))
    frames = []
    for i in range(image.n_frames):
        image.seek(i)
        frames.append(image.convert("RGB"))
    return frames


def durations_of(data: bytes) -> list[int]:
    image = Image.open(io.BytesIO(data))
    out = []
    for i in range(image.n_frames):
        image.seek(i)
        out.append(image.info["duration"])
    return out


def test_padding_scene_gif_has_one_frame_per_step() -> None:
    scene = padding_scene()
    assert scene.output.tolist() == PADDING_OUTPUT
    data = gif.gif_bytes(scene, frame_ms=400, hold_ms=1600, width=1280)
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF"
    assert image.n_frames == scene.trace.steps == 9
    assert image.size == (1280, 720)
    assert image.info["loop"] == 0
    assert durations_of(data) == [400] * 8 + [2000]


def test_frames_differ_from_step_to_step() -> None:
    frames = [np.asarray(f) for f in frames_of(gif.gif_bytes(padding_scene(), width=960))]
    for before, after in pairwise(frames):
        assert not np.array_equal(before, after)


def test_decoded_gif_frames_equal_the_rendered_frames() -> None:
    scene = SCENES["max_pool_padding"]
    renderer = gif.renderer(scene, 960, "dark")
    decoded = frames_of(gif.gif_bytes(scene, width=960, theme="dark"))
    for step, frame in enumerate(decoded):
        rendered = renderer.render(step)
        # The palette holds every theme colour and a few antialiasing blends, so at most
        # edge pixels of text move to a neighbouring shade.
        close = np.abs(np.asarray(frame, int) - np.asarray(rendered, int)).max(axis=2) <= 48
        assert close.mean() > 0.999


@pytest.mark.parametrize("name", ["channels_bias", "max_pool_ceil", "transposed"])
def test_animation_frames_equal_single_frames(name: str) -> None:
    renderer = gif.renderer(SCENES[name], 960)
    for step, frame in enumerate(renderer.frames()):
        assert np.array_equal(np.asarray(frame), np.asarray(renderer.render(step))), step


@pytest.mark.parametrize("width", [480, 960, 1280, 1920])
def test_png_frame_size(width: int) -> None:
    data = gif.png_bytes(padding_scene(), step=4, width=width)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (width, round(width * 9 / 16))


@pytest.mark.parametrize("theme", ["light", "dark", "high-contrast"])
def test_themes_paint_the_background(theme: str) -> None:
    image = Image.open(io.BytesIO(gif.png_bytes(padding_scene(), 0, 960, theme))).convert("RGB")
    expected = gif.THEMES[theme].rgb("background")
    assert image.getpixel((2, 2)) == expected


def test_render_rejects_a_step_past_the_end() -> None:
    with pytest.raises(IndexError, match="outside 0..8"):
        gif.renderer(padding_scene()).render(9)


def test_padding_cells_are_marked() -> None:
    kinds = padding_scene().cell_kind
    assert kinds.shape == (7, 7)
    assert (kinds[1:6, 1:6] == INPUT).all()
    assert (kinds[0] == PADDING).all() and (kinds[:, -1] == PADDING).all()
    transposed = SCENES["transposed"].cell_kind
    assert (transposed == INPUT).sum() == 4  # the 2x2 input, spread out by the stride
    overhang = SCENES["max_pool_ceil"].cell_kind
    assert (overhang[7] == OUTSIDE).all() and (overhang[:, 7] == OUTSIDE).all()


def _rect(grid: Grid) -> tuple[int, int, int, int]:
    return grid.x, grid.y, grid.x + grid.cols * grid.cell, grid.y + grid.rows * grid.cell


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("width", [480, 960, 1280])
@pytest.mark.parametrize("name", sorted(SCENES))
def test_layout_fits_the_frame_without_overlaps(name: str, width: int) -> None:
    lay = make_layout(SCENES[name], width)
    grids = [*lay.inputs, *lay.kernels, lay.output]
    # Each grid with its label band above it.
    boxes = [(x0, y0 - 2 * lay.label_gap, x1, y1) for x0, y0, x1, y1 in map(_rect, grids)]
    for x0, y0, x1, y1 in boxes:
        assert lay.margin <= x0 and x1 <= lay.width - lay.margin
        assert lay.margin + lay.title_size <= y0 and y1 <= lay.sum_y
    for a, b in combinations(boxes, 2):
        assert not _overlap(a, b)
    for x, _, symbol in lay.operators:  # each operator sits in a gap, not on a grid
        assert all(not (r[0] <= x <= r[2]) or symbol == "" for r in map(_rect, grids))


def test_numbers_are_legible_on_the_lecture_scenes() -> None:
    for name in ("padding", "xo_mean", "transposed", "max_pool_ceil"):
        lay = make_layout(SCENES[name], 1280)
        assert lay.value_size >= 16, name
        assert lay.sum_size >= 20
    assert make_layout(SCENES["padding"], 1280).factor_size >= 14


# --- more steps than frames (issue 10, item 6) ------------------------------------------


def test_schedule_every_kth_step_keeps_the_last_and_fits() -> None:
    for steps, most in [(9, 256), (289, 256), (1000, 77), (257, 256), (40_000, 256)]:
        s = schedule.schedule(steps, (1, 1, steps), most)
        assert s.frames <= most and s.steps[0] == 0 and s.steps[-1] == steps - 1
        gaps = {b - a for a, b in pairwise(s.steps[:-1])}
        k = 1 if steps <= most else max(gaps)
        assert gaps <= {k} and s.steps[-1] - s.steps[-2] <= k
        # The smallest k that fits: k - 1 would need more frames than allowed.
        if k > 1:
            assert -(-(steps - 1) // (k - 1)) + 1 > most
        assert s.note == (None if k == 1 else ("every_step", (k,)))
    english = Words("en")
    assert [english.ordinal(k) for k in (1, 2, 3, 4, 11, 12, 13, 21, 22, 103, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd", "111th",
    ]  # fmt: skip


def test_schedule_notes_in_both_languages() -> None:
    en, ru = Words("en"), Words("ru")
    assert en.sampling(("every_step", (2,))) == "every 2nd step"
    assert ru.sampling(("every_step", (2,))) == "каждый 2-й шаг"
    assert en.sampling(("every_row", (4,))) == "every 4th row"
    assert ru.sampling(("every_row", (4,))) == "каждая 4-я строка"
    assert ru.sampling(("per_row", ())) == "кадр на строку"
    assert en.sampling(None) == ru.sampling(None) == ""


def test_schedule_one_frame_per_row() -> None:
    s = schedule.schedule(2 * 3 * 4, (2, 3, 4), 256, "row")
    assert s.steps == (3, 7, 11, 15, 19, 23) and s.note == ("per_row", ())
    many = schedule.schedule(300 * 2, (1, 300, 2), 100, "row")  # 300 rows, 100 frames
    assert many.frames <= 100 and many.steps[-1] == 599 and many.note == ("every_row", (4,))


@pytest.mark.parametrize("name", ["channels_bias", "max_pool_padding", "xo_mean"])
def test_sampled_frames_equal_single_frames_with_the_note(name: str) -> None:
    scene = SCENES[name]
    frames = schedule.schedule(scene.trace.steps, scene.out_shape, 5)
    assert frames.note is not None and frames.note[0] == "every_step"
    renderer = gif.renderer(scene, 960, note=frames.note)
    drawn = list(renderer.frames(frames.steps))
    assert len(drawn) == frames.frames
    for step, frame in zip(frames.steps, drawn, strict=True):
        assert np.array_equal(np.asarray(frame), np.asarray(renderer.render(step))), step
    # The note is drawn: a frame with it differs from the same frame without it.
    plain = gif.renderer(scene, 960).render(frames.steps[1])
    assert not np.array_equal(np.asarray(plain), np.asarray(drawn[1]))


def test_gif_of_a_schedule_has_its_frames_and_durations() -> None:
    scene = SCENES["xo_mean"]  # 49 steps
    frames = schedule.schedule(scene.trace.steps, scene.out_shape, 10, "step")
    data = gif.gif_bytes(scene, frame_ms=100, hold_ms=900, width=480, frames=frames)
    assert len(frames_of(data)) == frames.frames == 9  # 0, 6, ..., 42 and 48
    assert durations_of(data) == [100] * 8 + [1000]


def test_frames_of_a_later_channel_only_skip_the_first() -> None:
    scene = SCENES["channels_bias"]  # 2 output channels of 3x3 steps
    renderer = gif.renderer(scene, 960)
    drawn = list(renderer.frames([10, 17]))
    for step, frame in zip([10, 17], drawn, strict=True):
        assert np.array_equal(np.asarray(frame), np.asarray(renderer.render(step)))
