"""Every client mistake gets a 422 that names the field and says how to fix it."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

KERNEL = [[1, 0], [0, 1]]
IMAGE = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def _detail(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert "input" not in body["detail"][0], "errors never echo the rejected value"
    return body["detail"][0]


def _conv(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"input": IMAGE, "weight": KERNEL, **fields}
    return _detail(client.post("/api/conv2d", json=body))


def _raw(client: TestClient, text: str) -> dict[str, Any]:
    r = client.post("/api/conv2d", content=text, headers={"content-type": "application/json"})
    return _detail(r)


def test_nan_is_rejected(client: TestClient) -> None:
    d = _raw(client, '{"input": [[1, NaN], [0, 1]], "weight": [[1]]}')
    assert d["loc"] == ["input"]
    assert d["msg"] == "input holds NaN or Infinity at [0, 1]; send finite numbers"


def test_infinity_is_rejected(client: TestClient) -> None:
    d = _raw(client, '{"input": [[1, 2], [0, 1]], "weight": [[-Infinity]]}')
    assert d["msg"] == "weight holds NaN or Infinity at [0, 0]; send finite numbers"


def test_nan_in_bias_is_rejected(client: TestClient) -> None:
    d = _raw(client, '{"input": [[1, 2], [0, 1]], "weight": [[1]], "bias": [NaN]}')
    assert d["loc"] == ["bias", 0]
    assert "finite" in d["msg"]


def test_huge_number_is_rejected(client: TestClient) -> None:
    d = _raw(client, '{"input": [[1e300, 2], [0, 1]], "weight": [[1]]}')
    assert d["msg"] == "input holds a number too large for float32 (over 3.4e38); scale it down"


def test_ragged_input(client: TestClient) -> None:
    d = _conv(client, input=[[1, 2, 3], [4, 5], [7, 8, 9]])
    assert d["loc"] == ["input"]
    assert d["msg"].startswith("input is not rectangular at the top level")


def test_strings_and_booleans(client: TestClient) -> None:
    assert "holds strings" in _conv(client, input=[["1", "2"], ["3", "4"]])["msg"]
    assert "holds booleans" in _conv(client, weight=[[True]])["msg"]


def test_wrong_rank(client: TestClient) -> None:
    d = _conv(client, input=[[[[1.0]]]])
    assert d["loc"] == ["input"]
    assert "(C, H, W) or (H, W)" in d["msg"]


def test_channel_mismatch(client: TestClient) -> None:
    d = _conv(client, input=[IMAGE, IMAGE], weight=[[KERNEL, KERNEL, KERNEL]])
    assert d["loc"] in (["weight"], ["input"])
    assert "channel" in d["msg"]


def test_kernel_larger_than_padded_input(client: TestClient) -> None:
    d = _conv(client, weight=[[1] * 5] * 5)
    assert d["loc"] == ["weight"]
    assert "padded input" in d["msg"]


@pytest.mark.parametrize("stride", [0, -1, [1, 0]])
def test_zero_or_negative_stride(client: TestClient, stride: Any) -> None:
    d = _conv(client, stride=stride)
    assert d["loc"][0] == "stride"
    assert "greater than or equal to 1" in d["msg"]


def test_unknown_padding_mode(client: TestClient) -> None:
    d = _conv(client, padding_mode="mirror")
    assert d["loc"] == ["padding_mode"]
    assert "'zeros', 'reflect', 'replicate' or 'circular'" in d["msg"]


def test_same_padding_needs_stride_one(client: TestClient) -> None:
    d = _conv(client, padding="same", stride=2)
    assert d["loc"] == ["padding"]
    assert "'same' needs stride 1" in d["msg"]


def test_grad_output_of_the_wrong_shape(client: TestClient) -> None:
    d = _conv(client, grad_output=[[1, 1, 1], [1, 1, 1]])
    assert d["loc"] == ["grad_output"]
    assert "(2, 2)" in d["msg"]


def test_groups_must_divide_channels(client: TestClient) -> None:
    d = _conv(client, input=[IMAGE, IMAGE, IMAGE], weight=[[KERNEL]] * 2, groups=2)
    assert d["loc"] == ["groups"]


def test_bias_length(client: TestClient) -> None:
    d = _conv(client, bias=[1, 2])
    assert d["loc"] == ["bias"]


def test_unknown_field_is_named(client: TestClient) -> None:
    d = _conv(client, strides=2)
    assert d["loc"] == ["strides"]
    assert d["msg"] == "strides is not a known field; check its spelling against /docs"


def test_missing_field(client: TestClient) -> None:
    d = _detail(client.post("/api/conv2d", json={"input": IMAGE}))
    assert d["loc"] == ["weight"]
    assert d["msg"] == "weight is required"


def test_invalid_json(client: TestClient) -> None:
    d = _raw(client, '{"input": [[1, 2]')
    assert d["msg"].startswith("the body is not valid JSON")


def test_tensor_over_the_size_limit_is_refused_before_decoding(client: TestClient) -> None:
    claim = {"dtype": "float32", "shape": [3, 1024, 2048], "base64": "AAAA"}
    d = _conv(client, input=claim)
    assert d["loc"] == ["input"]
    assert "more than the limit" in d["msg"]


def test_base64_of_the_wrong_length(client: TestClient) -> None:
    claim = {"dtype": "float32", "shape": [2, 2], "base64": base64.b64encode(b"\0" * 12).decode()}
    d = _conv(client, input=claim)
    assert d["msg"] == "input base64 holds 12 bytes but shape [2, 2] needs 16"


def _zeros(*shape: int) -> dict[str, Any]:
    count = 1
    for side in shape:
        count *= side
    return {
        "dtype": "float32",
        "shape": list(shape),
        "base64": base64.b64encode(bytes(4 * count)).decode(),
    }


def test_compute_budget(client: TestClient) -> None:
    d = _conv(client, input=_zeros(1, 512, 512), weight=_zeros(16, 1, 31, 31), padding=15)
    assert d["loc"] == ["input"]
    assert d["msg"].startswith(
        "input: the unfolded input (channels x kernel cells x output cells) would be 251,920,384"
    )


def test_transposed_output_too_large(client: TestClient) -> None:
    r = client.post(
        "/api/conv_transpose2d",
        json={"input": _zeros(200, 200), "weight": [[1.0]], "stride": 64},
    )
    d = _detail(r)
    assert "the output would be" in d["msg"]


def test_pool_padding_over_half_the_kernel(client: TestClient) -> None:
    r = client.post("/api/max_pool2d", json={"input": IMAGE, "kernel_size": 2, "padding": 2})
    assert _detail(r)["loc"] == ["padding"]


def test_unknown_activation(client: TestClient) -> None:
    r = client.post("/api/activation", json={"function": "gelu", "input": IMAGE})
    d = _detail(r)
    assert d["loc"] == ["function"]


def test_export_errors_name_the_field_not_the_union_member(client: TestClient) -> None:
    r = client.post("/api/export/code", json={"op": "max_pool2d", "input": IMAGE})
    d = _detail(r)
    assert d["loc"] == ["kernel_size"]
    assert d["msg"] == "kernel_size is required"
    d = _detail(client.post("/api/export/code", json={"op": "sum", "input": IMAGE}))
    assert d["loc"] == ["op"]
    r = client.post("/api/export/code", json={"input": IMAGE, "weight": KERNEL, "stride": 0})
    body = r.json()
    assert [e["loc"] for e in body["detail"]] == [["stride"]]
    assert body["detail"][0]["msg"] == "stride: Input should be greater than or equal to 1"


def test_padding_of_three_numbers_lists_the_forms(client: TestClient) -> None:
    d = _conv(client, padding=[1, 0, 1])
    assert d["loc"] == ["padding"]
    assert d["msg"].startswith("padding: must be an integer >= 0, a pair [pH, pW], four integers")
