"""Every error the API makes has a stable code and its numbers (issue 12, item 3).

The registry (``app.engine.errors.CODES``) is the contract: each code is worded in
both locales with exactly its parameters, documented in docs/API.md, and each is
provoked here, through the API where a request can reach it, else at the engine
call that raises it (pydantic refuses those requests before the engine sees them).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api import limits
from app.engine import (
    activations,
    arithmetic,
    conv_transpose,
    descent,
    glyph_data,
    linear,
    optim,
    pool,
    sequential,
    tensors,
)
from app.engine.errors import CODES, EngineError
from app.main import app

ROOT = Path(__file__).resolve().parents[2]


def _ones(*shape: int) -> list:
    return np.ones(shape).tolist()


def _zeros(*shape: int) -> list:
    return np.zeros(shape).tolist()


def _compact(*shape: int) -> dict[str, Any]:
    """A zero tensor in the compact form: large tensors do not fit a body as lists."""
    data = np.zeros(shape, "<f4").tobytes()
    return {"dtype": "float32", "shape": list(shape), "base64": base64.b64encode(data).decode()}


X3 = _ones(3, 3)

# code -> (path, body): the request that provokes it.
API_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "same_needs_stride_1": (
        "/api/conv2d",
        {"input": _ones(5, 5), "weight": X3, "padding": "same", "stride": 2},
    ),
    "kernel_larger_than_input": ("/api/conv2d", {"input": X3, "weight": _ones(5, 5)}),
    "groups_divide_input": (
        "/api/conv2d",
        {"input": _ones(3, 4, 4), "weight": _ones(2, 1, 3, 3), "groups": 2},
    ),
    "groups_divide_output": (
        "/api/conv2d",
        {"input": _ones(2, 4, 4), "weight": _ones(3, 1, 3, 3), "groups": 2},
    ),
    "channels_mismatch": ("/api/conv2d", {"input": _ones(3, 4, 4), "weight": _ones(1, 2, 3, 3)}),
    "wrong_shape": ("/api/conv2d", {"input": _ones(2, 1, 3, 3), "weight": X3}),
    "reflect_padding_too_large": (
        "/api/conv2d",
        {"input": X3, "weight": X3, "padding": 3, "padding_mode": "reflect"},
    ),
    "circular_padding_too_large": (
        "/api/conv2d",
        {"input": X3, "weight": X3, "padding": 4, "padding_mode": "circular"},
    ),
    "output_padding_too_large": (
        "/api/conv_transpose2d",
        {"input": X3, "weight": X3, "stride": 2, "output_padding": 2},
    ),
    "transpose_padding_too_large": (
        "/api/conv_transpose2d",
        {"input": X3, "weight": X3, "padding": 3},
    ),
    "pool_padding_over_half": (
        "/api/max_pool2d",
        {"input": _ones(4, 4), "kernel_size": 2, "padding": 2},
    ),
    "pool_input_too_small": ("/api/max_pool2d", {"input": X3, "kernel_size": 5}),
    "pool_window_in_padding": (
        "/api/max_pool2d",
        {"input": [[1.0]], "kernel_size": 2, "padding": 1, "dilation": 2},
    ),
    "kernel_over_limit": ("/api/conv2d", {"input": _ones(40, 40), "weight": _ones(33, 33)}),
    "channels_over_limit": (
        "/api/conv2d",
        {"input": _zeros(300, 3, 3), "weight": _zeros(1, 300, 1, 1)},
    ),
    "filters_over_limit": ("/api/conv2d", {"input": X3, "weight": _zeros(300, 1, 1, 1)}),
    "output_over_limit": (
        "/api/conv2d",
        {"input": _compact(1, 1024, 1024), "weight": _zeros(20, 1, 1, 1), "trace": False},
    ),
    "transpose_output_over_limit": (
        "/api/conv_transpose2d",
        {"input": _zeros(1, 512, 512), "weight": _zeros(1, 64, 1, 1), "stride": 2, "trace": False},
    ),
    "unfolded_over_limit": (
        "/api/conv2d",
        {"input": _compact(3, 1024, 1024), "weight": _zeros(1, 3, 5, 5), "trace": False},
    ),
    "macs_over_limit": (
        "/api/conv2d",
        {"input": _compact(16, 256, 256), "weight": _compact(200, 16, 3, 3), "trace": False},
    ),
    "pool_reads_over_limit": (
        "/api/max_pool2d",
        {"input": _compact(3, 1024, 1024), "kernel_size": 31, "stride": 1, "padding": 15},
    ),
    "answer_over_limit": (
        "/api/backprop",
        {"input": _compact(3, 1024, 1024), "weight": _zeros(16, 3, 3, 3), "padding": 1},
    ),
    "answer_over_limit_base64": (
        "/api/backprop?encoding=base64",
        {
            "input": _compact(3, 1024, 1024),
            "weight": _zeros(16, 3, 3, 3),
            "padding": 1,
            "activation": {"function": "relu"},
            "pool": {"kind": "max", "kernel_size": 2},
            "trace": False,
        },
    ),
    "memory_over_limit": ("/api/conv2d", {"input": _zeros(64, 64), "weight": X3}),
    "overflow": ("/api/conv2d", {"input": [[3e38, 3e38], [3e38, 3e38]], "weight": _ones(2, 2)}),
    "needs_one_target": ("/api/backprop", {"input": X3, "weight": X3, "loss": "mse"}),
    "needs_grad_output": ("/api/backprop", {"input": X3, "weight": X3, "loss": "grad_output"}),
    "unused_parameter": (
        "/api/backprop",
        {"input": X3, "weight": X3, "loss": "sum", "target": [[1.0]]},
    ),
    "count_mismatch": (
        "/api/descent",
        {"inputs": [X3, X3], "weight": [[1.0]], "loss": "mse", "targets": [X3], "lr": 0.1},
    ),
    "non_finite_loss": (
        "/api/descent",
        {"inputs": [[[1e38, 1e38], [1e38, 1e38]]], "weight": [[1e38]], "loss": "sum", "lr": 0.1},
    ),
    "weight_over_limit": (
        "/api/descent",
        {"inputs": [X3], "weight": _zeros(2, 1, 23, 23), "loss": "sum", "lr": 0.1},
    ),
    "iterations_over_limit": (
        "/api/descent",
        {
            "inputs": [_zeros(300, 300)] * 8,
            "weight": X3,
            "loss": "sum",
            "max_iterations": 100,
            "lr": 0.1,
        },
    ),
    "stream_over_limit": (
        "/api/descent/stream",
        {
            "inputs": [X3],
            "weight": X3,
            "loss": "sum",
            "max_iterations": 1000,
            "delay_ms": 1000,
            "lr": 0.1,
        },
    ),
    "needs_fc_weight": ("/api/xo/forward", {"input": _ones(9, 9), "conv_weight": _ones(2, 3, 3)}),
    "glyph_too_small": ("/api/xo/forward", {"input": _ones(2, 2)}),
    "glyph_features": ("/api/xo/forward", {"input": _ones(5, 5)}),
    "epochs_over_limit": ("/api/xo/train", {"epochs": 60, "samples": 2000}),
    "needs_input_or_strokes": ("/api/digits/forward", {}),
    "values_in_range": ("/api/digits/forward", {"input": (np.ones((8, 8)) * 20).tolist()}),
    "points_over_limit": ("/api/digits/forward", {"strokes": [[[0, 0]] * 3000] * 3}),
    "in_range": ("/api/export/png?step=99", {"op": "conv2d", "input": X3, "weight": X3}),
    "steps_over_limit": (
        "/api/export/gif",
        {"op": "conv2d", "input": _zeros(1, 40, 40), "weight": _zeros(1, 1, 31, 31), "padding": 15},
    ),
    "frame_cells_over_limit": (
        "/api/export/gif",
        {"op": "conv2d", "input": _zeros(40, 40), "weight": [[1.0]]},
    ),
    "gif_cells_over_limit": (
        "/api/export/gif",
        {"op": "conv2d", "input": _zeros(1, 40, 40), "weight": _zeros(25, 1, 2, 2), "stride": 2},
    ),
    "code_numbers_over_limit": (
        "/api/export/code",
        {"op": "conv2d", "input": _compact(1024, 1024), "weight": [[1.0, 1.0]]},
    ),
    "stack_macs_over_limit": (
        "/api/stack",
        {
            "input": _compact(8, 128, 128),
            "layers": [{"type": "conv2d", "weight": _compact(64, 8, 3, 3), "padding": 1}]
            + [{"type": "conv2d", "weight": _compact(64, 64, 3, 3), "padding": 1}] * 6,
        },
    ),
    "stack_maps_over_limit": (
        "/api/stack",
        {
            "input": _zeros(1, 512, 512),
            "layers": [{"type": "conv2d", "weight": _zeros(32, 1, 1, 1)}]
            + [{"type": "activation", "function": "relu"}] * 6,
        },
    ),
}

# Codes no request reaches (pydantic's own types refuse the request first): the
# engine call that raises each.
ENGINE_CASES: dict[str, Callable[[], object]] = {
    "not_integer": lambda: arithmetic.pair(1.5, "stride"),  # type: ignore[arg-type]
    "not_boolean": lambda: pool.pool2d_geometry((4, 4), 2, None, 0, 1, "yes"),  # type: ignore[arg-type]
    "not_finite": lambda: activations.activation("leaky_relu", [1.0], negative_slope=np.inf),
    "at_least": lambda: arithmetic.pair(0, "stride"),
    "positive": lambda: optim.SGD(lr=0.0),
    "in_range": lambda: glyph_data.generate(10, 0, noise=0.9),
    "in_range_open": lambda: optim.SGD(lr=0.1, momentum=1.5),
    "unknown_choice": lambda: activations.activation("swish", [1.0]),
    "not_rectangular": lambda: tensors.as_array([[1, 2], [3]], "input"),
    "empty": lambda: tensors.as_array([[]], "input"),
    "no_inputs": lambda: descent.conv_problem([], [[1.0]], "sum"),
    "needs_maps": lambda: sequential.plan(
        [sequential.Flatten(), sequential.MaxPool2d()], (1, 4, 4)
    ),
    "features_mismatch": lambda: linear.linear(np.ones((1, 3)), np.ones((2, 4))),
    "glyph_does_not_fit": lambda: glyph_data.draw_glyph("X", 12, 0, 0, 9),
    "index_out_of_range": lambda: pool.max_pool2d_backward([[1.0]], [[99]], (2, 2)),
    "padding_form": lambda: conv_transpose.conv_transpose2d(X3, X3, padding="same"),  # type: ignore[arg-type]
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_code_is_worded_with_exactly_its_parameters(lang: str) -> None:
    words = json.loads((ROOT / "static" / "locales" / f"{lang}.json").read_text("utf-8"))
    for code, spec in CODES.items():
        text = words.get(f"apierr.{code}")
        assert text, f"{lang}.json has no apierr.{code}"
        # {field} is the page's own (the field the error names, in its words).
        assert _placeholders(text) - {"field"} == set(spec.params), (lang, code, text)


def test_the_russian_words_are_russian() -> None:
    words = json.loads((ROOT / "static" / "locales" / "ru.json").read_text("utf-8"))
    for code in CODES:
        text = re.sub(r"\{\w+\}", "", words[f"apierr.{code}"])
        # Latin only for names the page shows as they are (mse, dE/dO, float32, 'same').
        latin = set(re.findall(r"[A-Za-z]{3,}", text)) - {"mse", "float", "same", "valid"}
        assert not latin, (code, latin)


def test_every_code_is_documented() -> None:
    doc = (ROOT / "docs" / "API.md").read_text("utf-8")
    for code, spec in CODES.items():
        params = ", ".join(f"`{p}`" for p in spec.params) or "—"
        assert f"| `{code}` | {params} |" in doc, code


def test_every_code_is_provoked_here() -> None:
    assert set(API_CASES) | set(ENGINE_CASES) == set(CODES)


def test_an_unregistered_code_or_parameter_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        EngineError("x", "y", code="no_such_code")
    with pytest.raises(TypeError):
        EngineError("x", "y", code="at_least", params={"min": 1})


@pytest.mark.parametrize("code", sorted(API_CASES))
def test_each_code_through_the_api(
    client: TestClient, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if code == "memory_over_limit":
        # No request within the answer limit holds 320 MiB: lower the memory limit.
        monkeypatch.setattr(limits, "MAX_REQUEST_BYTES", 1024)
    path, body = API_CASES[code]
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text[:300]
    item = r.json()["detail"][0]
    assert item["type"] == item["code"] == code, item
    assert set(item["ctx"]) == set(CODES[code].params), item
    assert all(isinstance(v, int | float | str) for v in item["ctx"].values())
    # A limit's number in the English message travels in ctx too.
    if "limit" in item["ctx"]:
        assert f"{item['ctx']['limit']:,}" in item["msg"], item["msg"]
    assert item["loc"] and isinstance(item["loc"][0], str)


@pytest.mark.parametrize("code", sorted(ENGINE_CASES))
def test_each_code_at_the_engine(code: str) -> None:
    with pytest.raises(EngineError) as info:
        ENGINE_CASES[code]()
    assert info.value.code == code
    assert set(info.value.params) == set(CODES[code].params)


def test_a_stack_layer_error_keeps_its_code_and_numbers(client: TestClient) -> None:
    body = {"input": X3, "layers": [{"type": "conv2d", "weight": _ones(1, 1, 5, 5)}]}
    item = client.post("/api/stack", json=body).json()["detail"][0]
    assert item["loc"] == ["layers.0.weight"]
    assert item["code"] == "kernel_larger_than_input"
    assert item["ctx"] == {"kernel_h": 5, "kernel_w": 5, "input_h": 3, "input_w": 3}
    body = {"input": X3, "layers": [{"type": "conv2d", "weight": _zeros(65, 1, 1, 1)}]}
    item = client.post("/api/stack", json=body).json()["detail"][0]
    assert item["code"] == "filters_over_limit"
    assert item["ctx"] == {"actual": 65, "limit": limits.MAX_STACK_FILTERS}


def test_every_raise_site_names_its_code() -> None:
    # A raise without a code is only a TypeError when it runs: one that only a rare
    # input reaches would slip past every other test. Read the source instead.
    import ast

    errors = {"EngineError", "ShapeError", "ParameterError", "LimitError"}
    bare = []
    seen = 0
    for path in Path("app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            keywords = {k.arg for k in node.keywords}
            if name in errors:
                seen += 1
                if "code" not in keywords and None not in keywords:
                    bare.append(f"{path}:{node.lineno}")
    assert seen > 50  # the walk found the raise sites
    assert not bare, f"raised without a code: {bare}"
