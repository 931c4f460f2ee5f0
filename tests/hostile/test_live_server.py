"""The limits through a real server and socket: what uvicorn does with what we answer."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from app.main import app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield sock.getsockname()
    srv.should_exit = True
    thread.join(10)
    sock.close()


def _read_response(conn: socket.socket, timeout: float = 5.0) -> bytes:
    data = b""
    conn.settimeout(timeout)
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def test_a_declared_50mb_body_is_answered_before_it_is_sent(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as conn:
        conn.sendall(
            b"POST /api/conv2d HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n"
        )
        # Not a byte of the body sent: the answer comes anyway, and the server hangs up.
        response = _read_response(conn)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in head.lower()
    assert b'"type":"body_too_large"' in body


def test_a_chunked_50mb_upload_is_cut_off_near_the_limit(server: tuple[str, int]) -> None:
    piece = b"\x00" * 65536
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    response = b""
    with socket.create_connection(server) as conn:
        conn.sendall(
            b"POST /api/images HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n"
        )
        head = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        conn.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
        try:
            while sent < 50_000_000:
                readable, _, _ = select.select([conn], [], [], 0)
                if readable:
                    break  # the server answered: stop sending
                conn.sendall(frame)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = _read_response(conn)
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]
    assert b"the upload is larger than 10 MiB" in response
    # The server stopped reading at its 10 MiB limit, plus what the sockets buffered.
    assert sent < 30_000_000


def test_the_server_keeps_serving_after_hostile_requests(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response = _read_response(conn)
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b'{"status":"ok"}')
