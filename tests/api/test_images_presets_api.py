"""POST /api/images, GET /api/presets, GET /healthz, the page and the OpenAPI schema."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image


def _png(array: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8), mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_grey_png(client: TestClient) -> None:
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    r = client.post("/api/images", files={"file": ("a.png", _png(pixels, "L"), "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["channels"], body["height"], body["width"]) == (1, 3, 4)
    assert body["input"] == [pixels.tolist()]


def test_upload_rgb_scaled_down(client: TestClient) -> None:
    pixels = np.zeros((40, 80, 3), dtype=np.uint8)
    r = client.post(
        "/api/images",
        files={"file": ("a.png", _png(pixels, "RGB"), "image/png")},
        data={"mode": "rgb", "max_side": "20"},
    )
    assert r.status_code == 200, r.text
    assert np.array(r.json()["input"]).shape == (3, 10, 20)


def test_upload_not_an_image(client: TestClient) -> None:
    r = client.post("/api/images", files={"file": ("a.txt", b"hello there", "text/plain")})
    assert r.status_code == 415
    assert r.json()["detail"][0]["loc"] == ["file"]


def test_upload_truncated_png(client: TestClient) -> None:
    data = _png(np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8), "L")
    r = client.post("/api/images", files={"file": ("a.png", data[: len(data) // 2], "image/png")})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["file"]


def test_upload_bad_max_side(client: TestClient) -> None:
    pixels = np.zeros((4, 4), dtype=np.uint8)
    r = client.post(
        "/api/images",
        files={"file": ("a.png", _png(pixels, "L"), "image/png")},
        data={"max_side": "0"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["max_side"]


def test_presets(client: TestClient) -> None:
    r = client.get("/api/presets")
    assert r.status_code == 200
    body = r.json()
    for name in ("identity", "sobel_x", "gaussian_blur", "diagonal", "centre_x", "anti_diagonal"):
        assert name in body["kernels"], name
    assert body["kernels"]["diagonal"]["weight"] == [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
    assert np.array(body["glyphs"]["x"]["input"]).shape == (9, 9)


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/conv2d",
        "/api/conv_transpose2d",
        "/api/max_pool2d",
        "/api/avg_pool2d",
        "/api/activation",
        "/api/images",
        "/api/presets",
    ):
        assert path in paths, path


def test_index_page(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="en"' in r.text
