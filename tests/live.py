"""A real Redis for the live-room tests, and app servers joined by it (fixtures).

Imported by tests/rooms/conftest.py and tests/browser/test_rooms.py.

``scripts/test`` starts Debian's redis-server on a free loopback port and exports
``CONVVIZ_TEST_REDIS_URL``; run alone (``python -m pytest tests/rooms``), the tests
start one themselves from /usr/bin/redis-server. The broker tests use database 0
(flushed by each), the app processes database 1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("CONVVIZ_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: run bash scripts/test, which installs it"
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="convviz-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """The app under uvicorn on a free loopback port, with ``env`` added."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"uvicorn did not start:\n{err}") from None
            time.sleep(0.1)


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr:
        proc.stderr.close()


@pytest.fixture(scope="package")
def two_servers(redis_url: str) -> Iterator[tuple[str, str]]:
    """Two app processes on loopback, joined by the test Redis (database 1)."""
    url = redis_url.rsplit("/", 1)[0] + "/1"
    started = [start_app({"CONVVIZ_REDIS_URL": url}) for _ in range(2)]
    try:
        yield started[0][1], started[1][1]
    finally:
        for proc, _ in started:
            stop_app(proc)
