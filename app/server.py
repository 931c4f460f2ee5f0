"""uvicorn, configured to hold under slow, idle and hostile connections without a proxy.

uvicorn's own settings cannot express these (measured on the production command):
8 connections each sending an unfinished 100 MB header line took a worker to
882 MB; 5,000 connections that send nothing were never closed and got ``/healthz``
a 503 for as long as they stayed; a client that never reads its answer held it in
memory for ever. :class:`GuardedHttpToolsProtocol` adds, per connection:

- a head time limit (``limits.HEAD_TIMEOUT_SECONDS``): the request line and headers
  must arrive within it, counted from when the connection opens or its previous
  answer was sent; else the connection is closed;
- a head size limit (``limits.MAX_HEAD_BYTES``): past it, 431 and close;
- a write timeout (``limits.WRITE_TIMEOUT_SECONDS``): when the client leaves the
  socket full for that long (an answer or a stream it does not read), the
  connection is dropped, so the app's ``send`` returns and its memory and slots
  are given back;
- a connection limit (``limits.MAX_CONNECTIONS`` per worker): past it an idle
  connection (no request in progress) is closed, one that never sent a byte first,
  then the one idle the longest, so idle sockets cannot lock others out;
  ``/healthz`` keeps answering.

:func:`settings` are the arguments ``python -m app`` passes to ``uvicorn.run``.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections import OrderedDict
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.api import limits

_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\nconnection: close\r\ncontent-length: %d\r\n\r\n"
)


def _error_body(message: str, kind: str) -> bytes:
    return b'{"detail":[{"loc":[],"msg":"%s","type":"%s"}]}' % (message.encode(), kind.encode())


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head, write and connection limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._idle_since = time.monotonic()
        self._served = 0

    # --- connection limit -------------------------------------------------------

    def _idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _eviction_order(self) -> tuple[bool, float]:
        """Longest idle first (used when no connection is silent)."""
        return (self._served > 0, self._idle_since)

    def _silent(self) -> OrderedDict[GuardedHttpToolsProtocol, None]:
        """Connections that have not sent a byte yet, oldest first (one per server)."""
        state = self.server_state.__dict__
        return state.setdefault("convviz_silent", OrderedDict())  # type: ignore[no-any-return]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()
        silent = self._silent()
        if len(self.connections) > limits.MAX_CONNECTIONS:
            # Sockets that never sent a byte go first (in O(1): a flood of them must not
            # cost a scan per connection), else the connection idle the longest.
            if silent:
                victim, _ = silent.popitem(last=False)
                victim.transport.close()
            else:
                idle = [
                    c
                    for c in self.connections
                    if c is not self and isinstance(c, GuardedHttpToolsProtocol) and c._idle()
                ]
                if idle:
                    min(idle, key=GuardedHttpToolsProtocol._eviction_order).transport.close()
        silent[self] = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._silent().pop(self, None)
        self._cancel(self._head_timer)
        self._cancel(self._write_timer)
        super().connection_lost(exc)

    # --- the request head: time and size -----------------------------------------

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()

    def _arm_head_timer(self) -> None:
        self._awaiting_head = True
        self._head_bytes = 0
        self._idle_since = time.monotonic()
        self._cancel(self._head_timer)
        self._head_timer = self.loop.call_later(limits.HEAD_TIMEOUT_SECONDS, self._head_timed_out)

    def _head_timed_out(self) -> None:
        if self._awaiting_head and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._served == 0 and self._head_bytes == 0:
            self._silent().pop(self, None)
        if self._awaiting_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._awaiting_head and self._head_bytes > limits.MAX_HEAD_BYTES:
            self._refuse_head()

    def _refuse_head(self) -> None:
        if self.transport.is_closing():
            return
        body = _error_body(
            f"the request head is larger than {limits.MAX_HEAD_BYTES // 1024} KiB;"
            " send a shorter address or fewer headers",
            "head_too_large",
        )
        self.transport.write(_431 % len(body) + body)
        self.transport.close()
        self.parser = None  # type: ignore[assignment]  # nothing more is read

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._cancel(self._head_timer)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._served += 1
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm_head_timer()

    # --- answers the client does not read ---------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        self._cancel(self._write_timer)
        self._write_timer = self.loop.call_later(
            limits.WRITE_TIMEOUT_SECONDS, self._write_timed_out
        )

    def resume_writing(self) -> None:
        self._cancel(self._write_timer)
        self._write_timer = None
        super().resume_writing()

    def _write_timed_out(self) -> None:
        # abort, not close: close would wait for the unread buffer to be sent first.
        self.transport.abort()


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (within the hard limit):
    an accept that fails for want of descriptors stops the server accepting anyone."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


def settings(host: str, port: int, workers: int, **overrides: Any) -> dict[str, Any]:
    """``uvicorn.run``'s arguments for ``python -m app``: the guarded protocol, its limits."""
    chosen: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "http": "app.server:GuardedHttpToolsProtocol",
        "ws": "none",
        "lifespan": "off",
        "timeout_keep_alive": limits.KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": 20,
        # The connection limit above closes idle connections instead of refusing new
        # ones; this is the backstop for connections that are all busy.
        "limit_concurrency": 2 * limits.MAX_CONNECTIONS,
        "backlog": 2048,
    }
    chosen.update(overrides)
    return chosen
