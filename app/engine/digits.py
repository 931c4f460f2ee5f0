"""The digit network: a small LeNet-style convnet for 8x8 handwritten digits, and
turning a drawing into the 8x8 picture it reads.

The data is scikit-learn's ``load_digits`` (BSD-3-Clause), a copy of the test set of
UCI's "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, 1998):
NIST's preprocessing normalised each handwritten digit into a 32x32 bitmap, whose
4x4 blocks were counted, giving 8x8 pictures of integers 0..16. The weights this
module loads were trained by ``scripts/train_digits.py`` with this package's own
engine (see ``app/models/README.md``); nothing is downloaded and scikit-learn is not
needed at run time.

The network (PyTorch's layout; ``B`` pictures, shapes per layer)::

    x / 16                         (B, 1, 8, 8)   the counts scaled to 0..1
    0 conv 16 filters 3x3, pad 1   (B, 16, 8, 8)
    1 relu
    2 max pool 2x2                 (B, 16, 4, 4)
    3 conv 32 filters 3x3, pad 1   (B, 32, 4, 4)
    4 relu
    5 max pool 2x2                 (B, 32, 2, 2)
    6 flatten                      (B, 128)
    7 linear 128 -> 64             (B, 64)
    8 relu
    9 linear 64 -> 10              (B, 10)        the logits; softmax gives the probabilities

(A first version with 8 and 16 filters and 32 hidden units reached the same 97.5%
held out but read 18 of the 20 test drawings of tests/browser/digit_drawings.py
where this one reads all 20.)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image, ImageDraw

from app.engine import losses, sequential
from app.engine.errors import ShapeError
from app.engine.tensors import as_array, shape_text

SIDE = 8
"""The network reads 8x8 pictures."""

COUNT_MAX = 16
"""Cells hold the number of inked pixels of a 4x4 block of the 32x32 bitmap: 0..16."""

BITMAP = 32
BLOCK = BITMAP // SIDE

INK = 310
"""Inked pixels of the 32x32 bitmap a drawing is redrawn with. The dataset's pictures
hold 303 to 330 on average for every digit alike (a 7 as much as an 8), so NIST's
preprocessing evened out the stroke width; a drawing's pen is chosen to match."""

PEN_RANGE = (1.0, 9.0)
"""Pen widths (bitmap pixels) the search for :data:`INK` tries between."""

CLASSES = tuple(str(d) for d in range(10))

WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "models" / "digits_lenet.npz"

STAGES = (
    "conv1",
    "relu1",
    "pool1",
    "conv2",
    "relu2",
    "pool2",
    "flatten",
    "fc1",
    "relu3",
    "fc2",
)
"""The name of each layer's output, in order (``fc2`` is the logits)."""

PARAM_NAMES = ("conv1", "conv2", "fc1", "fc2")
"""The layers that have weights, by the name of their output."""


def architecture(params: dict[str, np.ndarray]) -> list[sequential.Layer]:
    """The layers with the given weights: ``{name}.weight`` and ``{name}.bias`` for
    each of :data:`PARAM_NAMES`."""
    w = params
    return [
        sequential.Conv2d(w["conv1.weight"], w["conv1.bias"], padding=1),
        sequential.Activation("relu"),
        sequential.MaxPool2d(2),
        sequential.Conv2d(w["conv2.weight"], w["conv2.bias"], padding=1),
        sequential.Activation("relu"),
        sequential.MaxPool2d(2),
        sequential.Flatten(),
        sequential.Linear(w["fc1.weight"], w["fc1.bias"]),
        sequential.Activation("relu"),
        sequential.Linear(w["fc2.weight"], w["fc2.bias"]),
    ]


def layer_params(layers: list[sequential.Layer]) -> dict[str, np.ndarray]:
    """The inverse of :func:`architecture`: the weights by name."""
    out: dict[str, np.ndarray] = {}
    for name, layer in zip(STAGES, layers, strict=True):
        if isinstance(layer, sequential.PARAMETRISED):
            out[f"{name}.weight"] = layer.weight
            assert layer.bias is not None
            out[f"{name}.bias"] = layer.bias
    return out


