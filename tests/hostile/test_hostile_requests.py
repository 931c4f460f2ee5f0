"""Issue 11's hostile requests, one or more tests per row: statuses and sizes, not times."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api import limits, sse
from app.main import app
from app.middleware.response_cache import ResponseCacheMiddleware
from tests.api.sse_parse import parse_events
from tests.hostile.asgi import _call


def _zeros(*shape: int) -> dict[str, Any]:
    raw = bytes(4 * int(np.prod(shape)))
    return {"dtype": "float32", "shape": list(shape), "base64": base64.b64encode(raw).decode()}


def _only(r: Any, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text[:400]
    (item,) = r.json()["detail"]
    return dict(item)


# --- 300,000 unknown keys: refused in one small error, off the event loop -------------


def test_300000_unknown_keys_get_one_small_422(client: TestClient) -> None:
    body = orjson.dumps({"input": [[1]], "weight": [[1]], **{f"k{i}": 1 for i in range(300_000)}})
    assert len(body) > 3_000_000
    r = client.post("/api/conv2d", content=body, headers={"content-type": "application/json"})
    assert len(r.content) < 1000
    item = _only(r)
    assert item["type"] == "too_many_keys"
    assert item["msg"] == (
        "the body has 300,002 keys, over the limit of 256; send only the fields /docs lists"
    )


def test_many_keys_nested_in_a_field_are_refused_by_where_they_are(client: TestClient) -> None:
    pool = {"kind": "max", "kernel_size": 2, **{f"x{i}": 0 for i in range(5000)}}
    body = {"input": [[1.0, 2.0], [3.0, 4.0]], "weight": [[1.0]], "pool": pool}
    item = _only(client.post("/api/backprop", json=body))
    assert item["loc"] == ["pool"]
    assert item["msg"].startswith("pool has 5,002 keys, over the limit of 256")


def test_validation_errors_are_capped_with_a_count(client: TestClient) -> None:
    body = {"input": [[1]], "weight": [[1]], **{f"k{i}": 1 for i in range(200)}}
    r = client.post("/api/conv2d", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert len(detail) == limits.MAX_VALIDATION_ERRORS + 1
    assert all(d["type"] == "extra_forbidden" for d in detail[:-1])
    assert detail[-1] == {
        "loc": [],
        "msg": "and 192 more errors; fix these first",
        "type": "more_errors",
    }


def test_a_body_of_millions_of_list_items_is_refused_before_parsing(client: TestClient) -> None:
    body = b'{"input": [' + b"0," * 2_000_000 + b'0], "weight": [[1]]}'
    item = _only(
        client.post("/api/conv2d", content=body, headers={"content-type": "application/json"})
    )
    assert item["type"] == "body_too_complex"
    assert "over the limit of 1,048,576; send large tensors in the compact form" in item["msg"]


def test_health_answers_while_key_bombs_are_parsed() -> None:
    body = orjson.dumps({"input": [[1]], "weight": [[1]], **{f"k{i}": 1 for i in range(300_000)}})
    headers = [(b"host", b"x"), (b"content-type", b"application/json")]
    headers.append((b"content-length", str(len(body)).encode()))

    async def run() -> tuple[list[int], list[int]]:
        bombs = [
            asyncio.ensure_future(_call(app, "/api/conv2d", iter([body]), headers, None, 0.0))
            for _ in range(4)
        ]
        health = []
        while not all(b.done() for b in bombs):
            health.append(await _get_status(app, "/healthz"))
            await asyncio.sleep(0.01)
        return [b.result().status for b in bombs], health

    statuses, health = asyncio.run(run())
    assert statuses == [422] * 4
    assert health and set(health) == {200}  # answered while the bodies were parsed


async def _get_status(asgi: Any, path: str, method: str = "GET") -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"x")],
        "client": ("127.0.0.1", 1),
        "server": ("x", 80),
    }
    await asgi(scope, receive, send)
    return status


# --- the per-request budget: memory and answer size ------------------------------------


def test_the_largest_backprop_of_before_is_refused_with_the_limit_and_the_fix(
    client: TestClient,
) -> None:
    body = {
        "input": _zeros(3, 1024, 1024),
        "weight": _zeros(16, 3, 3, 3),
        "padding": 1,
        "activation": {"function": "relu"},
        "pool": {"kind": "max", "kernel_size": 2},
        "trace": False,
    }
    for encoding, fix in (
        ("json", "ask for ?encoding=base64"),
        ("base64", "send a smaller input, fewer filters or a larger stride"),
    ):
        item = _only(client.post(f"/api/backprop?encoding={encoding}", json=body))
        assert item["loc"] == ["input"]
        code = "answer_over_limit_base64" if encoding == "base64" else "answer_over_limit"
        assert item["type"] == item["code"] == code
        assert item["ctx"]["actual"] > item["ctx"]["limit"] == limits.MAX_ANSWER_BYTES // 2**20
        assert "over the limit of" in item["msg"] and fix in item["msg"]


def test_a_large_answer_within_the_budget_is_still_served(client: TestClient) -> None:
    body = {"input": _zeros(1, 512, 512), "weight": _zeros(16, 1, 3, 3), "padding": 1}
    body["trace"] = False
    r = client.post("/api/conv2d?encoding=base64", json=body)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["output"]["shape"] == [16, 512, 512]
    # As JSON the same answer (16 bytes a number counted) is over the answer limit.
    larger = {**body, "input": _zeros(3, 1024, 1024), "weight": _zeros(16, 3, 3, 3)}
    item = _only(client.post("/api/conv2d", json=larger))
    assert "ask for ?encoding=base64" in item["msg"]


# --- the kernel-side limit, every kernel ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/conv2d", {"input": _zeros(1, 1024, 1024), "weight": _zeros(1024, 1024)}, "weight"),
        ("/api/conv2d", {"input": _zeros(40, 40), "weight": _zeros(1, 1, 32, 3)}, "weight"),
        ("/api/conv_transpose2d", {"input": _zeros(4, 4), "weight": _zeros(40, 40)}, "weight"),
        (
            "/api/backprop",
            {"input": _zeros(64, 64), "weight": _zeros(3, 3), "teacher_weight": _zeros(33, 33)},
            "teacher_weight",
        ),
        (
            "/api/xo/forward",
            {"input": _zeros(9, 9), "conv_weight": _zeros(3, 32, 32)},
            "conv_weight",
        ),
    ],
)
def test_every_kernel_obeys_the_kernel_side_limit(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    item = _only(client.post(path, json=body))
    assert item["loc"] == [field]
    assert "kernels are at most 31x31" in item["msg"]


def test_a_31x31_kernel_is_accepted(client: TestClient) -> None:
    r = client.post("/api/conv2d", json={"input": _zeros(40, 40), "weight": _zeros(31, 31)})
    assert r.status_code == 200, r.text[:300]


# --- non-finite results: 422 naming the field to scale down --------------------------


def test_an_output_that_overflows_float32_is_a_422_not_a_null(client: TestClient) -> None:
    body = {"input": [[3e38, 3e38], [3e38, 3e38]], "weight": [[1.0, 1.0], [1.0, 1.0]]}
    item = _only(client.post("/api/conv2d", json=body))
    assert item == {
        "loc": ["input"],
        "msg": "the answer's output overflows float32 (a number beyond ±3.4e38, which JSON"
        " cannot carry); scale input down",
        "type": "overflow",
        "code": "overflow",
        "ctx": {"where": "output", "scale_down": "input"},
    }
    body = {"input": [[1.0, 1.0], [1.0, 1.0]], "weight": [[3e38, 3e38], [3e38, 3e38]]}
    assert _only(client.post("/api/conv2d", json=body))["loc"] == ["weight"]


def test_a_loss_that_overflows_is_a_422_not_a_null(client: TestClient) -> None:
    body = {
        "input": [[3e38, -3e38], [-3e38, 3e38]],
        "weight": [[1.0]],
        "loss": "mse",
        "target": [[-3e38, 3e38], [3e38, -3e38]],
    }
    item = _only(client.post("/api/backprop", json=body))
    assert item["type"] == "overflow"
    assert "overflows float32" in item["msg"]
    assert item["loc"] in (["input"], ["target"])


# --- EXIF orientation ------------------------------------------------------------------


def _phone_photo() -> bytes:
    """A JPEG stored sideways with EXIF orientation 6, as a phone held upright saves it:
    upright it is 40 wide and 60 tall, black on top and white below."""
    upright = np.zeros((60, 40), np.uint8)
    upright[30:] = 255
    stored = Image.fromarray(upright).rotate(90, expand=True)  # 60 wide, 40 tall
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif, quality=95)
    return buffer.getvalue()


@pytest.mark.parametrize(("max_side", "shape"), [(64, (1, 60, 40)), (30, (1, 30, 20))])
def test_a_phone_photo_with_orientation_6_is_decoded_upright(
    client: TestClient, max_side: int, shape: tuple[int, int, int]
) -> None:
    files = {"file": ("photo.jpg", _phone_photo(), "image/jpeg")}
    r = client.post("/api/images", files=files, data={"max_side": str(max_side)})
    assert r.status_code == 200, r.text[:300]
    pixels = np.array(r.json()["input"])
    assert pixels.shape == shape
    h = shape[1]
    assert pixels[0, : h // 2 - 2].max() < 40  # black on top
    assert pixels[0, h // 2 + 2 :].min() > 215  # white below


# --- HEAD wherever GET ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/embed", "/lecture", "/healthz", "/api/presets", "/static/js/pages/main.js"]
)
def test_head_is_answered_wherever_get_is(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    if "content-length" in got.headers:
        assert head.headers["content-length"] == got.headers["content-length"]


def test_head_on_a_post_only_path_is_405(client: TestClient) -> None:
    assert client.head("/api/conv2d").status_code == 405


# --- repeated query parameters: the last one, as the page reads them -----------------


def test_the_server_reads_a_repeated_parameter_by_its_last_value(client: TestClient) -> None:
    html = client.get("/?lang=en&lang=ru").text
    assert re.search(r'<html[^>]*lang="ru"', html)
    html = client.get("/embed?theme=light&theme=dark").text
    assert re.search(r"<html[^>]*data-theme=\"dark\"", html)


# --- trickled uploads do not hold compute slots ----------------------------------------


def test_bodies_trickling_in_hold_no_compute_slot() -> None:
    """Two uploads sending a byte now and then, never finishing, while others compute."""

    def trickle() -> Any:
        while True:
            yield b"x"

    form = [(b"host", b"x"), (b"content-type", b"multipart/form-data; boundary=b")]
    form.append((b"transfer-encoding", b"chunked"))

    async def run() -> list[int]:
        slow = [
            asyncio.ensure_future(_call(app, "/api/images", trickle(), form, None, 0.2))
            for _ in range(limits.COMPUTE_SLOTS)
        ]
        await asyncio.sleep(0.5)  # both are sending their bodies now
        statuses = []
        for i in range(8):  # uncached computations, one after another
            body = json.dumps({"input": [[float(i)] * 40] * 40, "weight": [[1.0] * 3] * 3})
            headers = [(b"host", b"x"), (b"content-type", b"application/json")]
            headers.append((b"content-length", str(len(body) + 70_000).encode()))
            padded = body.encode() + b" " * 70_000  # over the cache's 64 KiB: computed
            answer = await _call(app, "/api/conv2d", iter([padded]), headers, None, 0.0)
            statuses.append(answer.status)
        assert not any(s.done() for s in slow)
        for s in slow:
            s.cancel()
        return statuses

    assert asyncio.run(run()) == [200] * 8


# --- a bounded wait behind an identical request in flight ----------------------------


def _cache() -> ResponseCacheMiddleware:
    if app.middleware_stack is None:  # built on the first request, as Starlette does
        app.middleware_stack = app.build_middleware_stack()
    node: Any = app.middleware_stack
    while not isinstance(node, ResponseCacheMiddleware):
        node = node.app
    return node


@pytest.mark.parametrize("rows", [8, 900])
def test_an_identical_request_does_not_wait_for_a_first_asker_who_never_reads(rows: int) -> None:
    """8 rows: a small answer, kept and served to the second asker at once; 900 rows: a
    15 MB answer, too large to keep, computed again for the second asker."""
    body = json.dumps({"input": [[1.5] * 1000] * 2, "weight": [[1.0]] * 1, "trace": False})
    body = json.dumps(
        {"input": [[0.25] * 16] * 16, "weight": [[1.0] * 3] * 3, "stride": 1, "trace": False}
        if rows == 8
        else {
            "input": [[0.5] * 32] * 32,
            "weight": [[0.25] * 29] * 29,
            "stride": 29,
            "trace": False,
        }
    )
    path = "/api/conv_transpose2d"
    headers = [(b"host", b"x"), (b"content-type", b"application/json")]
    headers.append((b"content-length", str(len(body)).encode()))
    never = asyncio.Event()

    async def run() -> tuple[int, int]:
        first_answer: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            if first_answer.get("read"):
                await never.wait()
            first_answer["read"] = True
            return {"type": "http.request", "body": body.encode(), "more_body": False}

        async def stalled_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                first_answer["status"] = message["status"]
            else:
                await never.wait()  # the first client never reads its answer

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "query_string": b"",
            "headers": headers,
        }
        first = asyncio.ensure_future(app(scope, receive, stalled_send))
        while "status" not in first_answer:
            await asyncio.sleep(0.01)
        second = await _call(app, path, iter([body.encode()]), headers, None, 0.0)
        first.cancel()
        return first_answer["status"], second.status

    cache = _cache()
    wait = cache.wait
    cache.wait = 3600.0  # not the time limit: the answer's being known must wake the second
    try:
        assert asyncio.run(run()) == (200, 200)
    finally:
        cache.wait = wait


# --- streams: decided before they start ------------------------------------------------


def test_sixteen_streams_at_once_get_a_stream_or_a_503_never_an_error_event(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse.OPEN, "size", 4)

    def train(seed: int) -> tuple[int, str, list[str]]:
        body = {"epochs": 2, "samples": 64, "validation_samples": 16, "seed": seed}
        r = client.post("/api/xo/train", json=body)
        events = [e["event"] for e in parse_events(r.text)] if r.status_code == 200 else []
        return r.status_code, r.headers.get("retry-after", ""), events

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(train, range(16)))
    for status, retry, events in results:
        if status == 503:
            assert retry == str(limits.STREAM_RETRY_AFTER_SECONDS)
        else:
            assert status == 200
            assert "error" not in events and events[-1] == "done"
    assert any(status == 200 for status, _, _ in results)
    assert sse.OPEN.active == 0 and sse.SLOTS.active == 0
