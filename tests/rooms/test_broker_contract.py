"""The broker contract, run against both backends: in memory and a real Redis.

For Redis, "another process" is a second ``RedisBroker`` on the same server (its
own connections and pattern subscription); in memory it is the same broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis

from app.rooms import broker as broker_module
from app.rooms import codes
from app.rooms.broker import Broker, BrokerDown, MemoryBroker, RoomsFull
from app.rooms.hub import Mailbox, Message
from app.rooms.redis_broker import RedisBroker

Pair = tuple[Broker, Broker]
Make = Callable[..., Pair]


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Make:
    if request.param == "memory":

        def memory(**kw: float) -> Pair:
            b = MemoryBroker(**kw)  # type: ignore[arg-type]
            return b, b

        return memory
    url = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()

    def pair(**kw: float) -> Pair:
        return RedisBroker(url, **kw), RedisBroker(url, **kw)  # type: ignore[arg-type]

    return pair


def run(make: Make, body: Callable[[Broker, Broker], Awaitable[None]], **kw: float) -> None:
    async def main() -> None:
        a, b = make(**kw)
        try:
            await body(a, b)
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())


async def next_message(box: Mailbox, timeout: float = 2.0) -> Message:
    message = await box.get(timeout)
    assert message is not None, "nothing arrived"
    return message


def test_create_get_publish(make: Make) -> None:
    async def body(a: Broker, b: Broker) -> None:
        code = codes.new_code()
        assert await a.create(code, codes.digest("s"), "/?step=1")
        assert not await b.create(code, codes.digest("t"), "/")  # taken, whoever asks
        record = await b.get(code)
        assert record is not None
        assert (record.version, record.view, record.followers) == (1, "/?step=1", 0)
        assert codes.matches("s", record.secret_digest) and not codes.matches(
            "t", record.secret_digest
        )
        assert 0 < record.expires_in <= a.idle_seconds
        assert await b.publish(code, "/?step=2") == 2
        assert await a.publish(code, "/?step=3") == 3
        latest = await a.get(code)
        assert latest is not None and (latest.version, latest.view) == (3, "/?step=3")
        assert await a.get(codes.new_code()) is None
        assert await a.publish(codes.new_code(), "/") is None

    run(make, body)


def test_followers_get_the_latest_first_then_each_publish_from_anywhere(make: Make) -> None:
    async def body(a: Broker, b: Broker) -> None:
        code = codes.new_code()
        await a.create(code, codes.digest("s"), "/")
        await a.publish(code, "/?step=5")
        box = await b.join(code)  # a follower on the other process joins late
        assert box is not None
        first = await next_message(box)
        assert (first.kind, first.version, first.view) == ("state", 2, "/?step=5")
        await a.publish(code, "/?step=6")  # the lecturer on the first process
        second = await next_message(box)
        assert (second.version, second.view) == (3, "/?step=6")
        other = await a.join(code)
        assert other is not None
        record = await a.get(code)
        assert record is not None and record.followers == 2  # counted over both
        await b.leave(code, box)
        record = await a.get(code)
        assert record is not None and record.followers == 1
        await a.leave(code, other)

    run(make, body)


def test_a_slow_follower_gets_only_the_latest_state(make: Make) -> None:
    async def body(a: Broker, b: Broker) -> None:
        code = codes.new_code()
        await a.create(code, codes.digest("s"), "/")
        box = await b.join(code)
        assert box is not None
        await next_message(box)
        for step in range(200):  # published faster than this follower reads
            await a.publish(code, f"/?step={step}")
        await asyncio.sleep(0.3)  # let every publish arrive
        latest = await next_message(box)
        assert latest.view == "/?step=199" and latest.version == 201
        assert await box.get(0.2) is None  # the 199 others were dropped, not queued
        assert box.dropped >= 150

    run(make, body)


def test_ending_tells_every_follower_and_frees_the_code(make: Make) -> None:
    async def body(a: Broker, b: Broker) -> None:
        code = codes.new_code()
        await a.create(code, codes.digest("s"), "/")
        boxes = [await a.join(code), await b.join(code)]
        assert await b.end(code)
        for box in boxes:
            assert box is not None
            while (message := await next_message(box)).kind == "state":
                pass
            assert (message.kind, message.reason) == ("end", "ended")
        assert await a.get(code) is None
        assert await a.join(code) is None
        assert not await a.end(code)
        assert await a.publish(code, "/") is None

    run(make, body)


def test_an_idle_room_ends_and_its_followers_are_told(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broker_module, "TICK_SECONDS", 0.2)

    async def body(a: Broker, b: Broker) -> None:
        code = codes.new_code()
        await a.create(code, codes.digest("s"), "/")
        box = await b.join(code)
        assert box is not None
        await next_message(box)
        message = await next_message(box, timeout=4.0)
        assert (message.kind, message.reason) == ("end", "expired")
        assert await a.get(code) is None

    run(make, body, idle_seconds=1)


def test_rooms_are_bounded(make: Make) -> None:
    async def body(a: Broker, b: Broker) -> None:
        for _ in range(3):
            assert await a.create(codes.new_code(), codes.digest("s"), "/")
        with pytest.raises(RoomsFull):
            await b.create(codes.new_code(), codes.digest("s"), "/")

    run(make, body, max_rooms=3)


def test_an_unreachable_redis_is_broker_down() -> None:
    async def main() -> None:
        b = RedisBroker("redis://127.0.0.1:1/0")
        try:
            with pytest.raises(BrokerDown):
                await b.create(codes.new_code(), codes.digest("s"), "/")
            with pytest.raises(BrokerDown):
                await b.join(codes.new_code())
        finally:
            await b.close()

    asyncio.run(main())
