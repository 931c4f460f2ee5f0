"""Server-sent events for long computations: descent runs and X/O training.

A stream is a plain iterator of ``(event name, pydantic model)`` pairs made by the
engine; :func:`event_stream` pulls it one item at a time in a worker thread (the
event loop keeps serving everyone else), writes each item as an SSE event, and
stops pulling, closing the iterator, as soon as the client has gone: the engine's
generators compute nothing ahead, so a closed page costs at most the item in hand.

The wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html)::

    event: epoch
    id: 3
    data: {"epoch": 3, "loss": 0.12, ...}

One ``data`` line of JSON per event, a blank line after it. The browser's
``EventSource`` only sends GET, so a page reads these POST streams with ``fetch``
and a reader that splits on blank lines.

At most ``limits.MAX_OPEN_STREAMS`` streams are open at once in a process; a
request past that gets 503 with ``Retry-After`` before its stream starts (the place
is taken before the answer is made, so a stream never starts only to say it is
busy). Of the open streams, at most ``limits.MAX_TRAINING_STREAMS`` compute at a
time: each item takes a computing place while it is computed and gives it back
before it is sent or the stream pauses (``delay_ms``), so streams opened and never
read, or paced slowly, do not keep others from starting. A stream whose client
stops reading is dropped by the server's write timeout (``app.server``).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

import anyio
import numpy as np
import orjson
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from app.api import limits

MEDIA_TYPE = "text/event-stream"

Event = tuple[str, BaseModel]


class Disconnectable(Protocol):
    async def is_disconnected(self) -> bool: ...


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def format_event(name: str, data: BaseModel | dict[str, Any], event_id: int | None = None) -> bytes:
    """One SSE event: ``event:``, optional ``id:``, one ``data:`` line of JSON."""
    payload = data.model_dump() if isinstance(data, BaseModel) else data
    body = orjson.dumps(payload, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)
    head = f"event: {name}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + body + b"\n\n"


class StreamSlots:
    """How many streams run now; a process-wide count, safe across event loops."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.active = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self.active >= self.size:
                return False
            self.active += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.active -= 1


SLOTS = StreamSlots(limits.MAX_TRAINING_STREAMS)
"""Streams computing an item now."""

OPEN = StreamSlots(limits.MAX_OPEN_STREAMS)
"""Streams open (answering) now."""

BUSY_MESSAGE = (
    f"{limits.MAX_OPEN_STREAMS} training streams are open already; try again in"
    f" {limits.STREAM_RETRY_AFTER_SECONDS} s"
)

_END = object()
_SLOT_POLL_SECONDS = 0.02


async def event_stream(
    request: Disconnectable,
    events: Iterator[Event],
    *,
    delay: float = 0.0,
    slots: StreamSlots = SLOTS,
) -> AsyncIterator[bytes]:
    """Pull ``events`` in a worker thread and yield them as SSE, while the client listens.

    Each item is computed holding one of ``slots``, waited for while all are taken.
    """
    close = getattr(events, "close", None)
    try:
        event_id = 0
        while not await request.is_disconnected():
            if not slots.try_acquire():
                await anyio.sleep(_SLOT_POLL_SECONDS)  # others compute; this one waits its turn
                continue
            try:
                item = await run_in_threadpool(next, events, _END)
            finally:
                slots.release()
            if item is _END:
                break
            name, data = item
            yield format_event(name, data, event_id)
            event_id += 1
            if delay:
                await anyio.sleep(delay)
    finally:
        if close is not None:
            try:
                close()  # no more work: the generator's finally blocks run now
            except ValueError:
                pass  # still running in its thread (we were cancelled): it stops after this item


def busy_response() -> JSONResponse:
    """503 before a stream starts, in the API's error shape."""
    return JSONResponse(
        status_code=503,
        content={"detail": [{"loc": [], "msg": BUSY_MESSAGE, "type": "busy"}]},
        headers={"Retry-After": str(limits.STREAM_RETRY_AFTER_SECONDS)},
    )


class _OpenStream(StreamingResponse):
    """A stream that gives its place in ``OPEN`` back when it ends, however it ends."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            OPEN.release()


def sse_response(request: Disconnectable, events: Iterator[Event], delay: float = 0.0) -> Any:
    """The streaming response, or 503 when ``MAX_OPEN_STREAMS`` are open."""
    if not OPEN.try_acquire():
        close = getattr(events, "close", None)
        if close is not None:
            close()
        return busy_response()
    return _OpenStream(
        event_stream(request, events, delay=delay),
        media_type=MEDIA_TYPE,
        # No caching, and no buffering by a reverse proxy (nginx), or events arrive in lumps.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A stream of server-sent events (see each endpoint's description).",
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
    503: {"description": "Too many streams open at once; retry after `Retry-After` s."},
}
