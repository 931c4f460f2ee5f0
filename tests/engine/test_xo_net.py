"""The X/O network against the same network built in PyTorch, stage by stage and
gradient by gradient; the lecture's numbers; the glyph generator."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app import presets
from app.engine import glyph_data, xo_net
from app.engine.errors import ParameterError, ShapeError


@pytest.fixture(autouse=True, scope="module")
def single_threaded_torch() -> Iterator[None]:
    """The reference tensors are tiny: torch's thread pool only costs time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


X = np.asarray(presets.x_glyph(), dtype=np.float32)
O = np.asarray(presets.o_glyph(), dtype=np.float32)  # noqa: E741


def _torch_net(params: xo_net.XONetParams, glyphs: np.ndarray, labels: np.ndarray) -> dict:
    """The lecture's network in PyTorch, float64, every stage kept for comparison."""
    t = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for k, v in params.arrays().items()
    }
    x = torch.tensor(glyphs, dtype=torch.float64, requires_grad=True)
    # reduce="mean": each window's sum over the 9 taps divided by 9, then the bias.
    z = F.conv2d(x[:, None], t["conv_weight"]) / 9 + t["conv_bias"][None, :, None, None]
    a = F.relu(z)
    p = F.max_pool2d(a, 2, 2, ceil_mode=True)
    f = p.flatten(1)
    logits = f @ t["fc_weight"].T + t["fc_bias"]
    loss = F.cross_entropy(logits, torch.tensor(labels))
    for stage in (z, a, p, f, logits):
        stage.retain_grad()
    loss.backward()
    return {
        "params": t,
        "input": x,
        "conv": z,
        "relu": a,
        "pooled": p,
        "features": f,
        "logits": logits,
        "loss": loss,
    }


