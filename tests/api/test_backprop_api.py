"""POST /api/backprop: a layer's forward and backward from a loss, against PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from app import presets

X = presets.x_glyph()
DIAGONAL = presets.KERNELS["diagonal"]["weight"]


def _post(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/backprop", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _error(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/backprop", json=body)
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]


def test_conv_relu_maxpool_mse_matches_torch(client: TestClient) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 8, 7))
    w = rng.normal(size=(3, 2, 3, 3))
    b = rng.normal(size=3)
    target = rng.normal(size=(3, 3, 3))
    body = _post(
        client,
        input=x.tolist(),
        weight=w.tolist(),
        bias=b.tolist(),
        padding=1,
        stride=2,
        reduce="mean",
        activation={"function": "relu"},
        pool={"kind": "max", "kernel_size": 2, "stride": 1},
        loss="mse",
        target=target.tolist(),
    )
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    z = F.conv2d(xt[None], wt, None, 2, 1)[0] / 18 + bt[:, None, None]
    z.retain_grad()
    a = F.relu(z)
    a.retain_grad()
    out = F.max_pool2d(a[None], 2, 1)[0]
    out.retain_grad()
    loss = F.mse_loss(out, torch.tensor(target))
    loss.backward()

    tol = {"rtol": 1e-4, "atol": 1e-6}
    assert body["output_shape"] == [3, 3, 3]
    assert body["loss"] == pytest.approx(loss.item(), rel=1e-5)
    assert body["loss_kind"] == "mse"
    np.testing.assert_allclose(body["output"], out.detach().numpy(), **tol)
    np.testing.assert_allclose(body["grad_output"], out.grad.numpy(), **tol)
    np.testing.assert_allclose(body["pool"]["grad_input"], a.grad.numpy(), **tol)
    np.testing.assert_allclose(body["activation"]["grad_input"], z.grad.numpy(), **tol)
    np.testing.assert_array_equal(body["activation"]["gate"], (z > 0).double().numpy())
    np.testing.assert_allclose(body["grad_input"], xt.grad.numpy(), **tol)
    np.testing.assert_allclose(body["grad_weight"], wt.grad.numpy(), **tol)
    np.testing.assert_allclose(body["grad_bias"], bt.grad.numpy(), **tol)
    assert body["conv"]["grad_weight"] == body["grad_weight"]
    assert body["conv"]["parameter_count"] == 3 * 2 * 9 + 3
    assert body["conv"]["formula"]["height"] == "H_out = floor((8 + 2 - 1*(3-1) - 1) / 2) + 1 = 4"


def test_traces_agree_with_the_gradients(client: TestClient) -> None:
    """Slides 12-13: O = conv(X, F) for a 3x3 X and a 2x2 F, with a hand-set dE/dO."""
    body = _post(
        client,
        input=[[1, 2, 0], [3, 1, 2], [0, 1, 3]],
        weight=[[1, -1], [2, 0]],
        loss="grad_output",
        grad_output=[[1, 0], [-1, 2]],
        trace=True,
    )
    assert body["loss"] is None
    assert body["activation"] is None and body["pool"] is None
    conv = body["conv"]
    assert conv["trace_note"] is None
    # O11 = F11 X11 + F12 X12 + F21 X21 + F22 X22 = 1 - 2 + 6 + 0
    assert conv["trace"]["products"][0] == [1, -2, 6, 0]
    assert conv["trace"]["result"] == np.ravel(body["output"]).tolist()
    # dE/dF = conv(X, dE/dO): dE/dO is the kernel sliding over X.
    np.testing.assert_array_equal(
        np.reshape(conv["grad_weight_trace"]["result"], (2, 2)), body["grad_weight"]
    )
    assert conv["grad_weight_trace"]["weights"][0] == [1, 0, -1, 2]
    # dE/dX: full correlation of the zero-padded dE/dO with F rotated by 180 degrees.
    assert conv["grad_input_trace"]["grid_origin"] == [1, 1]
    assert conv["grad_input_trace"]["weights"][0] == [0, 2, -1, 1]
    np.testing.assert_array_equal(
        np.reshape(conv["grad_input_trace"]["result"], (3, 3)), body["grad_input"]
    )


def test_teacher_target_and_sum_loss(client: TestClient) -> None:
    body = _post(
        client, input=X, weight=DIAGONAL, reduce="mean", loss="mse", teacher_weight=DIAGONAL
    )
    assert body["loss"] == 0.0
    assert np.abs(body["grad_weight"]).max() == 0.0
    np.testing.assert_array_equal(body["target"], body["output"])
    body = _post(
        client,
        input=X,
        weight=DIAGONAL,
        loss="sum",
        pool={"kind": "avg", "kernel_size": 2},
        trace=True,
    )
    assert body["grad_output"] == np.ones((3, 3)).tolist()
    assert body["pool"]["indices"] is None
    assert body["pool"]["trace"]["divisor"][0] == 4  # each gradient splits over 4 cells
    np.testing.assert_allclose(np.sum(body["pool"]["grad_input"]), 9.0)


def test_traces_are_left_out_past_the_limit(client: TestClient) -> None:
    big = np.zeros((150, 150)).tolist()
    body = _post(
        client, input=big, weight=DIAGONAL, loss="sum", pool={"kernel_size": 2}, trace=True
    )
    assert body["conv"]["trace"] is None and body["conv"]["grad_input_trace"] is None
    assert body["conv"]["trace_note"].startswith("trace left out: 21,904 steps")
    assert body["pool"]["trace"] is not None  # 74 x 74 windows: within the limit
    body = _post(client, input=X, weight=DIAGONAL)  # the default: geometry, no trace
    assert body["conv"]["trace"] is None and body["conv"]["trace_note"] == "trace not requested"
    assert body["conv"]["geometry"]["steps"] == 49


def test_bad_losses_are_refused_with_the_field(client: TestClient) -> None:
    d = _error(client, input=X, weight=DIAGONAL, loss="mse")
    assert d["loc"] == ["target"]
    assert d["msg"] == "target: the mse loss needs a target map or a teacher_weight (one of them)"
    d = _error(client, input=X, weight=DIAGONAL, loss="sum", grad_output=np.ones((7, 7)).tolist())
    assert d["msg"] == "grad_output: is not used by the 'sum' loss; remove it"
    d = _error(client, input=X, weight=DIAGONAL, loss="mse", target=[[1.0, 2.0]])
    assert d["loc"] == ["target"]
    assert d["msg"] == (
        "target: has shape (1, 2) but the stack's output has shape (7, 7);"
        " give a tensor of shape (7, 7)"
    )
    d = _error(client, input=X, weight=DIAGONAL, loss="grad_output")
    assert d["msg"] == "grad_output: the 'grad_output' loss needs a hand-set dE/dO"
    d = _error(client, input=X, weight=DIAGONAL, activation={"function": "gelu"})
    assert d["loc"] == ["activation", "function"]
    d = _error(client, input=X, weight=DIAGONAL, pool={"kernel_size": 2, "padding": 2})
    assert d["loc"] == ["pool.padding"]
    assert d["msg"].startswith("pool.padding: pad should be at most half of the kernel size")


@pytest.mark.parametrize(
    "layers",
    [{}, {"activation": {}}, {"pool": {"kernel_size": 2}}, {"activation": {}, "pool": {}}],
    ids=["conv", "conv-relu", "conv-pool", "conv-relu-pool"],
)
def test_repeat_false_sends_each_tensor_once(client: TestClient, layers: dict[str, Any]) -> None:
    body = {"input": X, "weight": DIAGONAL, "padding": 1, "loss": "sum", **layers}
    full = _post(client, **body)
    lean = _post(client, **body, repeat=False)
    stages = [s for s in ("conv", "activation", "pool") if full[s] is not None]
    last = stages[-1]
    # Where each nulled field's numbers still are.
    moved = {
        ("grad_input",): ("conv", "grad_input"),
        ("grad_weight",): ("conv", "grad_weight"),
        (last, "output"): ("output",),
        (last, "grad_output"): ("grad_output",),
    }
    if "activation" in stages:
        moved[("activation", "grad_input")] = ("conv", "grad_output")
    if "pool" in stages:
        moved[("pool", "grad_input")] = (stages[-2], "grad_output")  # relu's, or conv's

    def at(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
        for key in path:
            doc = doc[key]
        return doc

    for gone, kept in moved.items():
        assert at(lean, gone) is None, gone
        np.testing.assert_array_equal(at(lean, kept), at(full, gone))
    # Everything else is as before.
    for key, value in full.items():
        if key in stages:
            for field, v in value.items():
                if (key, field) not in moved:
                    assert lean[key][field] == v, (key, field)
        elif (key,) not in moved:
            assert lean[key] == value, key