def init_params(seed: int) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation, seeded: weights and biases uniform in
    ``+-1/sqrt(fan_in)`` (``kaiming_uniform_(a=sqrt(5))`` comes to this bound)."""
    rng = np.random.default_rng(seed)
    shapes = {
        "conv1": ((16, 1, 3, 3), 9),
        "conv2": ((32, 16, 3, 3), 144),
        "fc1": ((64, 128), 128),
        "fc2": ((10, 64), 64),
    }
    out = {}
    for name, (shape, fan_in) in shapes.items():
        bound = 1 / np.sqrt(fan_in)
        out[f"{name}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        out[f"{name}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(np.float32)
    return out


@cache
def _shipped() -> dict[str, object]:
    with np.load(WEIGHTS_FILE, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def shipped_params() -> dict[str, np.ndarray]:
    """The trained weights shipped in :data:`WEIGHTS_FILE` (copies: callers may not
    change the cached ones)."""
    data = _shipped()
    return {f"{n}.{p}": np.array(data[f"{n}.{p}"]) for n in PARAM_NAMES for p in ("weight", "bias")}


def shipped_info() -> dict[str, object]:
    """How the shipped weights were made: seed, epochs, accuracies (stored beside them)."""
    data = _shipped()
    return {k[5:]: np.asarray(v).item() for k, v in data.items() if k.startswith("meta.")}


def as_pictures(x: ArrayLike) -> np.ndarray:
    """One ``(8, 8)`` picture or a batch ``(B, 8, 8)`` of counts as float32 ``(B, 1, 8, 8)``."""
    a = as_array(x, "input", np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1:] != (SIDE, SIDE):
        raise ShapeError(
            "input",
            f"must be an 8x8 picture (or a batch of them), got {shape_text(a.shape)}",
            code="wrong_shape",
            params={"expected": "(8, 8) | (B, 8, 8)", "actual": shape_text(a.shape)},
        )
    if a.min() < 0 or a.max() > COUNT_MAX:
        raise ShapeError(
            "input",
            "holds counts 0..16 (inked pixels of each 4x4 block)",
            code="values_in_range",
            params={"min": 0, "max": COUNT_MAX},
        )
    return a[:, None]


@dataclass(frozen=True)
class DigitForward:
    """Every stage of the digit network over a batch.

    Attributes
    ----------
    input : (B, 1, 8, 8) counts 0..16
    scaled : (B, 1, 8, 8) ``input / 16``, what the first conv reads
    stages : dict of stage name (:data:`STAGES`) -> that layer's output
    probabilities : (B, 10) softmax of the logits
    fwd : the sequential forward pass (for the backward)
    """

    input: np.ndarray
    scaled: np.ndarray
    stages: dict[str, np.ndarray]
    probabilities: np.ndarray
    fwd: sequential.Forward

    @property
    def logits(self) -> np.ndarray:
        return self.stages["fc2"]

    @property
    def predictions(self) -> np.ndarray:
        return np.argmax(self.logits, axis=1)


def forward(layers: list[sequential.Layer], pictures: ArrayLike) -> DigitForward:
    """The network on a picture ``(8, 8)`` or a batch ``(B, 8, 8)`` of counts 0..16."""
    x = as_pictures(pictures)
    scaled = x / np.float32(COUNT_MAX)
    fwd = sequential.forward(layers, scaled)
    stages = dict(zip(STAGES, fwd.outputs, strict=True))
    return DigitForward(x, scaled, stages, losses.softmax(stages["fc2"]), fwd)


def loss_and_grads(
    layers: list[sequential.Layer], fwd: DigitForward, labels: np.ndarray
) -> tuple[float, list[sequential.Grads | None]]:
    """Mean cross-entropy over the batch and the gradient of every layer's parameters."""
    loss = losses.cross_entropy(fwd.logits, labels)
    grad = losses.cross_entropy_backward(fwd.logits, labels)
    back = sequential.backward(layers, fwd.fwd, grad)
    return loss, back.params


# --------------------------------------------------------------------------- drawings

MAX_STROKES = 64
MAX_POINTS = 4096


