"""The words an exported frame writes, in each language the page speaks.

A scene is language-neutral: its title and labels are phrases (a key and its
numbers), and a :class:`Words` of the page's language turns them into text when a
frame is laid out and drawn. So a GIF exported from the Russian page is Russian,
title, panel labels, step counter and sampling note alike (the font has Cyrillic,
see :mod:`app.export.fonts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Lang = Literal["en", "ru"]

Phrase = tuple[str, tuple[object, ...]]
"""A key of the catalogue and the values its ``{}`` fields take, in order."""

_CATALOGUE: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title_conv": "{}  ·  {} input, {} kernel",
        "title_pool": "{}  ·  {} input, {} window",
        "title_act": "{}  ·  {} input, element-wise",
        "each_cell": "each cell: {}",
        "padding": "padding {}",
        "padding_sides": "padding left {} right {} top {} bottom {}",
        "stride": "stride {}",
        "dilation": "dilation {}",
        "output_padding": "output padding {}",
        "groups": "groups {}",
        "mean_of": "mean of {}",
        "bias": "bias",
        "ceil_mode": "ceil_mode",
        "padding_not_counted": "padding not counted",
        "input": "input",
        "input_padded": "input, padded",
        "input_padded_max": "input, padded (padding counts as −∞)",
        "input_dilated": "input, stride-dilated and padded",
        "input_channel": "input channel {}",
        "kernel": "kernel",
        "weight": "weight[{}, {}]",
        "kernel_rotated": "kernel, rotated 180°",
        "weight_rotated": "weight[{}, {}], rotated 180°",
        "output": "output",
        "output_channel": "output channel {}",
        "counter": "step {} / {}",
        "every_step": "every {} step",
        "per_row": "one frame per row",
        "every_row": "every {} row",
    },
    "ru": {
        "title_conv": "{}  ·  вход {}, ядро {}",
        "title_pool": "{}  ·  вход {}, окно {}",
        "title_act": "{}  ·  вход {}, поэлементно",
        "each_cell": "каждая клетка: {}",
        "padding": "дополнение {}",
        "padding_sides": "дополнение слева {} справа {} сверху {} снизу {}",
        "stride": "шаг {}",
        "dilation": "разрежение {}",
        "output_padding": "дополнение выхода {}",
        "groups": "группы {}",
        "mean_of": "среднее из {}",
        "bias": "смещение",
        "ceil_mode": "ceil_mode",
        "padding_not_counted": "дополнение не учитывается",
        "input": "вход",
        "input_padded": "вход с дополнением",
        "input_padded_max": "вход с дополнением (дополнение считается −∞)",
        "input_dilated": "вход, разреженный шагом и дополненный",
        "input_channel": "входной канал {}",
        "kernel": "ядро",
        "weight": "веса[{}, {}]",
        "kernel_rotated": "ядро, повёрнутое на 180°",
        "weight_rotated": "веса[{}, {}], повёрнутые на 180°",
        "output": "выход",
        "output_channel": "выходной канал {}",
        "counter": "шаг {} из {}",
        "every_step": "каждый {} шаг",
        "per_row": "кадр на строку",
        "every_row": "каждая {} строка",
    },
}

LANGS: Final[tuple[Lang, ...]] = ("en", "ru")


def _ordinal_en(k: int) -> str:
    """``2 -> "2nd"``, ``11 -> "11th"``, ``23 -> "23rd"``."""
    if 10 <= k % 100 <= 20:
        return f"{k}th"
    return f"{k}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th') }"


@dataclass(frozen=True)
class Words:
    """The catalogue of one language."""

    lang: Lang = "en"

    def __call__(self, key: str, *values: object) -> str:
        return _CATALOGUE[self.lang][key].format(*values)

    def phrase(self, phrase: Phrase) -> str:
        key, values = phrase
        return self(key, *values)

    def ordinal(self, k: int) -> str:
        """``2`` as "2nd" or "2-й" (Russian writes the number with its ending)."""
        return _ordinal_en(k) if self.lang == "en" else f"{k}-й"

    def sampling(self, note: Phrase | None) -> str:
        """A schedule's note (``("every_step", (k,))`` etc.) as text; "" for none."""
        if note is None:
            return ""
        key, values = note
        if key == "every_row" and self.lang == "ru":
            return self(key, f"{values[0]}-я")  # строка is feminine
        return self(key, *(self.ordinal(int(v)) for v in values))  # type: ignore[call-overload]
