"""Where rooms live, and how a publish reaches every follower: the broker contract.

A broker stores each room (the lecturer secret's digest, the latest view and its
version, when it goes idle) and fans each publish out to the followers of *every*
process: ``MemoryBroker`` when there is one process, ``RedisBroker``
(``app.rooms.redis_broker``) across workers and replicas. Followers of this
process hang off its :class:`~app.rooms.hub.Hub`; a follower that joins gets the
room's latest view first (a reconnect resumes there, nothing is replayed).

Bounds: at most ``max_rooms`` rooms open in the store, each idle room ending
``idle_seconds`` after its last publish; followers per process are bounded by the
route (``app.api.routes.rooms``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

from app.rooms.hub import Hub, Mailbox, Message

IDLE_SECONDS = 60 * 60
"""A room ends an hour after the lecturer's last publish (a lecture pauses on one
view for minutes, never for an hour)."""

MAX_ROOMS = 200
"""Rooms open at once in one store (a process's memory, or the deployment's Redis)."""

TICK_SECONDS = 5.0
"""How often a process looks for ended rooms among its followers' and recounts them."""


class RoomsFull(Exception):
    """Every room slot is taken; the client should retry later."""


class BrokerDown(Exception):
    """The shared store (Redis) cannot be reached."""


@dataclass(frozen=True)
class RoomRecord:
    code: str
    secret_digest: str
    version: int
    view: str
    followers: int
    expires_in: float  # seconds until the room ends unless the lecturer publishes


class Broker(ABC):
    """The contract both backends keep (tests/rooms/test_broker_contract.py)."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS, max_rooms: int = MAX_ROOMS) -> None:
        self.idle_seconds = idle_seconds
        self.max_rooms = max_rooms
        self.hub = Hub()
        self._ticker: asyncio.Task[None] | None = None

    # ---- storage, per backend

    @abstractmethod
    async def create(self, code: str, secret_digest: str, view: str) -> bool:
        """Open a room; False when the code is taken; :class:`RoomsFull` past the bound."""

    @abstractmethod
    async def get(self, code: str) -> RoomRecord | None:
        """The room, or None when it never was, was ended or went idle."""

    @abstractmethod
    async def publish(self, code: str, view: str) -> int | None:
        """Store ``view`` as the latest and send it to every follower; its version, or None."""

    @abstractmethod
    async def end(self, code: str) -> bool:
        """Close the room and tell its followers; False when there was none."""

    @abstractmethod
    async def _count_changed(self, code: str) -> None:
        """This process's follower count of ``code`` changed (or is due a refresh)."""

    async def _start(self) -> None:  # noqa: B027 (a hook; memory needs nothing)
        """Start receiving other processes' publishes (nothing to do in memory)."""

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._ticker
            self._ticker = None

    # ---- followers of this process

    async def join(self, code: str) -> Mailbox | None:
        """A mailbox holding the room's latest view, or None when there is no such room.

        Subscribed first, read second: a publish in between reaches the mailbox
        either way, and the mailbox keeps the newer of the two.
        """
        await self._start()
        box = self.hub.add(code)
        try:
            record = await self.get(code)
        except BaseException:
            self.hub.remove(code, box)
            raise
        if record is None:
            self.hub.remove(code, box)
            return None
        box.put(Message("state", record.version, record.view))
        self._ensure_ticker()
        await self._count_changed(code)
        return box

    async def leave(self, code: str, box: Mailbox) -> None:
        self.hub.remove(code, box)
        with contextlib.suppress(BrokerDown):
            await self._count_changed(code)

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        """End the local followers of rooms that went idle; keep counts fresh."""
        while self.hub.rooms:
            await asyncio.sleep(TICK_SECONDS)
            for code in list(self.hub.rooms):
                try:
                    record = await self.get(code)
                    if record is None:
                        self.hub.deliver(code, Message("end", reason="expired"))
                    else:
                        self.hub.deliver(code, Message("state", record.version, record.view))
                        await self._count_changed(code)
                except BrokerDown:
                    break  # the store is away; try again next tick


@dataclass
class _Room:
    secret_digest: str
    version: int
    view: str
    idle_until: float


class MemoryBroker(Broker):
    """Rooms in this process: the default, so one ``uvicorn`` needs nothing else."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS, max_rooms: int = MAX_ROOMS) -> None:
        super().__init__(idle_seconds, max_rooms)
        self._rooms: dict[str, _Room] = {}

    def _live(self, code: str) -> _Room | None:
        room = self._rooms.get(code)
        if room is not None and room.idle_until <= time.monotonic():
            del self._rooms[code]
            return None
        return room

    async def create(self, code: str, secret_digest: str, view: str) -> bool:
        for known in list(self._rooms):
            self._live(known)  # forget idle rooms before counting
        if code in self._rooms:
            return False
        if len(self._rooms) >= self.max_rooms:
            raise RoomsFull
        until = time.monotonic() + self.idle_seconds
        self._rooms[code] = _Room(secret_digest, 1, view, until)
        return True

    async def get(self, code: str) -> RoomRecord | None:
        room = self._live(code)
        if room is None:
            return None
        left = room.idle_until - time.monotonic()
        return RoomRecord(
            code, room.secret_digest, room.version, room.view, self.hub.count(code), left
        )

    async def publish(self, code: str, view: str) -> int | None:
        room = self._live(code)
        if room is None:
            return None
        room.version += 1
        room.view = view
        room.idle_until = time.monotonic() + self.idle_seconds
        self.hub.deliver(code, Message("state", room.version, view))
        return room.version

    async def end(self, code: str) -> bool:
        if self._live(code) is None:
            return False
        del self._rooms[code]
        self.hub.deliver(code, Message("end", reason="ended"))
        return True

    async def _count_changed(self, code: str) -> None:
        pass  # the hub's own count is the room's count
