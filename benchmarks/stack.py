"""The layer stack and the digit network, timed: request medians, one worker's
requests/s, and in Chromium the overview's and the digit answer's delays.

Not a test: a measurement to read. It starts one uvicorn worker on a free port of
127.0.0.1 and measures:

1. ``POST /api/stack`` with a 4-conv stack on a 128x128 colour photo (made here:
   gradients, a disc and a bar), the page's default weights: conv 8 (3x3, pad 1),
   ReLU, max pool 2, conv 16, ReLU, max pool 2, conv 16, ReLU, conv 16, ReLU; sent
   and answered in the compact base64 form, as the page does. A new photo each
   request (one pixel changed), so nothing is answered from a cache. The median
   request time (sequential), and requests/s with ``--concurrency`` clients
   (target: at least 20 a second on one worker).
2. ``POST /api/digits/forward`` with a drawn digit's strokes: the median request.
3. In Chromium (Debian's, through Playwright; skipped with ``--no-browser``): the
   /stack page with the same stack, from choosing the 128 side to the overview
   drawn (target: within 500 ms), and the /digits page, from a stroke's end
   (pointerup) to the answer shown (target: within 100 ms). Medians of several.

    python benchmarks/stack.py [--requests 60] [--concurrency 4] [--no-browser]

The client runs on the same 2 cores as the server: absolute figures are lower
than with a separate load generator.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE_TARGET = 20.0

STACK_QUERY = (
    "L=c_8_3_1_1_1_p~a_relu~m_2_2~c_16_3_1_1_1_r1~a_relu~m_2_2"
    "~c_16_3_1_1_1_r2~a_relu~c_16_3_1_1_1_r3~a_relu"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


def photo(size: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    rgb = np.stack([200 * x + 30, 180 * y + 40, 120 + 100 * np.sin(6 * x * y)])
    rgb[:, (x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.04] = np.array([250, 240, 30])[:, None]
    return rgb.clip(0, 255).astype(np.float32)


def compact(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a, dtype="<f4")
    return {
        "dtype": "float32",
        "shape": list(a.shape),
        "base64": base64.b64encode(a.tobytes()).decode(),
    }


def stack_layers() -> list[dict]:
    rng = np.random.default_rng(0)

    def conv(c_in: int, c_out: int) -> dict:
        w = rng.uniform(-1, 1, (c_out, c_in, 3, 3)) / np.sqrt(9 * c_in)
        return {"type": "conv2d", "weight": compact(w), "padding": 1}

    relu = {"type": "activation", "function": "relu"}
    pool = {"type": "max_pool2d", "kernel_size": 2}
    return [conv(3, 8), relu, pool, conv(8, 16), relu, pool, conv(16, 16), relu, conv(16, 16), relu]


def post(url: str, body: bytes) -> bytes:
    req = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return res.read()


def stack_bodies(n: int) -> list[bytes]:
    layers = stack_layers()
    x = photo()
    out = []
    for i in range(n):
        x[0, 0, 0] = i % 256  # a new photo each time
        out.append(json.dumps({"input": compact(x), "layers": layers}).encode())
    return out


def time_requests(url: str, bodies: list[bytes]) -> list[float]:
    times = []
    for b in bodies:
        t = time.perf_counter()
        post(url, b)
        times.append((time.perf_counter() - t) * 1000)
    return times


def rate(url: str, bodies: list[bytes], concurrency: int) -> float:
    chunks = [bodies[i::concurrency] for i in range(concurrency)]
    threads = [threading.Thread(target=lambda c=c: [post(url, b) for b in c]) for c in chunks]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return len(bodies) / (time.perf_counter() - t)


def browser(base: str, runs: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.browser.digit_drawings import DRAWINGS

    overview, stroke = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = b.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/stack?sz=64&{STACK_QUERY}")
        page.wait_for_function("() => document.querySelectorAll('.layer-card').length === 11")
        for i in range(runs):
            side = "128" if i % 2 == 0 else "96"
            page.evaluate("() => { window.t0 = performance.now(); }")
            page.locator("#size").select_option(side)
            title = "document.querySelector('.layer-card h3').textContent"
            page.wait_for_function(f"() => {title}.includes('{side} × {side}')")
            overview.append(
                page.evaluate(
                    "() => new Promise(r => requestAnimationFrame("
                    "() => r(performance.now() - window.t0)))"
                )
            )
        page.goto(f"{base}/digits")
        page.locator("#filters-learned canvas").first.wait_for()
        page.evaluate(
            """() => {
              const pad = document.querySelector('#pad');
              pad.addEventListener('pointerup', () => { window.up = performance.now(); }, true);
              new MutationObserver(() => { window.shown = performance.now(); }).observe(
                document.querySelector('#says'), {attributes: true, attributeFilter: ['data-seq']});
            }"""
        )
        box = page.locator("#pad").bounding_box()
        drawings = [s for styles in DRAWINGS.values() for s in styles][:runs]
        for strokes in drawings:
            page.get_by_role("button", name="Clear").click()
            for s in strokes:
                seq = page.locator("#says").get_attribute("data-seq") or "0"
                page.mouse.move(
                    box["x"] + s[0][0] * box["width"], box["y"] + s[0][1] * box["height"]
                )
                page.mouse.down()
                for x, y in s[1:]:
                    page.mouse.move(
                        box["x"] + x * box["width"], box["y"] + y * box["height"], steps=2
                    )
                page.mouse.up()
                page.wait_for_function(
                    f"() => Number(document.querySelector('#says').dataset.seq || 0) > {seq}"
                )
                stroke.append(page.evaluate("() => window.shown - window.up"))
        b.close()
    return overview, stroke


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    proc, base = _start()
    try:
        bodies = stack_bodies(args.requests)
        post(base + "/api/stack?encoding=base64", bodies[0])  # warm up
        seq = time_requests(base + "/api/stack?encoding=base64", bodies)
        rps = rate(base + "/api/stack?encoding=base64", bodies, args.concurrency)
        digit = json.dumps({"strokes": [[[50, 10], [120, 10], [70, 150]]]}).encode()
        dtimes = time_requests(base + "/api/digits/forward", [digit] * args.requests)
        size = len(post(base + "/api/stack?encoding=base64", bodies[0]))
        print(f"4-conv stack on a 128x128 colour photo (answer {size / 1e6:.1f} MB in base64):")
        print("| measure | median | target |\n|---|---|---|")
        print(f"| POST /api/stack, one at a time | {statistics.median(seq):.1f} ms | |")
        target = f">= {RATE_TARGET:.0f}/s"
        print(f"| one worker, {args.concurrency} clients | {rps:.1f} requests/s | {target} |")
        print(f"| POST /api/digits/forward (strokes) | {statistics.median(dtimes):.1f} ms | |")
        if not args.no_browser:
            overview, stroke = browser(base, args.runs)
            o, t = statistics.median(overview), statistics.median(stroke)
            print(f"| /stack: side chosen -> overview drawn (Chromium) | {o:.0f} ms | <= 500 ms |")
            print(f"| /digits: stroke's end -> answer shown (Chromium) | {t:.0f} ms | <= 100 ms |")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
