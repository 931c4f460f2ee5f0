"""The lecture's X/O network, forward and backward, built from the engine's own layers.

The running example of the lecture (slide 5, after Brandon Rohrer's "How do
convolutional neural networks work?"): a 9x9 glyph of +-1 values goes through

1. conv: the three 3x3 filters (``diagonal``, ``centre_x``, ``anti_diagonal``),
   ``reduce="mean"`` (each window's sum divided by 9, as the deck does), plus a bias;
2. ReLU;
3. 2x2 max pooling, stride 2, ``ceil_mode=True`` (the deck's 7x7 -> 4x4);
4. a fully connected layer from the 3 * 4 * 4 = 48 pooled numbers to two scores;
5. softmax over the classes ``("X", "O")``, scored by cross-entropy.

Forward and backward sit side by side and call :func:`app.engine.conv.conv2d`,
:func:`app.engine.activations.relu` and :func:`app.engine.pool.max_pool2d` and their
backward functions. A batch of ``B`` glyphs goes through the conv in one call:
the glyphs become ``B`` input channels and the filters are repeated for each with
``groups=B``, so every glyph sees the same three filters and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike

from app import presets
from app.engine import activations, conv, losses, pool
from app.engine.arithmetic import conv_output_size, pool_output_size
from app.engine.errors import ParameterError, ShapeError
from app.engine.tensors import as_array, check_shape, shape_text

CLASSES = ("X", "O")
"""The classes, in the order of the logits (label 0 is X, 1 is O)."""

FILTER_NAMES = ("diagonal", "centre_x", "anti_diagonal")
"""The lecture's filters (``app.presets.KERNELS``), in the order of the conv's channels."""

GLYPH_SIZE = 9
KERNEL = 3
POOL = {"kernel_size": 2, "stride": 2, "ceil_mode": True}
REDUCE = "mean"


def stage_sizes(height: int = GLYPH_SIZE, width: int = GLYPH_SIZE) -> tuple[int, ...]:
    """``(H_conv, W_conv, H_pool, W_pool)`` for a glyph of this size (9x9: 7, 7, 4, 4)."""
    hc = conv_output_size(height, KERNEL, 1, 0, 1)
    wc = conv_output_size(width, KERNEL, 1, 0, 1)
    k, s = POOL["kernel_size"], POOL["stride"]
    return hc, wc, pool_output_size(hc, k, s, 0, 1, True), pool_output_size(wc, k, s, 0, 1, True)


@dataclass(frozen=True)
class XONetParams:
    """Every trainable number of the network.

    Attributes
    ----------
    conv_weight : ndarray of float32, shape (K, 1, 3, 3)
        ``K`` filters over the one-channel glyph (the lecture's ``K = 3``).
    conv_bias : ndarray of float32, shape (K,)
    fc_weight : ndarray of float32, shape (2, K * H_pool * W_pool)
        Row ``c`` scores class ``CLASSES[c]``; columns follow the pooled maps
        flattened channel by channel, row by row (``(K, 4, 4)`` for a 9x9 glyph).
    fc_bias : ndarray of float32, shape (2,)
    """

    conv_weight: np.ndarray
    conv_bias: np.ndarray
    fc_weight: np.ndarray
    fc_bias: np.ndarray

    @property
    def filters(self) -> int:
        return int(self.conv_weight.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The parameters by name (the field names)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def replace(self, **arrays: np.ndarray) -> XONetParams:
        return XONetParams(**{**self.arrays(), **arrays})

    @property
    def count(self) -> int:
        """Trainable numbers (the lecture's slide 9 for the conv, plus the fc layer)."""
        return sum(int(a.size) for a in self.arrays().values())


def make_params(
    conv_weight: ArrayLike,
    conv_bias: ArrayLike,
    fc_weight: ArrayLike,
    fc_bias: ArrayLike,
    glyph_size: tuple[int, int] = (GLYPH_SIZE, GLYPH_SIZE),
) -> XONetParams:
    """Check parameters against each other and a glyph size; return them as float32.

    ``conv_weight`` may be ``(K, 3, 3)`` (one 3x3 per filter) or ``(K, 1, 3, 3)``.
    Raises ShapeError naming the parameter and the shape it needs.
    """
    w = as_array(conv_weight, "conv_weight", np.float32)
    if w.ndim == 3:
        w = w[:, None]
    if w.ndim != 4 or w.shape[1:] != (1, KERNEL, KERNEL):
        raise ShapeError(
            "conv_weight",
            f"must have shape (K, 3, 3) or (K, 1, 3, 3): K 3x3 filters over the glyph, got"
            f" {shape_text(w.shape)}",
            code="wrong_shape",
            params={"expected": "(K, 3, 3) | (K, 1, 3, 3)", "actual": shape_text(w.shape)},
        )
    k = w.shape[0]
    b = as_array(conv_bias, "conv_bias", np.float32)
    check_shape(b, (k,), "conv_bias", f"one bias per filter ({k} filters)")
    _, _, hp, wp = stage_sizes(*glyph_size)
    features = k * hp * wp
    fw = as_array(fc_weight, "fc_weight", np.float32)
    check_shape(fw, (len(CLASSES), features), "fc_weight", f"(classes, {k} filters x {hp}x{wp})")
    fb = as_array(fc_bias, "fc_bias", np.float32)
    check_shape(fb, (len(CLASSES),), "fc_bias", "one bias per class")
    return XONetParams(np.ascontiguousarray(w), b, fw, fb)


def lecture_filters() -> np.ndarray:
    """The lecture's three filters as a conv weight, shape (3, 1, 3, 3)."""
    kernels = [presets.KERNELS[name]["weight"] for name in FILTER_NAMES]
    return np.asarray(kernels, dtype=np.float32)[:, None]


def lecture_params() -> XONetParams:
    """The lecture's filters with a hand-set vote: nearest template.

    The deck gives the filters but no numbers for its fully connected layer, whose
    story is "each pooled feature votes for the class it is typical of". So row
    ``c`` of the fc weight is the pooled features ``f_c`` of the lecture's own X
    (and of the preset O), and its bias is ``-|f_c|**2 / 2``: the score
    ``f . f_c - |f_c|**2 / 2`` is highest for the template nearest to ``f``. It
    classifies the X, the O and their one-cell shifts correctly.
    """
    zero = XONetParams(
        lecture_filters(),
        np.zeros(3, dtype=np.float32),
        np.zeros((2, 48), dtype=np.float32),
        np.zeros(2, dtype=np.float32),
    )
    templates = np.stack(
        [
            forward(zero, presets.x_glyph()).features[0],
            forward(zero, presets.o_glyph()).features[0],
        ]
    )
    bias = -0.5 * (templates.astype(np.float64) ** 2).sum(axis=1)
    return zero.replace(fc_weight=templates, fc_bias=bias.astype(np.float32))


def random_params(seed: int, filters: int = 3, scale: float = 0.5) -> XONetParams:
    """Seeded random starting parameters for training.

    Filters are ``N(0, scale**2)``; the fc weight is ``N(0, 1/features)`` (so the
    scores start small whatever the number of features); biases are 0.
    """
    rng = np.random.default_rng(seed)
    _, _, hp, wp = stage_sizes()
    n = filters * hp * wp
    return XONetParams(
        rng.normal(0, scale, (filters, 1, KERNEL, KERNEL)).astype(np.float32),
        np.zeros(filters, dtype=np.float32),
        rng.normal(0, 1 / np.sqrt(n), (len(CLASSES), n)).astype(np.float32),
        np.zeros(len(CLASSES), dtype=np.float32),
    )


def as_glyphs(glyphs: ArrayLike) -> np.ndarray:
    """A glyph ``(H, W)`` or a batch ``(B, H, W)`` as float32 ``(B, H, W)``."""
    g = as_array(glyphs, "input", np.float32)
    if g.ndim == 2:
        g = g[None]
    if g.ndim != 3:
        raise ShapeError(
            "input",
            f"must be one (H, W) glyph or a (B, H, W) batch, got {shape_text(g.shape)}",
            code="wrong_shape",
            params={"expected": "(H, W) | (B, H, W)", "actual": shape_text(g.shape)},
        )
    if min(g.shape[1:]) < KERNEL:
        raise ShapeError(
            "input",
            f"is {g.shape[1]}x{g.shape[2]}; a glyph needs at least 3x3",
            code="glyph_too_small",
            params={"rows": int(g.shape[1]), "cols": int(g.shape[2]), "min": KERNEL},
        )
    return g


# --------------------------------------------------------------------------- forward


@dataclass(frozen=True)
class XONetForward:
    """Every stage of a forward pass over a batch of ``B`` glyphs (``K`` filters).

    Attributes
    ----------
    input : (B, H, W)
    conv : (B, K, H-2, W-2)
        The feature maps: each filter's mean match with every 3x3 window, plus bias.
    relu : (B, K, H-2, W-2)
    pooled : (B, K, Hp, Wp)
    pool_indices : int64 (B, K, Hp, Wp)
        Flat index ``row * (W-2) + col`` of each window's maximum in its relu map.
    features : (B, K * Hp * Wp)
        ``pooled`` flattened: the fully connected layer's input.
    logits : (B, 2)
    probabilities : (B, 2)
        Softmax of the logits: the vote for ``CLASSES``.
    """

    input: np.ndarray
    conv: np.ndarray
    relu: np.ndarray
    pooled: np.ndarray
    pool_indices: np.ndarray
    features: np.ndarray
    logits: np.ndarray
    probabilities: np.ndarray

    @property
    def predictions(self) -> np.ndarray:
        """Label of the larger probability of each glyph, shape (B,)."""
        return np.argmax(self.logits, axis=1)


def _batched_conv_args(params: XONetParams, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """The filters and biases repeated once per glyph, for ``groups=batch``."""
    return np.tile(params.conv_weight, (batch, 1, 1, 1)), np.tile(params.conv_bias, batch)


def forward(params: XONetParams, glyphs: ArrayLike) -> XONetForward:
    """Run the network on one glyph ``(H, W)`` or a batch ``(B, H, W)``.

    Returns
    -------
    XONetForward
        With the batch axis even for one glyph.
    """
    x = as_glyphs(glyphs)
    b, h, w = x.shape
    k = params.filters
    hc, wc, hp, wp = stage_sizes(h, w)
    if params.fc_weight.shape[1] != k * hp * wp:
        raise ShapeError(
            "input",
            f"is {h}x{w}, which pools to {k}x{hp}x{wp} = {k * hp * wp} features, but fc_weight"
            f" takes {params.fc_weight.shape[1]}; draw a {GLYPH_SIZE}x{GLYPH_SIZE} glyph",
            code="glyph_features",
            params={"rows": h, "cols": w, "size": GLYPH_SIZE},
        )
    weight, bias = _batched_conv_args(params, b)
    z = conv.conv2d(x, weight, bias, groups=b, reduce=REDUCE)  # (B*K, hc, wc)
    a = activations.relu(z)
    pooled, indices = pool.max_pool2d(a, **POOL)  # (B*K, hp, wp)
    features = pooled.reshape(b, k * hp * wp)
    logits = features @ params.fc_weight.T + params.fc_bias
    return XONetForward(
        input=x,
        conv=z.reshape(b, k, hc, wc),
        relu=a.reshape(b, k, hc, wc),
        pooled=pooled.reshape(b, k, hp, wp),
        pool_indices=indices.reshape(b, k, hp, wp),
        features=features,
        logits=logits.astype(np.float32),
        probabilities=losses.softmax(logits),
    )


# --------------------------------------------------------------------------- backward


@dataclass(frozen=True)
class XONetGradients:
    """``dE/d`` of every parameter, of every stage's output and of the input.

    Shapes are those of the matching parameter (:class:`XONetParams`) or stage
    (:class:`XONetForward`); the loss is the mean cross-entropy over the batch.
    """

    conv_weight: np.ndarray
    conv_bias: np.ndarray
    fc_weight: np.ndarray
    fc_bias: np.ndarray
    logits: np.ndarray
    features: np.ndarray
    pooled: np.ndarray
    relu: np.ndarray
    conv: np.ndarray
    input: np.ndarray

    def params(self) -> XONetParams:
        """The parameter gradients as an :class:`XONetParams` (for the update)."""
        return XONetParams(self.conv_weight, self.conv_bias, self.fc_weight, self.fc_bias)


def as_labels(labels: ArrayLike, batch: int) -> np.ndarray:
    """Labels as ints 0 (X) or 1 (O); also accepts the class names."""
    y = np.asarray(labels)
    if y.dtype.kind in "US":
        unknown = sorted(set(y.ravel().tolist()) - set(CLASSES))
        if unknown:
            raise ParameterError(
                "label",
                f"unknown class {unknown[0]!r}; use 'X' or 'O'",
                code="unknown_choice",
                params={"choices": "X, O"},
            )
        y = np.vectorize(CLASSES.index)(y)
    y = np.atleast_1d(y)
    if y.shape != (batch,) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= len(CLASSES):
        raise ParameterError(
            "label",
            f"give {batch} label(s), each 'X' (0) or 'O' (1)",
            code="count_mismatch",
            params={"given": int(y.size), "needed": batch},
        )
    return y.astype(np.int64)


def backward(
    params: XONetParams, fwd: XONetForward, labels: ArrayLike
) -> tuple[float, XONetGradients]:
    """Cross-entropy of the vote and its gradient with respect to everything.

    Parameters
    ----------
    params : XONetParams
        The parameters ``fwd`` was computed with.
    fwd : XONetForward
    labels : array_like of shape (B,)
        0 or "X", 1 or "O".

    Returns
    -------
    loss : float
        Mean cross-entropy over the batch.
    grads : XONetGradients

    Notes
    -----
    Going back stage by stage (``B`` glyphs, ``K`` filters)::

        dE/dlogits   = (softmax - onehot) / B
        dE/dfc_W     = dE/dlogits.T @ features        dE/dfc_b = sum over the batch
        dE/dfeatures = dE/dlogits @ fc_W              (reshaped to the pooled maps)
        dE/drelu     = max_pool2d_backward            (each gradient to its argmax)
        dE/dconv     = relu_backward                  (the gate: 0 where conv <= 0)
        dE/dfilters, dE/dconv_b, dE/dinput = conv2d_backward, summed over the batch's groups
    """
    b, h, w = fwd.input.shape
    k = params.filters
    y = as_labels(labels, b)
    loss = losses.cross_entropy(fwd.logits, y)
    d_logits = losses.cross_entropy_backward(fwd.logits, y)
    d_fc_w = d_logits.T @ fwd.features
    d_fc_b = d_logits.sum(axis=0)
    d_features = d_logits @ params.fc_weight
    d_pooled = d_features.reshape(fwd.pooled.shape)
    flat = (b * k, *fwd.relu.shape[2:])
    d_relu = pool.max_pool2d_backward(
        d_pooled.reshape(b * k, *fwd.pooled.shape[2:]),
        fwd.pool_indices.reshape(b * k, *fwd.pooled.shape[2:]),
        flat,
    )
    d_conv = activations.relu_backward(d_relu, fwd.conv.reshape(flat))
    weight, bias = _batched_conv_args(params, b)
    d_input, d_weight, d_bias = conv.conv2d_backward(
        d_conv, fwd.input, weight, bias, groups=b, reduce=REDUCE
    )
    assert d_bias is not None
    return loss, XONetGradients(
        conv_weight=d_weight.reshape(b, *params.conv_weight.shape).sum(axis=0),
        conv_bias=d_bias.reshape(b, k).sum(axis=0),
        fc_weight=d_fc_w.astype(np.float32),
        fc_bias=d_fc_b.astype(np.float32),
        logits=d_logits,
        features=d_features.astype(np.float32),
        pooled=d_pooled.astype(np.float32),
        relu=d_relu.reshape(fwd.relu.shape),
        conv=d_conv.reshape(fwd.conv.shape),
        input=d_input.reshape(b, h, w),
    )


__all__ = [
    "CLASSES",
    "FILTER_NAMES",
    "XONetForward",
    "XONetGradients",
    "XONetParams",
    "as_glyphs",
    "as_labels",
    "backward",
    "forward",
    "lecture_filters",
    "lecture_params",
    "make_params",
    "random_params",
    "stage_sizes",
]
