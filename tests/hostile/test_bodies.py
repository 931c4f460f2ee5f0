"""Request bodies: too large (declared or streamed), too slow, or not what they claim."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api import limits
from app.main import app
from tests.hostile.asgi import chunks, file_upload, post

MB50 = 50_000_000
MIB = 1024 * 1024
JSON_TOO_LARGE = (
    "the request body is larger than 36 MiB; send large tensors in the compact form"
    " {dtype, shape, base64} or send smaller ones"
)
UPLOAD_TOO_LARGE = "the upload is larger than 10 MiB; upload a smaller image"
MULTIPART = "multipart/form-data; boundary=xyz"


def _only_error(body: dict[str, object]) -> dict[str, object]:
    detail = body["detail"]
    assert isinstance(detail, list) and len(detail) == 1
    item = detail[0]
    assert isinstance(item, dict)
    return item


def test_declared_50mb_json_body_is_refused_before_a_byte_is_read() -> None:
    answer = post(app, "/api/conv2d", chunks(MB50), content_length=MB50)
    assert answer.status == 413
    assert answer.chunks_read == 0
    assert answer.headers["connection"] == "close"
    assert _only_error(answer.json()) == {
        "loc": [],
        "msg": JSON_TOO_LARGE,
        "type": "body_too_large",
    }


def test_streamed_50mb_json_body_stops_being_read_at_the_limit() -> None:
    answer = post(app, "/api/conv2d", chunks(MB50))  # chunked: no length announced
    assert answer.status == 413
    # 1 MiB pieces: the 37th crosses 36 MiB, and nothing after it is read.
    assert answer.chunks_read == limits.MAX_JSON_BODY_BYTES // MIB + 1
    assert _only_error(answer.json())["msg"] == JSON_TOO_LARGE


def test_body_longer_than_its_content_length_is_still_counted() -> None:
    answer = post(app, "/api/conv2d", chunks(MB50), content_length=100)
    assert answer.status == 413
    assert answer.chunks_read == limits.MAX_JSON_BODY_BYTES // MIB + 1


def test_streamed_50mb_upload_stops_being_read_at_the_upload_limit() -> None:
    answer = post(app, "/api/images", file_upload(MB50), content_type=MULTIPART)
    assert answer.status == 413
    # The form's headers, then 1 MiB pieces of the file up to the one that crosses.
    assert answer.chunks_read == 1 + limits.MAX_UPLOAD_BODY_BYTES // MIB + 1
    assert _only_error(answer.json())["msg"] == UPLOAD_TOO_LARGE


def test_declared_50mb_upload_is_refused_at_once() -> None:
    answer = post(
        app, "/api/images", file_upload(MB50), content_type=MULTIPART, content_length=MB50
    )
    assert (answer.status, answer.chunks_read) == (413, 0)
    assert _only_error(answer.json())["msg"] == UPLOAD_TOO_LARGE


def test_a_body_sent_to_a_page_is_limited_to_64_kib() -> None:
    answer = post(app, "/", chunks(MIB), content_type="text/plain", content_length=MIB)
    assert answer.status == 413
    assert _only_error(answer.json())["msg"] == (
        "the request body is larger than 64 KiB; this path takes no body"
    )


def test_a_stalled_body_is_dropped_with_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "BODY_IDLE_TIMEOUT_SECONDS", 0.05)
    answer = post(app, "/api/conv2d", chunks(10 * MIB), stall_after=2)
    assert answer.status == 408
    assert answer.headers["connection"] == "close"
    assert _only_error(answer.json()) == {
        "loc": [],
        "msg": "the request body arrived too slowly; send it again on a faster connection",
        "type": "body_timeout",
    }


def test_a_trickling_body_is_dropped_at_the_total_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "BODY_TOTAL_TIMEOUT_SECONDS", 0.2)
    answer = post(app, "/api/conv2d", chunks(MIB, size=10), trickle=0.02)
    assert answer.status == 408
    # Each piece comes well within the idle timeout; the whole would take 2,000 s.
    assert 1 <= answer.chunks_read <= 11


def test_the_largest_compact_request_within_the_tensor_limits_fits(client: TestClient) -> None:
    # An input and its grad_output, both at MAX_TENSOR_ELEMENTS, in base64: 32 MiB.
    import base64

    zeros = base64.b64encode(bytes(4 * limits.MAX_TENSOR_ELEMENTS)).decode()
    tensor = {"dtype": "float32", "shape": [3, 1024, 1024], "base64": zeros}
    r = client.post(
        "/api/activation?encoding=base64",
        json={"function": "relu", "input": tensor, "grad_output": tensor},
    )
    assert r.status_code == 200, r.text[:300]
    assert r.json()["grad_input"]["shape"] == [3, 1024, 1024]


def _raw(client: TestClient, content: bytes | str, content_type: str | None = None) -> object:
    headers = {"content-type": content_type} if content_type else {}
    r = client.post("/api/conv2d", content=content, headers=headers)
    assert r.status_code == 422, r.text
    return _only_error(r.json())


def test_100000_open_brackets(client: TestClient) -> None:
    assert _raw(client, "[" * 100_000, "application/json") == {
        "loc": [],
        "msg": "the body is not valid JSON: arrays or objects nest too deeply to parse;"
        " tensors have at most 4 dimensions",
        "type": "json_invalid",
    }


def test_100000_nested_objects(client: TestClient) -> None:
    body = '{"a":' * 100_000 + "1" + "}" * 100_000
    error = _raw(client, body, "application/json")
    assert error["msg"].startswith("the body is not valid JSON: arrays or objects nest too deeply")  # type: ignore[index]


def test_a_tensor_nested_900_deep(client: TestClient) -> None:
    body = '{"input": ' + "[" * 900 + "1" + "]" * 900 + ', "weight": [[1]]}'
    assert _raw(client, body, "application/json") == {
        "loc": ["input"],
        "msg": "input nests lists more than 4 deep; a tensor has at most 4 dimensions",
        "type": "tensor",
    }


def test_a_ragged_tensor_with_a_deep_branch(client: TestClient) -> None:
    body = '{"input": [[1], ' + "[" * 900 + "1" + "]" * 900 + '], "weight": [[1]]}'
    error = _raw(client, body, "application/json")
    assert error["msg"] == (  # type: ignore[index]
        "input is not rectangular at [1][0][0][0]: lists nest more than 4 deep;"
        " every row must have the same length"
    )


def test_an_integer_of_5000_digits(client: TestClient) -> None:
    body = '{"input": [[' + "9" * 5000 + ']], "weight": [[1]]}'
    assert _raw(client, body, "application/json") == {
        "loc": [],
        "msg": "the body is not valid JSON: it holds an integer with thousands of digits;"
        " send numbers that fit in float32",
        "type": "json_invalid",
    }


def test_an_integer_beyond_int64_in_a_tensor(client: TestClient) -> None:
    body = '{"input": [[18446744073709551616, 1]], "weight": [[1]]}'
    assert _raw(client, body, "application/json")["msg"] == (  # type: ignore[index]
        "input holds something other than numbers (or an integer too large); send numbers"
    )


def test_a_stride_of_4000_digits(client: TestClient) -> None:
    body = '{"input": [[1]], "weight": [[1]], "stride": ' + "9" * 4000 + "}"
    assert _raw(client, body, "application/json") == {
        "loc": ["stride"],
        "msg": "stride: Input should be less than or equal to 64",
        "type": "less_than_equal",
        "ctx": {"le": 64},  # the limit, for the page to word in its language
    }


@pytest.mark.parametrize(
    ("fragment", "loc", "msg"),
    [
        (
            '"input": [[1, NaN]]',
            ["input"],
            "input holds NaN or Infinity at [0, 1]; send finite numbers",
        ),
        (
            '"input": [[-Infinity]]',
            ["input"],
            "input holds NaN or Infinity at [0, 0]; send finite numbers",
        ),
        (
            '"input": [[1e999]]',
            ["input"],
            "input holds NaN or Infinity at [0, 0]; send finite numbers",
        ),
        (
            '"input": [[1], [1]], "bias": [Infinity]',
            ["bias", 0],
            "bias.0: Input should be a finite number",
        ),
    ],
)
def test_non_finite_numbers(client: TestClient, fragment: str, loc: list[object], msg: str) -> None:
    body = "{" + fragment + ', "weight": [[1]]}'
    error = _raw(client, body, "application/json")
    assert error["loc"] == loc  # type: ignore[index]
    assert error["msg"] == msg  # type: ignore[index]


def test_nan_slope(client: TestClient) -> None:
    r = client.post(
        "/api/activation",
        content='{"function": "leaky_relu", "input": [[1]], "negative_slope": NaN}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert _only_error(r.json())["msg"] == "negative_slope: Input should be a finite number"


def test_invalid_utf8(client: TestClient) -> None:
    error = _raw(
        client, b'{"input": [[1]], "weight": [[1]], "padding_mode": "\xff"}', "application/json"
    )
    assert error["msg"] == "the body is not valid JSON: it is not UTF-8 text"  # type: ignore[index]


def test_an_empty_body(client: TestClient) -> None:
    assert _raw(client, b"", "application/json") == {
        "loc": [],
        "msg": "the body is required: send a JSON object",
        "type": "missing",
    }


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"conv"', "3"])
def test_a_body_that_is_not_an_object(client: TestClient, body: str) -> None:
    assert _raw(client, body, "application/json")["msg"] == (  # type: ignore[index]
        "Input should be a valid dictionary or object to extract fields from"
    )


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", MULTIPART]
)
def test_json_under_the_wrong_content_type(client: TestClient, content_type: str | None) -> None:
    error = _raw(client, '{"input": [[1]], "weight": [[1]]}', content_type)
    assert error["msg"] == "Input should be a valid dictionary or object to extract fields from"  # type: ignore[index]


@pytest.mark.parametrize(
    ("field", "value", "msg"),
    [
        ("stride", "true", "stride: must be an integer >= 1 or a pair [sH, sW]"),
        ("stride", "2.0", "stride: must be an integer >= 1 or a pair [sH, sW]"),
        ("groups", '"1"', "groups: Input should be a valid integer"),
        ("trace", "0", "trace: Input should be a valid boolean"),
        ("bias", "[false]", "bias.0: Input should be a valid number"),
    ],
)
def test_numbers_and_switches_are_strict(
    client: TestClient, field: str, value: str, msg: str
) -> None:
    body = '{"input": [[1]], "weight": [[1]], "' + field + '": ' + value + "}"
    assert _raw(client, body, "application/json")["msg"] == msg  # type: ignore[index]


@pytest.mark.parametrize("path", ["/api/conv2d", "/api/backprop"])
def test_a_bias_finite_in_python_but_not_in_float32(client: TestClient, path: str) -> None:
    # Found by schemathesis: 3.4028235677973366e+38 cast to float32 overflowed to inf.
    body = {"input": [[1.0, 2.0], [3.0, 4.0]], "weight": [[1.0]], "bias": [3.4028235677973366e38]}
    r = client.post(path, json=body)
    assert r.status_code == 422
    assert _only_error(r.json()) == {
        "loc": ["bias", 0],
        "msg": "bias.0: is too large for float32 (over 3.4e38); scale it down",
        "type": "float32",
    }


@pytest.mark.parametrize(
    ("path", "body", "shape"),
    [
        ("/api/conv2d", {"input": [], "weight": [[1.0]]}, "(0,)"),
        ("/api/xo/forward", {"input": [[]]}, "(1, 0)"),
        ("/api/activation", {"function": "relu", "input": [[], []]}, "(2, 0)"),
    ],
)
def test_empty_tensors(client: TestClient, path: str, body: dict[str, object], shape: str) -> None:
    # Found by schemathesis: an empty glyph reached numpy's min() and gave a 500.
    r = client.post(path, json=body)
    assert r.status_code == 422
    assert _only_error(r.json()) == {
        "loc": ["input"],
        "msg": f"input is empty (shape {shape}); give every axis at least one cell",
        "type": "tensor",
    }
