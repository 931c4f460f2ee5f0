"""Time of the GIF and PNG exports, end to end in-process, and the files' sizes.

Not a test: a measurement to read. For each scene it builds the request's scene
(the engine's trace), exports the GIF (``gif.gif_bytes``: draw, quantise, encode)
and prints the median of ``--repeat`` runs: the total (trace + GIF), the trace,
the drawing alone and the rest (quantising, frame differences, LZW), the GIF's
size, and the time of one PNG frame. "cpu" is the process's CPU time for the
total: on a busy machine it is the better guess of the wall time on an idle one.
The bar: the lecture's padding scene (5x5 input, 3x3 kernel, padding 1, stride 2:
9 frames) in well under a second at 1280 pixels wide. Past the frame budget a scene
is drawn as the API draws it: every k-th step (``app.export.schedule``). The load average is printed
too: other work on the machine inflates every wall-clock figure.

    python benchmarks/gif_export.py [--repeat 7] [--width 1280]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.api.routes.export import most_frames  # noqa: E402
from app.export import gif  # noqa: E402
from app.export.scene import (  # noqa: E402
    Scene,
    conv2d_scene,
    conv_transpose2d_scene,
    max_pool2d_scene,
)
from app.export.schedule import schedule  # noqa: E402

PADDING_INPUT = [
    [2, 2, 3, 3, 3],
    [0, 1, 3, 0, 3],
    [2, 3, 0, 1, 3],
    [3, 3, 2, 1, 2],
    [3, 3, 0, 2, 3],
]
PADDING_KERNEL = [[2, 0, 1], [1, 0, 0], [0, 1, 1]]
DIAGONAL = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
FILTERS = [DIAGONAL, [[1, -1, 1], [-1, 1, -1], [1, -1, 1]], [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]]]


def x_glyph() -> np.ndarray:
    g = -np.ones((9, 9))
    for i in range(1, 8):
        g[i, i] = g[i, 8 - i] = 1
    return g


def scenes() -> dict[str, Callable[[], Scene]]:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (3, 8, 8)).astype(float)
    return {
        "padding slide (5x5, k3, p1, s2)": lambda: conv2d_scene(
            PADDING_INPUT, PADDING_KERNEL, stride=2, padding=1
        ),
        "kernel-size slide (4x4, k3)": lambda: conv2d_scene(
            [[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]],
            [[1, 4, 1], [1, 4, 3], [3, 3, 1]],
        ),
        "X/O slide (9x9, k3, mean)": lambda: conv2d_scene(x_glyph(), DIAGONAL, reduce="mean"),
        "X/O, 3 filters (147 steps)": lambda: conv2d_scene(
            x_glyph()[None], np.array(FILTERS, dtype=float)[:, None], reduce="mean"
        ),
        "max pool 7x7, 2x2, ceil": lambda: max_pool2d_scene(
            conv2d_scene(x_glyph(), DIAGONAL, reduce="mean").output, 2, 2, ceil_mode=True
        ),
        "RGB 8x8, 2 filters, p1": lambda: conv2d_scene(
            rgb, rng.integers(-1, 2, (2, 3, 3, 3)).astype(float), padding=1, stride=2
        ),
        "transposed 3x3, s2": lambda: conv_transpose2d_scene(
            [[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0, 1], [0, 1, 0], [1, 1, 0]], stride=2
        ),
        "16x16 same (256 steps)": lambda: conv2d_scene(
            rng.integers(0, 9, (16, 16)).astype(float), DIAGONAL, padding="same"
        ),
        # Past the frame budget: every 4th step (the API's schedule).
        "32x32 same (1024 steps)": lambda: conv2d_scene(
            rng.integers(0, 9, (32, 32)).astype(float), DIAGONAL, padding="same"
        ),
    }


def measure(make: Callable[[], Scene], width: int) -> dict[str, float]:
    """One export through the real entry point, plus its parts timed apart."""
    c0, t0 = time.process_time(), time.perf_counter()
    scene = make()
    t1 = time.perf_counter()
    # The frames the API draws: every step, or every k-th past the frame budget.
    plan = schedule(scene.trace.steps, scene.out_shape, most_frames(width))
    data = gif.gif_bytes(scene, width=width, frames=plan)
    c2, t2 = time.process_time(), time.perf_counter()
    # Drawing alone, no quantise/encode.
    frames = list(gif.renderer(scene, width, note=plan.note).frames(plan.steps))
    t3 = time.perf_counter()
    gif.png_bytes(scene, scene.trace.steps // 2, width)
    t4 = time.perf_counter()
    return {
        "steps": len(frames),
        "scene": t1 - t0,
        "total": t2 - t0,
        "cpu": c2 - c0,
        "draw": t3 - t2,
        "encode": (t2 - t1) - (t3 - t2),
        "bytes": len(data),
        "png": t4 - t3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--width", type=int, default=gif.DEFAULT_WIDTH)
    args = parser.parse_args()

    print(f"GIF export, width {args.width}, median of {args.repeat} runs")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n")
    header = (
        f"{'scene':34} {'frames':>6} {'total ms':>9} {'cpu ms':>7} {'trace':>7} {'draw':>7}"
        f" {'encode':>7} {'ms/frame':>8} {'KiB':>6} {'png ms':>7}"
    )
    print(header)
    print("-" * len(header))
    gif.gif_bytes(conv2d_scene(PADDING_INPUT, PADDING_KERNEL), width=args.width)  # warm up
    for name, make in scenes().items():
        runs = [measure(make, args.width) for _ in range(args.repeat)]

        def median(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        steps = int(runs[0]["steps"])
        print(
            f"{name:34} {steps:6d} {median('total') * 1e3:9.1f} {median('cpu') * 1e3:7.1f}"
            f" {median('scene') * 1e3:7.1f}"
            f" {median('draw') * 1e3:7.1f} {median('encode') * 1e3:7.1f}"
            f" {median('total') * 1e3 / steps:8.2f} {median('bytes') / 1024:6.0f}"
            f" {median('png') * 1e3:7.1f}"
        )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
