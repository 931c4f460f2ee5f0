"""conv -> activation -> pooling -> loss: every stage's output and gradient against
PyTorch autograd, on seeded random layers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.engine import stack
from app.engine.conv import Conv2dParams
from app.engine.errors import ParameterError, ShapeError


@pytest.fixture(autouse=True, scope="module")
def single_threaded_torch() -> Iterator[None]:
    """The reference tensors are tiny: torch's thread pool only costs time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ACTIVATIONS = [None, "relu", "leaky_relu", "sigmoid", "tanh"]
POOLS = [None, "max", "avg"]


def _case(seed: int) -> tuple[stack.Stack, np.ndarray]:
    rng = np.random.default_rng(seed)
    c_in, c_out = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    settings = Conv2dParams(
        stride=int(rng.integers(1, 3)),
        padding=int(rng.integers(0, 2)),
        dilation=int(rng.integers(1, 3)),
        reduce=("sum", "mean")[seed % 2],
    )
    function = ACTIVATIONS[seed % len(ACTIVATIONS)]
    kind = POOLS[seed % len(POOLS)]
    layer = stack.Stack(
        weight=rng.normal(size=(c_out, c_in, 3, 3)).astype(np.float32),
        bias=rng.normal(size=c_out).astype(np.float32),
        settings=settings,
        activation=None if function is None else stack.ActivationSpec(function, 0.1),
        pool=None if kind is None else stack.PoolSpec(kind, 2, ceil_mode=bool(seed % 2)),
    )
    return layer, rng.normal(size=(c_in, 11, 10)).astype(np.float32)


def _torch_stack(layer: stack.Stack, x: np.ndarray) -> dict[str, Any]:
    s = layer.settings
    t: dict[str, Any] = {
        "input": torch.tensor(x, dtype=torch.float64, requires_grad=True),
        "weight": torch.tensor(layer.weight, dtype=torch.float64, requires_grad=True),
        "bias": torch.tensor(layer.bias, dtype=torch.float64, requires_grad=True),
    }
    z = F.conv2d(t["input"][None], t["weight"], None, s.stride, s.padding, s.dilation)[0]
    if s.reduce == "mean":
        z = z / layer.weight[0].size
    z = z + t["bias"][:, None, None]
    out = t["conv"] = z
    if layer.activation is not None:
        f = layer.activation.function
        out = F.leaky_relu(z, 0.1) if f == "leaky_relu" else getattr(torch, f)(z)
        t["activated"] = out
    if layer.pool is not None:
        pool_fn = F.max_pool2d if layer.pool.kind == "max" else F.avg_pool2d
        out = t["pooled"] = pool_fn(out[None], 2, ceil_mode=layer.pool.ceil_mode)[0]
    for value in (t["conv"], t.get("activated"), t.get("pooled")):
        if value is not None:
            value.retain_grad()
    t["output"] = out
    return t


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("loss", ["mse", "sum", "grad_output"])
def test_stack_matches_torch(seed: int, loss: str) -> None:
    layer, x = _case(seed)
    fwd = layer.forward(x)
    ref = _torch_stack(layer, x)
    out = ref["output"]
    rng = np.random.default_rng(100 + seed)
    extra: dict[str, np.ndarray] = {}
    if loss == "mse":
        extra["target"] = rng.normal(size=fwd.output.shape).astype(np.float32)
        E = F.mse_loss(out, torch.tensor(extra["target"], dtype=torch.float64))
    elif loss == "sum":
        E = out.sum()
    else:
        extra["grad_output"] = rng.normal(size=fwd.output.shape).astype(np.float32)
        E = (out * torch.tensor(extra["grad_output"], dtype=torch.float64)).sum()
    E.backward()
    value, grad_output, _ = stack.stack_loss(layer, fwd, loss, **extra)
    back = stack.stack_backward(layer, fwd, grad_output)

    tol = {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(fwd.output, out.detach().numpy(), **tol)
    np.testing.assert_allclose(fwd.conv, ref["conv"].detach().numpy(), **tol)
    if loss == "grad_output":
        assert value is None
    else:
        assert value == pytest.approx(E.item(), rel=1e-4)
    np.testing.assert_allclose(back.grad_output, out.grad.numpy(), **tol)
    np.testing.assert_allclose(back.grad_conv_output, ref["conv"].grad.numpy(), **tol)
    if layer.pool is not None:
        source = ref["activated"] if layer.activation is not None else ref["conv"]
        np.testing.assert_allclose(back.grad_pool_input, source.grad.numpy(), **tol)
    np.testing.assert_allclose(back.grad_input, ref["input"].grad.numpy(), **tol)
    np.testing.assert_allclose(back.grad_weight, ref["weight"].grad.numpy(), **tol)
    np.testing.assert_allclose(back.grad_bias, ref["bias"].grad.numpy(), **tol)


def test_relu_gate_is_the_local_derivative() -> None:
    layer = stack.Stack(
        np.array([[1.0, -1.0]], np.float32), None, Conv2dParams(), stack.ActivationSpec("relu")
    )
    fwd = layer.forward(np.array([[1.0, 0.0, 2.0]], np.float32))  # conv: [1, -2]
    _, g, _ = stack.stack_loss(layer, fwd, "sum")
    back = stack.stack_backward(layer, fwd, g)
    np.testing.assert_array_equal(back.gate, [[1.0, 0.0]])
    np.testing.assert_array_equal(back.grad_weight, [[1.0, 0.0]])


def test_teacher_target_is_the_stack_with_the_teacher_weight() -> None:
    layer, x = _case(3)
    teacher = np.ones_like(layer.weight)
    fwd = layer.forward(x)
    _, _, target = stack.stack_loss(layer, fwd, "mse", teacher_weight=teacher)
    np.testing.assert_array_equal(target, layer.forward(x, teacher).output)
    value, _, _ = stack.stack_loss(layer, fwd, "mse", teacher_weight=layer.weight)
    assert value == 0.0


def test_loss_arguments_are_checked() -> None:
    layer, x = _case(0)
    fwd = layer.forward(x)
    with pytest.raises(ParameterError, match="target: is not used by the 'sum' loss"):
        stack.stack_loss(layer, fwd, "sum", target=fwd.output)
    with pytest.raises(ParameterError, match="target: the mse loss needs a target map or a"):
        stack.stack_loss(layer, fwd, "mse")
    with pytest.raises(ShapeError, match="grad_output: has shape \\(1, 1\\) but the stack's"):
        stack.stack_loss(layer, fwd, "grad_output", grad_output=np.ones((1, 1)))
