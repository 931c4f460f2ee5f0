"""Frame times of the visualizer's animation, and the page's weight.

Not a test: a measurement to read. It serves the app with uvicorn on a free
loopback port (or uses --url), opens the page in Debian's Chromium with a 64x64
input and a 3x3 kernel given in the URL state, plays the animation and records,
inside the page:

- the interval between successive requestAnimationFrame callbacks (what the
  viewer sees: 16.7 ms is 60 frames per second), and
- each frame's work, from the start of its rAF callbacks until a task queued
  then runs (after the page's script, style, layout and paint), and
- the time the page's render path takes per frame (``window.convviz.frames``,
  measured around ``describeFrame`` + ``Stage.draw``).

The rAF interval sits at the display's 16.7 ms whatever the page does, give or
take timer jitter; a dropped frame shows as 33 ms. The work figures say how much
of each 16.7 ms the page uses.

It prints median and 95th percentile of both (target p95 < 16.7 ms) and the
bytes of HTML + JS + CSS the page loads (target < 150,000). Then the same for a
256x256 grey photo (uploaded; 64,516 steps) played at 1200 steps/s, 20 a frame,
so that it plays through in under a minute; then the time from an answer's
arrival (its responseEnd) to the first frame drawn from it (target 300 ms) for
a 64x64x3 photo under 16 filters and for a 64x64 photo's backward view; then
the first-paint
weight of each page (/, /?lang=ru, /?view=backward, /network): the HTML, JS and
CSS Chromium loads until the network is idle, uncompressed ("raw") and as the
server sends it ("gzip": /static is gzipped, the pages and the API are not).
Code loaded on first use (dynamic import()) counts only once it is used.

    python benchmarks/frame_times.py [--seconds 8] [--size 64] [--url http://127.0.0.1:8000]
        [--cases play,play256,first] [--runs 5]
    python benchmarks/frame_times.py --weight-only
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FRAME_BUDGET_MS = 1000 / 60
WEIGHT_BUDGET = 150_000
#: The pages whose first-paint weight is printed.
PAGES = ("/", "/?lang=ru", "/?view=backward", "/network")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/presets", timeout=1).close()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("uvicorn did not start") from None
            time.sleep(0.1)


def input_state(size: int) -> str:
    """A size x size input in the page's URL encoding: a smooth ramp 0..1."""
    values = [round(((r + c) % size) / size, 3) for r in range(size) for c in range(size)]
    return f"1x{size}x{size}:" + ",".join(f"{v:g}" for v in values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


#: The 3x3 kernel presets: 16 filters for the 64x64x3 case (CNN Explainer's first layer is 10).
FILTERS_3X3 = (
    "identity box_blur gaussian_blur sharpen sobel_x sobel_y prewitt_x prewitt_y laplacian"
    " emboss diagonal centre_x anti_diagonal"
).split()
#: First-frame cases: (name, query, photo side, "grey" or "rgb", the answer's API path).
FIRST_FRAME_CASES = (
    (
        "64x64x3, 16 filters (forward)",
        "?um=rgb&ms=64&k=" + "~".join((FILTERS_3X3 * 2)[:16]),
        64,
        "rgb",
        "/api/conv2d",
    ),
    ("64x64 grey, backward view", "?view=backward&ms=64", 64, "grey", "/api/backprop"),
)
FIRST_FRAME_TARGET_MS = 300

# In the page: rAF timestamps (what the viewer sees), and each frame's work, from the
# start of its rAF callbacks until a task queued then runs, i.e. after the page's
# script, style, layout and paint for that frame.
RECORD_FRAMES = """() => {
  window.__gaps = [];
  window.__ticks = [];
  window.__work = [];
  let last = 0;
  const channel = new MessageChannel();
  let started = 0;
  channel.port1.onmessage = () => window.__work.push(performance.now() - started);
  const loop = (ts) => {
    if (last) window.__gaps.push(ts - last);
    last = ts;
    window.__ticks.push(ts);
    started = performance.now();
    channel.port2.postMessage(0);
    if (!window.__stop) requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}"""


def photo(path: Path, side: int, mode: str) -> None:
    """A side x side test photo (smooth ramps and a checker), grey or RGB, as PNG."""
    from PIL import Image

    img = Image.new("RGB", (side, side))
    img.putdata(
        [
            ((x * 255) // side, (y * 255) // side, 255 * ((x // 8 + y // 8) % 2))
            for y in range(side)
            for x in range(side)
        ]
    )
    (img if mode == "rgb" else img.convert("L")).save(path)


def open_photo(page, base: str, query: str, side: int, mode: str, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    """Open the page with `query`, then upload a photo and wait for its steps."""
    page.goto(base + "/" + query)
    page.wait_for_function("() => window.convviz && window.convviz.total > 0")
    open_photo_upload(page, tmp, side, mode)


def play(page, seconds: float) -> tuple[list[float], list[float], list[float], int, int]:  # type: ignore[no-untyped-def]
    """Play for `seconds`: rAF intervals, frame work, render-path times, last step, total."""
    total = page.evaluate("window.convviz.total")
    page.evaluate("window.convviz.frames.length = 0")
    page.evaluate(RECORD_FRAMES)
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(seconds * 1000)
    page.evaluate("window.__stop = true")
    step = page.evaluate("window.convviz.step")
    gaps = page.evaluate("window.__gaps")[5:]  # the first include the click and the repaint
    work = page.evaluate("window.__work")[5:]
    renders = page.evaluate("window.convviz.frames")
    return gaps, work, renders, step, total


def report(title: str, seconds: float, played: tuple) -> None:  # type: ignore[type-arg]
    gaps, work, renders, step, total = played
    print(f"\n{title}: {total} steps; played {step + 1} in {seconds:g} s\n")
    print(f"{'measure':<34}{'frames':>7}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}  target")
    measures = (
        ("frame interval (rAF to rAF)", gaps),
        ("frame work (rAF to after paint)", work),
        ("render path (script) per frame", renders),
    )
    for name, xs in measures:
        if not xs:
            print(f"{name:<34}{0:>7}  (no frames)")
            continue
        print(
            f"{name:<34}{len(xs):>7}{statistics.median(xs):>11.2f}{percentile(xs, 0.95):>9.2f}"
            f"{max(xs):>9.2f}  p95 < {FRAME_BUDGET_MS:.1f}"
        )
    dropped = sum(1 for g in gaps if g > 1.5 * FRAME_BUDGET_MS)
    print(f"\nframes dropped (interval > 25 ms): {dropped} of {len(gaps)}")


def launch(p):  # type: ignore[no-untyped-def]
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def measure(base: str, size: int, seconds: float) -> None:
    url = f"{base}/?in={input_state(size)}&sch=unit&k=sobel_x&sp=60"
    weights: dict[str, int] = {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        def count(response) -> None:  # type: ignore[no-untyped-def]
            kind = response.request.resource_type
            if kind in ("document", "script", "stylesheet") and response.ok:
                weights[response.url] = len(response.body())

        page.on("response", count)
        page.goto(url)
        page.wait_for_function("() => window.convviz && window.convviz.total > 0")
        played = play(page, seconds)
        browser.close()

    report(f"{size}x{size} input, 3x3 kernel, 60 steps/s", seconds, played)
    total_bytes = sum(weights.values())
    print(
        f"\npage weight (HTML + JS + CSS): {total_bytes} bytes = {total_bytes / 1024:.1f} KB"
        f" in {len(weights)} files (target < {WEIGHT_BUDGET:,} bytes)"
    )
    for u, n in sorted(weights.items(), key=lambda kv: -kv[1]):
        print(f"  {n:>7}  {u.replace(base, '').split('?')[0] or '/'}")


def measure_photo(base: str, seconds: float, side: int = 256, speed: int = 1200) -> None:
    """A side x side grey photo (an upload: too large for a link) played at `speed` steps/s."""
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        open_photo(page, base, f"?ms={side}&k=sobel_x&sp={speed}", side, "grey", Path(tmp))
        played = play(page, seconds)
        browser.close()
    report(
        f"{side}x{side} photo, 3x3 kernel, {speed} steps/s ({speed // 60} a frame)", seconds, played
    )


def first_frames(base: str, runs: int) -> None:
    """Time from an answer's arrival (its responseEnd) to the first frame drawn from it."""
    print(
        f"\n{'first frame after the answer':<34}{'runs':>5}{'median ms':>11}{'max ms':>9}  target"
    )
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = launch(p)
        for name, query, side, mode, api in FIRST_FRAME_CASES:
            times = []
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(base + "/" + query)
                page.wait_for_function("() => window.convviz && window.convviz.total > 0")
                page.evaluate(RECORD_FRAMES)
                open_photo_upload(page, Path(tmp), side, mode)
                # The last answer of `api`, and the first rAF after the model drawn from it.
                times.append(
                    page.evaluate(
                        """(api) => {
                          const answers = performance.getEntriesByType('resource')
                            .filter((e) => e.name.includes(api));
                          const arrived = answers[answers.length - 1].responseEnd;
                          const built = window.convviz.builtAt;
                          const tick = window.__ticks.find((t) => t >= built);
                          return (tick === undefined ? performance.now() : tick) - arrived;
                        }""",
                        api,
                    )
                )
                page.evaluate("window.__stop = true")
                page.close()
            print(
                f"{name:<34}{runs:>5}{statistics.median(times):>11.1f}{max(times):>9.1f}"
                f"  < {FIRST_FRAME_TARGET_MS}"
            )
        browser.close()


def open_photo_upload(page, tmp: Path, side: int, mode: str) -> None:  # type: ignore[no-untyped-def]
    """Upload a photo on the page as it is, and wait until its model is drawn and a frame passed."""
    path = tmp / f"photo_{side}_{mode}.png"
    photo(path, side, mode)
    before = page.evaluate("window.convviz.builtAt")
    page.locator("#file").set_input_files(str(path))
    page.wait_for_function(
        "([t, shape]) => window.convviz.builtAt > t && window.convviz.total > 0"
        " && window.convviz.app.results.shape.includes(shape)"
        " && (!window.__ticks || window.__ticks.at(-1) > window.convviz.builtAt)",
        arg=[before, f"[{3 if mode == 'rgb' else 1},{side},{side}]"],
        timeout=120_000,
    )


def sent_bytes(url: str) -> int:
    """Bytes of `url` as the server sends them to a browser (gzip accepted)."""
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return len(res.read())  # urllib does not decompress: these are the wire bytes


def page_weights(base: str) -> None:
    """Print the first-paint weight of each of PAGES, raw and as sent."""
    print(f"\n{'first paint (HTML + JS + CSS)':<34}{'files':>6}{'raw bytes':>11}{'gzip bytes':>12}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in PAGES:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            weights: dict[str, int] = {}

            def count(response, weights=weights) -> None:  # type: ignore[no-untyped-def]
                kind = response.request.resource_type
                if kind in ("document", "script", "stylesheet") and response.ok:
                    weights[response.url] = len(response.body())

            page.on("response", count)
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.close()
            raw = sum(weights.values())
            sent = sum(sent_bytes(u) for u in weights)
            mark = "" if path not in ("/", "/?lang=ru") or raw < WEIGHT_BUDGET else "  over budget"
            print(f"{path:<34}{len(weights):>6}{raw:>11}{sent:>12}{mark}")
        browser.close()
    print(f"(target for / and /?lang=ru: raw < {WEIGHT_BUDGET:,} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--weight-only", action="store_true", help="only the pages' weights")
    parser.add_argument(
        "--cases",
        default="play,play256,first",
        help="comma-separated: play (the --size input at 60 steps/s), play256 (a 256x256"
        " photo at 1200 steps/s), first (first frame after the answer)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of each first-frame case")
    args = parser.parse_args()
    cases = set(args.cases.split(","))
    proc = None
    base = args.url
    if not base:
        proc, base = serve()
    try:
        if not args.weight_only:
            if "play" in cases:
                measure(base.rstrip("/"), args.size, args.seconds)
            if "play256" in cases:
                measure_photo(base.rstrip("/"), args.seconds)
            if "first" in cases:
                first_frames(base.rstrip("/"), args.runs)
        page_weights(base.rstrip("/"))
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
