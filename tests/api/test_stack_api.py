"""POST /api/stack and /api/digits/*: every layer against torch.nn.functional, the
trained network's stages and probabilities, the geometry, and bad stacks' 422s."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from app.engine import digits


def _random_stack(rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    c = int(rng.integers(1, 4))
    x = rng.uniform(0, 255, size=(c, int(rng.integers(14, 30)), int(rng.integers(14, 30))))
    layers: list[dict] = []
    for _ in range(int(rng.integers(1, 4))):
        groups = int(rng.choice([g for g in (1, 2, 3) if c % g == 0]))
        c_out = groups * int(rng.integers(1, 4))
        k = int(rng.integers(1, 4))
        layer = {
            "type": "conv2d",
            "weight": rng.normal(0, 0.1, (c_out, c // groups, k, k)).round(3).tolist(),
            "bias": rng.normal(0, 1, c_out).round(3).tolist() if rng.random() < 0.7 else None,
            "stride": int(rng.integers(1, 3)),
            "padding": int(rng.integers(0, 2)),
            "dilation": int(rng.integers(1, 3)) if k > 1 else 1,
            "groups": groups,
        }
        layers.append(layer)
        layers.append({"type": "activation", "function": str(rng.choice(["relu", "tanh"]))})
        if rng.random() < 0.5:
            layers.append({"type": "max_pool2d", "kernel_size": 2, "ceil_mode": True})
        else:
            layers.append({"type": "avg_pool2d", "kernel_size": 2, "padding": 1})
        c = c_out
    return x.round(2), layers


def _torch_stack(x: np.ndarray, layers: list[dict]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every layer's output, and each max pooling's indices, by torch.nn.functional."""
    h = torch.tensor(x, dtype=torch.float64)[None]
    outs: list[np.ndarray] = []
    indices: list[np.ndarray] = []
    for spec in layers:
        kind = spec["type"]
        if kind == "conv2d":
            b = None if spec["bias"] is None else torch.tensor(spec["bias"], dtype=torch.float64)
            w = torch.tensor(spec["weight"], dtype=torch.float64)
            h = F.conv2d(h, w, b, spec["stride"], spec["padding"], spec["dilation"], spec["groups"])
        elif kind == "activation":
            h = F.relu(h) if spec["function"] == "relu" else torch.tanh(h)
        elif kind == "max_pool2d":
            h, idx = F.max_pool2d(
                h, spec["kernel_size"], ceil_mode=spec["ceil_mode"], return_indices=True
            )
            indices.append(idx[0].numpy())
        else:
            h = F.avg_pool2d(h, spec["kernel_size"], padding=spec["padding"])
        outs.append(h[0].numpy())
    return outs, indices


@pytest.mark.parametrize("seed", range(16))
def test_every_layer_of_a_random_stack_equals_torch(client: TestClient, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, layers = _random_stack(rng)
    r = client.post("/api/stack", json={"input": x.tolist(), "layers": layers})
    try:
        expected, ref_indices = _torch_stack(x, layers)
    except RuntimeError:  # a window larger than the maps left: we refuse it too, by layer
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"][0].startswith("layers.")
        return
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["layers"]) == len(layers)
    for i, (got, ref) in enumerate(zip(body["layers"], expected, strict=True)):
        out = np.asarray(got["output"])
        assert got["output_shape"] == list(ref.shape), i
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-3, err_msg=f"layer {i}")
        assert got["range"] == pytest.approx([out.min(), out.max()], rel=1e-6, abs=1e-6)
    # Max poolings name their winners (the page's step view marks them): a cell holding
    # the window's maximum, torch's own wherever the maximum is not tied.
    pools = [i for i, got in enumerate(body["layers"]) if got["type"] == "max_pool2d"]
    assert all((got["indices"] is None) == (i not in pools) for i, got in enumerate(body["layers"]))
    for i, ref in zip(pools, ref_indices, strict=True):
        got = np.asarray(body["layers"][i]["indices"])
        maps = np.asarray(body["layers"][i - 1]["output"]).reshape(got.shape[0], -1)
        won = np.take_along_axis(maps, got.reshape(got.shape[0], -1), 1)
        np.testing.assert_array_equal(won.reshape(got.shape), body["layers"][i]["output"])
        torch_won = np.take_along_axis(maps, ref.reshape(ref.shape[0], -1), 1)
        np.testing.assert_array_equal(won, torch_won)  # differs only among tied cells
        assert (got == ref).mean() > 0.5
    params = sum(
        np.asarray(s["weight"]).size + (0 if s["bias"] is None else len(s["bias"]))
        for s in layers
        if s["type"] == "conv2d"
    )
    assert body["parameter_count"] == params


