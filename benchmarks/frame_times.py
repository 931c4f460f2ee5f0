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
bytes of HTML + JS + CSS the page loads (target < 150,000), then the first-paint
weight of each page (/, /?lang=ru, /?view=backward, /network): the HTML, JS and
CSS Chromium loads until the network is idle, uncompressed ("raw") and as the
server sends it ("gzip": /static is gzipped, the pages and the API are not).
Code loaded on first use (dynamic import()) counts only once it is used.

    python benchmarks/frame_times.py [--seconds 8] [--size 64] [--url http://127.0.0.1:8000]
    python benchmarks/frame_times.py --weight-only
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

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


def measure(base: str, size: int, seconds: float) -> None:
    url = f"{base}/?in={input_state(size)}&sch=unit&k=sobel_x&sp=60"
    weights: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        def count(response) -> None:  # type: ignore[no-untyped-def]
            kind = response.request.resource_type
            if kind in ("document", "script", "stylesheet") and response.ok:
                weights[response.url] = len(response.body())

        page.on("response", count)
        page.goto(url)
        page.wait_for_function("() => window.convviz && window.convviz.total > 0")
        total = page.evaluate("window.convviz.total")
        page.evaluate(
            """() => {
              window.convviz.frames.length = 0;
              window.__gaps = [];
              let last = 0;
              window.__work = [];
              // The frame's work: from the start of its rAF callbacks until a task
              // queued then can run, i.e. after the page's script, style, layout
              // and paint for that frame.
              const channel = new MessageChannel();
              let started = 0;
              channel.port1.onmessage = () => window.__work.push(performance.now() - started);
              const loop = (ts) => {
                if (last) window.__gaps.push(ts - last);
                last = ts;
                started = performance.now();
                channel.port2.postMessage(0);
                if (!window.__stop) requestAnimationFrame(loop);
              };
              requestAnimationFrame(loop);
            }"""
        )
        page.get_by_role("button", name="Play").click()
        page.wait_for_timeout(seconds * 1000)
        page.evaluate("window.__stop = true")
        step = page.evaluate("window.convviz.step")
        gaps = page.evaluate("window.__gaps")
        renders = page.evaluate("window.convviz.frames")
        work = page.evaluate("window.__work")
        browser.close()

    gaps = gaps[5:]  # the first frames include the click and the play button's repaint
    print(f"{size}x{size} input, 3x3 kernel: {total} steps; played {step + 1} in {seconds:g} s\n")
    print(f"{'measure':<34}{'frames':>7}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}  target")
    measures = (
        ("frame interval (rAF to rAF)", gaps),
        ("frame work (rAF to after paint)", work[5:]),
        ("render path (script) per frame", renders),
    )
    for name, xs in measures:
        print(
            f"{name:<34}{len(xs):>7}{statistics.median(xs):>11.2f}{percentile(xs, 0.95):>9.2f}"
            f"{max(xs):>9.2f}  p95 < {FRAME_BUDGET_MS:.1f}"
        )
    dropped = sum(1 for g in gaps if g > 1.5 * FRAME_BUDGET_MS)
    print(f"\nframes dropped (interval > 25 ms): {dropped} of {len(gaps)}")
    total_bytes = sum(weights.values())
    print(
        f"\npage weight (HTML + JS + CSS): {total_bytes} bytes = {total_bytes / 1024:.1f} KB"
        f" in {len(weights)} files (target < {WEIGHT_BUDGET:,} bytes)"
    )
    for u, n in sorted(weights.items(), key=lambda kv: -kv[1]):
        print(f"  {n:>7}  {u.replace(base, '').split('?')[0] or '/'}")


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
    args = parser.parse_args()
    proc = None
    base = args.url
    if not base:
        proc, base = serve()
    try:
        if not args.weight_only:
            measure(base.rstrip("/"), args.size, args.seconds)
        page_weights(base.rstrip("/"))
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
