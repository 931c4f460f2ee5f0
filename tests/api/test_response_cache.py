"""Identical lecture-size requests are answered from memory, and nothing else is."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.api.routes import conv as conv_route
from app.middleware.response_cache import (
    AnswerStore,
    CachedAnswer,
    ResponseCacheMiddleware,
    request_key,
)

PADDING_SLIDE = {
    "input": [[2, 2, 3, 3, 3], [0, 1, 3, 0, 3], [2, 3, 0, 1, 3], [3, 3, 2, 1, 2], [3, 3, 0, 2, 3]],
    "weight": [[2, 0, 1], [1, 0, 0], [0, 1, 1]],
    "padding": 1,
    "stride": 2,
}


class Echo:
    """An app that answers the body it read (so replay is checked) and counts its calls."""

    def __init__(self, status: int = 200, chunks: int = 1, size: int = 0) -> None:
        self.calls = 0
        self.status, self.chunks, self.size = status, chunks, size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        answer = body + b"x" * self.size
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        step = -(-len(answer) // self.chunks)
        for i in range(self.chunks):
            piece = answer[i * step : (i + 1) * step]
            await send(
                {"type": "http.response.body", "body": piece, "more_body": i < self.chunks - 1}
            )


def call(app: ResponseCacheMiddleware, body: bytes, **request: Any) -> tuple[int, bytes]:
    return asyncio.run(acall(app, body, **request))


async def acall(
    app: ResponseCacheMiddleware,
    body: bytes,
    path: str = "/api/conv2d",
    query: bytes = b"",
    method: str = "POST",
    length: bool = True,
    pieces: int = 1,
    content_type: bytes = b"application/json",
) -> tuple[int, bytes]:
    headers = [(b"content-type", content_type)]
    if length:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "method": method, "path": path, "query_string": query}
    scope["headers"] = headers
    step = -(-len(body) // pieces) or 1
    messages = [
        {"type": "http.request", "body": body[i : i + step], "more_body": i + step < len(body)}
        for i in range(0, max(len(body), 1), step)
    ]
    got: dict[str, object] = {"body": b""}

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            got["status"] = message["status"]
        else:
            got["body"] = got["body"] + message.get("body", b"")  # type: ignore[operator]

    await app(scope, receive, send)
    return got["status"], got["body"]  # type: ignore[return-value]


def test_a_repeated_request_is_answered_without_the_app() -> None:
    inner = Echo()
    cache = ResponseCacheMiddleware(inner)
    first = call(cache, b'{"a": 1}', pieces=3)  # the body arrives in pieces, is replayed whole
    second = call(cache, b'{"a": 1}')
    assert first == second == (200, b'{"a": 1}')
    assert inner.calls == 1


@pytest.mark.parametrize(
    "other",
    [
        {"body": b'{"a": 2}'},
        {"query": b"encoding=base64"},
        {"path": "/api/max_pool2d"},
    ],
)
def test_a_different_body_query_or_path_is_computed(other: dict[str, object]) -> None:
    inner = Echo()
    cache = ResponseCacheMiddleware(inner)
    call(cache, b'{"a": 1}')
    request = {"body": b'{"a": 1}', **other}
    assert call(cache, **request)[0] == 200  # type: ignore[arg-type]
    assert inner.calls == 2


@pytest.mark.parametrize(
    "request_kw",
    [
        {"path": "/api/descent/stream"},  # a stream, not a pure answer
        {"path": "/api/images"},  # an upload
        {"path": "/healthz"},
        {"method": "GET"},
        {"length": False},  # chunked: its size is not known before reading it
        {"content_type": b"text/plain"},  # FastAPI answers 422 to it, every time
        {"content_type": b"application/x-www-form-urlencoded"},
    ],
)
def test_requests_outside_the_cache_are_always_passed_on(request_kw: dict[str, object]) -> None:
    inner = Echo()
    cache = ResponseCacheMiddleware(inner)
    for _ in range(2):
        call(cache, b"{}", **request_kw)  # type: ignore[arg-type]
    assert inner.calls == 2
    assert len(cache.store) == 0


def test_json_with_parameters_and_any_case_is_looked_up() -> None:
    inner = Echo()
    cache = ResponseCacheMiddleware(inner)
    call(cache, b"{}", content_type=b"application/json; charset=utf-8")
    call(cache, b"{}", content_type=b"Application/JSON")
    assert inner.calls == 1


class Gated(Echo):
    """An Echo that holds its answer until ``release`` is set, so requests overlap."""

    def __init__(self, status: int = 200) -> None:
        super().__init__(status=status)
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await self.release.wait()
        await super().__call__(scope, receive, send)
        self.calls -= 1  # Echo counted this call again


def test_identical_requests_arriving_together_are_computed_once() -> None:
    async def run() -> tuple[list[tuple[int, bytes]], int]:
        inner = Gated()
        cache = ResponseCacheMiddleware(inner)
        tasks = [asyncio.create_task(acall(cache, b'{"a": 1}')) for _ in range(20)]
        await asyncio.sleep(0.01)
        calls_while_computing = inner.calls
        inner.release.set()
        return await asyncio.gather(*tasks), calls_while_computing

    answers, calls = asyncio.run(run())
    assert calls == 1
    assert answers == [(200, b'{"a": 1}')] * 20


def test_after_an_error_the_waiters_compute_at_once_not_one_by_one() -> None:
    async def run() -> tuple[list[tuple[int, bytes]], int]:
        inner = Gated(status=422)
        cache = ResponseCacheMiddleware(inner)
        tasks = [asyncio.create_task(acall(cache, b"{}")) for _ in range(5)]
        await asyncio.sleep(0.01)
        inner.release.set()
        answers = await asyncio.gather(*tasks)
        return answers, inner.calls

    answers, calls = asyncio.run(run())
    assert [status for status, _ in answers] == [422] * 5
    assert calls == 5  # nothing kept, so each computed, the four waiters side by side


def test_headers_added_outside_the_cache_are_not_kept() -> None:
    inner = Echo()
    cache = ResponseCacheMiddleware(inner)
    seen: list[list[tuple[bytes, bytes]]] = []
    count = 0

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal count
        count += 1
        request_id = str(count).encode()

        async def tagging(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"].append((b"x-request-id", request_id))
                seen.append(list(message["headers"]))
            await send(message)

        await cache(scope, receive, tagging)

    for _ in range(2):
        asyncio.run(acall(outer, b"{}"))  # type: ignore[arg-type]
    assert inner.calls == 1
    assert [dict(h)[b"x-request-id"] for h in seen] == [b"1", b"2"]
    assert [k for k, _ in seen[1]].count(b"x-request-id") == 1


def test_a_body_over_the_limit_is_not_read_by_the_cache() -> None:
    inner = Echo()
    cache = ResponseCacheMiddleware(inner, max_body=16)
    for _ in range(2):
        assert call(cache, b"x" * 17) == (200, b"x" * 17)
    assert inner.calls == 2


def test_errors_are_not_kept() -> None:
    inner = Echo(status=422)
    cache = ResponseCacheMiddleware(inner)
    for _ in range(2):
        assert call(cache, b"{}")[0] == 422
    assert inner.calls == 2


def test_an_answer_in_several_messages_is_kept_whole() -> None:
    inner = Echo(chunks=4, size=1000)
    cache = ResponseCacheMiddleware(inner)
    first = call(cache, b"{}")
    assert call(cache, b"{}") == first
    assert len(first[1]) == 1002 and inner.calls == 1


def test_an_answer_over_the_limit_is_sent_but_not_kept() -> None:
    inner = Echo(chunks=3, size=5000)
    cache = ResponseCacheMiddleware(inner, max_answer=4096)
    for _ in range(2):
        status, body = call(cache, b"{}")
        assert status == 200 and len(body) == 5002
    assert inner.calls == 2


def test_the_store_drops_the_least_recently_used_past_its_capacity() -> None:
    def answer(n: int) -> CachedAnswer:
        return CachedAnswer(200, [], b"x" * n)

    store = AnswerStore(capacity=answer(100).size * 2)
    store.put(b"a", answer(100))
    store.put(b"b", answer(100))
    assert store.get(b"a") is not None  # a is now the most recent
    store.put(b"c", answer(100))
    assert store.get(b"b") is None
    assert store.get(b"a") is not None and store.get(b"c") is not None
    assert store.size <= store.capacity
    store.put(b"huge", answer(10_000))  # larger than the whole store: not kept
    assert store.get(b"huge") is None and len(store) == 2


def test_keys_tell_apart_where_the_path_ends_and_the_body_begins() -> None:
    scope = {"path": "/api/conv2d", "query_string": b"a"}
    other = {"path": "/api/conv2d", "query_string": b""}
    assert request_key(scope, b"b") != request_key(other, b"ab")


def test_the_real_route_computes_once_and_answers_the_same_bytes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = conv_route._conv2d

    def counted(*args: object) -> object:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(conv_route, "_conv2d", counted)
    # A body no other test sends, so the answer is not already kept.
    body = json.dumps({**PADDING_SLIDE, "bias": [float(np.pi)]})
    headers = {"content-type": "application/json"}
    first = client.post("/api/conv2d", content=body, headers=headers)
    second = client.post("/api/conv2d", content=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.json()["output"][0][0] == pytest.approx(1 + np.pi, rel=1e-6)
    assert len(calls) == 1
    # The security headers are added to a kept answer too.
    assert second.headers["x-content-type-options"] == "nosniff"
    assert second.headers["content-security-policy"] == first.headers["content-security-policy"]
