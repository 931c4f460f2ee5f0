"""Losses and their gradients against PyTorch autograd."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.engine import losses
from app.engine.errors import ParameterError, ShapeError


@pytest.fixture(autouse=True, scope="module")
def single_threaded_torch() -> Iterator[None]:
    """The reference tensors are tiny: torch's thread pool only costs time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("seed", range(5))
def test_mse_and_gradient_match_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 6, size=rng.integers(1, 4)))
    out = rng.normal(size=shape).astype(np.float32)
    target = rng.normal(size=shape).astype(np.float32)
    o = _t(out)
    loss = F.mse_loss(o, torch.tensor(target, dtype=torch.float64))
    loss.backward()
    assert losses.mse(out, target) == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(losses.mse_backward(out, target), o.grad.numpy(), rtol=1e-5)


def test_sum_loss_and_gradient_match_torch() -> None:
    out = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    o = _t(out)
    o.sum().backward()
    assert losses.sum_loss(out) == pytest.approx(o.sum().item(), rel=1e-6)
    np.testing.assert_array_equal(losses.sum_loss_backward(out), o.grad.numpy())


@pytest.mark.parametrize("seed", range(5))
def test_cross_entropy_and_softmax_match_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 8)), int(rng.integers(2, 5))
    logits = (rng.normal(size=(n, k)) * 5).astype(np.float32)
    labels = rng.integers(0, k, size=n)
    z = _t(logits)
    loss = F.cross_entropy(z, torch.tensor(labels))
    loss.backward()
    assert losses.cross_entropy(logits, labels) == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(
        losses.cross_entropy_backward(logits, labels), z.grad.numpy(), rtol=1e-5, atol=1e-7
    )
    expected = F.softmax(torch.tensor(logits, dtype=torch.float64), dim=1).numpy()
    np.testing.assert_allclose(losses.softmax(logits), expected, rtol=1e-6)


def test_softmax_does_not_overflow() -> None:
    p = losses.softmax(np.array([[1000.0, 0.0]], dtype=np.float32))
    np.testing.assert_allclose(p, [[1.0, 0.0]])


def test_loss_and_grad_dispatch() -> None:
    out = np.array([[1.0, 2.0]], dtype=np.float32)
    assert losses.loss_and_grad("sum", out)[0] == 3.0
    loss, grad = losses.loss_and_grad("mse", out, np.zeros_like(out))
    assert loss == 2.5
    np.testing.assert_allclose(grad, [[1.0, 2.0]])


def test_errors_name_the_field() -> None:
    out = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(ShapeError, match="target: has shape \\(3,\\) but the output has shape"):
        losses.mse(out, np.ones(3))
    with pytest.raises(ParameterError, match="the mse loss needs a target"):
        losses.loss_and_grad("mse", out)
    with pytest.raises(ParameterError, match="unknown loss 'l1'; use one of mse, sum"):
        losses.loss_and_grad("l1", out)
    with pytest.raises(ParameterError, match="labels: class numbers must lie in 0..1"):
        losses.cross_entropy(np.zeros((1, 2)), np.array([2]))