def _random_case(seed: int) -> tuple[xo_net.XONetParams, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = xo_net.random_params(seed)
    # Non-zero biases, so their gradients and the ReLU gate are exercised.
    params = params.replace(
        conv_bias=rng.normal(0, 0.3, 3).astype(np.float32),
        fc_bias=rng.normal(0, 0.3, 2).astype(np.float32),
    )
    batch = int(rng.integers(1, 7))
    glyphs, labels = glyph_data.generate(batch, seed, noise=0.2)
    # Continuous values too, so max pooling has no ties to break.
    glyphs = glyphs + rng.normal(0, 0.1, glyphs.shape).astype(np.float32)
    return params, glyphs, labels


@pytest.mark.parametrize("seed", range(6))
def test_forward_and_backward_match_torch(seed: int) -> None:
    params, glyphs, labels = _random_case(seed)
    fwd = xo_net.forward(params, glyphs)
    loss, grads = xo_net.backward(params, fwd, labels)
    ref = _torch_net(params, glyphs, labels)

    tol = {"rtol": 1e-4, "atol": 1e-6}
    for stage in ("conv", "relu", "pooled", "features", "logits"):
        np.testing.assert_allclose(getattr(fwd, stage), ref[stage].detach().numpy(), **tol)
    expected_p = F.softmax(ref["logits"], dim=1).detach().numpy()
    np.testing.assert_allclose(fwd.probabilities, expected_p, **tol)
    assert loss == pytest.approx(ref["loss"].item(), rel=1e-5)

    for name, tensor in ref["params"].items():
        np.testing.assert_allclose(getattr(grads, name), tensor.grad.numpy(), err_msg=name, **tol)
    for stage in ("conv", "relu", "pooled", "features", "logits"):
        np.testing.assert_allclose(getattr(grads, stage), ref[stage].grad.numpy(), **tol)
    np.testing.assert_allclose(grads.input, ref["input"].grad.numpy(), **tol)


def test_slide_5_numbers() -> None:
    fwd = xo_net.forward(xo_net.lecture_params(), X)
    diagonal_map = fwd.conv[0, 0]
    np.testing.assert_allclose(diagonal_map[0], np.array([7, -1, 1, 3, 5, -1, 3]) / 9, rtol=1e-6)
    assert fwd.pooled.shape == (1, 3, 4, 4)
    assert fwd.pooled[0, 0, 0, 0] == pytest.approx(1.0)
    assert fwd.features.shape == (1, 48)


@pytest.mark.parametrize(
    ("glyph", "label"),
    [(X, 0), (O, 1), (glyph_data.shift_glyph(X, 0, 1), 0), (glyph_data.shift_glyph(O, 1, -1), 1)],
)
def test_lecture_vote_classifies_and_survives_shifts(glyph: np.ndarray, label: int) -> None:
    fwd = xo_net.forward(xo_net.lecture_params(), glyph)
    assert fwd.predictions[0] == label
    assert fwd.probabilities[0, label] > 0.75
    np.testing.assert_allclose(fwd.probabilities.sum(), 1.0, rtol=1e-6)


def test_shifted_feature_maps_move_with_the_glyph() -> None:
    params = xo_net.lecture_params()
    maps = xo_net.forward(params, X).conv[0]
    moved = xo_net.forward(params, glyph_data.shift_glyph(X, 0, 1)).conv[0]
    np.testing.assert_allclose(moved[:, :, 1:], maps[:, :, :-1], atol=1e-6)


def test_label_names_are_accepted() -> None:
    params = xo_net.lecture_params()
    fwd = xo_net.forward(params, np.stack([X, O]))
    by_name, _ = xo_net.backward(params, fwd, np.array(["X", "O"]))
    by_number, _ = xo_net.backward(params, fwd, np.array([0, 1]))
    assert by_name == by_number


def test_bad_shapes_name_the_field() -> None:
    params = xo_net.lecture_params()
    with pytest.raises(ShapeError, match="input: is 11x11, which pools to 3x5x5 = 75 features"):
        xo_net.forward(params, np.zeros((11, 11)))
    with pytest.raises(ShapeError, match="conv_weight: must have shape \\(K, 3, 3\\)"):
        xo_net.make_params(np.zeros((3, 5, 5)), np.zeros(3), np.zeros((2, 48)), np.zeros(2))
    with pytest.raises(ShapeError, match="fc_weight: has shape \\(2, 40\\)"):
        xo_net.make_params(np.zeros((3, 3, 3)), np.zeros(3), np.zeros((2, 40)), np.zeros(2))
    with pytest.raises(ParameterError, match="label: unknown class 'Y'"):
        xo_net.as_labels(np.array(["Y"]), 1)


# --------------------------------------------------------------------------- glyphs


def test_draw_glyph_reproduces_the_presets() -> None:
    np.testing.assert_array_equal(glyph_data.draw_glyph("X", 7, 1, 1), X)
    np.testing.assert_array_equal(glyph_data.draw_glyph("O", 7, 1, 1), O)


def test_generate_is_seeded_balanced_and_bounded() -> None:
    a, la = glyph_data.generate(64, 3, noise=0.0, max_shift=1)
    b, lb = glyph_data.generate(64, 3, noise=0.0, max_shift=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert la.sum() == 32
    assert set(np.unique(a)) == {-1.0, 1.0}
    # Without noise every glyph is one of the clean ones within one cell of centre.
    clean = {
        (kind, glyph_data.draw_glyph("XO"[kind], s, t, l).tobytes())
        for kind in (0, 1)
        for s in (5, 7)
        for t in range((9 - s) // 2 - 1, (9 - s) // 2 + 2)
        for l in range((9 - s) // 2 - 1, (9 - s) // 2 + 2)  # noqa: E741
    }
    assert all((int(y), g.tobytes()) in clean for g, y in zip(a, la, strict=True))


def test_shift_glyph_fills_with_the_background() -> None:
    moved = glyph_data.shift_glyph(X, -1, 2)
    np.testing.assert_array_equal(moved[:-1, 2:], X[1:, :-2])
    assert (moved[-1] == -1).all() and (moved[:, :2] == -1).all()
    zero_one = (X + 1) / 2
    assert (glyph_data.shift_glyph(zero_one, 3, 0)[:3] == 0).all()
    assert (glyph_data.shift_glyph(X, 9, 0) == -1).all()
