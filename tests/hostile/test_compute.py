"""Compute bombs: small requests asking for huge work are refused before any allocation."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient


def _zeros(*shape: int) -> dict[str, Any]:
    """A compact tensor of zeros: a few bytes of JSON per megabyte it claims."""
    count = 1
    for side in shape:
        count *= side
    return {
        "dtype": "float32",
        "shape": list(shape),
        "base64": base64.b64encode(bytes(4 * count)).decode(),
    }


def _refused(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    r = client.post(path, json=body)
    elapsed = time.perf_counter() - start
    assert r.status_code == 422, r.text[:300]
    assert elapsed < 2.0, f"refusing took {elapsed:.2f} s: the budget ran after the work"
    detail = r.json()["detail"]
    assert len(detail) == 1
    return dict(detail[0])


@pytest.mark.parametrize(
    ("path", "body", "loc", "msg"),
    [
        (
            "/api/conv2d",
            {"input": _zeros(3, 1024, 1024), "weight": _zeros(64, 3, 3, 3), "padding": 1},
            ["input"],
            "input: the output would be 67,108,864, over the limit of 16,777,216; use a larger"
            " stride",
        ),
        (
            "/api/conv2d",
            {"input": _zeros(256, 64, 64), "weight": _zeros(256, 256, 5, 5), "padding": 2},
            ["weight"],
            "weight: the multiply-adds would be 6,710,886,400, over the limit of 1,000,000,000;"
            " use fewer filters",
        ),
        (
            "/api/conv2d",
            {"input": _zeros(1, 8, 8), "weight": _zeros(4096, 1, 1, 1)},
            ["weight"],
            "weight: the output channels would be 4,096, over the limit of 256; use fewer filters",
        ),
        (
            "/api/conv_transpose2d",
            {"input": _zeros(1, 1024, 1024), "weight": _zeros(1, 16, 8, 8), "stride": 8},
            ["input"],
            "input: the output would be 1,073,741,824, over the limit of 16,777,216; use a smaller"
            " stride",
        ),
        (
            "/api/max_pool2d",
            {"input": _zeros(3, 1024, 1024), "kernel_size": 31, "stride": 1, "padding": 15},
            ["kernel_size"],
            "kernel_size: the window reads (output cells x kernel cells) would be 3,023,044,608,"
            " over the limit of 200,000,000; use a smaller kernel or a larger stride",
        ),
        (
            "/api/avg_pool2d",
            {"input": _zeros(3, 1024, 1024), "kernel_size": 31, "stride": 1, "padding": 15},
            ["kernel_size"],
            "kernel_size: the window reads (output cells x kernel cells) would be 3,023,044,608,"
            " over the limit of 200,000,000; use a smaller kernel or a larger stride",
        ),
    ],
    ids=["conv-output", "conv-macs", "conv-filters", "transposed-output", "max-pool", "avg-pool"],
)
def test_compute_bomb(
    client: TestClient, path: str, body: dict[str, Any], loc: list[str], msg: str
) -> None:
    item = _refused(client, path, body)
    assert {k: item[k] for k in ("loc", "msg")} == {"loc": loc, "msg": msg}
    code = item["code"]
    assert item["type"] == code and code.endswith("_over_limit")
    # the numbers of the message travel in ctx, for the page to word them
    assert f"{item['ctx']['actual']:,}" in msg and f"{item['ctx']['limit']:,}" in msg


@pytest.mark.parametrize(
    ("shape", "msg"),
    [
        (
            [10**30],
            f"input has {10**30} numbers, more than the limit of 3145728; send a smaller tensor"
            " (scale the image down)",
        ),
        ([0, 10**20], "input has a side over 1024; send a smaller tensor"),
        ([10**20, 0, 4], "input has a side over 1024; send a smaller tensor"),
        (
            [2**40, 2**40, 2**40],
            "input has 1329227995784915872903807060280344576 numbers, more than the limit of"
            " 3145728; send a smaller tensor (scale the image down)",
        ),
        ([-1, 4], "input shape must be a list of non-negative integers"),
        ([True, 4], "input shape must be a list of non-negative integers"),
        ([1, 1, 1, 1, 1], "input shape has 5 dimensions; at most 4 are accepted"),
    ],
)
def test_hostile_compact_shapes(client: TestClient, shape: list[Any], msg: str) -> None:
    claim = {"dtype": "float32", "shape": shape, "base64": ""}
    error = _refused(client, "/api/conv2d", {"input": claim, "weight": [[1.0]]})
    assert (error["loc"], error["msg"]) == (["input"], msg)


@pytest.mark.parametrize(
    ("claim", "msg"),
    [
        (
            {"dtype": "float32", "shape": [2, 2], "base64": "!!!!" * 4},
            "input base64 is not valid base64 text",
        ),
        (
            {"dtype": "float32", "shape": [2, 2], "base64": "A" * 10_000},
            "input base64 is longer than a float32 tensor of shape [2, 2] needs",
        ),
        (
            {"dtype": "float64", "shape": [1], "base64": "AAAAAAAAAAA="},
            "input compact tensors must have dtype 'float32' (little-endian)",
        ),
        (
            {"dtype": "float32", "shape": [1], "base64": "AAAAAA==", "x": 1},
            "input a compact tensor has exactly the keys dtype, shape and base64",
        ),
        (
            {
                "dtype": "float32",
                "shape": [1],
                "base64": base64.b64encode(b"\x00\x00\xc0\x7f").decode(),
            },
            "input holds NaN or Infinity at [0]; send finite numbers",
        ),
    ],
    ids=["not-base64", "too-long", "float64", "extra-key", "nan-bits"],
)
def test_hostile_compact_payloads(client: TestClient, claim: dict[str, Any], msg: str) -> None:
    error = _refused(client, "/api/conv2d", {"input": claim, "weight": [[1.0]]})
    assert error["msg"] == msg


def test_a_large_trace_is_left_out_not_computed(client: TestClient) -> None:
    r = client.post(
        "/api/conv2d",
        json={"input": _zeros(1, 200, 200), "weight": _zeros(1, 1, 3, 3), "trace": True},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["trace"] is None
    assert body["trace_note"] == (
        "trace left out: 39,204 steps is over the limit of 20,000; `geometry` gives every"
        " step (docs/STEPS.md), or use a smaller input"
    )
    assert body["geometry"]["steps"] == 39_204
