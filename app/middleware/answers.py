"""Answers being sent, counted by their bytes, and dropped when they stall under pressure.

An answer stays in memory until its client has read it. :class:`AnswersInFlight`
counts the bytes of answers being sent; while they are over the limit a new
computation waits (``app.middleware.compute_limit``). So that clients that never
read cannot keep every computation waiting until the write timeout (two unread
answers of the largest size would be over the limit), the wait first drops the
answers that have not moved for ``limits.ANSWER_STALL_SECONDS``, the longest stalled
first, until the rest fit: their ``send`` raises :class:`AnswerDropped`, the app
returns, the server closes the connection, and the memory is given back. A client
that is reading, however slowly, keeps its answer.

Answers go to the server in pieces of ``SEND_PIECE_BYTES``: the server waits for the
socket to drain before taking the next piece, so at most one piece (plus the
socket's 64 KiB high-water mark) is ever copied into its buffer; a whole 700 MiB
answer written at once was copied there whole, and held until the client went.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import Message, Send

from app.api import limits

SEND_PIECE_BYTES = 1024 * 1024


class AnswerDropped(Exception):
    """The answer stalled while memory was needed: the connection is given up."""


class Answer:
    """One answer being sent: its size, when it last moved, and its drop signal."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.moved = time.monotonic()
        self.dropped: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(self, send: Send, message: Message) -> None:
        """``message``, in pieces, each raced against the drop signal."""
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self.size <= SEND_PIECE_BYTES:
            await send(message)  # small: at most one piece held, never worth dropping
            return
        start = 0
        while True:
            piece = bytes(body[start : start + SEND_PIECE_BYTES])
            start += SEND_PIECE_BYTES
            last = start >= len(body)
            sending = asyncio.ensure_future(
                send({"type": "http.response.body", "body": piece, "more_body": more or not last})
            )
            await asyncio.wait({sending, self.dropped}, return_when=asyncio.FIRST_COMPLETED)
            if not sending.done():
                sending.cancel()
                raise AnswerDropped
            sending.result()
            self.moved = time.monotonic()
            if last:
                return


class AnswersInFlight:
    """Bytes of answers still being sent; waiters resume when it falls under the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._answers: set[Answer] = set()
        self._waiters: list[asyncio.Future[None]] = []

    def add(self, content_length: int) -> Answer:
        # The answer, plus the piece of it the server's buffer may hold.
        answer = Answer(content_length + min(content_length, SEND_PIECE_BYTES))
        self._answers.add(answer)
        self.held += answer.size
        return answer

    def remove(self, answer: Answer) -> None:
        if answer not in self._answers:
            return
        self._answers.discard(answer)
        self.held -= answer.size
        if self.held <= self.limit:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _drop_stalled(self) -> None:
        """Drop answers stalled past ``ANSWER_STALL_SECONDS``, longest first, until the
        others fit under the limit."""
        stalled_before = time.monotonic() - limits.ANSWER_STALL_SECONDS
        excess = self.held - self.limit
        for answer in sorted(self._answers, key=lambda a: a.moved):
            if excess <= 0 or answer.moved > stalled_before:
                break
            if not answer.dropped.done():
                answer.dropped.set_result(None)
                excess -= answer.size

    async def room(self, wait: float) -> bool:
        """Wait at most ``wait`` s until the answers in flight are under the limit."""
        if self.held <= self.limit:
            return True
        self._drop_stalled()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await asyncio.wait({waiter}, timeout=wait)
        if not waiter.done():
            waiter.cancel()
        return self.held <= self.limit
