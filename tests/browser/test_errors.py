"""Errors in the user's language, and mistakes prevented before they are made
(issue 12, item 3)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


# A 40x40 input with a 1x1 kernel: one GIF frame would draw 3,201 cells, over the
# export's 2,500 (numbers too small to read). Only the server knows its drawing budget,
# so the page cannot prevent it: it words the refusal (frame_cells_over_limit).
OVER_EXPORT = "/?in=1x40x40:0*1600&sch=unit"


def _export_error(page, url: str, summary: str) -> tuple[str, dict]:
    """The export panel's words for the GIF the page asks for, and the API's answer."""
    page.goto(url)
    page.locator("table[aria-label]").first.wait_for(state="attached")
    page.get_by_text(summary).click()
    with page.expect_response(lambda r: "/api/export/gif" in r.url) as answer:
        page.click("#ex-gif")
    err = page.locator("#ex-err")
    err.wait_for()
    return err.inner_text(), answer.value.json()["detail"][0]


def test_a_server_limit_is_worded_in_russian_with_its_numbers_and_fix(
    page, server: str, watch
) -> None:
    watch.expected.append("status of 422")
    text, item = _export_error(page, server + OVER_EXPORT + "&lang=ru", "Экспорт: GIF, PNG, JSON")
    assert item["code"] == "frame_cells_over_limit"
    ru = {k: f"{v:,}".replace(",", "\u00a0") for k, v in item["ctx"].items()}
    assert f"Клеток в одном кадре было бы {ru['actual']}" in text, text
    assert f"больше предела ({ru['limit']})" in text, text
    assert "уменьшите вход или число каналов" in text, text  # the fix
    server_words = {w.lower() for w in re.findall(r"[A-Za-z]{2,}", item["msg"])}
    assert not server_words & {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text)}, text


def test_the_same_limit_in_english_keeps_its_numbers_and_fix(page, server: str, watch) -> None:
    watch.expected.append("status of 422")
    text, item = _export_error(page, server + OVER_EXPORT, "Export: GIF, PNG, JSON")
    ctx = item["ctx"]
    assert f"{ctx['actual']:,} cells, over the limit of {ctx['limit']:,}" in text, text
    assert "use a smaller input or fewer channels" in text, text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("The kernel 5×5", "padded input 3×3", "use a smaller kernel")),
        ("ru", ("Ядро 5×5", "больше входа 3×3 с дополнением", "уменьшите ядро")),
    ],
)
def test_a_kernel_larger_than_the_input_is_explained_not_asked(
    page, server: str, lang: str, words: tuple[str, ...]
) -> None:
    # A link with a 5x5 kernel on a 3x3 input: the page knows the arithmetic and
    # never sends the request the API would refuse.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/conv2d" in r.url else None)
    page.goto(server + f"/?lang={lang}&in=1x3x3:0*9&k=1x1x5x5:1*25")
    err = page.locator("#err-general")
    err.wait_for(state="visible")
    text = err.inner_text()
    assert all(w in text for w in words), text
    assert asked == []


@pytest.mark.parametrize(
    ("lang", "why"),
    [("en", "At most 3 here"), ("ru", "Здесь не больше 3")],
)
def test_the_kernel_fields_follow_the_input_and_say_why(
    page, server: str, lang: str, why: str
) -> None:
    page.goto(server + f"/?lang={lang}&in=1x5x5:0*25&k=1x1x3x3:1*9&p=0")
    page.locator("table[aria-label]").first.wait_for(state="attached")
    page.wait_for_function("() => document.querySelector('#k-rows').max === '5'")
    # Shrinking the input to 3 rows lowers the kernel's largest rows to 3 ...
    page.fill("#in-rows", "3")
    page.locator("#in-rows").blur()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => document.querySelector('#k-rows').max === '3'")
    assert why in page.locator("#k-rows").get_attribute("title")
    # ... and asking for 4 kernel rows is explained beside the field, not sent.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/conv2d" in r.url else None)
    page.fill("#k-rows", "4")
    page.locator("#k-rows").blur()
    err = page.locator("#err-k-rows")
    err.wait_for(state="visible")
    assert why in err.inner_text()
    assert page.locator("#k-rows").get_attribute("aria-invalid") == "true"
    assert asked == []
    # Padding 1 makes room again: 5 padded rows hold the 4-row kernel.
    page.fill("#pad-h", "1")
    page.wait_for_function("() => document.querySelector('#k-rows').max === '5'")


@pytest.mark.parametrize(
    ("lang", "field", "value", "words"),
    [
        ("en", "in-rows", "3", ("The kernel 5×5", "padded input 3×5")),
        ("ru", "in-rows", "3", ("Ядро 5×5", "больше входа 3×5 с дополнением")),
        ("en", "dilation", "2", ("The kernel 9×9", "padded input 5×5")),
        ("ru", "dilation", "2", ("Ядро 9×9", "входа 5×5")),
    ],
)
def test_a_change_that_leaves_the_kernel_too_large_says_why_beside_it(
    page, server: str, lang: str, field: str, value: str, words: tuple[str, ...]
) -> None:
    page.goto(server + f"/?lang={lang}&in=1x5x5:0*25&k=1x1x5x5:1*25")
    page.locator("table[aria-label]").first.wait_for(state="attached")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/conv2d" in r.url else None)
    page.fill(f"#{field}", value)
    err = page.locator("#err-input" if field == "in-rows" else f"#err-{field}")
    err.wait_for(state="visible")
    text = err.inner_text()
    assert all(w in text for w in words), text
    assert asked == []


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
    assert page.locator("#stride").evaluate("e => getComputedStyle(e).cursor") == "not-allowed"
    # ... and says why: its title, and the visible note it is described by.
    assert page.locator("#stride").get_attribute("title") == note.inner_text()
    assert page.locator("#stride").get_attribute("aria-describedby") == "prevent-note"


def test_a_stride_of_two_disables_same_padding(page, server: str) -> None:
    page.goto(server + "/?s=2")
    page.locator('table[aria-label^="Output"]').first.wait_for(state="attached")
    assert page.locator('#padding option[value="same"]').evaluate("o => o.disabled")
    assert "stride" in page.locator("#prevent-note").inner_text()
