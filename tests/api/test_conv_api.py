"""POST /api/conv2d and /api/conv_transpose2d: numbers, traces, gradients, encodings."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

PADDING_INPUT = [
    [2, 2, 3, 3, 3],
    [0, 1, 3, 0, 3],
    [2, 3, 0, 1, 3],
    [3, 3, 2, 1, 2],
    [3, 3, 0, 2, 3],
]
PADDING_KERNEL = [[2, 0, 1], [1, 0, 0], [0, 1, 1]]


def x_glyph() -> list[list[int]]:
    """SLIDES.md, slide 5: background -1, the two diagonals of rows 1..7 are +1."""
    g = -np.ones((9, 9), dtype=int)
    for i in range(1, 8):
        g[i, i] = g[i, 8 - i] = 1
    return g.tolist()


def test_conv2d_padding_slide(client: TestClient) -> None:
    r = client.post(
        "/api/conv2d",
        json={
            "input": PADDING_INPUT,
            "weight": PADDING_KERNEL,
            "padding": 1,
            "stride": 2,
            "trace": True,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output"] == [[1, 5, 6], [7, 8, 3], [3, 10, 4]]
    assert body["output_shape"] == [3, 3]
    assert body["formula"]["height"] == "H_out = floor((5 + 2 - 1*(3-1) - 1) / 2) + 1 = 3"
    assert body["feature_count"] == 25
    assert body["parameter_count"] == 9
    trace = body["trace"]
    assert trace["grid_origin"] == [1, 1]
    assert np.array(trace["grid"]).shape == (1, 7, 7)
    assert trace["result"] == [1, 5, 6, 7, 8, 3, 3, 10, 4]
    assert trace["window"][1] == [0, 2]  # stride 2: the second window starts two columns on
    first = np.array(trace["products"][0])
    assert first.sum() == 1


def test_conv2d_lecture_x_glyph_mean(client: TestClient) -> None:
    diagonal = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
    r = client.post(
        "/api/conv2d",
        json={"input": x_glyph(), "weight": diagonal, "reduce": "mean", "trace": True},
    )
    assert r.status_code == 200, r.text
    out = np.array(r.json()["output"])
    assert out.shape == (7, 7)
    np.testing.assert_allclose(out[0], np.array([7, -1, 1, 3, 5, -1, 3]) / 9, rtol=1e-6)
    # SLIDES.md says "1.00 except the corners"; the centre window gives 5/9 (the deck prints
    # 0.55 there, and PyTorch agrees).
    np.testing.assert_allclose(np.diag(out), np.array([7, 9, 9, 5, 9, 9, 7]) / 9, rtol=1e-6)
    assert r.json()["trace"]["divisor"][0] == 9


def test_conv2d_kernel_size_slide(client: TestClient) -> None:
    r = client.post(
        "/api/conv2d",
        json={
            "input": [[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]],
            "weight": [[1, 4, 1], [1, 4, 3], [3, 3, 1]],
        },
    )
    assert r.json()["output"] == [[122, 148], [126, 134]]


def test_conv2d_backward_matches_torch(client: TestClient) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7, 6))
    w = rng.normal(size=(6, 2, 3, 2))
    b = rng.normal(size=6)
    params = {"stride": [2, 1], "padding": [1, 2], "dilation": [1, 2], "groups": 2}
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    out = F.conv2d(xt[None], wt, bt, **params)[0]
    g = rng.normal(size=tuple(out.shape))
    out.backward(torch.tensor(g))
    r = client.post(
        "/api/conv2d",
        json={
            "input": x.tolist(),
            "weight": w.tolist(),
            "bias": b.tolist(),
            "grad_output": g.tolist(),
            "trace": True,
            **params,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    np.testing.assert_allclose(body["output"], out.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(body["grad_input"], xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(body["grad_weight"], wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(body["grad_bias"], bt.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert body["parameter_count"] == 6 * 2 * 3 * 2 + 6
    assert body["grad_weight_trace"] is not None
    assert body["grad_input_trace"] is not None


def _b64(array: np.ndarray) -> dict[str, object]:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {
        "dtype": "float32",
        "shape": list(data.shape),
        "base64": base64.b64encode(data.tobytes()).decode(),
    }


def _unb64(value: dict[str, object]) -> np.ndarray:
    raw = base64.b64decode(value["base64"])  # type: ignore[arg-type]
    return np.frombuffer(raw, dtype="<f4").reshape(value["shape"])  # type: ignore[arg-type]


def test_conv2d_base64_in_and_out(client: TestClient) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 20, 17)).astype(np.float32)
    w = rng.normal(size=(5, 3, 3, 3)).astype(np.float32)
    plain = client.post("/api/conv2d", json={"input": x.tolist(), "weight": w.tolist()}).json()
    r = client.post(
        "/api/conv2d?encoding=base64",
        json={"input": _b64(x), "weight": _b64(w), "trace": False},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output"]["dtype"] == "float32"
    assert body["output"]["shape"] == [5, 18, 15]
    np.testing.assert_array_equal(_unb64(body["output"]), np.array(plain["output"], np.float32))
    assert body["trace"] is None
    assert body["trace_note"] == "trace not requested"


def test_conv2d_base64_output_over_several_pieces(client: TestClient) -> None:
    # 4 x 300 x 300 float32 = 1.4 MB: its text goes out as several pieces (and
    # several body messages), which must read back as the one base64 string.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 302, 302)).astype(np.float32)
    w = rng.normal(size=(4, 1, 3, 3)).astype(np.float32)
    r = client.post(
        "/api/conv2d?encoding=base64", json={"input": _b64(x), "weight": _b64(w), "trace": False}
    )
    assert r.status_code == 200, r.text
    assert int(r.headers["content-length"]) == len(r.content)
    out = _unb64(r.json()["output"])
    expected = F.conv2d(torch.from_numpy(x[None]), torch.from_numpy(w))[0]
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-4)


def _same_numbers(compact: object, plain: object) -> None:
    """Every array of a base64 response equals the nested-list response's."""
    if isinstance(compact, dict) and set(compact) == {"dtype", "shape", "base64"}:
        np.testing.assert_array_equal(_unb64(compact), np.array(plain, np.float32))
    elif isinstance(compact, dict):
        assert isinstance(plain, dict) and compact.keys() == plain.keys()
        for key in compact:
            _same_numbers(compact[key], plain[key])
    else:
        assert compact == plain


