"""Exporting the activation stage (issue 12, item 7): POST /api/export/{gif,png} with
``op: "activation"`` draws one step per cell, ``x -> f(x)``, with the function's
formula, in the page's language."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from app.export import scene, text
from app.export.fonts import font
from app.export.layout import make_layout
from app.export.theme import THEMES
from app.export.words import Words

X = [[-2.0, 0.5, 1.0], [1.0, -0.25, 3.0]]
BODY = {"op": "activation", "function": "leaky_relu", "input": X, "negative_slope": 0.1}


def _png(client: TestClient, body: dict, query: str = "") -> Image.Image:
    r = client.post(f"/api/export/png?{query}", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(r.content)).convert("RGB")


def _drawn_alone(size: tuple[int, int], at: tuple[float, float], line: str, px: int) -> Image.Image:
    """``line`` drawn as a frame draws it, on the light theme's empty background."""
    image = Image.new("RGB", size, THEMES["light"].background)
    ImageDraw.Draw(image).text(at, line, font=font(px), fill=THEMES["light"].text)
    return image


def test_gif_has_a_frame_per_cell(client: TestClient) -> None:
    r = client.post("/api/export/gif?frame_ms=100&hold_ms=0&width=640&lang=ru", json=BODY)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == 'attachment; filename="convviz-leaky_relu-2x3.gif"'
    image = Image.open(io.BytesIO(r.content))
    assert image.n_frames == np.size(X)
    assert image.size == (640, 360)


def test_gif_of_three_channels_steps_through_every_cell(client: TestClient) -> None:
    x = np.arange(-12, 15, dtype=float).reshape(3, 3, 3) / 4
    body = {"op": "activation", "function": "tanh", "input": x.tolist()}
    r = client.post("/api/export/gif?width=640", json=body)
    assert r.status_code == 200, r.text
    assert Image.open(io.BytesIO(r.content)).n_frames == x.size


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_png_writes_the_function_and_its_value(client: TestClient, lang: str) -> None:
    """The sum line is the formula with the cell's number put in, pixel for pixel as
    the font draws it alone; the title is in the page's language."""
    step = 4  # x = -0.25: leaky_relu(-0.25) = -0.025
    frame = _png(client, BODY, f"step={step}&width=1280&lang={lang}")
    built = scene.activation_scene("leaky_relu", np.array(X), 0.1)
    lay = make_layout(built, 1280, Words(lang))
    head, terms, sep, tail = text.expression(built, step)
    line = head + sep.join(terms) + tail
    assert line == "leaky_relu(-0.25) = max(0, (-0.25)) + 0.1·min(0, (-0.25)) = -0.03"
    box = (0, lay.sum_y - 4, lay.width, lay.sum_y + round(lay.sum_size * 1.35))
    alone = _drawn_alone(frame.size, (lay.margin, lay.sum_y), line, lay.sum_size)
    assert np.array_equal(np.asarray(frame.crop(box)), np.asarray(alone.crop(box)))
    # The title: the function and "element-wise" in the page's language, as drawn.
    title = "  ·  ".join(Words(lang).phrase(p) for p in built.description)
    word = "поэлементно" if lang == "ru" else "element-wise"
    assert word in title and "leaky_relu(x) = max(0, x) + 0.1·min(0, x)" in title
    # A long title shrinks to leave room for the step counter: some size draws it.
    top = (0, lay.margin - 4, lay.width // 2, lay.margin + lay.title_size + 4)
    drawn = np.asarray(frame.crop(top))
    assert drawn.min() < 100  # ink there, not an empty band
    sizes = range(8, lay.title_size + 1)
    at = [(lay.margin, lay.margin + (lay.title_size - s) / 2) for s in sizes]
    assert any(
        np.array_equal(drawn, np.asarray(_drawn_alone(frame.size, xy, title, s).crop(top)))
        for s, xy in zip(sizes, at, strict=True)
    )


def test_russian_and_english_frames_differ_only_in_words(client: TestClient) -> None:
    en = np.asarray(_png(client, BODY, "step=0&width=960"))
    ru = np.asarray(_png(client, BODY, "step=0&width=960&lang=ru"))
    assert (en != ru).any()


@pytest.mark.parametrize(
    ("body", "query", "field"),
    [
        ({**BODY, "function": "gelu"}, "", "function"),
        ({**BODY, "input": [1.0, 2.0]}, "", "input"),
        ({**BODY, "input": [[[[1.0]]]]}, "", "input"),
        ({**BODY, "negative_slope": "steep"}, "", "negative_slope"),
        ({**BODY, "weight": [[1.0]]}, "", "weight"),
        (BODY, "step=6", "step"),
        (BODY, "lang=de", "lang"),
    ],
)
def test_bad_activation_exports_are_422(
    client: TestClient, body: dict, query: str, field: str
) -> None:
    r = client.post(f"/api/export/png?{query}", json=body)
    assert r.status_code == 422, r.text
    assert field in {str(part) for item in r.json()["detail"] for part in item["loc"]}


def test_code_of_an_activation_posts_to_its_endpoint(client: TestClient) -> None:
    r = client.post("/api/export/code", json=BODY)
    assert r.status_code == 200, r.text
    assert "F.leaky_relu(x, negative_slope=0.1)" in r.json()["pytorch"]
    assert "/api/activation" in r.json()["curl"]
    same = client.post("/api/activation", json={k: v for k, v in BODY.items() if k != "op"})
    exported = client.post("/api/export/json", json=BODY).json()
    assert exported["output"] == same.json()["output"]
