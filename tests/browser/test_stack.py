"""The layer stack page in Chromium: conv-relu-pool-conv-relu-pool on a generated photo
(uploaded as a file), every layer's maps, clicking into a map, editing the stack,
a bad stack's error under its layer, Russian and a phone."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("CONVVIZ_SHOTS", "/tmp/convviz-shots"))


def ready(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.querySelectorAll('.layer-card').length > 1")


def photo_png(size: int = 160) -> bytes:
    """A generated photo: a colour gradient with a disc and a bar, saved as PNG."""
    y, x = np.mgrid[0:size, 0:size] / size
    rgb = np.stack([200 * x + 30, 180 * y + 40, 120 + 100 * np.sin(6 * x * y)], axis=-1)
    rgb[(x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.04] = [250, 240, 30]
    rgb[(np.abs(y - 0.75) < 0.05) & (x > 0.2)] = [20, 20, 90]
    buf = io.BytesIO()
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_conv_relu_pool_twice_on_an_uploaded_photo_and_a_click_into_a_map(page, server) -> None:
    ready(page, server + "/stack")
    page.locator("#src").select_option("upload")
    page.locator("#file").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": photo_png()}
    )
    page.wait_for_function("() => location.search.includes('src=upload')")
    page.wait_for_function(
        "() => document.querySelector('.layer-card h3').textContent.includes('3 × 96 × 96')"
    )
    cards = page.locator(".layer-card")
    assert cards.count() == 7  # the input and six layers
    titles = cards.locator("h3").all_inner_texts()
    assert titles[1:] == [
        "1. Conv: 8 filters 3×3",
        "2. Activation: ReLU",
        "3. Max pool 2×2, stride 2",
        "4. Conv: 16 filters 3×3",
        "5. Activation: ReLU",
        "6. Max pool 2×2, stride 2",
    ]
    counts = [cards.nth(i).locator("button.thumb").count() for i in range(1, 7)]
    assert counts == [8, 8, 8, 16, 16, 16]
    assert "Output: 16 × 24 × 24" in cards.nth(6).inner_text()
    assert "Parameters: 1152" in cards.nth(4).inner_text()  # 16 x 8 x 3 x 3, no bias
    assert "H_out = floor((48 + 2 - 1*(3-1) - 1) / 1) + 1 = 48" in cards.nth(4).inner_text()
    # The photo's pixels stay out of the link.
    assert len(page.url) < 400
    page.get_by_role("button", name="Layer 4, map 3", exact=True).click()
    step = page.locator("#step")
    step.wait_for()
    assert "at=3.2.0" in page.url
    assert step.locator(".step-chan").count() == 4
    total = step.locator(".step-sum").inner_text()
    assert total.startswith("Sum over 8 input maps")
    got, held = total.split("= ")[-1].split(" (the map holds ")
    assert got.strip() == held.rstrip(")")
    page.locator(".step-map").press("End")
    page.wait_for_function("() => location.search.includes('at=3.2.2303')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "stack-step.png"))
    # A pooled map: the window's maximum.
    page.get_by_role("button", name="Layer 6, map 1", exact=True).click()
    page.wait_for_function("() => location.search.includes('at=5.0.0')")
    assert step.locator(".step-sum").inner_text().startswith("Maximum of the window")


def test_layers_are_added_reordered_removed_and_a_bad_stack_names_its_layer(
    page, server, watch
) -> None:
    watch.expected.append("status of 422")  # Chromium logs the refused stack; it is the point
    ready(page, server + "/stack?src=checker&sz=32")
    page.get_by_role("button", name="+ Avg pool").click()
    page.wait_for_function("() => document.querySelectorAll('.layer-card').length === 8")
    assert "~v_2_2" in page.url
    for _ in range(3):
        page.get_by_role("button", name="+ Avg pool").click()
    # 32 -> 16 -> 8 -> 4 -> 2 -> 1, then a pooling with nothing left to pool.
    err = page.locator("#layer-9 .err")
    err.wait_for()
    # The API's pool_input_too_small, worded by the page with its numbers and fix.
    assert "The pooling window (2) is larger than the padded input (1)" in err.inner_text()
    assert "use a smaller window" in page.locator("#err-general").inner_text()
    page.get_by_role("button", name="Remove layer 10").click()
    page.wait_for_function("() => document.querySelectorAll('.layer-card').length === 10")
    assert page.locator("#err-general").is_hidden()
    page.get_by_role("button", name="Move layer 2 up").click()
    page.wait_for_function(
        "() => document.querySelector('#layer-0 strong').textContent.includes('Activation')"
    )
    assert page.url.split("L=")[1].startswith("a_relu~c_8")
    page.go_back()
    page.wait_for_function(
        "() => document.querySelector('#layer-0 strong').textContent.includes('Conv')"
    )


def test_a_typed_kernel_and_learned_filters(page, server) -> None:
    ready(page, server + "/stack?src=house&col=grey&sz=32&L=c_2_3_1_1_1_l")
    page.get_by_role("button", name="Layer 1, map 2", exact=True).click()
    field = page.get_by_role("spinbutton", name="Kernel slice 2, 2")
    field.fill("5")
    field.press("Enter")
    page.wait_for_function("() => location.search.includes('_w2x1x3x3')")
    page.wait_for_function("() => document.querySelector('#layer-0 select#l0-w').value === 'w'")


def test_russian_and_a_phone_with_a_drawing(phone, server) -> None:
    page = phone
    ready(page, server + "/stack?lang=ru&src=draw&sz=32")
    assert page.locator("h2#overview-title").inner_text() == "Карты всех слоёв"
    page.locator("#pad").scroll_into_view_if_needed()
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 30, box["y"] + box["height"] - 30, steps=8)
    page.mouse.up()
    page.wait_for_function("() => location.search.includes('ink=')")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "stack-phone-ru.png"))
