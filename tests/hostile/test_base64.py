"""The compact tensor form, both ways: {"dtype": "float32", "shape", "base64"}, little-endian."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image


def _compact(array: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {
        "dtype": "float32",
        "shape": list(data.shape),
        "base64": base64.b64encode(data.tobytes()).decode(),
    }


def _decode(value: dict[str, Any]) -> np.ndarray:
    assert set(value) == {"dtype", "shape", "base64"}
    assert value["dtype"] == "float32"
    return np.frombuffer(base64.b64decode(value["base64"]), dtype="<f4").reshape(value["shape"])


def _arrays(a: Any, b: Any, path: str = "") -> None:
    """Every array of JSON response ``a`` equals its compact twin in ``b``."""
    if isinstance(b, dict) and set(b) == {"dtype", "shape", "base64"}:
        np.testing.assert_array_equal(_decode(b), np.asarray(a, dtype=np.float32), err_msg=path)
    elif isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _arrays(a[key], b[key], f"{path}.{key}")
    else:
        assert a == b, path


def test_a_compact_request_computes_what_nested_lists_do(client: TestClient) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 9, 9)), rng.normal(size=(3, 2, 3, 3))
    g = rng.normal(size=(3, 9, 9))
    nested = {"input": x.tolist(), "weight": w.tolist(), "padding": 1, "grad_output": g.tolist()}
    compact = {
        "input": _compact(x),
        "weight": _compact(w),
        "padding": 1,
        "grad_output": _compact(g),
    }
    a = client.post("/api/conv2d", json=nested)  # float64 lists: the server rounds to float32
    b = client.post("/api/conv2d", json=compact)
    assert a.status_code == b.status_code == 200
    assert a.json()["output"] == b.json()["output"]
    assert a.json()["grad_weight"] == b.json()["grad_weight"]


def test_every_response_array_travels_compact_when_asked(client: TestClient) -> None:
    body = {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "weight": [[1, 0], [0, -1]]}
    body["grad_output"] = [[1, 1], [1, 1]]
    body["trace"] = True
    plain = client.post("/api/conv2d", json=body).json()
    compact = client.post("/api/conv2d?encoding=base64", json=body).json()
    assert compact["output"]["shape"] == [2, 2]
    assert compact["trace"]["cells"]["shape"] == [4, 4, 3]
    _arrays(plain, compact)


def test_max_pool_indices_stay_exact_in_float32(client: TestClient) -> None:
    x = np.arange(64 * 64, dtype=np.float32).reshape(1, 64, 64)
    r = client.post(
        "/api/max_pool2d?encoding=base64", json={"input": _compact(x), "kernel_size": 2}
    )
    assert r.status_code == 200
    indices = _decode(r.json()["indices"])
    assert indices.max() == 64 * 64 - 1
    np.testing.assert_array_equal(indices, np.round(indices))


def test_an_uploaded_image_comes_back_compact(client: TestClient) -> None:
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    r = client.post(
        "/api/images?encoding=base64",
        files={"file": ("a.png", buffer.getvalue(), "image/png")},
        data={"mode": "rgb"},
    )
    assert r.status_code == 200
    np.testing.assert_array_equal(_decode(r.json()["input"]), pixels.transpose(2, 0, 1))


def test_an_unknown_encoding_is_refused(client: TestClient) -> None:
    r = client.post("/api/activation?encoding=npy", json={"function": "relu", "input": [[1]]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["encoding"]


def test_the_schema_documents_compact_responses(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    output = schema["components"]["schemas"]["ConvResponse"]["properties"]["output"]
    kinds = [option.get("type") for option in output["anyOf"]]
    assert kinds == ["array", "object"]
    assert output["anyOf"][1]["required"] == ["dtype", "shape", "base64"]
