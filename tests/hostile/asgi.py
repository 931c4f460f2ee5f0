"""Drive the ASGI app directly, to control exactly how a body arrives.

A TestClient hands the app the whole body at once; these helpers stream it in
chunks (without building it in memory), stall it, and count how much of it the
app read before answering.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks_read: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


def chunks(total: int, size: int = 1024 * 1024) -> Iterator[bytes]:
    """``total`` bytes in pieces of ``size``, the same buffer each time."""
    piece = b"[" * size
    sent = 0
    while sent < total:
        yield piece[: min(size, total - sent)]
        sent += size


async def _call(
    app: ASGIApp,
    path: str,
    body: Iterator[bytes],
    headers: list[tuple[bytes, bytes]],
    stall_after: int | None,
    trickle: float,
) -> Answer:
    answer = Answer()
    finished = False

    async def receive() -> Message:
        nonlocal finished
        if finished:
            await asyncio.sleep(3600)  # the client stays connected, sends nothing
        if stall_after is not None and answer.chunks_read >= stall_after:
            await asyncio.sleep(3600)  # a stalled upload
        await asyncio.sleep(trickle)  # a slow one
        piece = next(body, None)
        if piece is None:
            finished = True
            return {"type": "http.request", "body": b"", "more_body": False}
        answer.chunks_read += 1
        return {"type": "http.request", "body": piece, "more_body": True}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return answer


def post(
    app: ASGIApp,
    path: str,
    body: Iterator[bytes],
    content_type: str = "application/json",
    content_length: int | None = None,
    stall_after: int | None = None,
    trickle: float = 0.0,
) -> Answer:
    """POST a streamed body (chunked unless ``content_length`` is given), optionally
    stalling for good after ``stall_after`` chunks or pausing ``trickle`` s before each."""
    headers = [(b"host", b"testserver"), (b"content-type", content_type.encode())]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    return asyncio.run(_call(app, path, body, headers, stall_after, trickle))


def file_upload(total: int, boundary: str = "xyz") -> Iterator[bytes]:
    """The start of a multipart form whose file part goes on for ``total`` bytes."""
    yield (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    yield from chunks(total)