def test_conv2d_base64_response_holds_every_array_of_the_plain_one(client: TestClient) -> None:
    # Output, three gradients and three traces: each array's text is spliced into
    # the document separately (app.api.responses), so a misplaced one would show.
    rng = np.random.default_rng(2)
    request = {
        "input": rng.integers(-3, 4, size=(2, 4, 5)).tolist(),
        "weight": rng.integers(-2, 3, size=(3, 2, 2, 2)).tolist(),
        "bias": [0.5, -1.0, 2.0],
        "grad_output": rng.integers(-2, 3, size=(3, 3, 4)).tolist(),
        "stride": 1,
        "trace": True,
    }
    plain = client.post("/api/conv2d", json=request)
    compact = client.post("/api/conv2d?encoding=base64", json=request)
    assert plain.status_code == compact.status_code == 200, compact.text
    assert compact.json()["grad_input_trace"]["values"]["dtype"] == "float32"
    # Sent in parts (app/api/responses.py): the declared length must be what arrives.
    assert int(compact.headers["content-length"]) == len(compact.content)
    _same_numbers(compact.json(), plain.json())


def test_conv2d_trace_left_out_past_the_limit(client: TestClient) -> None:
    x = np.zeros((3, 128, 128), np.float32)
    w = np.zeros((8, 3, 3, 3), np.float32)
    r = client.post(
        "/api/conv2d", json={"input": _b64(x), "weight": _b64(w), "padding": 1, "trace": True}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["trace"] is None
    assert body["trace_note"].startswith("trace left out: 131,072 steps is over the limit")


def test_conv2d_trace_left_out_past_the_taps_limit(client: TestClient) -> None:
    x = np.zeros((64, 40, 40), np.float32)
    w = np.zeros((2, 64, 3, 3), np.float32)
    r = client.post("/api/conv2d", json={"input": _b64(x), "weight": _b64(w), "trace": True})
    assert r.status_code == 200
    assert r.json()["trace_note"].startswith("trace left out: 2,888 steps x 576 taps")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(client: TestClient, mode: str) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 6))
    w = rng.normal(size=(3, 2, 3, 3))
    expected = F.conv2d(F.pad(torch.tensor(x)[None], (1, 1, 1, 1), mode=mode), torch.tensor(w))[0]
    r = client.post(
        "/api/conv2d",
        json={
            "input": x.tolist(),
            "weight": w.tolist(),
            "padding": 1,
            "padding_mode": mode,
            "trace": True,
        },
    )
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["output"], expected.numpy(), rtol=1e-4, atol=1e-4)
    grid = np.array(r.json()["trace"]["grid"])
    assert grid.shape == (2, 7, 8)
    np.testing.assert_allclose(
        grid, F.pad(torch.tensor(x)[None], (1, 1, 1, 1), mode=mode)[0].numpy(), rtol=1e-6
    )


def test_conv_transpose2d_matches_torch(client: TestClient) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 3))
    w = rng.normal(size=(2, 3, 3, 3))
    params = {"stride": 2, "padding": 1, "output_padding": 1}
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    out = F.conv_transpose2d(xt[None], wt, **params)[0]
    g = rng.normal(size=tuple(out.shape))
    out.backward(torch.tensor(g))
    r = client.post(
        "/api/conv_transpose2d",
        json={
            "input": x.tolist(),
            "weight": w.tolist(),
            "grad_output": g.tolist(),
            "trace": True,
            **params,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    np.testing.assert_allclose(body["output"], out.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(body["grad_input"], xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(body["grad_weight"], wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert body["formula"]["height"] == "H_out = (4-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 8"
    assert body["parameter_count"] == 2 * 3 * 3 * 3
    np.testing.assert_allclose(
        np.array(body["trace"]["result"]), out.detach().numpy().ravel(), rtol=1e-4, atol=1e-4
    )


def test_each_gradient_trace_has_its_own_limit(client: TestClient) -> None:
    # dE/dX has a step per padded input cell: 62,500 here, though the forward
    # pass (stride 2) has only 15,376 steps and fits.
    x = np.zeros((250, 250), np.float32)
    g = np.zeros((124, 124), np.float32)
    r = client.post(
        "/api/conv2d",
        json={
            "input": _b64(x),
            "weight": [[1.0] * 3] * 3,
            "stride": 2,
            "grad_output": _b64(g),
            "trace": True,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["trace"] is not None
    assert body["grad_weight_trace"] is not None
    assert body["grad_input_trace"] is None
    assert body["trace_note"].startswith("trace left out: 62,500 steps is over the limit")
