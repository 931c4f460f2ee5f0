"""Training you can watch (issue 12, item 5): the curves come into view when a run
starts and stay there while they grow; during gradient descent the big grids
(the kernel, the output, dE/dW) follow every iteration, not only the last."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.browser.test_page import table

pytestmark = pytest.mark.browser

#: Records every `step` event of /api/descent/stream as the page receives it: the
#: page's own fetch, its body split in two (one for the page, one for the test).
RECORD = """
(() => {
  const orig = window.fetch;
  window.__steps = [];
  window.fetch = async (...args) => {
    const res = await orig(...args);
    const url = String((args[0] && args[0].url) || args[0]);
    if (!url.includes('/api/descent/stream') || !res.body) return res;
    const [mine, theirs] = res.body.tee();
    (async () => {
      const reader = theirs.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\\r\\n/g, '\\n');
        let i;
        while ((i = buf.indexOf('\\n\\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: ?(.*)$/m.exec(chunk);
          const data = chunk.split('\\n').filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim()).join('\\n');
          if (ev && ev[1] === 'step') window.__steps.push(JSON.parse(data));
        }
      }
    })();
    const { status, statusText, headers } = res;
    return new Response(mine, { status, statusText, headers });
  };
})();
"""

#: A grid's numbers as its table shows them.
READ = """(n) => [...document.querySelector(`#grids table[aria-label="${n}"]`).tBodies[0].rows]
  .map((r) => [...r.cells].slice(1).map((c) => Number(c.textContent.replace('\u2212', '-'))))"""
#: The big grids as shown now, all read in one go (one frame).
SHOWN = f"""(names) => {{
  const read = {READ};
  return Object.fromEntries(names.map((n) => [n, read(n)]));
}}"""

KERNEL, OUTPUT, GRAD, INPUT = "Kernel turned 180°", "O, the output", "dE/dW", "X, the input"


def _close(shown, want, tol: float = 0.006) -> bool:
    a, b = np.asarray(shown, float), np.asarray(want, float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol + 0.006 * np.abs(b)))


def _slow(route, pace_ms: int) -> None:
    """The run at a pace a test can see every iteration at (the page's pace is 40 ms)."""
    body = json.loads(route.request.post_data)
    body["delay_ms"] = pace_ms
    route.continue_(post_data=json.dumps(body))


def test_descent_grids_follow_every_iteration(page, server: str) -> None:
    page.add_init_script(RECORD)
    page.route("**/api/descent/stream*", lambda route: _slow(route, 400))
    n = 6
    page.goto(server + f"/?view=backward&in=x&it={n}")
    page.locator('table[aria-label="dE/dW"]').first.wait_for(state="attached")
    x = np.array(table(page, INPUT), float)
    reduce = page.evaluate("window.convviz.app.state.reduce")
    first = page.evaluate(SHOWN, [KERNEL, OUTPUT, GRAD])
    page.get_by_role("button", name="Run", exact=True).click()
    seen = []
    for k in range(n + 1):
        page.wait_for_function(f"() => window.__steps.length > {k}", timeout=10_000)
        step = page.evaluate(f"window.__steps[{k}]")
        assert step["iteration"] == k
        w = np.array(step["weight"], float)[0, 0]
        # The big kernel grid shows this iteration's kernel (turned, as the view draws it) ...
        page.wait_for_function(
            f"""([name, want]) => {{
              const got = ({READ})(name);
              const near = (v, w) => Math.abs(v - w) <= 0.006 + 0.006 * Math.abs(w);
              return got.length === want.length
                && got.every((row, i) => row.every((v, j) => near(v, want[i][j])));
            }}""",
            arg=[KERNEL, np.rot90(w, 2).tolist()],
            timeout=3_000,
            polling="raf",
        )
        shown = page.evaluate(SHOWN, [KERNEL, OUTPUT, GRAD])
        # ... and the output and dE/dW of that same kernel, in the same frame.
        kh, kw = w.shape
        out = np.array(
            [
                [float((x[i : i + kh, j : j + kw] * w).sum()) for j in range(x.shape[1] - kw + 1)]
                for i in range(x.shape[0] - kh + 1)
            ]
        )
        if reduce == "mean":
            out /= w.size
        assert _close(shown[OUTPUT], out), (k, shown[OUTPUT], out.round(3).tolist())
        assert _close(shown[GRAD], np.array(step["grad"], float)[0, 0]), (
            k,
            shown[GRAD],
            step["grad"],
        )
        seen.append((shown, np.array(step["grad"], float)))
    # They changed at every iteration, not only at the end: the kernel and the
    # output each time; dE/dW wherever its numbers moved by more than it shows.
    states = [(first, seen[0][1])] + seen[1:]
    for (a, ga), (b, gb) in zip(states, states[1:], strict=False):
        assert a[KERNEL] != b[KERNEL] and a[OUTPUT] != b[OUTPUT]
        if np.abs(ga - gb).max() > 0.02:
            assert a[GRAD] != b[GRAD]


def _in_view(page, sel: str) -> dict:
    """Where `sel` is, and whether its middle is on screen and not under anything."""
    return page.evaluate(
        """(s) => {
          const e = document.querySelector(s), r = e.getBoundingClientRect();
          const x = r.x + r.width / 2, y = r.y + r.height / 2;
          const on = r.bottom > 0 && r.top < innerHeight && y > 0 && y < innerHeight;
          const hit = on ? document.elementFromPoint(x, y) : null;
          const seen = on && !!hit && (hit === e || e.contains(hit));
          return {top: r.top, bottom: r.bottom, h: innerHeight, seen};
        }""",
        sel,
    )


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["laptop", "phone"])
def test_network_curves_come_into_view_and_stay_while_training(browser, server: str, size) -> None:
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, has_touch=size[0] < 800
    )
    page = context.new_page()
    try:
        # 12 epochs at 300 ms: a run long enough to look at twice while it grows.
        page.goto(server + "/network?ep=12&pace=300")
        page.wait_for_function("() => document.getElementById('says').textContent.trim() !== ''")
        page.locator("#train").scroll_into_view_if_needed()
        assert not _in_view(page, "#curve-loss canvas")["seen"]  # below the fold before
        page.click("#train")
        for epochs in (2, 6):
            page.wait_for_function(
                f"() => document.querySelectorAll('#curve-loss tbody tr').length >= {epochs}",
                timeout=15_000,
            )
            page.wait_for_timeout(400)  # the smooth scroll has landed
            assert page.locator("#stop").is_enabled()  # still training
            for sel in ("#curve-loss canvas", "#curve-acc canvas"):
                where = _in_view(page, sel)
                assert where["seen"], (sel, epochs, where)
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["laptop", "phone"])
def test_descent_curve_comes_into_view_when_a_run_starts(browser, server: str, size) -> None:
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, has_touch=size[0] < 800
    )
    page = context.new_page()
    try:
        page.route("**/api/descent/stream*", lambda route: _slow(route, 300))
        page.goto(server + "/?view=backward&in=x&it=8")
        page.locator('table[aria-label="dE/dW"]').first.wait_for(state="attached")
        page.evaluate("document.getElementById('descent').open = true")
        page.locator("#gd-run").scroll_into_view_if_needed()
        page.click("#gd-run")
        page.wait_for_function(
            "() => document.querySelectorAll('#gd-curve tbody tr').length >= 3", timeout=15_000
        )
        page.wait_for_timeout(400)
        assert page.locator("#gd-stop").is_enabled()  # still running
        where = _in_view(page, "#gd-curve canvas")
        assert where["seen"], where
    finally:
        context.close()


