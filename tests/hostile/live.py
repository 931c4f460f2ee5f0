"""A real server (uvicorn with app.server's protocol) in a thread, and raw sockets to it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from app.main import app
from app.server import GuardedHttpToolsProtocol


class Live(tuple):  # type: ignore[type-arg]
    """The server's address, usable wherever an address is, and the server itself."""

    server: uvicorn.Server

    def connections(self) -> int:
        """Connections the server holds open now."""
        return len(self.server.server_state.connections)


@contextmanager
def guarded_server(**config: Any) -> Iterator[Live]:
    """The app behind ``python -m app``'s protocol, on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    settings: dict[str, Any] = {
        "log_level": "warning",
        "lifespan": "off",
        "ws": "none",
        "http": GuardedHttpToolsProtocol,
        "timeout_keep_alive": 5,
    }
    settings.update(config)
    srv = uvicorn.Server(uvicorn.Config(app, **settings))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    live = Live(sock.getsockname())
    live.server = srv
    try:
        yield live
    finally:
        srv.should_exit = True
        thread.join(30)
        sock.close()


def read_all(conn: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes (or ``timeout`` s of silence)."""
    data = b""
    conn.settimeout(timeout)
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def get(address: tuple[str, int], path: str, timeout: float = 10.0) -> bytes:
    """A whole GET on a fresh connection."""
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return read_all(conn, timeout)


def closed_by_server(conn: socket.socket, timeout: float) -> bool:
    """Whether the server closes ``conn`` within ``timeout`` s (reading what it sends)."""
    conn.settimeout(timeout)
    try:
        while conn.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