def test_layers_report_formula_parameters_and_geometry(client: TestClient) -> None:
    weight = np.ones((4, 3, 3, 3)).tolist()
    r = client.post(
        "/api/stack",
        json={
            "input": np.zeros((3, 16, 12)).tolist(),
            "layers": [
                {"type": "conv2d", "weight": weight, "bias": [0, 0, 0, 0], "padding": 1},
                {"type": "activation", "function": "relu"},
                {"type": "max_pool2d", "kernel_size": 2},
            ],
        },
    )
    assert r.status_code == 200, r.text
    conv, act, pool = r.json()["layers"]
    assert conv["parameter_count"] == 4 * 27 + 4
    assert conv["macs"] == 4 * 16 * 12 * 27
    assert conv["formula"]["height"] == "H_out = floor((16 + 2 - 1*(3-1) - 1) / 1) + 1 = 16"
    assert conv["geometry"] == {
        "op": "conv2d", "steps": 4 * 16 * 12, "taps": 27, "in_channels": 3, "out_channels": 4,
        "groups": 1, "input_size": [16, 12], "kernel_size": [3, 3], "stride": [1, 1],
        "dilation": [1, 1], "padding": {"top": 1, "bottom": 1, "left": 1, "right": 1},
        "padding_mode": "zeros", "reduce": "sum", "output_size": [16, 12], "padded_size": [18, 14],
    }  # fmt: skip
    assert act["geometry"]["op"] == "activation" and act["geometry"]["steps"] == 4 * 16 * 12
    assert pool["output_shape"] == [4, 8, 6]
    assert pool["geometry"]["op"] == "max_pool2d"
    assert pool["geometry"]["output_size"] == [8, 6] and pool["geometry"]["grid_size"] == [16, 12]
    assert pool["formula"]["width"].endswith("= 6")


def test_a_photo_and_its_maps_travel_compact(client: TestClient) -> None:
    x = np.random.default_rng(0).uniform(0, 255, (3, 64, 64)).astype("<f4")
    compact = {
        "dtype": "float32",
        "shape": [3, 64, 64],
        "base64": base64.b64encode(x.tobytes()).decode(),
    }
    body = {
        "input": compact,
        "layers": [{"type": "conv2d", "weight": np.full((8, 3, 3, 3), 0.01).tolist()}],
    }
    r = client.post("/api/stack?encoding=base64", json=body)
    assert r.status_code == 200, r.text
    out = r.json()["layers"][0]["output"]
    assert out["shape"] == [8, 62, 62]
    got = np.frombuffer(base64.b64decode(out["base64"]), "<f4").reshape(8, 62, 62)
    ref = F.conv2d(torch.tensor(x)[None], torch.full((8, 3, 3, 3), 0.01))[0].numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-3)


def _error(r) -> tuple[list, str]:
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    return detail["loc"], detail["msg"]


def test_a_channel_mismatch_names_the_layer_and_field(client: TestClient) -> None:
    r = client.post(
        "/api/stack",
        json={
            "input": np.zeros((8, 8)).tolist(),
            "layers": [
                {"type": "conv2d", "weight": np.ones((2, 1, 3, 3)).tolist()},
                {"type": "activation"},
                {"type": "conv2d", "weight": np.ones((2, 3, 3, 3)).tolist()},
            ],
        },
    )
    loc, msg = _error(r)
    assert loc == ["layers.2.weight"]
    assert "the input has 2" in msg


def test_a_pooling_that_leaves_nothing_names_the_layer(client: TestClient) -> None:
    r = client.post(
        "/api/stack",
        json={
            "input": np.zeros((8, 8)).tolist(),
            "layers": [
                {"type": "max_pool2d", "kernel_size": 4},
                {"type": "avg_pool2d", "kernel_size": 4},
            ],
        },
    )
    loc, msg = _error(r)
    assert loc == ["layers.1.kernel_size"]
    assert "leaves nothing" in msg


def test_too_many_layers_or_filters_are_refused(client: TestClient) -> None:
    r = client.post(
        "/api/stack",
        json={"input": [[1.0]], "layers": [{"type": "activation"}] * 17},
    )
    loc, msg = _error(r)
    assert loc == ["layers"]
    assert "16" in msg
    r = client.post(
        "/api/stack",
        json={
            "input": np.zeros((8, 8)).tolist(),
            "layers": [{"type": "conv2d", "weight": np.ones((65, 1, 1, 1)).tolist()}],
        },
    )
    loc, msg = _error(r)
    assert loc == ["layers.0.weight"] and "65 filters" in msg


