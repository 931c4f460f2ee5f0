"""Rooms in Redis, fanned out to every process through Redis pub/sub.

Keys (all expiring with the room, so an idle room leaves nothing behind):

- ``convviz:room:<code>``: hash ``secret`` (digest), ``version``, ``view``;
- ``convviz:room:<code>:followers``: hash, one field per process, ``"<n>:<unix time>"``
  (a process that died stops refreshing its field, and its count goes stale);
- ``convviz:rooms``: sorted set of open codes by the time they go idle (the bound).

Each publish runs one Lua script (atomic: the version and the view move together,
then ``PUBLISH``); each process holds one pattern subscription to
``convviz:room:*`` and hands the messages to its hub. If the subscription drops,
the process reconnects and re-reads the latest view of each room it serves: a
missed message costs nothing, since every message is the whole state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.rooms.broker import (
    IDLE_SECONDS,
    MAX_ROOMS,
    Broker,
    BrokerDown,
    RoomRecord,
    RoomsFull,
)
from app.rooms.hub import Message

log = logging.getLogger(__name__)

PREFIX = "convviz:room:"
ROOMS = "convviz:rooms"
MAX_CONNECTIONS = 32
"""Connections to Redis per process (the pub/sub subscription takes one more)."""
STALE_SECONDS = 3 * 5.0 + 5
"""A process's follower count older than this (three missed ticks) no longer counts."""

_CREATE = """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return -1 end
redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'version', 1, 'view', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4] + ARGV[3], ARGV[6])
return 1
"""

_PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'view', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3] + ARGV[2], ARGV[4])
redis.call('PUBLISH', KEYS[1], 's' .. v .. ' ' .. ARGV[1])
return v
"""


def _decode(data: str) -> Message | None:
    """``s<version> <view>`` or ``e<reason>``."""
    if data.startswith("s"):
        head, _, view = data.partition(" ")
        return Message("state", int(head[1:]), view)
    if data.startswith("e"):
        return Message("end", reason=data[1:])
    return None


class RedisBroker(Broker):
    def __init__(
        self, url: str, idle_seconds: float = IDLE_SECONDS, max_rooms: int = MAX_ROOMS
    ) -> None:
        super().__init__(idle_seconds, max_rooms)
        self.url = url
        self.process = uuid.uuid4().hex[:12]
        self._client: aioredis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None

    def _redis(self) -> aioredis.Redis:
        """The client of the running event loop (a client cannot move between loops)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A bounded pool that waits for a free connection: a class joining at once
            # must not open hundreds of connections to Redis (nor time out connecting).
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=MAX_CONNECTIONS,
                timeout=5,
                decode_responses=True,
                socket_connect_timeout=5,
                socket_timeout=5,
            )
            self._client = aioredis.Redis.from_pool(pool)  # closing the client closes the pool
            self._loop, self._listener, self._ticker = loop, None, None
            self.hub.rooms.clear()  # mailboxes of another loop: their streams are gone
        return self._client

    async def _call(self, coro_fn, *args):  # type: ignore[no-untyped-def]
        try:
            return await coro_fn(*args)
        except (RedisError, OSError) as exc:
            raise BrokerDown(str(exc)) from exc

    async def create(self, code: str, secret_digest: str, view: str) -> bool:
        r = self._redis()
        keys = [PREFIX + code, ROOMS]
        argv = [secret_digest, view, int(self.idle_seconds), time.time(), self.max_rooms, code]
        done = await self._call(r.eval, _CREATE, len(keys), *keys, *argv)
        if done == -1:
            raise RoomsFull
        return bool(done)

    async def get(self, code: str) -> RoomRecord | None:
        r = self._redis()
        key = PREFIX + code

        async def read() -> tuple[dict[str, str], dict[str, str], int]:
            async with r.pipeline(transaction=False) as p:
                p.hgetall(key).hgetall(key + ":followers").ttl(key)
                room, followers, ttl = await p.execute()
            return room, followers, ttl

        room, followers, ttl = await self._call(read)
        if not room:
            return None
        now = time.time()
        count = 0
        for value in followers.values():
            n, _, at = value.partition(":")
            if now - float(at) < STALE_SECONDS:
                count += int(n)
        return RoomRecord(
            code, room["secret"], int(room["version"]), room["view"], count, float(max(ttl, 0))
        )

    async def publish(self, code: str, view: str) -> int | None:
        r = self._redis()
        key = PREFIX + code
        keys = [key, key + ":followers", ROOMS]
        argv = [view, int(self.idle_seconds), time.time(), code]
        version = await self._call(r.eval, _PUBLISH, len(keys), *keys, *argv)
        return None if version == -1 else int(version)

    async def end(self, code: str) -> bool:
        r = self._redis()
        key = PREFIX + code

        async def run() -> int:
            async with r.pipeline(transaction=True) as p:
                p.delete(key, key + ":followers").zrem(ROOMS, code).publish(key, "eended")
                deleted, _, _ = await p.execute()
            return int(deleted)

        return await self._call(run) > 0

    async def _count_changed(self, code: str) -> None:
        r = self._redis()
        key = PREFIX + code + ":followers"
        n = self.hub.count(code)

        async def run() -> None:
            async with r.pipeline(transaction=False) as p:
                if n:
                    p.hset(key, self.process, f"{n}:{time.time()}")
                    p.expire(key, int(self.idle_seconds))
                else:
                    p.hdel(key, self.process)
                await p.execute()

        await self._call(run)

    # ---- receiving other processes' publishes

    async def _start(self) -> None:
        self._redis()
        if self._listener is None or self._listener.done():
            ready = asyncio.get_running_loop().create_future()
            self._listener = asyncio.get_running_loop().create_task(self._listen(ready))
            # Subscribed before the first follower reads the latest view, so no
            # publish falls between the two.
            async with asyncio.timeout(5):
                await ready

    async def _listen(self, ready: asyncio.Future[None]) -> None:
        backoff = 0.2
        while True:
            pubsub = self._redis().pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(PREFIX + "*")
                if not ready.done():
                    ready.set_result(None)
                else:
                    await self._resync()  # whatever was published while we were away
                backoff = 0.2
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is None or msg["type"] != "pmessage":
                        continue
                    message = _decode(msg["data"])
                    if message is not None:
                        self.hub.deliver(msg["channel"][len(PREFIX) :], message)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("room subscription lost (%s); reconnecting", exc)
                if not ready.done():
                    ready.set_exception(BrokerDown(str(exc)))
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _resync(self) -> None:
        for code in list(self.hub.rooms):
            record = await self.get(code)
            if record is None:
                self.hub.deliver(code, Message("end", reason="expired"))
            else:
                self.hub.deliver(code, Message("state", record.version, record.view))

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._listener
            self._listener = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None
