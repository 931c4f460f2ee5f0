"""A bounded number of computations in flight per worker; past it, 503 at once.

Every ``POST /api/...`` is a computation (the routes are sync and run in the thread
pool, image decoding too). Its body has been read already
(``app.middleware.body_buffer``), so a slot is only held by a request ready to
compute: the parsed tensors and the numpy work of at most ``COMPUTE_SLOTS``
requests are in memory at a time. A few more may wait up to
``COMPUTE_WAIT_SECONDS`` in a queue of ``COMPUTE_QUEUE``; everyone else gets 503
with ``Retry-After`` straight away. Nothing queues without bound.

The slot is given back when the response starts: by then the answer is computed
and rendered, and a slow reader must not hold the CPU's turn while it downloads.
But the answer stays in memory until it is sent, so answers being sent are counted
(``app.middleware.answers``) and while they exceed ``MAX_ANSWERS_IN_FLIGHT_BYTES``
no new computation starts: clients that never read cannot pile answers up (8 of
them took a worker to 1.45 GB). The wait drops answers that have stalled, and the
write timeout of ``app.server`` drops such clients in any case. After a large answer is sent the
worker gives its memory back (``app.memory``).
GET requests (pages, presets, static files, health) are cheap and never wait.
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import memory
from app.api import limits
from app.middleware.answers import Answer, AnswerDropped, AnswersInFlight
from app.middleware.errors import error_response


class Slots:
    """A counting semaphore with a bounded, time-limited queue, on one event loop.

    Futures are created on the running loop at each wait, so one instance serves
    whichever loop the app runs on (a worker has one; tests start several in turn).
    """

    def __init__(self, size: int, queue: int, wait: float) -> None:
        self.free = size
        self.queue, self.wait = queue, wait
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> bool:
        """Take a slot, waiting at most ``wait`` seconds; False when none came free."""
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return True
        if len(self._waiters) >= self.queue or self.wait <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=self.wait)
        except BaseException:  # cancelled (client gone): give back a slot handed over meanwhile
            self._abandon(waiter)
            raise
        if waiter.done():
            return True  # release() handed its slot over to us
        self._abandon(waiter)
        return False

    def _abandon(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled():
            self.release()
        else:
            waiter.cancel()
            self._waiters.remove(waiter)

    def release(self) -> None:
        """Hand the slot to the longest waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


def is_computation(scope: Scope) -> bool:
    # A room's publish computes nothing, and must not wait behind a class's requests.
    path: str = scope["path"]
    return (
        scope["method"] == "POST" and path.startswith("/api/") and not path.startswith("/api/rooms")
    )


BUSY_MESSAGE = (
    f"the server is busy with other computations; try again in {limits.RETRY_AFTER_SECONDS} s"
)


def _content_length(message: Message) -> int:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


class ComputeLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        slots: int = limits.COMPUTE_SLOTS,
        queue: int = limits.COMPUTE_QUEUE,
        wait: float = limits.COMPUTE_WAIT_SECONDS,
        answers_in_flight: int = limits.MAX_ANSWERS_IN_FLIGHT_BYTES,
    ) -> None:
        self.app = app
        self.slots = Slots(slots, queue, wait)
        self.answers = AnswersInFlight(answers_in_flight)

    async def _busy(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The body is read (body_buffer) and the connection stays open: the client
        # reads this answer and may send again on the same connection.
        headers = {"Retry-After": str(limits.RETRY_AFTER_SECONDS)}
        await error_response(503, BUSY_MESSAGE, "busy", headers)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_computation(scope):
            await self.app(scope, receive, send)
            return
        if not await self.answers.room(self.slots.wait) or not await self.slots.acquire():
            await self._busy(scope, receive, send)
            return
        held = True
        answer: Answer | None = None
        largest = 0

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self.slots.release()

        def sent() -> None:
            nonlocal answer, largest
            if answer is not None:
                largest = max(largest, answer.size)
                self.answers.remove(answer)
                answer = None

        async def send_counting(message: Message) -> None:
            nonlocal answer
            if message["type"] == "http.response.start":
                answer = self.answers.add(_content_length(message))
                release()
            if message["type"] != "http.response.body" or answer is None:
                await send(message)
                return
            await answer.send(send, message)
            if not message.get("more_body", False):
                sent()

        try:
            await self.app(scope, receive, send_counting)
        except AnswerDropped:
            pass  # the server closes the connection: the answer was left unfinished
        finally:
            release()
            sent()
            # Now that the app has returned, the answer and the request's tensors are freed.
            if largest >= memory.TRIM_AFTER_BYTES:
                memory.give_back()
