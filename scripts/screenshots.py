"""Screenshots of every page at the sizes our users have, in English and Russian.

    python scripts/screenshots.py [--out DIR] [--url http://127.0.0.1:8000]

Without ``--url`` it starts the app on a free loopback port. Each page is shot at
1280x800 (a laptop, a projector), 390x844 and 360x740 (phones), first screen only,
and once more as a full page at 390x844, so the whole column can be looked at.
Drives Debian's Chromium (``/usr/bin/chromium``), never a downloaded browser.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = {
    "main": "/",
    "backward": "/?view=backward",
    "network": "/network",
    "lecture": "/lecture",
    "stack": "/stack",
    "digits": "/digits",
    "embed": "/embed",
}
SIZES = {"1280": (1280, 800), "390": (390, 844), "360": (360, 740)}


def _serve() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the app did not start")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", default="/tmp/convviz-shots")
    ap.add_argument("--url")
    ap.add_argument("--pages", default=",".join(PAGES), help="comma-separated names")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc, url = (None, args.url) if args.url else _serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for name in args.pages.split(","):
                for lang in ("en", "ru"):
                    sep = "&" if "?" in PAGES[name] else "?"
                    address = url + PAGES[name] + (f"{sep}lang=ru" if lang == "ru" else "")
                    for size, (w, h) in SIZES.items():
                        page = browser.new_page(viewport={"width": w, "height": h})
                        page.goto(address)
                        page.wait_for_load_state("networkidle")
                        page.wait_for_timeout(400)
                        page.screenshot(path=str(out / f"{name}-{lang}-{size}.png"))
                        if size == "390":
                            page.screenshot(
                                path=str(out / f"{name}-{lang}-{size}-full.png"), full_page=True
                            )
                        page.close()
                    print(f"{name} {lang}")
            browser.close()
    finally:
        if proc:
            proc.kill()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
