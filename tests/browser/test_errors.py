"""Errors in the user's language, and mistakes prevented before they are made
(issue 12, item 3)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_server_error_is_worded_in_russian(page, server: str, watch) -> None:
    watch.expected.append("422")  # Chromium logs the refused request
    # A 5x5 kernel on a 3x3 input: the API refuses it (type kernel_larger_than_input).
    page.goto(server + "/?lang=ru&in=1x3x3:0*9&k=1x1x5x5:1*25")
    err = page.locator("#err-general")
    err.wait_for(state="visible")
    text = err.inner_text()
    assert "Ядро охватывает 5×5" in text and "3×3" in text, text
    assert "kernel" not in text and "padded" not in text, text


def test_the_same_error_in_english_keeps_its_numbers(page, server: str, watch) -> None:
    watch.expected.append("422")
    page.goto(server + "/?in=1x3x3:0*9&k=1x1x5x5:1*25")
    err = page.locator("#err-general")
    err.wait_for(state="visible")
    assert "5×5" in err.inner_text()


def test_same_padding_fixes_the_stride_and_says_why(page, server: str) -> None:
    page.goto(server + "/?lang=ru")
    page.locator('table[aria-label^="Выход"]').first.wait_for(state="attached")
    page.select_option("#padding", "same")
    page.wait_for_function("() => location.search.includes('p=same')")
    assert page.locator("#stride").is_disabled()
    note = page.locator("#prevent-note")
    assert note.is_visible() and "шаг" in note.inner_text()
    opacity = page.locator("#stride").evaluate("e => getComputedStyle(e).opacity")
    assert float(opacity) < 0.6  # looks disabled


def test_a_stride_of_two_disables_same_padding(page, server: str) -> None:
    page.goto(server + "/?s=2")
    page.locator('table[aria-label^="Output"]').first.wait_for(state="attached")
    assert page.locator('#padding option[value="same"]').evaluate("o => o.disabled")
    assert "stride" in page.locator("#prevent-note").inner_text()
