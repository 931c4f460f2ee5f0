"""No step ceiling (issue 10): big inputs animate, step and hover, every step derived
in the page from the answers' geometry; the page never asks for the full trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.browser


def status(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("#step-status").inner_text()


def photo(tmp: Path, side: int, mode: str = "L") -> str:
    """A side x side photo: a ramp down, a checker across (every window differs)."""
    img = Image.new("RGB", (side, side))
    img.putdata(
        [
            ((x * 7 + y * 3) % 256, (y * 5) % 256, 255 * ((x // 4 + y // 4) % 2))
            for y in range(side)
            for x in range(side)
        ]
    )
    path = tmp / f"photo{side}{mode}.png"
    (img if mode == "RGB" else img.convert("L")).save(path)
    return str(path)


def upload(page, server: str, query: str, path: str, total: int) -> None:  # type: ignore[no-untyped-def]
    """Open `query`, upload `path`, wait until the player has `total` steps."""
    page.goto(server + "/" + query)
    page.wait_for_function("() => window.convviz && window.convviz.total > 0")
    page.locator("#file").set_input_files(path)
    page.wait_for_function(f"() => window.convviz.total === {total}", timeout=60_000)


def cell_centre(page, view: str, r: int, c: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    box = page.locator(f'.gv[data-view="{view}"] canvas.over').bounding_box()
    rows, cols = page.locator(f'.gv[data-view="{view}"]').evaluate(
        "el => [el.querySelector('canvas.heat').height, el.querySelector('canvas.heat').width]"
    )
    return box["x"] + (c + 0.5) * box["width"] / cols, box["y"] + (r + 0.5) * box["height"] / rows


def output_text(page, c: int, r: int, col: int) -> str:  # type: ignore[no-untyped-def]
    """The answer's output cell as the page writes numbers (format.js fmt)."""
    return page.evaluate(
        """async ([c, r, col]) => {
          const { fmt } = await import('/static/js/core/format.js');
          return fmt(window.convviz.app.results.conv.output[c][r][col]);
        }""",
        [c, r, col],
    )