def test_a_stack_over_the_compute_budget_is_refused(client: TestClient) -> None:
    w = np.zeros((64, 64, 5, 5), dtype=np.float32)
    big = {
        "dtype": "float32",
        "shape": list(w.shape),
        "base64": base64.b64encode(w.tobytes()).decode(),
    }
    x = np.zeros((64, 128, 128), dtype=np.float32)
    xb = {
        "dtype": "float32",
        "shape": list(x.shape),
        "base64": base64.b64encode(x.tobytes()).decode(),
    }
    conv = {"type": "conv2d", "weight": big, "padding": 2}
    r = client.post("/api/stack", json={"input": xb, "layers": [conv, conv]})
    loc, msg = _error(r)
    assert loc[0].startswith("layers")
    assert "over the limit" in msg


def test_an_unknown_layer_type_names_the_layer(client: TestClient) -> None:
    r = client.post("/api/stack", json={"input": [[1.0]], "layers": [{"type": "dropout"}]})
    loc, _ = _error(r)
    assert loc[:2] == ["layers", 0]


# --------------------------------------------------------------------------- digits


def _torch_digit(params: dict[str, np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    h = torch.tensor(x, dtype=torch.float64)[None, None] / 16
    out = []
    for step in (
        lambda h: F.conv2d(h, t["conv1.weight"], t["conv1.bias"], padding=1),
        F.relu,
        lambda h: F.max_pool2d(h, 2),
        lambda h: F.conv2d(h, t["conv2.weight"], t["conv2.bias"], padding=1),
        F.relu,
        lambda h: F.max_pool2d(h, 2),
        lambda h: torch.flatten(h, 1),
        lambda h: F.linear(h, t["fc1.weight"], t["fc1.bias"]),
        F.relu,
        lambda h: F.linear(h, t["fc2.weight"], t["fc2.bias"]),
    ):
        h = step(h)
        out.append(h[0].numpy())
    out.append(torch.softmax(h, 1)[0].numpy())
    return out


def test_digit_forward_equals_torch_with_the_same_weights(client: TestClient) -> None:
    x = np.random.default_rng(1).integers(0, 17, (8, 8))
    r = client.post("/api/digits/forward", json={"input": x.tolist()})
    assert r.status_code == 200, r.text
    body = r.json()
    ref = _torch_digit(digits.shipped_params(), x)
    assert [s["name"] for s in body["stages"]] == list(digits.STAGES)
    for stage, expected in zip(body["stages"], ref, strict=False):
        np.testing.assert_allclose(
            stage["output"], expected, rtol=1e-4, atol=1e-5, err_msg=stage["name"]
        )
    np.testing.assert_allclose(body["probabilities"], ref[-1], atol=1e-6)
    assert body["prediction"] == str(int(np.argmax(ref[-1])))
    assert body["stages"][0]["geometry"]["op"] == "conv2d"
    assert body["stages"][0]["parameter_count"] == 16 * 9 + 16
    assert body["bitmap"] is None
    h = torch.tensor(body["stages"][1]["output"], dtype=torch.float64)[None]  # relu1
    _, idx = F.max_pool2d(h, 2, return_indices=True)
    assert body["stages"][2]["name"] == "pool1"
    np.testing.assert_array_equal(body["stages"][2]["indices"], idx[0].numpy())


def test_a_drawn_zero_is_read_as_zero(client: TestClient) -> None:
    import math

    ring = [
        [100 + 40 * math.cos(a / 20 * 2 * math.pi), 100 + 70 * math.sin(a / 20 * 2 * math.pi)]
        for a in range(21)
    ]
    r = client.post("/api/digits/forward", json={"strokes": [ring]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["prediction"] == "0"
    assert np.asarray(body["bitmap"]).shape == (32, 32)
    counts = np.asarray(body["input"])
    np.testing.assert_array_equal(
        counts, np.asarray(body["bitmap"]).reshape(8, 4, 8, 4).sum((1, 3))
    )


def test_digit_forward_needs_exactly_one_of_input_and_strokes(client: TestClient) -> None:
    loc, _ = _error(client.post("/api/digits/forward", json={}))
    assert loc == ["input"]
    loc, msg = _error(client.post("/api/digits/forward", json={"input": np.zeros((9, 9)).tolist()}))
    assert loc == ["input"] and "8x8" in msg
    many = [[[0, i]] for i in range(65)]
    loc, _ = _error(client.post("/api/digits/forward", json={"strokes": many}))
    assert loc[0] == "strokes"


def test_the_model_answer_has_the_learned_filters_and_accuracy(client: TestClient) -> None:
    r = client.get("/api/digits/model")
    assert r.status_code == 200, r.text
    body = r.json()
    assert np.asarray(body["params"]["conv1.weight"]).shape == (16, 1, 3, 3)
    np.testing.assert_allclose(
        body["params"]["conv1.weight"], digits.shipped_params()["conv1.weight"]
    )
    assert body["parameter_count"] == 13706
    assert body["training"]["held_out_accuracy"] >= 0.95
    assert "BSD-3-Clause" in body["data"] and "UCI" in body["data"]
    assert [la["name"] for la in body["layers"]] == list(digits.STAGES)