def strokes_to_bitmap(
    strokes: list[list[tuple[float, float]]], pen: float | None = None
) -> np.ndarray:
    """Redraw pen strokes the way the dataset's digits were normalised: a 32x32 bitmap
    with the digit's height filling the box (its width by the same scale, at most 32),
    centred, drawn with a pen of ``pen`` pixels, or (None) of the width that inks
    about :data:`INK` pixels, as the dataset's pictures do.

    Parameters
    ----------
    strokes : list of strokes, each a list of (x, y) points in any unit (canvas pixels)
        y grows downwards. A stroke of one point is a dot.
    pen : float, optional
        Pen width in bitmap pixels.

    Returns
    -------
    ndarray of bool, shape (32, 32): the inked pixels.
    """
    if pen is not None:
        return _draw(strokes, pen)
    lo, hi = PEN_RANGE
    best = _draw(strokes, lo)
    if not best.any() or best.sum() >= INK:
        return best
    for _ in range(6):  # bisection: ink grows with the pen (to 1/8 pixel)
        mid = (lo + hi) / 2
        bitmap = _draw(strokes, mid)
        if abs(int(bitmap.sum()) - INK) < abs(int(best.sum()) - INK):
            best = bitmap
        lo, hi = (mid, hi) if bitmap.sum() < INK else (lo, mid)
    return best


def _draw(strokes: list[list[tuple[float, float]]], pen: float) -> np.ndarray:
    points = [p for s in strokes for p in s]
    bitmap = np.zeros((BITMAP, BITMAP), dtype=bool)
    if not points:
        return bitmap
    xy = np.asarray(points, dtype=np.float64)
    if not np.isfinite(xy).all():
        raise ShapeError("strokes", "points must be finite numbers", code="not_finite")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = hi - lo
    inner = BITMAP - pen  # the pen's half width on each side stays inside the box
    # The height fills the box unless that would make the digit wider than the box.
    scale = min(inner / max(span[1], 1e-9), inner / max(span[0], 1e-9))
    centre = (lo + hi) / 2
    # Supersampled four times, then each bitmap pixel is inked when half its area is.
    k = 4
    size = BITMAP * k
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    width = max(1, round(pen * k))
    for stroke in strokes:
        pts = _thin(
            [
                (
                    ((x - centre[0]) * scale + BITMAP / 2) * k,
                    ((y - centre[1]) * scale + BITMAP / 2) * k,
                )
                for x, y in stroke
            ],
            k / 2,
        )
        if len(pts) > 1:
            draw.line(pts, fill=255, width=width)
        # A disc at every point: round joints and caps, and a one-point stroke's dot
        # (PIL's joint="curve" does the joints too, at ten times the cost).
        r = width / 2
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    big = np.asarray(image, dtype=np.float32) / 255
    coverage = big.reshape(BITMAP, k, BITMAP, k).mean(axis=(1, 3))
    return coverage >= 0.5


def _thin(points: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """The points without those closer than ``step`` to the last kept one (the last
    point stays): a pointer reports a point every pixel or so, more than the pen needs."""
    if len(points) < 3:
        return points
    kept = [points[0]]
    for x, y in points[1:-1]:
        if (x - kept[-1][0]) ** 2 + (y - kept[-1][1]) ** 2 >= step * step:
            kept.append((x, y))
    kept.append(points[-1])
    return kept


def bitmap_to_counts(bitmap: np.ndarray) -> np.ndarray:
    """The dataset's last step: inked pixels counted in each 4x4 block, (8, 8) of 0..16."""
    b = np.asarray(bitmap, dtype=np.float32)
    return b.reshape(SIDE, BLOCK, SIDE, BLOCK).sum(axis=(1, 3))


def strokes_to_counts(strokes: list[list[tuple[float, float]]]) -> np.ndarray:
    """A drawing as the 8x8 picture of counts the network reads."""
    return bitmap_to_counts(strokes_to_bitmap(strokes))


__all__ = [
    "CLASSES",
    "COUNT_MAX",
    "STAGES",
    "DigitForward",
    "architecture",
    "as_pictures",
    "bitmap_to_counts",
    "forward",
    "init_params",
    "layer_params",
    "loss_and_grads",
    "shipped_info",
    "shipped_params",
    "strokes_to_bitmap",
    "strokes_to_counts",
]
