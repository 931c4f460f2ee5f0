"""Slow, idle and greedy sockets against the server ``python -m app`` runs (app/server.py).

Each test runs a real uvicorn with the guarded protocol in a thread, with its time
limits made short, and checks what the server does to the hostile sockets (status,
closing, how much it read) and that ``/healthz`` answers while they are open. No
test asserts how long anything took.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from app.api import limits
from tests.hostile.live import closed_by_server, get, guarded_server, read_all


@pytest.fixture
def short_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "HEAD_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(limits, "WRITE_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(limits, "MAX_CONNECTIONS", 40)


@pytest.fixture
def server(short_limits: None) -> Iterator[tuple[str, int]]:
    with guarded_server() as address:
        yield address


def _healthy(address: tuple[str, int]) -> bool:
    return get(address, "/healthz").startswith(b"HTTP/1.1 200 ")


def test_unfinished_100mb_header_lines_get_431_after_the_head_limit(
    server: tuple[str, int],
) -> None:
    conns, sent = [], []
    piece = b"a" * 65536
    for _ in range(8):
        conn = socket.create_connection(server)
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: ")
        total = 0
        try:
            while total < 100_000_000:
                conn.sendall(piece)
                total += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        conns.append(conn)
        sent.append(total)
    assert _healthy(server)
    for conn in conns:
        answer = read_all(conn)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
        assert b'"type":"head_too_large"' in answer
        conn.close()
    # The server stopped reading at its 256 KiB limit; what was sent beyond sat in the
    # sockets' buffers, never in the worker.
    assert all(total < 30_000_000 for total in sent)


def test_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_head_time_limit(
    server: tuple[str, int],
) -> None:
    with socket.create_connection(server) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed = False
        for _ in range(200):  # a header byte every 0.05 s, never finishing
            try:
                conn.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if closed_by_server(conn, 0.05):
                closed = True
                break
        assert closed


def test_connections_that_send_nothing_are_closed_and_do_not_lock_others_out(
    server: tuple[str, int],
) -> None:
    idle = [socket.create_connection(server) for _ in range(3 * limits.MAX_CONNECTIONS)]
    try:
        # Past the connection limit the longest idle ones were closed to make room.
        assert _healthy(server)
        closed = sum(closed_by_server(conn, 0.01) for conn in idle[: limits.MAX_CONNECTIONS])
        assert closed == limits.MAX_CONNECTIONS
        # And the rest are closed at the head time limit.
        assert all(closed_by_server(conn, 10) for conn in idle[-5:])
        assert _healthy(server)
    finally:
        for conn in idle:
            conn.close()


def test_a_keep_alive_connection_serves_requests_and_is_then_closed_when_idle(
    server: tuple[str, int],
) -> None:
    with socket.create_connection(server) as conn:
        for _ in range(3):
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            conn.settimeout(10)
            assert conn.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert closed_by_server(conn, 10)


def test_a_flood_of_silent_sockets_closes_them_before_a_kept_alive_connection(
    server: tuple[str, int],
) -> None:
    with socket.create_connection(server) as kept:
        kept.settimeout(10)
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")
        flood = [socket.create_connection(server) for _ in range(3 * limits.MAX_CONNECTIONS)]
        try:
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")
            # The oldest silent sockets made room, not the connection in use.
            assert all(closed_by_server(c, 0.01) for c in flood[: limits.MAX_CONNECTIONS])
        finally:
            for conn in flood:
                conn.close()
