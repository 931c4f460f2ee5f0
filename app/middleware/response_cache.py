"""Answer a repeated lecture-size computation from memory instead of computing it again.

A class of 300 opens the same slide and sends the same request: the padding
example, the X glyph with the lecture's filters. Each answer is a pure function of
the request (path, query and body: no randomness, no clock, no state), so the
first answer is kept and the next identical request gets its bytes back without
parsing, validating, computing or serialising anything, and without taking a
compute slot. Serialising an X-glyph answer with its step trace alone costs more
than a bare endpoint's whole request (docs/PERFORMANCE.md).

Only small JSON requests to the operations listed in ``CACHED_PATHS`` are looked
up, and only complete 200 answers of a bounded size are kept, in a least-recently-used
store of bounded total size per worker (``app.api.limits``). The key is a BLAKE2b
digest of the path, query and body; a body is read only after ``Content-Length``
says it is small, and through the body limits of the middleware outside this one.
An identical request arriving while the first is being computed waits for its
answer rather than computing it again: at most ``limits.CACHE_WAIT_SECONDS``, and
only until the answer is known (kept, or found too large or not a 200), never while
the first client downloads it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import limits
from app.middleware.body_buffer import replay
from app.middleware.body_limit import declared_length

CACHED_PATHS = frozenset(
    {
        "/api/conv2d",
        "/api/conv_transpose2d",
        "/api/max_pool2d",
        "/api/avg_pool2d",
        "/api/activation",
        "/api/backprop",
        "/api/xo/forward",
    }
)
"""Operations whose answer depends on nothing but the request. Streams, uploads,
exports and anything seeded from the clock stay out."""


@dataclass(frozen=True)
class CachedAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def size(self) -> int:
        """Bytes held, Python's object overheads included (measured: ~600 per answer and
        ~100 per header beyond their bytes; counting only the bytes undercounted 1.7x)."""
        return len(self.body) + sum(len(k) + len(v) + 100 for k, v in self.headers) + 600


class AnswerStore:
    """Least recently used answers, at most ``capacity`` bytes in all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self._answers: OrderedDict[bytes, CachedAnswer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: bytes) -> CachedAnswer | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: bytes, answer: CachedAnswer) -> None:
        if answer.size > self.capacity or key in self._answers:
            return
        self._answers[key] = answer
        self.size += answer.size
        while self.size > self.capacity:
            _, dropped = self._answers.popitem(last=False)
            self.size -= dropped.size


def _is_json(scope: Scope) -> bool:
    """Whether the body is declared JSON: anything else gets FastAPI's 422, every time."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


def request_key(scope: Scope, body: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=20)
    for part in (scope["path"].encode(), scope["query_string"], body):
        digest.update(len(part).to_bytes(8, "little"))  # lengths first: no two splits alike
        digest.update(part)
    return digest.digest()


class ResponseCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        capacity: int = limits.ANSWER_CACHE_BYTES,
        max_body: int = limits.ANSWER_CACHE_MAX_BODY_BYTES,
        max_answer: int = limits.ANSWER_CACHE_MAX_ANSWER_BYTES,
        wait: float = limits.CACHE_WAIT_SECONDS,
    ) -> None:
        self.app = app
        self.wait = wait
        self.store = AnswerStore(capacity)
        self.max_body, self.max_answer = max_body, max_answer
        # Requests being computed, by key: an identical one arriving meanwhile waits for
        # the answer instead of computing it again (a class clicking at the same moment).
        self._computing: dict[bytes, asyncio.Future[None]] = {}

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        if scope["path"] not in CACHED_PATHS:
            return False
        length = declared_length(scope)
        return length is not None and length <= self.max_body and _is_json(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client left while sending
            return
        key = request_key(scope, body)
        answer = self.store.get(key)
        computing = self._computing.get(key)
        if answer is None and computing is not None:
            # Not cancelled with this request if it goes; bounded, as the first asker's
            # answer is signalled as soon as it is known (below), not once it is sent.
            await asyncio.wait({computing}, timeout=self.wait)
            answer = self.store.get(key)
        if answer is not None:
            await send(
                {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
            )
            await send({"type": "http.response.body", "body": answer.body})
            return
        # No answer kept (none yet, or the one computed meanwhile was not a 200): compute.
        # Only the first computes under the key: after a non-200 the waiters all compute
        # at once rather than queue behind each other.
        first = key not in self._computing
        if first:
            self._computing[key] = asyncio.get_running_loop().create_future()

        def settled() -> None:
            """Wake the waiters: the answer is kept, or will not be."""
            future = self._computing.get(key) if first else None
            if future is not None and not future.done():
                future.set_result(None)

        try:
            await self.app(scope, replay(body, receive), self._recording(key, send, settled))
        finally:
            if first:
                settled()
                self._computing.pop(key)

    def _recording(self, key: bytes, send: Send, settled: Callable[[], None]) -> Send:
        """``send`` that keeps a copy of a complete, small 200 answer for ``key``, and calls
        ``settled`` once it is kept or known not to be (before sending the rest: a first
        asker who does not read must not hold up the others)."""
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def record(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                # Copied before sending: the middleware outside adds its own headers to
                # this list, and a kept answer must hold only the app's (the outer ones
                # are added again to every reply).
                start = dict(message, headers=list(message.get("headers", [])))
                if message["status"] != 200 or _declared(message) > self.max_answer:
                    start = None
                    settled()
            elif start is not None and message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_answer:
                    start, chunks[:] = None, []  # too large to keep; stop copying
                    settled()
                else:
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
                        self.store.put(key, CachedAnswer(200, headers, b"".join(chunks)))
                        settled()
            await send(message)

        return record


def _declared(start: Message) -> int:
    """The answer's ``Content-Length`` (0 when it has none)."""
    for name, value in start.get("headers", []):
        if name.lower() == b"content-length" and value.isdigit():
            return int(value)
    return 0


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
