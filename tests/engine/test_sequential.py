"""The dense layer, flatten, sequential networks and the optimisers against PyTorch,
with random shapes: every layer's output, every parameter's gradient and the input's."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.engine import linear, optim, sequential
from app.engine.errors import EngineError, ParameterError, ShapeError


@pytest.fixture(autouse=True, scope="module")
def single_threaded_torch() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("seed", range(8))
def test_linear_forward_and_backward_equal_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    b, f_in, f_out = rng.integers(1, 9), rng.integers(1, 40), rng.integers(1, 20)
    x = rng.normal(size=(b, f_in)).astype(np.float32)
    w = rng.normal(size=(f_out, f_in)).astype(np.float32)
    bias = rng.normal(size=f_out).astype(np.float32) if seed % 2 else None
    g = rng.normal(size=(b, f_out)).astype(np.float32)
    y = linear.linear(x, w, bias)
    tx, tw = _t(x, True), _t(w, True)
    tb = None if bias is None else _t(bias, True)
    ty = F.linear(tx, tw, tb)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    ty.backward(_t(g))
    dx, dw, db = linear.linear_backward(g, x, w, bias is not None)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-5, atol=1e-5)
    if tb is None:
        assert db is None
    else:
        assert db is not None
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_linear_names_the_mismatch() -> None:
    with pytest.raises(ShapeError, match="takes 5 features but the input has 4") as err:
        linear.linear(np.ones((2, 4)), np.ones((3, 5)))
    assert err.value.field == "weight"
    with pytest.raises(ShapeError) as err2:
        linear.linear(np.ones((2, 4)), np.ones((3, 4)), np.ones(2))
    assert err2.value.field == "bias"


def test_flatten_and_back_are_torch_flatten() -> None:
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    y = linear.flatten(x)
    np.testing.assert_array_equal(y, torch.flatten(torch.tensor(x), 1).numpy())
    np.testing.assert_array_equal(linear.flatten_backward(y, x.shape), x)


def _random_net(rng: np.random.Generator) -> tuple[list[sequential.Layer], tuple[int, ...]]:
    """A random conv/activation/pool stack ending in flatten and two linears."""
    b = int(rng.integers(1, 4))
    c = int(rng.integers(1, 4))
    h, w = int(rng.integers(9, 15)), int(rng.integers(9, 15))
    layers: list[sequential.Layer] = []
    for _ in range(int(rng.integers(1, 3))):
        groups = int(rng.choice([g for g in (1, 2, 3) if c % g == 0]))
        c_out = groups * int(rng.integers(1, 4))
        k = int(rng.integers(1, 4))
        layers.append(
            sequential.Conv2d(
                rng.normal(0, 0.5, (c_out, c // groups, k, k)).astype(np.float32),
                rng.normal(0, 0.5, c_out).astype(np.float32) if rng.random() < 0.7 else None,
                stride=int(rng.integers(1, 3)) if k > 1 else 1,
                padding=int(rng.integers(0, 2)),
                dilation=1,
                groups=groups,
            )
        )
        layers.append(sequential.Activation(str(rng.choice(["relu", "tanh", "leaky_relu"]))))
        if rng.random() < 0.5:
            layers.append(sequential.MaxPool2d(2, ceil_mode=bool(rng.random() < 0.5)))
        else:
            layers.append(sequential.AvgPool2d(2, padding=int(rng.integers(0, 2))))
        c = c_out
    x = np.zeros((b, layers[0].weight.shape[1] * layers[0].groups, h, w), np.float32)  # type: ignore[union-attr]
    fwd = sequential.forward(layers, x)
    features = int(np.prod(fwd.output.shape[1:]))
    hidden = int(rng.integers(2, 8))
    layers += [
        sequential.Flatten(),
        sequential.Linear(
            rng.normal(0, 0.3, (hidden, features)).astype(np.float32),
            rng.normal(0, 0.3, hidden).astype(np.float32),
        ),
        sequential.Activation("relu"),
        sequential.Linear(rng.normal(0, 0.3, (3, hidden)).astype(np.float32), None),
    ]
    return layers, x.shape


def _torch_layer(layer: sequential.Layer, x: torch.Tensor, params: list) -> torch.Tensor:
    if isinstance(layer, sequential.Conv2d):
        w = _t(layer.weight, True)
        b = None if layer.bias is None else _t(layer.bias, True)
        params.append((w, b))
        return F.conv2d(x, w, b, layer.stride, layer.padding, layer.dilation, layer.groups)
    if isinstance(layer, sequential.Linear):
        w = _t(layer.weight, True)
        b = None if layer.bias is None else _t(layer.bias, True)
        params.append((w, b))
        return F.linear(x, w, b)
    params.append(None)
    if isinstance(layer, sequential.Activation):
        if layer.function == "leaky_relu":
            return F.leaky_relu(x, layer.negative_slope)
        return getattr(F, layer.function)(x) if layer.function != "tanh" else torch.tanh(x)
    if isinstance(layer, sequential.MaxPool2d):
        return F.max_pool2d(x, **layer.kwargs())  # type: ignore[arg-type]
    if isinstance(layer, sequential.AvgPool2d):
        return F.avg_pool2d(x, **layer.kwargs())  # type: ignore[arg-type]
    return torch.flatten(x, 1)


@pytest.mark.parametrize("seed", range(12))
def test_a_random_network_equals_torch_layer_by_layer_and_backward(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    layers, shape = _random_net(rng)
    x = rng.normal(size=shape).astype(np.float32)
    fwd = sequential.forward(layers, x)
    tx = _t(x, True)
    outs, params = [], []
    cur = tx
    for layer in layers:
        cur = _torch_layer(layer, cur, params)
        cur.retain_grad()
        outs.append(cur)
    for i, (mine, theirs) in enumerate(zip(fwd.outputs, outs, strict=True)):
        np.testing.assert_allclose(
            mine, theirs.detach().numpy(), rtol=1e-4, atol=1e-4, err_msg=f"layer {i}"
        )
    g = rng.normal(size=fwd.output.shape).astype(np.float32)
    outs[-1].backward(_t(g))
    back = sequential.backward(layers, fwd, g)
    np.testing.assert_allclose(back.grad_input, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    for i, (mine_p, theirs_p) in enumerate(zip(back.params, params, strict=True)):
        np.testing.assert_allclose(
            back.grad_outputs[i],
            outs[i].grad.numpy(),
            rtol=1e-4,
            atol=1e-4,
            err_msg=f"dE/d out {i}",
        )
        if theirs_p is None:
            assert mine_p is None
            continue
        assert mine_p is not None
        np.testing.assert_allclose(mine_p.weight, theirs_p[0].grad.numpy(), rtol=1e-4, atol=1e-4)
        if theirs_p[1] is not None:
            assert mine_p.bias is not None
            np.testing.assert_allclose(mine_p.bias, theirs_p[1].grad.numpy(), rtol=1e-4, atol=1e-4)


def test_a_layer_error_names_the_layer_index() -> None:
    layers = [
        sequential.Conv2d(np.ones((2, 1, 3, 3), np.float32)),
        sequential.Conv2d(np.ones((2, 5, 3, 3), np.float32)),
    ]
    with pytest.raises(ShapeError) as err:
        sequential.forward(layers, np.ones((1, 1, 8, 8), np.float32))
    assert err.value.field == "layers.1.weight"
    flat_then_pool = [sequential.Flatten(), sequential.MaxPool2d(2)]
    with pytest.raises(EngineError) as err2:
        sequential.forward(flat_then_pool, np.ones((1, 1, 8, 8), np.float32))
    assert err2.value.field == "layers.1"


def _torch_step(kind: str, params: list[np.ndarray], grads_seq: list[list[np.ndarray]]) -> list:
    tp = [torch.nn.Parameter(torch.tensor(p, dtype=torch.float64)) for p in params]
    opt = (
        torch.optim.SGD(tp, lr=0.1, momentum=0.9)
        if kind == "sgd"
        else torch.optim.Adam(tp, lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    )
    for grads in grads_seq:
        for p, g in zip(tp, grads, strict=True):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return [p.detach().numpy() for p in tp]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_optimisers_follow_torch_step_by_step(kind: str) -> None:
    rng = np.random.default_rng(7)
    params = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=5).astype(np.float32)]
    grads_seq = [[rng.normal(size=p.shape).astype(np.float32) for p in params] for _ in range(5)]
    opt = optim.SGD(lr=0.1, momentum=0.9) if kind == "sgd" else optim.Adam(lr=0.01)
    mine = params
    for grads in grads_seq:
        mine = opt.step(mine, grads)
    theirs = _torch_step(kind, params, grads_seq)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_optimisers_refuse_bad_settings() -> None:
    with pytest.raises(ParameterError):
        optim.SGD(lr=0)
    with pytest.raises(ParameterError):
        optim.SGD(lr=0.1, momentum=1.0)
    with pytest.raises(ParameterError):
        optim.Adam(betas=(0.9, 1.0))
