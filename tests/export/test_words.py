"""Exported frames in the page's language: every word of a frame comes from the
catalogue of :mod:`app.export.words`, and a Russian frame draws Russian text."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.export import gif
from app.export.fonts import font
from app.export.layout import labels
from app.export.words import _CATALOGUE, LANGS, Words
from tests.export.scenes import assorted_scenes, padding_scene

SCENES = assorted_scenes()


def test_every_language_has_every_key_with_the_same_fields() -> None:
    english = _CATALOGUE["en"]
    for lang in LANGS:
        assert set(_CATALOGUE[lang]) == set(english), lang
        for key, template in _CATALOGUE[lang].items():
            assert template.count("{}") == english[key].count("{}"), (lang, key)


@pytest.mark.parametrize("name", sorted(SCENES))
def test_russian_labels_and_title_are_russian(name: str) -> None:
    scene = SCENES[name]
    say = Words("ru")
    inputs, kernels, output = labels(scene, scene.trace.steps - 1, say)
    for text in [*inputs, *kernels, output]:
        assert any("а" <= ch <= "я" for ch in text.lower()), text
    renderer = gif.renderer(scene, 960, lang="ru")
    assert renderer.title.startswith(scene.op) and "вход" in renderer.title
    assert renderer._counter_text(0) == f"шаг 1 из {scene.trace.steps}"


def _text_box(frame: Image.Image, xy: tuple[float, float], text: str, size: int) -> np.ndarray:
    box = font(size).getbbox(text, anchor="mm")
    x, y = xy
    crop = (round(x + box[0]), round(y + box[1]), round(x + box[2]), round(y + box[3]))
    return np.asarray(frame.crop(crop))


def test_a_russian_frame_draws_the_russian_output_label() -> None:
    scene = padding_scene()
    renderer = gif.renderer(scene, 960, lang="ru")
    frame = renderer.render(4)
    lay = renderer.layout
    xy = (lay.output.centre_x, lay.output.y - lay.label_gap)
    # The same words drawn alone on the frame's background, where the frame has them.
    alone = Image.new("RGB", frame.size, renderer.theme.background)
    ImageDraw.Draw(alone).text(
        xy, "выход", font=font(lay.label_size), fill=renderer.theme.muted, anchor="mm"
    )
    drawn = _text_box(frame, xy, "выход", lay.label_size)
    assert drawn.size and np.array_equal(drawn, _text_box(alone, xy, "выход", lay.label_size))
    # ...and not the English word at that place.
    english = gif.renderer(scene, 960).render(4)
    assert not np.array_equal(np.asarray(english), np.asarray(frame))


def test_export_api_draws_in_the_asked_language(client) -> None:
    body = {
        "input": [
            [2, 2, 3, 3, 3],
            [0, 1, 3, 0, 3],
            [2, 3, 0, 1, 3],
            [3, 3, 2, 1, 2],
            [3, 3, 0, 2, 3],
        ],
        "weight": [[2, 0, 1], [1, 0, 0], [0, 1, 1]],
        "padding": 1,
        "stride": 2,
    }
    en = client.post("/api/export/png?step=4&width=960", json=body)
    ru = client.post("/api/export/png?step=4&width=960&lang=ru", json=body)
    assert en.status_code == ru.status_code == 200
    scene = padding_scene()
    expected = gif.png_bytes(scene, 4, 960, lang="ru")
    assert ru.content == expected and en.content != ru.content
    bad = client.post("/api/export/png?lang=de", json=body)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "lang"
