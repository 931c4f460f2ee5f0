"""POST /api/xo/forward and /api/xo/train, GET /api/xo/samples, and the SSE machinery."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app import presets
from app.api import limits, sse
from app.engine import glyph_data
from tests.api.sse_parse import parse_events

X = presets.x_glyph()
O = presets.o_glyph()  # noqa: E741


def _forward(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/xo/forward", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _error(client: TestClient, path: str, **body: Any) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]


def test_forward_every_stage_and_the_vote(client: TestClient) -> None:
    body = _forward(client, input=X)
    assert body["classes"] == ["X", "O"]
    assert body["filter_names"] == ["diagonal", "centre_x", "anti_diagonal"]
    assert np.shape(body["conv"]) == (3, 7, 7)
    assert np.shape(body["relu"]) == (3, 7, 7)
    assert np.shape(body["pooled"]) == (3, 4, 4)
    assert np.shape(body["pool_indices"]) == (3, 4, 4)
    assert np.shape(body["features"]) == (48,)
    assert body["prediction"] == "X"
    assert body["probabilities"][0] > 0.99
    assert sum(body["probabilities"]) == pytest.approx(1.0)
    np.testing.assert_allclose(body["conv"][0][0], np.array([7, -1, 1, 3, 5, -1, 3]) / 9, rtol=1e-6)
    assert body["pooled"][0][0][0] == pytest.approx(1.0)
    assert body["params"]["conv_weight"][0][0] == presets.KERNELS["diagonal"]["weight"]
    assert body["parameter_count"] == 3 * 9 + 3 + 2 * 48 + 2
    assert body["loss"] is None and body["gradients"] is None
    assert _forward(client, input=O)["prediction"] == "O"


def test_shift_moves_the_maps_and_keeps_the_vote(client: TestClient) -> None:
    still = _forward(client, input=X)
    moved = _forward(client, input=X, shift=[0, 1])
    assert moved["shift"] == [0, 1]
    np.testing.assert_array_equal(moved["input"], glyph_data.shift_glyph(np.asarray(X), 0, 1))
    np.testing.assert_allclose(
        np.asarray(moved["conv"])[:, :, 1:], np.asarray(still["conv"])[:, :, :-1]
    )
    assert moved["prediction"] == "X"
    filled = _forward(client, input=X, shift=[-2, 0], fill=0.5)
    assert filled["input"][-1] == [0.5] * 9


def test_label_gives_every_gradient(client: TestClient) -> None:
    body = _forward(client, input=X, label="O")
    assert body["loss"] > 1.0  # the X is confidently not an O
    g = body["gradients"]
    assert np.shape(g["conv_weight"]) == (3, 1, 3, 3)
    assert np.shape(g["fc_weight"]) == (2, 48)
    assert np.shape(g["input"]) == (9, 9)
    p = body["probabilities"]
    np.testing.assert_allclose(g["logits"], [p[0], p[1] - 1], rtol=1e-5)


def test_custom_parameters(client: TestClient) -> None:
    rng = np.random.default_rng(0)
    params = {
        "conv_weight": rng.normal(size=(4, 3, 3)).tolist(),
        "conv_bias": [0.1, 0.0, -0.1, 0.2],
        "fc_weight": rng.normal(size=(2, 64)).tolist(),
        "fc_bias": [0.0, 0.0],
    }
    body = _forward(client, input=X, **params)
    assert np.shape(body["pooled"]) == (4, 4, 4)
    assert np.shape(body["params"]["conv_weight"]) == (4, 1, 3, 3)


def test_forward_bad_input(client: TestClient) -> None:
    d = _error(client, "/api/xo/forward", input=np.zeros((11, 11)).tolist())
    assert d["loc"] == ["input"]
    assert d["msg"].startswith("input: is 11x11, which pools to 3x5x5 = 75 features")
    d = _error(client, "/api/xo/forward", input=X, fc_weight=np.zeros((2, 40)).tolist())
    assert d["loc"] == ["fc_weight"]
    assert d["msg"].startswith("fc_weight: has shape (2, 40) but (classes, 3 filters x 4x4)")
    d = _error(client, "/api/xo/forward", input=X, conv_weight=np.zeros((4, 3, 3)).tolist())
    assert d["msg"] == "fc_weight: give one for 4 filters: shape (2, 64)"
    d = _error(client, "/api/xo/forward", input=X, label="Y")
    assert d["loc"] == ["label"]
    d = _error(client, "/api/xo/forward", input=[X], shift=[0, 1])
    assert d["msg"] == "input: must be one (H, W) glyph, e.g. 9x9, got 3 axes"


def test_samples(client: TestClient) -> None:
    r = client.get("/api/xo/samples", params={"count": 6, "seed": 2, "noise": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert np.shape(body["glyphs"]) == (6, 9, 9)
    assert sorted(body["labels"]) == ["O", "O", "O", "X", "X", "X"]
    r = client.get("/api/xo/samples", params={"count": limits.MAX_XO_GLYPHS_PREVIEW + 1})
    assert r.status_code == 422


# --------------------------------------------------------------------------- training


def _train(client: TestClient, **body: Any) -> list[dict[str, Any]]:
    with client.stream("POST", "/api/xo/train", json=body) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return parse_events(r.read().decode())


def test_training_stream_learns(client: TestClient) -> None:
    events = _train(client, seed=0)
    names = [e["event"] for e in events]
    assert names == ["start"] + ["epoch"] * 16 + ["done"]
    start = events[0]["data"]
    assert start["batches_per_epoch"] == 16 and start["epochs"] == 15
    assert np.shape(start["lecture_filters"]) == (3, 1, 3, 3)
    epochs = [e["data"] for e in events[1:-1]]
    assert [e["epoch"] for e in epochs] == list(range(16))
    assert epochs[0]["validation_accuracy"] < 0.7
    done = events[-1]["data"]
    assert done["stop_reason"] == "completed" and done["epoch"] == 15
    assert done["accuracy"] >= 0.97 and done["validation_accuracy"] >= 0.97
    assert done["seconds"] < 5
    # The learned network classifies through /api/xo/forward.
    assert _forward(client, input=O, **done["params"])["prediction"] == "O"
    assert _forward(client, input=X, **done["params"])["prediction"] == "X"


def test_training_stops_at_the_epoch_limit(client: TestClient) -> None:
    events = _train(client, epochs=2, samples=32, validation_samples=16, batch_size=8)
    assert [e["event"] for e in events] == ["start", "epoch", "epoch", "epoch", "done"]


def test_training_limits(client: TestClient) -> None:
    d = _error(client, "/api/xo/train", epochs=200, samples=4096)
    assert d["loc"] == ["epochs"] and d["type"] == "epochs_over_limit"
    assert d["ctx"]["max"] >= 1
    assert d["msg"] == (
        "epochs: 200 epochs x 4352 glyphs (training and validation) is 870,400 glyph passes,"
        f" over the limit of {limits.MAX_XO_SAMPLE_EPOCHS:,}; use epochs <= 9 or fewer samples"
    )
    d = _error(client, "/api/xo/train", epochs=limits.MAX_XO_EPOCHS + 1)
    assert d["loc"] == ["epochs"]
    d = _error(
        client, "/api/xo/train", epochs=150, delay_ms=1000, samples=64, validation_samples=16
    )
    assert d["loc"] == ["delay_ms"]
    d = _error(client, "/api/xo/train", init="zeros")
    assert d["loc"] == ["init"]


def test_busy_streams_get_503(client: TestClient) -> None:
    taken = [sse.OPEN.try_acquire() for _ in range(limits.MAX_OPEN_STREAMS)]
    try:
        r = client.post("/api/xo/train", json={"epochs": 1})
        assert r.status_code == 503
        assert r.headers["retry-after"] == str(limits.STREAM_RETRY_AFTER_SECONDS)
        assert r.json()["detail"][0]["type"] == "busy"
    finally:
        for ok in taken:
            if ok:
                sse.OPEN.release()
    assert sse.OPEN.active == 0


# --------------------------------------------------------------------------- the stream itself


class _Item(BaseModel):
    n: int


class _Client:
    """A request whose client goes away after ``after`` checks."""

    def __init__(self, after: int) -> None:
        self.checks, self.after = 0, after

    async def is_disconnected(self) -> bool:
        self.checks += 1
        return self.checks > self.after


def test_stream_stops_working_when_the_client_goes() -> None:
    produced: list[int] = []
    closed: list[bool] = []

    def work() -> Iterator[tuple[str, BaseModel]]:
        try:
            for n in range(1000):
                produced.append(n)
                yield "item", _Item(n=n)
        finally:
            closed.append(True)

    async def consume() -> list[bytes]:
        return [chunk async for chunk in sse.event_stream(_Client(after=3), work())]

    chunks = asyncio.run(consume())
    assert len(chunks) == 3
    assert produced == [0, 1, 2]  # nothing computed ahead of the client
    assert closed == [True]
    assert sse.SLOTS.active == 0
    assert chunks[1] == b'event: item\nid: 1\ndata: {"n":1}\n\n'


def test_a_stream_waits_for_a_computing_slot_and_never_sends_an_error_for_it() -> None:
    slots = sse.StreamSlots(0)  # every computing place taken, for as long as the client stays

    async def consume() -> list[bytes]:
        events = iter([("item", _Item(n=0))])
        return [c async for c in sse.event_stream(_Client(after=9), events, slots=slots)]

    assert asyncio.run(consume()) == []  # nothing computed, no error event: the client left
    assert slots.active == 0


def test_the_page_knows_the_epochs_limit() -> None:
    """static/js/core/xo.js stops the epochs field where the server does."""
    import re
    from pathlib import Path

    from app.api import limits
    from app.api.training_schemas import XOTrainRequest

    src = (Path(__file__).resolve().parents[2] / "static/js/core/xo.js").read_text()
    passes = int(re.search(r"MAX_XO_SAMPLE_EPOCHS = (\d+);", src).group(1))  # type: ignore[union-attr]
    glyphs = int(re.search(r"XO_GLYPHS = (\d+);", src).group(1))  # type: ignore[union-attr]
    assert passes == limits.MAX_XO_SAMPLE_EPOCHS
    default = XOTrainRequest()
    assert glyphs == default.samples + default.validation_samples
