"""Numbers and the written-out sums of the frames."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from app.export import text
from app.export.fonts import font, measure
from tests.export.scenes import assorted_scenes, padding_scene


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (3.0, "3"),
        (-12.0, "-12"),
        (7 / 9, "0.78"),
        (-1 / 9, "-0.11"),
        (0.5, "0.5"),
        (123.456, "123.5"),
        (2295.4, "2295"),
        (1e-4, "1e-04"),
        (0.1 + 0.2, "0.3"),
    ],
)
def test_number(value: float, expected: str) -> None:
    assert text.number(value) == expected


def _line(scene, step: int) -> str:
    head, terms, sep, tail = text.expression(scene, step)
    return head + sep.join(terms) + tail


def test_padding_slide_sums_are_written_out() -> None:
    scene = padding_scene()
    assert _line(scene, 0) == "0·2 + 0·0 + 0·1 + 0·1 + 2·0 + 2·0 + 0·0 + 0·1 + 1·1 = 1"
    assert _line(scene, 4) == "1·2 + 3·0 + 0·1 + 3·1 + 0·0 + 1·0 + 3·0 + 2·1 + 1·1 = 8"


def test_mean_bias_and_pooling_lines() -> None:
    scenes = assorted_scenes()
    assert _line(scenes["xo_mean"], 0).endswith(") / 9 = 7 / 9 = 0.78")
    assert _line(scenes["xo_mean"], 0).startswith("((-1)·1 + (-1)·(-1) + ")
    with_bias = scenes["channels_bias"]
    assert _line(with_bias, 0).endswith(" = -8 + 0.5 = -7.5")  # bias[0] = 0.5
    last = with_bias.trace.steps - 1
    assert _line(with_bias, last).endswith(" - 1 = " + text.number(with_bias.trace.result[last]))
    assert _line(scenes["max_pool_padding"], 0) == "max(0, 1, 4, 5) = 5"
    assert _line(scenes["avg_pool"], 8) == "(24) / 1 = 24 / 1 = 24"


def test_wrap_keeps_the_result_when_terms_are_cut() -> None:
    measure = font(20).getlength
    terms = [f"{i}·{i}" for i in range(200)]
    lines = text.wrap("", terms, " + ", " = 42", measure, 400, 2)
    assert len(lines) == 2
    assert all(measure(line) <= 400 for line in lines)
    assert lines[0].startswith("0·0 + 1·1")
    assert "more)" in lines[-1] and lines[-1].endswith("= 42")


def test_wrap_breaks_at_separators() -> None:
    measure = font(20).getlength
    lines = text.wrap("(", ["1·1"] * 30, " + ", ") / 9 = 3.33", measure, 300, 10)
    assert 1 < len(lines) < 10
    assert all(measure(line) <= 300 for line in lines)
    assert all(not line.startswith("+") or line.startswith("+ ") for line in lines)
    assert "".join(lines).count("1·1") == 30


@pytest.mark.parametrize("size", [11, 24, 40])
def test_fast_measure_is_within_a_pixel(size: int) -> None:
    samples = [
        "(-1)×(-1) + 0.78×2 = 7 / 9",
        "max(21, 22, 23) = 23",
        "… (12 more)",
        "−1e-04",
        "шаг 25 / 49: вход × ядро",
    ]
    for sample in samples:
        assert measure(size)(sample) == pytest.approx(font(size).getlength(sample), abs=1.0)


def test_font_has_cyrillic_times_and_minus() -> None:
    # A character the font lacks is drawn as the same box (.notdef) as any other.
    def drawn(char: str) -> bytes:
        image = Image.new("L", (60, 60))
        ImageDraw.Draw(image).text((10, 5), char, font=font(40), fill=255)
        return image.tobytes()

    missing = drawn("\uffff")
    for char in "×−Жяй·…":
        assert drawn(char) != missing, char
        assert any(drawn(char)), char
