"""The digit network: its shipped weights' held-out accuracy, every stage against the
same network in PyTorch, training's gradients against autograd, drawings to 8x8."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.engine import digits, sequential
from app.engine.errors import ShapeError

ROOT = Path(__file__).resolve().parents[2]


def _script():  # scripts/ is not a package: load the training script by path
    spec = importlib.util.spec_from_file_location(
        "train_digits", ROOT / "scripts" / "train_digits.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_weights_reach_95_percent_on_held_out_digits() -> None:
    pytest.importorskip("sklearn")
    info = digits.shipped_info()
    x, y = _script().split(int(info["seed"]))
    assert len(y) == info["held_out_samples"] == 359
    layers = digits.architecture(digits.shipped_params())
    acc = float((digits.forward(layers, x).predictions == y).mean())
    assert acc >= 0.95
    assert acc == pytest.approx(info["held_out_accuracy"])


def _torch_stages(params: dict[str, np.ndarray], x: np.ndarray) -> list[torch.Tensor]:
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(x, dtype=torch.float64)[:, None] / 16
    out = []
    h = F.conv2d(h, t["conv1.weight"], t["conv1.bias"], padding=1)
    out.append(h)
    h = F.relu(h)
    out.append(h)
    h = F.max_pool2d(h, 2)
    out.append(h)
    h = F.conv2d(h, t["conv2.weight"], t["conv2.bias"], padding=1)
    out.append(h)
    h = F.relu(h)
    out.append(h)
    h = F.max_pool2d(h, 2)
    out.append(h)
    h = torch.flatten(h, 1)
    out.append(h)
    h = F.linear(h, t["fc1.weight"], t["fc1.bias"])
    out.append(h)
    h = F.relu(h)
    out.append(h)
    h = F.linear(h, t["fc2.weight"], t["fc2.bias"])
    out.append(h)
    out.append(torch.softmax(h, dim=1))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_every_stage_and_the_probabilities_equal_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 17, size=(int(rng.integers(1, 6)), 8, 8)).astype(np.float32)
    params = digits.shipped_params()
    mine = digits.forward(digits.architecture(params), x)
    theirs = _torch_stages(params, x)
    for name, ref in zip(digits.STAGES, theirs, strict=False):
        np.testing.assert_allclose(
            mine.stages[name], ref.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name
        )
    np.testing.assert_allclose(mine.probabilities, theirs[-1].detach().numpy(), atol=1e-6)


def test_training_gradients_equal_autograd() -> None:
    rng = np.random.default_rng(3)
    params = digits.init_params(5)
    x = rng.integers(0, 17, size=(6, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, size=6)
    layers = digits.architecture(params)
    loss, grads = digits.loss_and_grads(layers, digits.forward(layers, x), y)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(x, dtype=torch.float64)[:, None] / 16
    h = F.max_pool2d(F.relu(F.conv2d(h, t["conv1.weight"], t["conv1.bias"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, t["conv2.weight"], t["conv2.bias"], padding=1)), 2)
    h = F.relu(F.linear(torch.flatten(h, 1), t["fc1.weight"], t["fc1.bias"]))
    logits = F.linear(h, t["fc2.weight"], t["fc2.bias"])
    ref = F.cross_entropy(logits, torch.tensor(y))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-5)
    named = dict(zip(digits.STAGES, grads, strict=True))
    for name in digits.PARAM_NAMES:
        g = named[name]
        assert g is not None
        np.testing.assert_allclose(g.weight, t[f"{name}.weight"].grad.numpy(), rtol=1e-4, atol=1e-6)
        assert g.bias is not None
        np.testing.assert_allclose(g.bias, t[f"{name}.bias"].grad.numpy(), rtol=1e-4, atol=1e-6)


def test_a_few_epochs_of_training_learn_and_are_reproducible() -> None:
    pytest.importorskip("sklearn")
    script = _script()
    a, meta_a = script.train(seed=1, epochs=2, batch=32, lr=0.005)
    b, _ = script.train(seed=1, epochs=2, batch=32, lr=0.005)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert meta_a["held_out_accuracy"] > 0.3  # from 10% by chance, after two epochs


def test_input_must_be_8x8_counts() -> None:
    layers = digits.architecture(digits.shipped_params())
    with pytest.raises(ShapeError):
        digits.forward(layers, np.zeros((9, 8)))
    with pytest.raises(ShapeError):
        digits.forward(layers, np.full((8, 8), 17.0))


def _circle(cx: float, cy: float, rx: float, ry: float, n: int = 40) -> list[tuple[float, float]]:
    return [
        (cx + rx * math.cos(2 * math.pi * i / n), cy + ry * math.sin(2 * math.pi * i / n))
        for i in range(n + 1)
    ]


def test_a_drawing_is_normalised_like_the_dataset() -> None:
    # The same 0 drawn small in one corner and large in the middle: the same 8x8.
    small = digits.strokes_to_counts([_circle(30, 30, 10, 16)])
    large = digits.strokes_to_counts([_circle(200, 150, 60, 96)])
    np.testing.assert_array_equal(small, large)
    assert small.max() <= 16 and small.min() >= 0
    # Height fills the box: the top and bottom rows are inked, like every dataset picture.
    assert small[0].sum() > 0 and small[-1].sum() > 0
    # The pen is widened until the ink matches the dataset's (~310 of 1024 pixels).
    assert abs(small.sum() - digits.INK) < 40
    layers = digits.architecture(digits.shipped_params())
    assert digits.CLASSES[int(digits.forward(layers, small).predictions[0])] == "0"


def test_a_vertical_stroke_is_a_one_and_nothing_is_blank() -> None:
    one = digits.strokes_to_counts([[(50, 10), (50, 110)]])
    # Centred, thick (the pen widens until the ink matches the dataset's), top to bottom.
    assert abs(one[:, :4].sum() - one[:, 4:].sum()) <= 0.15 * one.sum()  # PIL's half pixel
    assert one[:, :2].sum() == 0 and one[:, 6:].sum() == 0
    assert (one[:, 3:5] > 0).all()
    np.testing.assert_array_equal(digits.strokes_to_counts([]), np.zeros((8, 8)))
    with pytest.raises(ShapeError):
        digits.strokes_to_counts([[(0, float("nan"))]])


def test_parameters_round_trip_through_the_layers() -> None:
    params = digits.shipped_params()
    back = digits.layer_params(digits.architecture(params))
    assert set(back) == set(params)
    assert sum(p.parameter_count for p in digits.architecture(params)) == sum(
        v.size for v in params.values()
    )
    assert all(isinstance(la, sequential.Layer.__args__) for la in digits.architecture(params))  # type: ignore[attr-defined]
