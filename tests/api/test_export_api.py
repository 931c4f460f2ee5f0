"""POST /api/export/{gif,png,json,code}: bodies, headers, decoding, limits."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api import limits
from tests.export.scenes import PADDING_INPUT, PADDING_KERNEL, PADDING_OUTPUT

PADDING = {"input": PADDING_INPUT, "weight": PADDING_KERNEL, "padding": 1, "stride": 2}


def _durations(image: Image.Image) -> list[int]:
    out = []
    for i in range(image.n_frames):
        image.seek(i)
        out.append(image.info["duration"])
    return out


def test_gif_of_the_padding_slide(client: TestClient) -> None:
    r = client.post("/api/export/gif?frame_ms=250&hold_ms=1000&width=960", json=PADDING)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/gif"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-disposition"] == (
        'attachment; filename="convviz-conv2d-5x5-k3x3.gif"'
    )
    image = Image.open(io.BytesIO(r.content))
    assert image.n_frames == 9
    assert image.size == (960, 540)
    assert _durations(image) == [250] * 8 + [1250]


@pytest.mark.parametrize(
    ("body", "steps"),
    [
        ({"op": "max_pool2d", "input": np.arange(16).reshape(4, 4).tolist(), "kernel_size": 2}, 4),
        (
            {
                "op": "avg_pool2d",
                "input": np.arange(25).reshape(5, 5).tolist(),
                "kernel_size": 2,
                "ceil_mode": True,
            },
            9,
        ),
        (
            {"op": "conv_transpose2d", "input": [[1, 2], [3, 4]], "weight": [[1, 0], [0, 1]]},
            9,
        ),
        ({**PADDING, "op": "conv2d", "reduce": "mean", "bias": [1]}, 9),
    ],
)
def test_gif_of_every_operation(client: TestClient, body: dict, steps: int) -> None:
    r = client.post("/api/export/gif?width=480&theme=high-contrast", json=body)
    assert r.status_code == 200, r.text
    assert Image.open(io.BytesIO(r.content)).n_frames == steps
    assert f"convviz-{body['op']}-" in r.headers["content-disposition"]


def test_png_frame(client: TestClient) -> None:
    r = client.post("/api/export/png?step=8&width=1280&theme=dark", json=PADDING)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "no-store"
    assert 'filename="convviz-conv2d-5x5-k3x3-step8.png"' in r.headers["content-disposition"]
    image = Image.open(io.BytesIO(r.content))
    assert (image.format, image.size) == ("PNG", (1280, 720))


def test_png_step_past_the_end(client: TestClient) -> None:
    r = client.post("/api/export/png?step=9", json=PADDING)
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "loc": ["step"],
            "msg": "step: is 9 but this operation has steps 0..8",
            "type": "in_range",
            "code": "in_range",
            "ctx": {"min": 0, "max": 8, "actual": 9},
        }
    ]


def test_json_tensors(client: TestClient) -> None:
    r = client.post("/api/export/json", json=PADDING)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == (
        'attachment; filename="convviz-conv2d-5x5-k3x3.json"'
    )
    body = r.json()
    assert body["op"] == "conv2d"
    assert body["output"] == PADDING_OUTPUT
    assert body["output_shape"] == [3, 3]
    assert body["weight"] == PADDING_KERNEL
    assert body["bias"] is None
    padded = np.asarray(body["padded_input"])
    assert padded.shape == (7, 7)
    assert padded[1:6, 1:6].tolist() == PADDING_INPUT
    assert body["trace"]["steps"] == 9
    assert body["trace"]["grid_origin"] == [1, 1]
    assert body["trace"]["window"][:3] == [[0, 0], [0, 2], [0, 4]]
    assert body["trace"]["result"] == [v for row in PADDING_OUTPUT for v in row]


def test_code(client: TestClient) -> None:
    r = client.post("/api/export/code", json=PADDING)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"pytorch", "curl"}
    assert "F.conv2d(x, w, None, stride=2, padding=1, dilation=1, groups=1)" in body["pytorch"]
    assert body["curl"].startswith("curl -sS -X POST http://testserver/api/conv2d ")


# --- refusals ------------------------------------------------------------------------


def _error(r) -> dict:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]


def _frames(r) -> int:
    assert r.status_code == 200, r.text
    return Image.open(io.BytesIO(r.content)).n_frames


def test_more_steps_than_frames_exports_every_kth_step(client: TestClient) -> None:
    """Issue 10, item 6: past the frame limit the GIF samples the steps instead of a 422."""
    side = 17  # 17 x 17 = 289 output cells with a 1x1 kernel, over the 256-frame limit
    body = {"input": np.ones((side, side)).tolist(), "weight": [[1]]}
    assert limits.MAX_GIF_FRAMES == 256
    # Every 2nd step (0, 2, ..., 286) and the last, 288: 145 frames.
    assert _frames(client.post("/api/export/gif?width=480", json=body)) == 145
    # One frame per output row instead.
    assert _frames(client.post("/api/export/gif?width=480&per=row", json=body)) == side
    assert client.post("/api/export/png", json=body).status_code == 200


def test_wide_frames_fit_the_pixel_budget_by_sampling(client: TestClient) -> None:
    body = {"input": np.ones((14, 14)).tolist(), "weight": [[1]]}  # 196 steps
    assert _frames(client.post("/api/export/gif?width=960", json=body)) == 196
    # 1920 x 1080 frames: 160,000,000 // 2,073,600 = 77 fit, so every 3rd step: 0..192
    # (65 frames) and the last.
    assert _frames(client.post("/api/export/gif?width=1920", json=body)) == 66


def test_per_must_be_step_or_row(client: TestClient) -> None:
    error = _error(client.post("/api/export/gif?per=column", json=PADDING))
    assert error["loc"] == ["per"]


def test_too_many_cells_per_frame(client: TestClient) -> None:
    body = {"input": np.ones((50, 50)).tolist(), "weight": np.ones((3, 3)).tolist(), "stride": 10}
    error = _error(client.post("/api/export/png", json=body))
    assert error["msg"] == (
        "input: one frame would draw 2,534 cells, over the limit of 2,500 (numbers would be"
        " too small to read); use a smaller input or fewer channels"
    )


def test_too_many_cells_over_the_output_channels(client: TestClient) -> None:
    body = {"input": np.ones((1, 30, 30)).tolist(), "weight": np.ones((60, 1, 30, 30)).tolist()}
    error = _error(client.post("/api/export/gif?width=480", json=body))
    assert "for each of 60 output channels" in error["msg"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("frame_ms=15", "frame_ms"),
        ("frame_ms=105", "frame_ms"),
        ("hold_ms=-10", "hold_ms"),
        ("width=320", "width"),
        ("width=4000", "width"),
        ("theme=neon", "theme"),
    ],
)
def test_bad_render_options(client: TestClient, query: str, field: str) -> None:
    assert _error(client.post(f"/api/export/gif?{query}", json=PADDING))["loc"] == [field]


def test_unknown_op(client: TestClient) -> None:
    error = _error(client.post("/api/export/gif", json={**PADDING, "op": "relu"}))
    assert error["msg"] == (
        "op must be one of conv2d, conv_transpose2d, max_pool2d, avg_pool2d, activation"
        " (default conv2d)"
    )


def test_engine_errors_are_422(client: TestClient) -> None:
    error = _error(
        client.post("/api/export/gif", json={"input": [[1, 2], [3, 4]], "weight": PADDING_KERNEL})
    )
    assert error["loc"] == ["weight"]
