"""This process's followers: one mailbox each, holding only the latest message.

A lecturer may publish faster than a phone on lecture-hall Wi-Fi reads. Each
follower's mailbox keeps one message: a newer state replaces an unread older one,
so a slow reader skips intermediate steps and lands on the latest, and memory per
follower is one message whatever the rate. The end of a room replaces anything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import orjson


@dataclass(frozen=True)
class Message:
    kind: Literal["state", "end"]
    version: int = 0
    view: str = ""  # path and query, for "state"
    reason: str = ""  # for "end": "ended" or "expired"

    @cached_property
    def event(self) -> bytes:
        """The server-sent event, encoded once for every follower of this process."""
        if self.kind == "end":
            return b"event: end\ndata: " + orjson.dumps({"reason": self.reason}) + b"\n\n"
        path, sep, query = self.view.partition("?")
        data = orjson.dumps({"version": self.version, "path": path, "query": sep + query})
        return f"event: state\nid: {self.version}\ndata: ".encode() + data + b"\n\n"


class Mailbox:
    def __init__(self) -> None:
        self._pending: Message | None = None
        self._event = asyncio.Event()
        self.last_version = -1  # the newest state handed out (or queued)
        self.dropped = 0  # states replaced before they were read

    def put(self, message: Message) -> None:
        if self._pending is not None and self._pending.kind == "end":
            return
        if message.kind == "state":
            if message.version <= self.last_version:
                return  # already have it or something newer (a reconnect's snapshot)
            self.last_version = message.version
            if self._pending is not None:
                self.dropped += 1
        self._pending = message
        self._event.set()

    async def get(self, timeout: float) -> Message | None:
        """The pending message, waiting at most ``timeout`` seconds (None: nothing came)."""
        if self._pending is None:
            self._event.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._event.wait()
            except TimeoutError:
                return None
        message, self._pending = self._pending, None
        return message


class Hub:
    """Rooms -> this process's mailboxes. Fan-out is a loop over one room's set."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[Mailbox]] = {}

    def add(self, code: str) -> Mailbox:
        box = Mailbox()
        self.rooms.setdefault(code, set()).add(box)
        return box

    def remove(self, code: str, box: Mailbox) -> None:
        boxes = self.rooms.get(code)
        if boxes is not None:
            boxes.discard(box)
            if not boxes:
                del self.rooms[code]

    def count(self, code: str) -> int:
        return len(self.rooms.get(code, ()))

    @property
    def connections(self) -> int:
        return sum(len(b) for b in self.rooms.values())

    def deliver(self, code: str, message: Message) -> None:
        for box in self.rooms.get(code, ()):
            box.put(message)
