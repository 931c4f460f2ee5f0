"""Render a scene as an animated GIF (one frame per step) or one step as a PNG.

The GIF's frames share one small palette built from the theme (every fill, line
and text colour plus a few antialiasing blends): quantising to it is cheaper than
an adaptive median cut per frame, keeps colours identical from frame to frame, and
the few-colour frames compress well. Pillow then stores each frame as the
rectangle that changed since the previous one.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.export.frames import FrameRenderer
from app.export.layout import make_layout
from app.export.scene import Scene
from app.export.schedule import Schedule, every_step
from app.export.theme import THEMES, ThemeName
from app.export.words import Lang, Phrase, Words

DEFAULT_WIDTH = 1280
DEFAULT_FRAME_MS = 700
DEFAULT_HOLD_MS = 2000


def renderer(
    scene: Scene,
    width: int = DEFAULT_WIDTH,
    theme: ThemeName = "light",
    note: Phrase | None = None,
    lang: Lang = "en",
) -> FrameRenderer:
    """A renderer for ``scene`` at ``width`` pixels (height ``width * 9/16``) in ``lang``;
    ``note`` says which steps an animation shows (see :class:`app.export.schedule.Schedule`)."""
    say = Words(lang)
    return FrameRenderer(scene, make_layout(scene, width, say), THEMES[theme], note, say)


def _palette_image(colours: list[tuple[int, int, int]]) -> Image.Image:
    flat = [v for colour in colours for v in colour]
    # Pad with the first colour: quantize() matches against all 256 entries, and the
    # first of equal entries wins, so the padding is never chosen.
    flat += list(colours[0]) * (256 - len(colours))
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat)
    return palette


def durations(steps: int, frame_ms: int, hold_ms: int) -> list[int]:
    """Each frame shows ``frame_ms``; the last one ``frame_ms + hold_ms``, so a looping
    GIF pauses on the finished output before it starts again."""
    return [frame_ms] * (steps - 1) + [frame_ms + hold_ms]


def gif_bytes(
    scene: Scene,
    frame_ms: int = DEFAULT_FRAME_MS,
    hold_ms: int = DEFAULT_HOLD_MS,
    width: int = DEFAULT_WIDTH,
    theme: ThemeName = "light",
    frames: Schedule | None = None,
    lang: Lang = "en",
) -> bytes:
    """The animation of ``scene``, looping forever: one frame per trace step, or those
    of ``frames`` (every k-th step, or one per output row; each frame says which).

    Parameters
    ----------
    scene : Scene
    frame_ms : int
        Time each frame shows, in milliseconds; GIF stores hundredths of a second,
        so give a multiple of 10 to read back exactly what was asked.
    hold_ms : int
        Extra time on the last frame.
    width : int
        Frame width in pixels; the height is ``round(width * 9 / 16)``.
    theme : {"light", "dark", "high-contrast"}
    frames : Schedule, optional
        The steps to draw (default: every step).
    lang : {"en", "ru"}
        The language of the frames' words (title, labels, counter).

    Returns
    -------
    bytes
        A GIF89a file with ``scene.trace.steps`` frames, or ``frames.frames``.
    """
    chosen = every_step(scene.trace.steps) if frames is None else frames
    colours = THEMES[theme].palette()
    # One index past the theme's colours marks "unchanged since the previous frame":
    # each frame after the first is stored as only what changed (transparent
    # elsewhere), and long transparent runs compress to almost nothing.
    unchanged = len(colours)
    flat = [v for colour in [*colours, (255, 0, 255)] for v in colour]
    to_palette = _palette_image(colours)
    frames: list[Image.Image] = []
    previous: np.ndarray | None = None
    for rgb in renderer(scene, width, theme, chosen.note, lang).frames(chosen.steps):
        indices = np.asarray(rgb.quantize(palette=to_palette, dither=Image.Dither.NONE))
        stored = indices
        if previous is not None:
            stored = indices.copy()
            stored[indices == previous] = unchanged
        previous = indices
        frame = Image.fromarray(stored, mode="P")
        frame.putpalette(flat)  # a palette of fewer than 64 entries: 6-bit LZW codes
        frames.append(frame)
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations(len(frames), frame_ms, hold_ms),
        loop=0,
        transparency=unchanged,
        disposal=1,  # keep each frame under the next: the transparent pixels show it
        optimize=False,  # done above, once, without a histogram of every frame
    )
    return buffer.getvalue()


def png_bytes(
    scene: Scene,
    step: int,
    width: int = DEFAULT_WIDTH,
    theme: ThemeName = "light",
    lang: Lang = "en",
) -> bytes:
    """Frame ``step`` (0-based) of the animation as a full-colour PNG."""
    image = renderer(scene, width, theme, lang=lang).render(step)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
