"""The code panel: the generated PyTorch program, run, prints the API's numbers; the
curl command posts the request itself."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.export.scenes import PADDING_INPUT, PADDING_KERNEL, x_glyph

_rng = np.random.default_rng(11)


def _ints(*shape: int, low: int = -3, high: int = 4) -> list:
    return _rng.integers(low, high, shape).astype(float).tolist()


CONFIGS: dict[str, dict[str, Any]] = {
    "padding_slide": {"input": PADDING_INPUT, "weight": PADDING_KERNEL, "padding": 1, "stride": 2},
    "reflect_asymmetric": {
        "input": _ints(6, 7),
        "weight": _ints(3, 2),
        "padding": [2, 1, 0, 2],
        "padding_mode": "reflect",
    },
    "replicate_same_dilation": {
        "input": _ints(2, 6, 6),
        "weight": _ints(3, 2, 2, 2),
        "padding": "same",
        "dilation": 2,
        "padding_mode": "replicate",
    },
    "circular_stride_pair": {
        "input": _ints(5, 8),
        "weight": _ints(3, 3),
        "padding": [1, 2],
        "stride": [2, 3],
        "padding_mode": "circular",
    },
    "zeros_four_values": {"input": _ints(5, 5), "weight": _ints(2, 3), "padding": [0, 1, 2, 0]},
    "mean_with_bias_xo": {
        "input": x_glyph().tolist(),
        "weight": [[[[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]]],
        "bias": [0.25],
        "reduce": "mean",
    },
    "groups_bias_fractions": {
        "input": (np.asarray(_ints(4, 5, 5)) / 7).tolist(),
        "weight": _ints(6, 2, 3, 3),
        "bias": [0.1, -0.2, 0.3, 0.0, 1.5, -2.5],
        "groups": 2,
        "stride": 2,
        "padding": 1,
    },
    "max_pool_ceil_padding_dilation": {
        "op": "max_pool2d",
        "input": _ints(2, 7, 7),
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "dilation": [1, 2],
        "ceil_mode": True,
    },
    "max_pool_xo_slide": {
        "op": "max_pool2d",
        "input": _ints(7, 7),
        "kernel_size": 2,
        "ceil_mode": True,
    },
    "avg_pool_no_pad_count": {
        "op": "avg_pool2d",
        "input": _ints(6, 5),
        "kernel_size": [3, 2],
        "stride": [2, 1],
        "padding": [1, 1],
        "ceil_mode": True,
        "count_include_pad": False,
    },
    "transposed_groups": {
        "op": "conv_transpose2d",
        "input": _ints(2, 3, 3),
        "weight": _ints(2, 2, 3, 3),
        "bias": [1.0, -1.0, 0.5, 2.0],
        "stride": 2,
        "padding": 1,
        "output_padding": 1,
        "groups": 2,
        "dilation": 1,
    },
    "transposed_2d": {
        "op": "conv_transpose2d",
        "input": _ints(3, 2),
        "weight": _ints(2, 3),
        "stride": [1, 2],
        "dilation": 2,
    },
    # 80x80 = 6400 numbers: written as base64, not nested lists.
    "large_input_base64": {
        "input": (np.asarray(_ints(80, 80)) / 3).tolist(),
        "weight": _ints(3, 3),
        "stride": 4,
    },
}


def _api_body(config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = dict(config)
    return body.pop("op", "conv2d"), body


# Runs every program in one fresh interpreter, each in its own namespace as if it were
# the main module, printing {name: [stdout, error]}: importing torch takes seconds, so
# one subprocess for all of them keeps the test fast.
_DRIVER = """
import contextlib, io, json, sys, traceback
programs = json.load(sys.stdin)
results = {}
for name, source in programs.items():
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, name, "exec"), {"__name__": "__main__"})
        results[name] = [out.getvalue(), None]
    except Exception:
        results[name] = [out.getvalue(), traceback.format_exc()]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def runs(client: TestClient) -> dict[str, tuple[Any, dict[str, str], str, str | None]]:
    """Each configuration: the API's output, the exported code, what the program printed
    and its error (None when it ran)."""
    exported = {}
    for name, config in CONFIGS.items():
        op, body = _api_body(config)
        api = client.post(f"/api/{op}", json={**body, "trace": False})
        assert api.status_code == 200, api.text
        code = client.post("/api/export/code", json=config)
        assert code.status_code == 200, code.text
        exported[name] = (api.json()["output"], code.json())
    programs = {name: code["pytorch"] for name, (_, code) in exported.items()}
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER],
        input=json.dumps(programs),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    printed = json.loads(done.stdout)
    return {name: (output, code, *printed[name]) for name, (output, code) in exported.items()}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_generated_pytorch_prints_the_api_output(runs: dict, name: str) -> None:
    expected, _, stdout, error = runs[name]
    assert error is None, error
    printed = np.asarray(json.loads(stdout))
    assert printed.shape == np.shape(expected)
    np.testing.assert_allclose(printed, expected, rtol=1e-5, atol=1e-5)


def test_generated_pytorch_runs_on_its_own(runs: dict) -> None:
    """One program as a user would run it: a fresh `python -c`, nothing else around it."""
    expected, code, _, _ = runs["padding_slide"]
    done = subprocess.run(
        [sys.executable, "-c", code["pytorch"]], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected == [[1, 5, 6], [7, 8, 3], [3, 10, 4]]


def test_large_tensors_travel_as_base64(runs: dict) -> None:
    code = runs["large_input_base64"][1]
    assert "base64.b64decode(" in code["pytorch"]
    assert '"base64": ' in code["curl"]


def _curl_body(curl: str) -> tuple[str, dict[str, Any]]:
    words = shlex.split(curl)
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    assert words[words.index("-H") + 1] == "Content-Type: application/json"
    return words[4], json.loads(words[words.index("-d") + 1])


@pytest.mark.parametrize("name", [n for n in CONFIGS if n != "large_input_base64"])
def test_curl_body_is_the_request(runs: dict, name: str) -> None:
    op, body = _api_body(CONFIGS[name])
    url, sent = _curl_body(runs[name][1]["curl"])
    assert url == f"http://testserver/api/{op}"
    assert sent.keys() == body.keys()
    for key, value in body.items():
        if key in ("input", "weight"):
            # Tensors are float32 in the API: the command writes each number in the
            # shortest form that reads back as the same float32 (1/7 as 0.14285715).
            np.testing.assert_array_equal(np.float32(sent[key]), np.float32(value))
        else:
            assert sent[key] == value, key


def test_curl_command_gives_the_same_output(client: TestClient, runs: dict) -> None:
    for name in ("padding_slide", "large_input_base64", "avg_pool_no_pad_count"):
        expected, code = runs[name][:2]
        url, sent = _curl_body(code["curl"])
        answer = client.post(url.removeprefix("http://testserver"), json=sent)
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(answer.json()["output"], expected, rtol=1e-6)


def test_code_limit(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api import limits

    monkeypatch.setattr(limits, "MAX_CODE_ELEMENTS", 20)
    r = client.post("/api/export/code", json=CONFIGS["padding_slide"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == (
        "input: the code would embed 34 numbers, over the limit of 20; use a smaller input"
    )


def test_code_for_an_impossible_configuration_is_refused(client: TestClient) -> None:
    r = client.post("/api/export/code", json={"input": _ints(3, 4, 4), "weight": _ints(2, 2, 3, 3)})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["weight"]
