"""Clients that ask for large answers or streams and never read them, through a real server.

What is asserted: statuses, that answers held for such clients stay under their bound
and are given back (by the write timeout or when the client goes), that ``/healthz``
answers meanwhile, and that a worker's memory returns after large answers. Nothing
asserts how long anything took.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.api import limits
from app.main import app
from app.middleware.compute_limit import ComputeLimitMiddleware
from tests.hostile.live import get, guarded_server, read_all

ROOT = Path(__file__).resolve().parents[2]


def _zeros(*shape: int) -> dict[str, Any]:
    count = 1
    for side in shape:
        count *= side
    return {
        "dtype": "float32",
        "shape": list(shape),
        "base64": base64.b64encode(bytes(4 * count)).decode(),
    }


# 16 x 512 x 512 numbers back, about 21 MiB of base64.
BIG = json.dumps(
    {"input": _zeros(1, 512, 512), "weight": _zeros(16, 1, 3, 3), "padding": 1, "trace": False}
).encode()


def _ask(address: tuple[str, int], body: bytes = BIG) -> socket.socket:
    """Send a request for a large answer and return the socket, unread."""
    conn = socket.create_connection(address)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a client that barely reads
    conn.sendall(
        b"POST /api/conv2d?encoding=base64 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    return conn


def _status(conn: socket.socket) -> bytes:
    conn.settimeout(30)
    return conn.recv(12)


def _compute_limit() -> ComputeLimitMiddleware:
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    node: Any = app.middleware_stack
    while not isinstance(node, ComputeLimitMiddleware):
        node = node.app
    return node


def _eventually(check: Any, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


@pytest.fixture
def limit() -> Iterator[ComputeLimitMiddleware]:
    middleware = _compute_limit()
    saved = middleware.answers.limit
    middleware.answers.limit = 50 * 2**20  # two unread 21 MiB answers fit, a third does not
    try:
        yield middleware
    finally:
        middleware.answers.limit = saved


def test_unread_answers_are_bounded_and_new_computations_wait_then_503(
    limit: ComputeLimitMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "ANSWER_STALL_SECONDS", 3600.0)  # none counts as stalled
    with guarded_server() as address:
        unread = [_ask(address) for _ in range(3)]
        try:
            assert [_status(c) for c in unread] == [b"HTTP/1.1 200"] * 3
            # The first answers pile up to just past the bound (each counted until sent)...
            assert limit.answers.held > limit.answers.limit
            assert limit.answers.held < limit.answers.limit + 2 * len(BIG) + 30 * 2**20
            # ... and while they are held, a new computation is turned away, not started.
            late = _ask(address)
            head = read_all(late, 30)
            assert head.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in head.lower()
            late.close()
            assert get(address, "/healthz").startswith(b"HTTP/1.1 200 ")
        finally:
            for conn in unread:
                conn.close()
        # Clients gone: what they held is given back, and computing resumes.
        assert _eventually(lambda: limit.answers.held == 0)
        again = _ask(address, json.dumps({"input": [[1.0]], "weight": [[2.0]]}).encode())
        assert read_all(again, 10).startswith(b"HTTP/1.1 200 ")
        again.close()


def test_stalled_answers_are_dropped_when_a_computation_needs_their_memory(
    limit: ComputeLimitMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "ANSWER_STALL_SECONDS", 0.0)  # every unmoving answer counts
    monkeypatch.setattr(limits, "WRITE_TIMEOUT_SECONDS", 1.0)
    with guarded_server() as address:
        unread = [_ask(address) for _ in range(3)]
        try:
            assert [_status(c) for c in unread] == [b"HTTP/1.1 200"] * 3
            assert limit.answers.held > limit.answers.limit
            # A new computation is served: the stalled answers are dropped to make room...
            late = _ask(address, json.dumps({"input": [[1.0]], "weight": [[3.0]]}).encode())
            assert read_all(late, 30).startswith(b"HTTP/1.1 200 ")
            late.close()
            assert limit.answers.held <= limit.answers.limit
            # ... and their connections are given up (closed once the write timeout
            # passes, as they never read what is already in the socket's buffer).
            assert _eventually(lambda: address.connections() < len(unread))
        finally:
            for conn in unread:
                conn.close()
        assert _eventually(lambda: limit.answers.held == 0)


def test_the_write_timeout_drops_a_client_that_never_reads(
    limit: ComputeLimitMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "WRITE_TIMEOUT_SECONDS", 1.0)
    with guarded_server() as address:
        conn = _ask(address)
        try:
            assert _status(conn) == b"HTTP/1.1 200"
            # The client keeps its socket open and reads nothing: the server gives up on it
            # and what it held comes back.
            assert _eventually(lambda: limit.answers.held == 0)
            assert _eventually(lambda: address.connections() == 0)
        finally:
            conn.close()
        assert get(address, "/healthz").startswith(b"HTTP/1.1 200 ")


def test_unread_paced_streams_do_not_keep_new_streams_from_starting() -> None:
    body = json.dumps(
        {
            "inputs": [[[1.0, 0.0], [0.0, 1.0]]],
            "weight": [[0.5]],
            "loss": "sum",
            "lr": 0.01,
            "max_iterations": 500,
            "delay_ms": 200,
        }
    ).encode()
    request = (
        b"POST /api/descent/stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    with guarded_server() as address:
        unread = []
        try:
            for _ in range(limits.MAX_TRAINING_STREAMS):
                conn = socket.create_connection(address)
                conn.sendall(request)
                unread.append(conn)
            time.sleep(0.5)  # the streams are open and pacing
            with socket.create_connection(address) as fresh:
                fresh.sendall(request)
                fresh.settimeout(30)
                first = b""
                while first.count(b"event: step") < 2:
                    chunk = fresh.recv(65536)
                    assert chunk, first
                    first += chunk
            assert first.startswith(b"HTTP/1.1 200 ")
            assert b"event: error" not in first
            assert get(address, "/healthz").startswith(b"HTTP/1.1 200 ")
        finally:
            for conn in unread:
                conn.close()


# --- a worker gives memory back ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak) of ``pid``, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def _post(port: int, body: bytes) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/conv2d?encoding=base64",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as r:
        r.read()
        return int(r.status)


def test_a_worker_gives_back_the_memory_of_large_answers() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert _eventually(lambda: _ready(port), 30), "the server did not start"
        _post(port, json.dumps({"input": [[1.0]], "weight": [[1.0]]}).encode())
        baseline = _memory(server.pid)["VmRSS"]
        # About 85 MiB of base64 back each time (16 x 3 x 1024 x 1024 numbers).
        big = json.dumps(
            {"input": _zeros(3, 1024, 1024), "weight": _zeros(16, 3, 3, 3), "padding": 1}
            | {"trace": False}
        ).encode()
        assert [_post(port, big) for _ in range(3)] == [200] * 3
        # The worker gives the memory back once each answer is sent and the app is done.
        assert _eventually(lambda: _memory(server.pid)["VmRSS"] - baseline < 32 * 2**20)
        assert _memory(server.pid)["VmHWM"] < 1024 * 2**20  # the worker's documented ceiling
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False
