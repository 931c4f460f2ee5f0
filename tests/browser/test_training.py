"""The backward view and gradient descent in a real browser (issue 4)."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_page import status, table, wait_cell

pytestmark = pytest.mark.browser


def ready(page, url: str) -> None:
    """Open `url` and wait until the backward pass is drawn."""
    page.goto(url)
    page.locator('table[aria-label="dE/dW"]').first.wait_for(state="attached")


def sum_text(page) -> str:
    return page.locator("#sum").inner_text()


def test_backward_view_shows_dE_dO_and_steps_through_dE_dW(page, server) -> None:
    ready(page, server + "/?view=backward&loss=sum")
    assert page.locator("html").get_attribute("lang") == "en"
    assert all(v == "1" for row in table(page, "dE/dO") for v in row)
    # dE/dW (9 steps), then dE/dX on the 9x9 input (81 steps).
    assert status(page) == "Step 1 of 90: dE/dW"
    first = sum_text(page)
    assert first.startswith("dE/dW₁₁ = (") and "*1 + " in first
    assert first.endswith(f"/ 9 = {table(page, 'dE/dW')[0][0]}")
    page.get_by_role("button", name="Next").click()
    assert sum_text(page).startswith("dE/dW₁₂ = (")
    assert status(page) == "Step 2 of 90: dE/dW"
    page.keyboard.press("End")
    assert status(page) == "Step 90 of 90: dE/dX"
    assert sum_text(page).startswith("dE/dX₉₉ = ")
    for name in ("X, the input", "dE/dO as the kernel", "dE/dW", "Kernel turned 180°", "dE/dX"):
        assert page.get_by_role("table", name=name, exact=True).count() == 1, name
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll(
              'input, select, button, .gv, table, canvas[role], ol')]
          .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                        && !(el.tagName === 'BUTTON' && el.textContent.trim()))
          .map(el => el.id || el.className || el.tagName)"""
    )
    assert unnamed == []


def test_slide_12_written_out_and_its_gradients(page, server) -> None:
    ready(page, server + "/?view=backward")
    page.get_by_role("button", name="Slide 12's example").click()
    wait_cell(page, "dE/dW", 1, 1, "6")
    assert table(page, "dE/dO") == [["1", "0"], ["-1", "2"]]
    assert table(page, "dE/dW") == [["0", "5"], ["5", "6"]]
    assert table(page, "dE/dX") == [["1", "-1", "0"], ["1", "3", "-2"], ["-2", "4", "0"]]
    eqs = page.locator("#equations li").all_inner_texts()
    assert "O₁₁ = W₁₁·X₁₁ + W₁₂·X₁₂ + W₂₁·X₂₁ + W₂₂·X₂₂" in eqs
    assert "dE/dW₁₁ = dE/dO₁₁·X₁₁ + dE/dO₁₂·X₁₂ + dE/dO₂₁·X₂₁ + dE/dO₂₂·X₂₂" in eqs
    assert "dE/dX₁₁ = dE/dO₁₁·W₁₁" in eqs
    assert sum_text(page) == "dE/dW₁₁ = 1*1 + 2*0 + 3*(-1) + 1*2 = 0"
    assert page.locator("#equations li[aria-current]").inner_text().startswith("dE/dW₁₁ = ")
    assert "loss=grad" in page.url
    # Painting dE/dO by hand changes the gradients.
    page.get_by_label("Value to paint on the map").fill("3")
    page.locator('.gv[data-view="go:0"]').focus()
    page.keyboard.press("Space")
    wait_cell(page, "dE/dO", 0, 0, "3")
    wait_cell(page, "dE/dW", 0, 0, "2")  # 3*1 + 0*2 + (-1)*3 + 2*1


def test_descent_run_makes_the_loss_fall_and_the_kernel_change(page, server) -> None:
    # The X glyph and the diagonal kernel (a bare /?view=backward opens on slide 12).
    ready(page, server + "/?view=backward&in=x")
    before = page.get_by_role("table", name="Kernel", exact=True).evaluate(
        "t => [...t.querySelectorAll('input')].map(i => i.value)"
    )
    assert before == ["1", "-1", "-1", "-1", "1", "-1", "-1", "-1", "1"]
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#gd-status').textContent.includes('Converged')",
        timeout=20_000,
    )
    losses = page.get_by_role("table", name="Loss by iteration").evaluate(
        "t => [...t.tBodies[0].rows].map(r => Number(r.cells[1].textContent))"
    )
    assert len(losses) > 5
    assert losses[-1] < 1e-7 < losses[0]
    after = page.get_by_role("table", name="Kernel", exact=True).evaluate(
        "t => [...t.querySelectorAll('input')].map(i => Number(i.value))"
    )
    # The teacher was the anti-diagonal filter: the kernel became it.
    teacher = [-1, -1, 1, -1, 1, -1, 1, -1, -1]
    assert max(abs(a - b) for a, b in zip(after, teacher, strict=True)) < 0.01
    assert re.search(r"[?&]k=1x1x3x3:", page.url)


def test_descent_stops_on_request(page, server) -> None:
    ready(page, server + "/?view=backward&lr=0.01&mo=0&it=1000")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#gd-status').textContent.startsWith('Iteration 3')"
    )
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#gd-status').textContent.includes('Stopped on request')"
    )
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()


def test_the_diagonal_detector_scenario(page, server) -> None:
    ready(page, server + "/?view=backward")
    page.get_by_role("button", name="Learn the diagonal detector").click()
    page.wait_for_function("() => location.search.includes('gd=xo')")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#gd-status').textContent.includes('Converged')",
        timeout=20_000,
    )
    after = page.get_by_role("table", name="Kernel", exact=True).evaluate(
        "t => [...t.querySelectorAll('input')].map(i => Number(i.value))"
    )
    diagonal = [1, -1, -1, -1, 1, -1, -1, -1, 1]
    assert max(abs(a - b) for a, b in zip(after, diagonal, strict=True)) < 0.01


def test_backward_view_in_russian(page, server) -> None:
    ready(page, server + "/?view=backward&lang=ru&act=relu&pool=max&pc=1")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert status(page).startswith("Шаг 1 из ")
    titles = page.locator(".gsec h3").all_inner_texts()
    assert titles[0] == "Потери E и их градиент dE/dO"
    assert "Max-пулинг назад" in titles[1]
    assert page.get_by_role("link", name="Обратный проход").get_attribute("aria-current") == "page"
    note = page.locator("#gd-note").inner_text()
    assert note.startswith("Градиентный спуск обучает только свёртку")
