"""POST /api/max_pool2d, /api/avg_pool2d and /api/activation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient


def test_max_pool2d_matches_torch(client: TestClient) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(2, 7, 7)).astype(float)
    xt = torch.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(xt, 2, 2, ceil_mode=True, return_indices=True)
    g = rng.normal(size=tuple(out.shape))
    out.backward(torch.tensor(g))
    r = client.post(
        "/api/max_pool2d",
        json={
            "input": x.tolist(),
            "kernel_size": 2,
            "ceil_mode": True,
            "grad_output": g.tolist(),
            "trace": True,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output_shape"] == [2, 4, 4]
    np.testing.assert_array_equal(body["output"], out.detach().numpy())
    np.testing.assert_array_equal(body["indices"], idx.numpy())
    np.testing.assert_allclose(body["grad_input"], xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert body["formula"]["height"] == "H_out = ceil((7 + 2*0 - 1*(2-1) - 1) / 2) + 1 = 4"
    assert len(body["trace"]["argmax"]) == 2 * 16


def test_avg_pool2d_matches_torch(client: TestClient) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 5))
    xt = torch.tensor(x, requires_grad=True)
    out = F.avg_pool2d(xt[None], 3, 2, 1, count_include_pad=False)[0]
    g = rng.normal(size=tuple(out.shape))
    out.backward(torch.tensor(g))
    r = client.post(
        "/api/avg_pool2d",
        json={
            "input": x.tolist(),
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "count_include_pad": False,
            "grad_output": g.tolist(),
            "trace": True,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    np.testing.assert_allclose(body["output"], out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(body["grad_input"], xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert body["trace"]["divisor"][0] == 4  # top-left window: 2x2 real cells


@pytest.mark.parametrize(
    ("function", "reference"),
    [
        ("relu", F.relu),
        ("leaky_relu", lambda t: F.leaky_relu(t, 0.2)),
        ("sigmoid", torch.sigmoid),
        ("tanh", torch.tanh),
    ],
)
def test_activation_matches_torch(client: TestClient, function: str, reference: object) -> None:
    x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
    g = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    xt = torch.tensor(x, requires_grad=True)
    out = reference(xt)  # type: ignore[operator]
    out.backward(torch.tensor(g))
    r = client.post(
        "/api/activation",
        json={
            "function": function,
            "input": x.tolist(),
            "grad_output": g.tolist(),
            "negative_slope": 0.2,
        },
    )
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["output"], out.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(r.json()["grad_input"], xt.grad.numpy(), rtol=1e-5, atol=1e-7)
