"""A bounded number of computations per worker; past it, 503 with Retry-After at once."""

from __future__ import annotations

import asyncio
import json
import time

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.main import app
from app.middleware.compute_limit import BUSY_MESSAGE, ComputeLimitMiddleware, Slots


def test_slots_are_given_out_up_to_their_number() -> None:
    async def run() -> list[bool]:
        slots = Slots(2, queue=0, wait=1.0)
        return [await slots.acquire() for _ in range(3)]

    assert asyncio.run(run()) == [True, True, False]


def test_a_waiter_gets_the_slot_handed_over() -> None:
    async def run() -> tuple[bool, float]:
        slots = Slots(1, queue=1, wait=5.0)
        assert await slots.acquire()
        asyncio.get_running_loop().call_later(0.05, slots.release)
        start = time.perf_counter()
        got = await slots.acquire()
        return got, time.perf_counter() - start

    got, waited = asyncio.run(run())
    assert got
    assert 0.03 < waited < 1.0


def test_a_waiter_gives_up_after_the_wait_and_leaves_the_queue() -> None:
    async def run() -> tuple[bool, int, int]:
        slots = Slots(1, queue=4, wait=0.05)
        await slots.acquire()
        got = await slots.acquire()
        slots.release()
        return got, slots.waiting, slots.free

    assert asyncio.run(run()) == (False, 0, 1)


def test_the_queue_is_bounded() -> None:
    async def run() -> list[bool]:
        slots = Slots(1, queue=2, wait=0.2)
        await slots.acquire()
        waiters = [asyncio.ensure_future(slots.acquire()) for _ in range(2)]
        await asyncio.sleep(0)
        start = time.perf_counter()
        third = await slots.acquire()  # the queue is full: refused without waiting
        assert time.perf_counter() - start < 0.05
        return [third, *(await asyncio.gather(*waiters))]

    assert asyncio.run(run()) == [False, False, False]


def test_a_cancelled_waiter_does_not_leak_a_slot() -> None:
    async def run() -> int:
        slots = Slots(1, queue=1, wait=5.0)
        await slots.acquire()
        waiter = asyncio.ensure_future(slots.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.sleep(0)
        slots.release()
        return slots.free

    assert asyncio.run(run()) == 1


class _Blocking:
    """An app whose every request waits for ``gate``: computations that take a while."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.running = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running += 1
        await self.gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def _request(app: object, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    result: dict[str, object] = {"body": b""}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            result["status"] = message["status"]
            result["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            result["body"] = bytes(result["body"]) + message.get("body", b"")  # type: ignore[arg-type]

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    await app(scope, receive, send)  # type: ignore[operator]
    return result["status"], result["headers"], result["body"]  # type: ignore[return-value]


def test_past_the_slots_and_the_queue_the_answer_is_503_at_once() -> None:
    async def run() -> None:
        inner = _Blocking()
        guarded = ComputeLimitMiddleware(inner, slots=2, queue=0, wait=1.0)
        running = [
            asyncio.ensure_future(_request(guarded, "POST", "/api/conv2d")) for _ in range(2)
        ]
        await asyncio.sleep(0.01)
        assert inner.running == 2

        start = time.perf_counter()
        status, headers, body = await _request(guarded, "POST", "/api/conv2d")
        assert time.perf_counter() - start < 0.05
        assert status == 503
        assert headers["retry-after"] == "1"
        # The connection stays open: closing it would reset a client still sending an
        # upload before it read the 503 (seen in benchmarks/load.py as ReadError).
        assert "connection" not in headers
        assert json.loads(body) == {"detail": [{"loc": [], "msg": BUSY_MESSAGE, "type": "busy"}]}
        assert BUSY_MESSAGE == "the server is busy with other computations; try again in 1 s"

        # Pages, presets and health checks never wait for a computation.
        page = asyncio.ensure_future(_request(guarded, "GET", "/api/presets"))
        await asyncio.sleep(0.01)
        assert inner.running == 3
        inner.gate.set()
        assert [r[0] for r in await asyncio.gather(*running, page)] == [200, 200, 200]
        assert guarded.slots.free == 2

    asyncio.run(run())


def test_the_slot_is_freed_when_the_app_fails() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async def run() -> int:
        guarded = ComputeLimitMiddleware(failing, slots=1, queue=0, wait=0.0)
        for _ in range(3):
            try:
                await _request(guarded, "POST", "/api/conv2d")
            except RuntimeError:
                pass
        return guarded.slots.free

    assert asyncio.run(run()) == 1


def test_the_app_is_wired_with_headers_outermost_then_body_limit_then_cache_then_slots() -> None:
    # Bodies are read whole through the body limits before the cache and the slots, and a
    # repeat takes no slot.
    names = [m.cls.__name__ for m in app.user_middleware]  # type: ignore[attr-defined]
    assert names == [
        "SecurityHeadersMiddleware",
        "HeadMiddleware",
        "BodyLimitMiddleware",
        "BodyBufferMiddleware",
        "ResponseCacheMiddleware",
        "ComputeLimitMiddleware",
    ]


def test_a_burst_of_real_requests_gets_only_200_or_503(client: TestClient) -> None:
    # Many concurrent computations through the real app: never an error, never a hang.
    from concurrent.futures import ThreadPoolExecutor

    # Every body differs, so none is answered from the cache of repeated answers.
    def body(i: int) -> dict[str, object]:
        return {"input": [[1.0 + i] * 32] * 32, "weight": [[1.0] * 3] * 3, "padding": 1}

    with ThreadPoolExecutor(24) as pool:
        statuses = list(
            pool.map(lambda i: client.post("/api/conv2d", json=body(i)).status_code, range(48))
        )
    assert set(statuses) <= {200, 503}
    assert statuses.count(200) >= 2
