"""POST /api/descent and /api/descent/stream, GET the diagonal-detector scenario."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app import presets
from app.api import limits
from tests.api.sse_parse import parse_events

DIAGONAL = presets.KERNELS["diagonal"]["weight"]


@pytest.fixture(scope="module")
def scenario(client: TestClient) -> dict[str, Any]:
    r = client.get("/api/descent/scenarios/diagonal-detector", params={"seed": 3})
    assert r.status_code == 200, r.text
    return r.json()


def _descent(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/descent", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _error(client: TestClient, path: str = "/api/descent", **body: Any) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]


def test_scenario_learns_the_diagonal_detector(client: TestClient, scenario: dict) -> None:
    assert scenario["teacher_weight"] == DIAGONAL
    assert len(scenario["inputs"]) == 3 and scenario["reduce"] == "mean"
    body = _descent(client, **scenario)
    assert body["stop_reason"] == "loss_tolerance"
    assert body["iterations"] == len(body["steps"]) - 1 < scenario["max_iterations"]
    np.testing.assert_allclose(body["weight"], DIAGONAL, atol=2e-3)
    losses = [s["loss"] for s in body["steps"]]
    assert losses[-1] < 1e-4 * losses[0]
    assert body["steps"][0]["weight"] == scenario["weight"]
    assert set(body["steps"][0]) == {
        "iteration",
        "loss",
        "weight",
        "grad",
        "grad_norm",
        "bias",
        "grad_bias",
    }


def test_stepping_continues_the_run(client: TestClient, scenario: dict) -> None:
    two = _descent(client, **{**scenario, "max_iterations": 2, "loss_tolerance": None})
    one = _descent(client, **{**scenario, "max_iterations": 1, "loss_tolerance": None})
    assert one["stop_reason"] == "max_iterations" and len(one["steps"]) == 2
    resume = {"weight": one["weight"], "velocity": one["velocity"]}
    again = _descent(client, **{**scenario, "max_iterations": 1, "loss_tolerance": None, **resume})
    np.testing.assert_allclose(again["weight"], two["weight"], rtol=1e-6)


def test_divergence_is_reported_with_finite_numbers(client: TestClient, scenario: dict) -> None:
    body = _descent(client, **{**scenario, "lr": 500.0, "momentum": 0.0, "max_iterations": 1000})
    assert body["stop_reason"] == "diverged"
    assert all(np.isfinite(s["loss"]) for s in body["steps"])


def test_a_negative_sum_loss_is_not_convergence(client: TestClient) -> None:
    x = (-np.ones((4, 4))).tolist()
    body = _descent(client, inputs=[x], weight=[[1.0]], loss="sum", lr=0.1, max_iterations=3)
    assert body["stop_reason"] == "max_iterations"
    # E = -16 w and dE/dw = -16, so each step adds 1.6 to w and takes 25.6 off E.
    assert [s["loss"] for s in body["steps"]] == pytest.approx([-16.0, -41.6, -67.2, -92.8])


def test_bias_and_targets(client: TestClient) -> None:
    x = presets.x_glyph()
    body = _descent(
        client,
        inputs=[x],
        weight=[[0.0]],
        bias=[0.0],
        targets=[(2 * np.asarray(x) + 1).tolist()],
        lr=0.5,
        max_iterations=300,
        grad_tolerance=1e-6,
    )
    assert body["stop_reason"] == "grad_tolerance"
    assert body["weight"][0][0] == pytest.approx(2.0, abs=1e-4)
    assert body["bias"][0] == pytest.approx(1.0, abs=1e-4)


def test_stream_sends_every_step_then_done(client: TestClient, scenario: dict) -> None:
    body = {**scenario, "max_iterations": 7, "loss_tolerance": None}
    with client.stream("POST", "/api/descent/stream", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        events = parse_events(r.read().decode())
    assert [e["event"] for e in events] == ["step"] * 8 + ["done"]
    assert [e["id"] for e in events] == list(range(9))
    assert [e["data"]["iteration"] for e in events[:-1]] == list(range(8))
    done = events[-1]["data"]
    assert done["stop_reason"] == "max_iterations" and done["iterations"] == 7
    plain = _descent(client, **body)
    assert done["weight"] == plain["weight"]
    assert [e["data"]["loss"] for e in events[:-1]] == [s["loss"] for s in plain["steps"]]


def test_limits_are_enforced(client: TestClient, scenario: dict) -> None:
    d = _error(client, **{**scenario, "max_iterations": limits.MAX_DESCENT_ITERATIONS + 1})
    assert d["loc"] == ["max_iterations"]
    assert (
        d["msg"]
        == f"max_iterations: Input should be less than or equal to {limits.MAX_DESCENT_ITERATIONS}"
    )
    d = _error(client, **{**scenario, "weight": np.zeros((2, 1, 23, 23)).tolist()})
    assert d["loc"] == ["weight"] and d["type"] == d["code"] == "weight_over_limit"
    assert d["ctx"] == {"actual": 2 * 23 * 23, "limit": 1024}
    assert "over the descent limit of 1,024" in d["msg"]
    big = np.zeros((300, 300)).tolist()
    d = _error(client, **{**scenario, "inputs": [big] * 8, "max_iterations": 100})
    assert d["loc"] == ["max_iterations"] and d["type"] == "iterations_over_limit"
    assert d["ctx"] == {"max": 14}
    assert "use max_iterations <= 14" in d["msg"]
    d = _error(client, **{**scenario, "inputs": [presets.x_glyph()] * 8, "max_iterations": 1000})
    assert d["msg"] == (
        "max_iterations: 1001 iterations x 8 inputs is 8,008 forward and backward passes,"
        " over the limit of 4,000; use max_iterations <= 499 or fewer inputs"
    )
    d = _error(
        client, "/api/descent/stream", **{**scenario, "delay_ms": 1000, "max_iterations": 300}
    )
    assert d["loc"] == ["delay_ms"]
    assert "over the limit of 120 s" in d["msg"]


def test_bad_problems_are_refused_before_streaming(client: TestClient, scenario: dict) -> None:
    d = _error(client, "/api/descent/stream", **{**scenario, "teacher_weight": None})
    assert d["loc"] == ["targets"]
    assert d["msg"].startswith("targets: the mse loss needs either targets")
    d = _error(client, **{**scenario, "teacher_weight": [[1, 0], [0, 1]]})
    assert d["msg"] == (
        "teacher_weight: has shape (2, 2) but weight has shape (3, 3);"
        " give a tensor of shape (3, 3)"
    )
    d = _error(client, **{**scenario, "momentum": 1.0})
    assert d["loc"] == ["momentum"]
    d = _error(client, **{**scenario, "velocity": [[0.0]]})
    assert d["msg"].startswith("velocity: has shape (1, 1) but weight has shape (3, 3)")
    d = _error(client, **{**scenario, "inputs": []})
    assert d["loc"] == ["inputs"]
