"""Presets the page offers: kernels, input glyphs and the lecture's worked examples.

Pure data and a few small builders; nothing here imports the web layer. The API
serves :func:`all_presets` as JSON at ``GET /api/presets``.

Sign convention
---------------
Every operation in convviz is cross-correlation, as in ``torch.nn.functional.conv2d``
and OpenCV's ``filter2D``: the kernel is laid over the input as written, not flipped
(see ``shared/lecture/SLIDES.md``, "Conventions"). So the kernels below are written
the way OpenCV and PyTorch code write them: ``sobel_x`` answers positively where
the image gets brighter to the right, ``sobel_y`` where it gets brighter downwards
(rows are indexed top to bottom). With the "true convolution" toggle of the page
the kernel is flipped and those signs invert.

Values are plain Python lists of floats so that the structure is JSON as it stands.
The module-level tables are not meant to be modified; :func:`all_presets` hands out
a deep copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Final, Literal, NotRequired, TypedDict

Matrix = list[list[float]]


class KernelPreset(TypedDict):
    """A 2-D kernel, ``(kH, kW)``, with a one-line description in each language."""

    weight: Matrix
    description_en: str
    description_ru: str


class GlyphPreset(TypedDict):
    """A 2-D input, ``(H, W)``, with a one-line description in each language."""

    input: Matrix
    description_en: str
    description_ru: str


class Conv2dRequest(TypedDict, total=False):
    """A body for ``POST /api/conv2d`` (names as in ``torch.nn.functional.conv2d``)."""

    input: Matrix
    weight: Matrix
    bias: float
    stride: int
    padding: int
    dilation: int
    reduce: Literal["sum", "mean"]
    grad_output: Matrix


class MaxPool2dRequest(TypedDict, total=False):
    """A body for ``POST /api/max_pool2d`` (names as in ``torch.nn.functional.max_pool2d``)."""

    input: Matrix
    kernel_size: int
    stride: int
    padding: int
    ceil_mode: bool


class ExpectedCell(TypedDict):
    """One output value the lecture states, at ``index = [row, col]``."""

    index: list[int]
    value: float


class Expected(TypedDict, total=False):
    """What the lecture states about a step's output; only what it states.

    ``shape`` is ``[H_out, W_out]``; ``output`` is the whole output when the lecture
    gives all of it; ``cells`` are single values when it gives only some.
    """

    shape: list[int]
    output: Matrix
    cells: list[ExpectedCell]


class ExampleStep(TypedDict):
    """One call of an example: ``POST /api/<operation>`` with ``request`` as its body.

    When ``input_from`` is present, ``request`` has no ``input``: the input is the
    ``output`` of the step with that index (e.g. max pooling of a feature map).
    """

    operation: Literal["conv2d", "max_pool2d"]
    request: Conv2dRequest | MaxPool2dRequest
    input_from: NotRequired[int]
    expected: Expected


class Example(TypedDict):
    """A worked example of the lecture, reproducible through the API."""

    id: str
    slide: int
    title_en: str
    title_ru: str
    note_en: str
    note_ru: str
    steps: list[ExampleStep]


class Presets(TypedDict):
    """Everything ``GET /api/presets`` returns."""

    kernels: dict[str, KernelPreset]
    glyphs: dict[str, GlyphPreset]
    examples: list[Example]


# --------------------------------------------------------------------------- builders


def _scaled(rows: list[list[int]], divisor: int) -> Matrix:
    """``rows / divisor`` as floats (blur kernels are written as integers over a sum)."""
    return [[value / divisor for value in row] for row in rows]


def _floats(rows: list[list[int]]) -> Matrix:
    return [[float(value) for value in row] for row in rows]


def _glyph(
    height: int,
    width: int,
    on: Callable[[int, int], bool],
    *,
    on_value: float = 1.0,
    off_value: float = -1.0,
) -> Matrix:
    """A ``height x width`` grid: ``on_value`` where ``on(row, col)``, else ``off_value``."""
    return [
        [on_value if on(row, col) else off_value for col in range(width)] for row in range(height)
    ]


def _shift_right(grid: Matrix, columns: int, fill: float = -1.0) -> Matrix:
    """``grid`` moved ``columns`` cells to the right; cells shifted in hold ``fill``."""
    return [[fill] * columns + row[: len(row) - columns] for row in grid]


def x_glyph() -> Matrix:
    """The lecture's 9x9 X (slide 5): rows 0 and 8 all -1; for ``i`` in 1..7 the cells
    ``(i, i)`` and ``(i, 8 - i)`` are +1; everything else -1."""
    return _glyph(9, 9, lambda r, c: 1 <= r <= 7 and c in (r, 8 - r))


def o_glyph() -> Matrix:
    """A 9x9 O ring inside the same frame as :func:`x_glyph` (the deck gives none).

    Rows 1 and 7 are +1 in columns 2..6, columns 1 and 7 are +1 in rows 2..6: a
    ring with cut corners, like the O of Brandon Rohrer's "How do convolutional
    neural networks work?" from which the lecture's X/O example comes.
    """
    return _glyph(
        9,
        9,
        lambda r, c: (r in (1, 7) and 2 <= c <= 6) or (c in (1, 7) and 2 <= r <= 6),
    )


# The lecture's three X/O filters, exactly as on slide 5 (SLIDES.md).
_DIAGONAL: Final = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
_CENTRE_X: Final = [[1, -1, 1], [-1, 1, -1], [1, -1, 1]]
_ANTI_DIAGONAL: Final = [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]]

# A 5x5 digit 7 in 0/1 values (the page's other value range, "0..1").
_SEVEN: Final = [
    [1, 1, 1, 1, 1],
    [0, 0, 0, 1, 0],
    [0, 0, 1, 0, 0],
    [0, 1, 0, 0, 0],
    [0, 1, 0, 0, 0],
]

# --------------------------------------------------------------------------- kernels

KERNELS: Final[dict[str, KernelPreset]] = {
    "identity": {
        "weight": _floats([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        "description_en": "Identity: copies the input unchanged.",
        "description_ru": "Тождественное ядро: копирует вход без изменений.",
    },
    # Box (mean) filter, OpenCV's blur(ksize=(3, 3)).
    "box_blur": {
        "weight": _scaled([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 9),
        "description_en": "Box blur: the mean of the 3x3 window (each weight 1/9).",
        "description_ru": "Размытие средним: среднее по окну 3x3 (каждый вес 1/9).",
    },
    # Binomial approximations of a Gaussian: the outer products of [1, 2, 1] and
    # [1, 4, 6, 4, 1] (Pascal's triangle), normalised to sum 1.
    "gaussian_blur": {
        "weight": _scaled([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16),
        "description_en": "Gaussian blur 3x3: [[1,2,1],[2,4,2],[1,2,1]] / 16.",
        "description_ru": "Гауссово размытие 3x3: [[1,2,1],[2,4,2],[1,2,1]] / 16.",
    },
    "gaussian_blur_5x5": {
        "weight": _scaled([[a * b for b in (1, 4, 6, 4, 1)] for a in (1, 4, 6, 4, 1)], 256),
        "description_en": "Gaussian blur 5x5: outer product of [1,4,6,4,1] with itself, / 256.",
        "description_ru": "Гауссово размытие 5x5: внешнее произведение [1,4,6,4,1] на себя, / 256.",
    },
    # The usual 3x3 sharpen (identity plus the negative Laplacian); weights sum to 1.
    "sharpen": {
        "weight": _floats([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "description_en": "Sharpen: the centre minus its four neighbours, plus the centre.",
        "description_ru": "Повышение резкости: центр минус четыре соседа, плюс сам центр.",
    },
    # Sobel and Prewitt as OpenCV's Sobel(dx=1) / Sobel(dy=1) apply them (correlation).
    "sobel_x": {
        "weight": _floats([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        "description_en": "Sobel x: horizontal gradient, positive where it brightens to the right.",
        "description_ru": "Собель по x: горизонтальный градиент, положителен, где правее светлее.",
    },
    "sobel_y": {
        "weight": _floats([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        "description_en": "Sobel y: vertical gradient; positive where it gets brighter downwards.",
        "description_ru": "Собель по y: вертикальный градиент; положителен, где ниже светлее.",
    },
    "prewitt_x": {
        "weight": _floats([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
        "description_en": "Prewitt x: horizontal gradient with equal row weights.",
        "description_ru": "Прюитт по x: горизонтальный градиент с равными весами строк.",
    },
    "prewitt_y": {
        "weight": _floats([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
        "description_en": "Prewitt y: vertical gradient with equal column weights.",
        "description_ru": "Прюитт по y: вертикальный градиент с равными весами столбцов.",
    },
    # The 4-neighbour Laplacian, OpenCV's Laplacian(ksize=1); weights sum to 0.
    "laplacian": {
        "weight": _floats([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        "description_en": "Laplacian: second derivative; zero on flat areas, large at edges.",
        "description_ru": "Лапласиан: вторая производная; ноль на ровных участках, велик на краях.",
    },
    # The emboss kernel of setosa.io's "Image Kernels"; weights sum to 1.
    "emboss": {
        "weight": _floats([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        "description_en": "Emboss: a relief lit from the top left.",
        "description_ru": "Тиснение: рельеф, освещённый сверху слева.",
    },
    # setosa.io's "Image Kernels" names its edge kernels by the side they light up:
    # "right sobel" is sobel_x and "bottom sobel" is sobel_y, "left" and "top" are their
    # negatives. They are listed under setosa's names too, so its readers find them.
    "outline": {
        "weight": _floats([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        "description_en": "Outline (setosa): the centre against its eight neighbours; 0 when flat.",
        "description_ru": "Контур (setosa): центр против восьми соседей; 0 на ровном.",
    },
    "sobel_left": {
        "weight": _floats([[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
        "description_en": "Left Sobel (setosa): positive where the image is brighter on the left.",
        "description_ru": "Собель слева (setosa): положителен, где левее светлее.",
    },
    "sobel_right": {
        "weight": _floats([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        "description_en": "Right Sobel (setosa): Sobel x, positive where the right is brighter.",
        "description_ru": "Собель справа (setosa): Собель по x, положителен, где правее светлее.",
    },
    "sobel_top": {
        "weight": _floats([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
        "description_en": "Top Sobel (setosa): positive where the image is brighter above.",
        "description_ru": "Собель сверху (setosa): положителен, где выше светлее.",
    },
    "sobel_bottom": {
        "weight": _floats([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        "description_en": "Bottom Sobel (setosa): Sobel y, positive where it brightens downwards.",
        "description_ru": "Собель снизу (setosa): Собель по y, положителен, где ниже светлее.",
    },
    # The lecture's X/O filters (slide 5), exactly as in SLIDES.md.
    "diagonal": {
        "weight": _floats(_DIAGONAL),
        "description_en": "Lecture X/O filter: the main diagonal \\ (slide 5).",
        "description_ru": "Фильтр X/O из лекции: главная диагональ \\ (слайд 5).",
    },
    "centre_x": {
        "weight": _floats(_CENTRE_X),
        "description_en": "Lecture X/O filter: a small X, the centre of the cross (slide 5).",
        "description_ru": "Фильтр X/O из лекции: маленький X, центр креста (слайд 5).",
    },
    "anti_diagonal": {
        "weight": _floats(_ANTI_DIAGONAL),
        "description_en": "Lecture X/O filter: the anti-diagonal / (slide 5).",
        "description_ru": "Фильтр X/O из лекции: побочная диагональ / (слайд 5).",
    },
}

# --------------------------------------------------------------------------- glyphs

GLYPHS: Final[dict[str, GlyphPreset]] = {
    "x": {
        "input": x_glyph(),
        "description_en": "The lecture's 9x9 X: strokes +1 on a -1 background (slide 5).",
        "description_ru": "X 9x9 из лекции: штрихи +1 на фоне -1 (слайд 5).",
    },
    "o": {
        "input": o_glyph(),
        "description_en": "A 9x9 O ring, +1 on a -1 background, in the same frame as the X.",
        "description_ru": "Кольцо O 9x9, +1 на фоне -1, в той же рамке, что и X.",
    },
    # Slide 4 (translation invariance): the same X one column to the right.
    "x_shifted": {
        "input": _shift_right(x_glyph(), 1),
        "description_en": "The X one column to the right (translation invariance, slide 4).",
        "description_ru": "X, сдвинутый на столбец вправо (инвариантность к сдвигу, слайд 4).",
    },
    "plus": {
        "input": _glyph(9, 9, lambda r, c: (r == 4 and 1 <= c <= 7) or (c == 4 and 1 <= r <= 7)),
        "description_en": "A 9x9 plus sign in the same frame as the X: an X turned by 45 degrees.",
        "description_ru": "Знак плюс 9x9 в той же рамке, что и X: X, повёрнутый на 45 градусов.",
    },
    "vertical_bar": {
        "input": _glyph(9, 9, lambda r, c: c == 4 and 1 <= r <= 7),
        "description_en": "A 9x9 vertical bar: Sobel x answers on its sides, Sobel y at its ends.",
        "description_ru": "Вертикальная черта 9x9: Собель по x отвечает по бокам, по y у концов.",
    },
    "digit_7": {
        "input": _floats(_SEVEN),
        "description_en": "A 5x5 digit 7 in 0/1 values.",
        "description_ru": "Цифра 7 размером 5x5, значения 0/1.",
    },
}

# --------------------------------------------------------------------------- examples


def _cells(values: dict[tuple[int, int], float]) -> list[ExpectedCell]:
    return [{"index": [r, c], "value": v} for (r, c), v in sorted(values.items())]


def _slide5_cells() -> list[ExpectedCell]:
    """The values the lecture states for the diagonal filter on the X: the first row
    and the main diagonal.

    SLIDES.md says the diagonal is 1 except the two corners (7/9), but the deck's own
    table prints 0.55 at the centre (row 3, column 3), and 5/9 is right: the centre
    window of the X is the small X ``centre_x``, which matches the diagonal filter in
    7 cells and differs in 2 (its anti-diagonal corners), (7 - 2) / 9 = 5/9. So the
    diagonal stored is the deck's: 7/9, 1, 1, 5/9, 1, 1, 7/9.
    """
    first_row = [7 / 9, -1 / 9, 1 / 9, 3 / 9, 5 / 9, -1 / 9, 3 / 9]
    diagonal = [7 / 9, 1.0, 1.0, 5 / 9, 1.0, 1.0, 7 / 9]
    values = {(0, c): v for c, v in enumerate(first_row)}
    values.update({(i, i): v for i, v in enumerate(diagonal)})
    return _cells(values)


EXAMPLES: Final[list[Example]] = [
    {
        "id": "xo-diagonal",
        "slide": 5,
        "title_en": "The diagonal filter on the X, then max pooling",
        "title_ru": "Диагональный фильтр на X, затем max pooling",
        "note_en": (
            "Each window's sum is divided by the 9 kernel cells (reduce 'mean'). The deck"
            " prints 0.77 -0.11 0.11 0.33 0.55 ... because it truncates 7/9, -1/9, 1/9, 3/9,"
            " 5/9 to two decimals. Pooling 2x2 with stride 2 over the 7x7 map keeps the"
            " partial last row and column (ceil_mode)."
        ),
        "note_ru": (
            "Сумма каждого окна делится на 9 ячеек ядра (reduce 'mean'). На слайде"
            " 0.77 -0.11 0.11 0.33 0.55 ...: значения 7/9, -1/9, 1/9, 3/9, 5/9 там обрезаны"
            " до двух знаков. Pooling 2x2 с шагом 2 по карте 7x7 сохраняет неполные"
            " последние строку и столбец (ceil_mode)."
        ),
        "steps": [
            {
                "operation": "conv2d",
                "request": {
                    "input": x_glyph(),
                    "weight": _floats(_DIAGONAL),
                    "stride": 1,
                    "padding": 0,
                    "reduce": "mean",
                },
                "expected": {"shape": [7, 7], "cells": _slide5_cells()},
            },
            {
                "operation": "max_pool2d",
                "input_from": 0,
                "request": {"kernel_size": 2, "stride": 2, "ceil_mode": True},
                "expected": {"shape": [4, 4], "cells": _cells({(0, 0): 1.0})},
            },
        ],
    },
    {
        "id": "padding",
        "slide": 6,
        "title_en": "Zero padding 1, stride 2",
        "title_ru": "Дополнение нулями 1, шаг 2",
        "note_en": (
            "The deck prints [[1,6,5],[7,10,9],[7,10,8]]: its digits were garbled when the"
            " slide was extracted. [[1,5,6],[7,8,3],[3,10,4]] is the true result."
        ),
        "note_ru": (
            "На слайде напечатано [[1,6,5],[7,10,9],[7,10,8]]: цифры искажены при"
            " извлечении текста. Верный результат: [[1,5,6],[7,8,3],[3,10,4]]."
        ),
        "steps": [
            {
                "operation": "conv2d",
                "request": {
                    "input": _floats(
                        [
                            [2, 2, 3, 3, 3],
                            [0, 1, 3, 0, 3],
                            [2, 3, 0, 1, 3],
                            [3, 3, 2, 1, 2],
                            [3, 3, 0, 2, 3],
                        ]
                    ),
                    "weight": _floats([[2, 0, 1], [1, 0, 0], [0, 1, 1]]),
                    "stride": 2,
                    "padding": 1,
                },
                "expected": {
                    "shape": [3, 3],
                    "output": _floats([[1, 5, 6], [7, 8, 3], [3, 10, 4]]),
                },
            }
        ],
    },
    {
        "id": "stride",
        "slide": 7,
        "title_en": "Stride 2: a 7x7 input gives a 3x3 output",
        "title_ru": "Шаг 2: вход 7x7 даёт выход 3x3",
        "note_en": (
            "The slide gives only the sizes; the input numbers 0..48 and the kernel are"
            " convviz's choice."
        ),
        "note_ru": "На слайде даны только размеры; числа входа 0..48 и ядро выбраны convviz.",
        "steps": [
            {
                "operation": "conv2d",
                "request": {
                    "input": _floats([[7 * r + c for c in range(7)] for r in range(7)]),
                    "weight": _floats([[1, 0, 1], [0, 1, 0], [1, 0, 1]]),
                    "stride": 2,
                    "padding": 0,
                },
                "expected": {"shape": [3, 3]},
            }
        ],
    },
    {
        "id": "kernel-size",
        "slide": 8,
        "title_en": "A 3x3 kernel on a 4x4 input gives 2x2",
        "title_ru": "Ядро 3x3 на входе 4x4 даёт 2x2",
        "note_en": "No padding, stride 1; the numbers are the deck's.",
        "note_ru": "Без дополнения, шаг 1; числа со слайда.",
        "steps": [
            {
                "operation": "conv2d",
                "request": {
                    "input": _floats([[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]]),
                    "weight": _floats([[1, 4, 1], [1, 4, 3], [3, 3, 1]]),
                    "stride": 1,
                    "padding": 0,
                },
                "expected": {"shape": [2, 2], "output": _floats([[122, 148], [126, 134]])},
            }
        ],
    },
    {
        "id": "backprop",
        "slide": 12,
        "title_en": "Backprop through O = conv(X, F): dE/dF and dE/dX",
        "title_ru": "Обратное распространение через O = conv(X, F): dE/dF и dE/dX",
        "note_en": (
            "Slides 12-13 give the formulas, not numbers; X, F and dE/dO are convviz's"
            " choice. dE/dF = conv(X, dE/dO); dE/dX is the full correlation of the"
            " zero-padded dE/dO with F rotated by 180 degrees."
        ),
        "note_ru": (
            "На слайдах 12-13 только формулы; X, F и dE/dO выбраны convviz."
            " dE/dF = conv(X, dE/dO); dE/dX: полная корреляция дополненного нулями dE/dO"
            " с F, повёрнутым на 180 градусов."
        ),
        "steps": [
            {
                "operation": "conv2d",
                "request": {
                    "input": _floats([[1, 2, 0], [3, 1, 2], [0, 1, 3]]),
                    "weight": _floats([[1, -1], [2, 0]]),
                    "stride": 1,
                    "padding": 0,
                    "grad_output": _floats([[1, 0], [-1, 2]]),
                },
                "expected": {"shape": [2, 2]},
            }
        ],
    },
]


def all_presets() -> Presets:
    """Every preset, as the JSON body of ``GET /api/presets``.

    Returns
    -------
    Presets
        ``{"kernels": {name: KernelPreset}, "glyphs": {name: GlyphPreset},
        "examples": [Example, ...]}``; a deep copy, so callers may modify it freely.
    """
    return copy.deepcopy(Presets(kernels=KERNELS, glyphs=GLYPHS, examples=EXAMPLES))