def test_a_256_photo_animates_steps_jumps_and_hovers(page, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 254 x 254 = 64,516 steps: far past the old trace limit (20,000).
    upload(page, server, "?ms=256&k=sobel_x", photo(tmp_path, 256), 254 * 254)
    assert status(page).startswith("Step 1 of 64516")
    assert page.locator("#sum").inner_text().endswith(f"= {output_text(page, 0, 0, 0)}")
    page.get_by_role("button", name="Next").click()
    assert status(page).startswith("Step 2 of 64516")
    # A row down: the same column of the next output row (254 steps on).
    page.get_by_role("button", name="Row +1").click()
    assert status(page).startswith("Step 256 of 64516")
    assert page.locator("#sum").inner_text().endswith(f"= {output_text(page, 0, 1, 1)}")
    page.locator("body").press("PageDown")
    assert status(page).startswith("Step 510 of 64516")
    page.locator("body").press("PageUp")
    assert status(page).startswith("Step 256 of 64516")
    assert page.get_by_role("button", name="Channel +1").is_hidden(), (
        "one channel: no channel jumps"
    )
    # Scrubbing deep into it is instant: the step is derived, not looked up.
    page.get_by_label("Step", exact=True).evaluate(
        "(el) => { el.value = '60000'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    assert status(page).startswith("Step 60001 of 64516")
    r, col = divmod(60000, 254)
    assert page.locator("#sum").inner_text().endswith(f"= {output_text(page, 0, r, col)}")
    # Play many steps a frame: 4800 steps/s.
    page.get_by_label("Speed").select_option("4800")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => window.convviz.step > 1000")
    page.get_by_role("button", name="Pause").click()
    # Hover both ways: an output cell shows its own sum; an input cell what it feeds.
    page.mouse.move(*cell_centre(page, "output:0", 100, 120))
    page.wait_for_function(
        "(v) => document.querySelector('#sum').textContent.endsWith('= ' + v)",
        arg=output_text(page, 0, 100, 120),
    )
    page.mouse.move(*cell_centre(page, "input:0", 128, 128))
    page.wait_for_function(
        "() => document.querySelector('#sum').textContent.includes('read by 9 output')"
    )


def test_many_filters_on_a_colour_photo_jump_by_channel(page, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    names = "~".join(["sobel_x", "sobel_y", "laplacian", "sharpen"] * 4)  # 16 filters
    upload(page, server, f"?um=rgb&ms=64&k={names}", photo(tmp_path, 64, "RGB"), 16 * 62 * 62)
    assert status(page).startswith(f"Step 1 of {16 * 62 * 62}")
    page.get_by_role("button", name="Channel +1").click()
    assert status(page).startswith(f"Step {62 * 62 + 1} of")
    # Three input channels: a partial sum each, then the total.
    lines = page.locator("#sum").inner_text().splitlines()
    assert len(lines) == 4 and lines[-1].endswith(f"= {output_text(page, 1, 0, 0)}")
    page.locator("body").press("Shift+PageDown")
    assert status(page).startswith(f"Step {2 * 62 * 62 + 1} of")


def test_a_64x64_backward_view_draws_and_steps(page, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # dE/dW: 9 steps of 62 x 62 taps; dE/dX: 64 x 64 steps.
    upload(page, server, "?view=backward&ms=64&loss=sum", photo(tmp_path, 64), 9 + 64 * 64)
    assert page.locator("#sum").inner_text().startswith("dE/dW₁₁ = ")
    grad = page.evaluate("window.convviz.app.results.bp.grad_weight[0][0]")
    shown = page.evaluate(
        "async () => (await import('/static/js/core/format.js'))"
        ".fmt(window.convviz.app.results.bp.grad_weight[0][0][0][0])"
    )
    assert page.locator("#sum").inner_text().endswith(f"= {shown}")
    assert len(grad) == 3
    page.get_by_role("button", name="End").click()
    assert status(page).startswith(f"Step {9 + 64 * 64} of {9 + 64 * 64}")
    assert page.locator("#sum").inner_text().startswith("dE/dX")


def test_the_page_asks_for_no_trace(page, server) -> None:  # type: ignore[no-untyped-def]
    bodies: list[dict] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(json.loads(r.post_data))
            if "/api/" in r.url and r.method == "POST" and r.post_data
            else None
        ),
    )
    for query in ("?pool=max&pc=1&act=relu", "?view=backward&act=relu&pool=avg", "?view=backward"):
        page.goto(server + "/" + query)
        page.wait_for_function("() => window.convviz && window.convviz.total > 0")
    assert len(bodies) >= 5
    assert all(b.get("trace") is not True for b in bodies), [b.get("trace") for b in bodies]
    # The backward view asks for each tensor once (api.js fills the repeats back in).
    backprops = [b for b in bodies if "loss" in b]
    assert backprops and all(b.get("repeat") is False for b in backprops)
    # And what comes back is the compact form: geometry, no per-step arrays.
    answer = page.evaluate("window.convviz.app.results.bp")
    assert answer["conv"]["geometry"]["op"] == "conv2d" and answer["conv"].get("trace") is None


def transposed_reference(
    x: list[list[float]], k: int, s: int, p: int, op: int
) -> list[list[float]]:
    """ConvTranspose2d, a k x k kernel of ones: each input cell scattered (PyTorch's definition)."""
    h, w = len(x), len(x[0])
    full = [[0.0] * ((w - 1) * s + k + op) for _ in range((h - 1) * s + k + op)]
    for r in range(h):
        for c in range(w):
            for i in range(k):
                for j in range(k):
                    full[r * s + i][c * s + j] += x[r][c]
    size = (h - 1) * s - 2 * p + k + op
    return [row[p : p + size] for row in full[p : p + size]]


@pytest.mark.parametrize(
    ("name", "side", "k", "s", "p", "op", "out"),
    [
        ("transposed: 2 × 2 → 4 × 4 (no padding, no strides)", 2, 3, 1, 0, 0, 4),
        ("3 × 3 → 6 × 6 (padding, stride 2, output padding 1)", 3, 3, 2, 1, 1, 6),
        ("6 × 6 → 5 × 5 (arbitrary padding)", 6, 4, 1, 2, 0, 5),
    ],
)
def test_conv_arithmetic_s_transposed_animations_are_one_link_each(  # type: ignore[no-untyped-def]
    page, server, name, side, k, s, p, op, out
) -> None:
    page.goto(server + "/lecture/grad-input")
    page.get_by_role("link", name=name).click()
    page.wait_for_function(f"() => window.convviz && window.convviz.total === {out * out}")
    assert status(page).startswith(f"Step 1 of {out * out}")
    assert page.get_by_label("Transposed convolution").is_checked()
    shown = page.evaluate("window.convviz.app.results.conv.output[0]")
    x = [[float(r * side + c + 1) for c in range(side)] for r in range(side)]
    assert shown == transposed_reference(x, k, s, p, op)
    # Every step's worked sum ends in its output cell, through the turned kernel
    # over the input spread out by the stride.
    for n in (0, out + 1, out * out - 1):
        page.get_by_label("Step", exact=True).evaluate(
            "(el, n) => { el.value = String(n);"
            " el.dispatchEvent(new Event('input', {bubbles: true})); }",
            n,
        )
        value = shown[n // out][n % out]
        assert page.locator("#sum").inner_text().endswith(f"= {value:g}")
    assert "tc=1" in page.url


def test_the_transposed_switch_and_output_padding(page, server, watch) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/?in=1x3x3:1,2,3,4,5,6,7,8,9&sch=byte&k=1x1x3x3:1*9&s=2&p=1&r=sum")
    page.wait_for_function("() => window.convviz && window.convviz.total === 4")
    page.get_by_label("Transposed convolution").check()
    page.wait_for_function("() => window.convviz.total === 25")
    page.get_by_label("Output padding", exact=True).fill("1")
    page.wait_for_function("() => window.convviz.total === 36")
    assert "op=1" in page.url and "tc=1" in page.url
    # Output padding must stay below the stride (or the dilation): the API says so, there.
    watch.expected.append("422")
    page.get_by_label("Output padding", exact=True).fill("2")
    page.locator("#err-out-pad").wait_for()
    text = page.locator("#err-out-pad").inner_text()
    assert "Output padding must be smaller than the stride" in text


def test_the_embed_shows_a_transposed_convolution(page, server) -> None:  # type: ignore[no-untyped-def]
    # conv_arithmetic's "no padding, strides, transposed": 2x2 -> 5x5, for a slide.
    page.goto(
        server + "/embed?in=1x2x2:1,2,3,4&sch=byte&k=1x1x3x3:1*9&s=2&r=sum&tc=1&autoplay=1&sp=60"
    )
    page.wait_for_function("() => document.getElementById('step-status').textContent === '25 / 25'")
    assert page.locator('.fig[data-grid="tin"]').is_visible()
    assert "tc=1" in page.locator("#open-full").get_attribute("href")