STOPPED = {"en": "Training stopped.", "ru": "Обучение остановлено."}


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("size", [(390, 844), (360, 740)])
def test_stop_and_the_progress_stay_in_view_while_the_network_trains(
    browser, server: str, size, lang
) -> None:
    """The curves a run brings into view are far below the settings on a phone:
    Stop and the progress bar stay on screen meanwhile, where a tap reaches them."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server + "/network?ep=30&pace=300" + ("&lang=ru" if lang == "ru" else ""))
        page.wait_for_function("() => document.getElementById('says').textContent.trim() !== ''")
        page.locator("#train").scroll_into_view_if_needed()
        page.click("#train")
        for epochs in (2, 5):
            page.wait_for_function(
                f"() => document.querySelectorAll('#curve-loss tbody tr').length >= {epochs}",
                timeout=15_000,
            )
            page.wait_for_timeout(400)  # the smooth scroll has landed
            assert page.locator("#stop").is_enabled()  # still training
            for sel in ("#stop", "#progress", "#curve-loss canvas"):
                where = _in_view(page, sel)
                assert where["seen"], (sel, epochs, where)
                assert 0 <= where["top"] and where["bottom"] <= size[1], (sel, where)
        assert 0 < page.locator("#progress").evaluate("p => p.value") < 1
        # A tap on Stop stops the run: no more epochs come, Train is back.
        box = page.locator("#stop").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("() => !document.getElementById('train').disabled")
        assert page.locator("#train-status").inner_text() == STOPPED[lang]
        rows = page.locator("#curve-loss tbody tr").count()
        page.wait_for_timeout(900)  # three epochs' time
        assert page.locator("#curve-loss tbody tr").count() == rows < 30
        assert page.locator("#run").evaluate("e => getComputedStyle(e).position") == "static"
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("size", [(390, 844), (360, 740), (844, 390)])
def test_descent_stop_stays_in_view_while_it_runs(browser, server: str, size, lang) -> None:
    """The backward view's gradient descent on a phone (upright and sideways): the
    curve comes into view with Stop and the status above it; a tap on Stop ends the run."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page = context.new_page()
    try:
        page.route("**/api/descent/stream*", lambda route: _slow(route, 300))
        page.goto(server + "/?view=backward&in=x&it=40" + ("&lang=ru" if lang == "ru" else ""))
        page.locator('table[aria-label="dE/dW"]').first.wait_for(state="attached")
        page.evaluate("document.getElementById('descent').open = true")  # folded on a phone
        page.locator("#gd-run").scroll_into_view_if_needed()
        page.click("#gd-run")
        page.wait_for_function(
            "() => document.querySelectorAll('#gd-curve tbody tr').length >= 3", timeout=15_000
        )
        page.wait_for_timeout(400)
        assert page.locator("#gd-stop").is_enabled()  # still running
        for sel in ("#gd-stop", "#gd-status", "#gd-curve canvas"):
            where = _in_view(page, sel)
            assert where["seen"], (sel, where)
        box = page.locator("#gd-stop").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("() => document.getElementById('gd-stop').disabled")
        rows = page.locator("#gd-curve tbody tr").count()
        page.wait_for_timeout(900)
        assert page.locator("#gd-curve tbody tr").count() == rows < 40
    finally:
        context.close()
