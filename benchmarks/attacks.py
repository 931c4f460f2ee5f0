"""The hostile clients of issue 11, for ``benchmarks/load.py --attack``.

Each attack is a loop in its own threads with blocking sockets (they wait on the
server, not on this process's CPU), run until ``stop`` is set, counting the answers
it got. :class:`HealthProbe` asks ``/healthz`` every 50 ms on a fresh connection and
keeps the worst latency (a failure counts as the time until it failed, and is
counted). Only the server on ``address`` (127.0.0.1) is ever contacted.
"""

from __future__ import annotations

import base64
import io
import json
import multiprocessing
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

Address = tuple[str, int]


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str) -> None:
        with self.lock:
            self.statuses[what] += 1


def _status(answer: bytes) -> str:
    return answer[9:12].decode(errors="replace") if answer.startswith(b"HTTP/1.1 ") else "none"


def _request(method: str, path: str, body: bytes = b"", kind: str = "application/json") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def _exchange(address: Address, data: bytes, timeout: float = 60.0, read: bool = True) -> bytes:
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(data)
        answer = b""
        while read and (chunk := conn.recv(1 << 16)):
            answer += chunk
            if len(answer) > 1 << 20:  # enough to read the status; the rest is not kept
                break
        return answer


def _zeros(*shape: int) -> dict[str, object]:
    raw = bytes(4 * int(np.prod(shape)))
    return {"dtype": "float32", "shape": list(shape), "base64": base64.b64encode(raw).decode()}


# --- the attacks ---------------------------------------------------------------------


def key_bombs(address: Address, stop: threading.Event, tally: Tally) -> None:
    """A JSON body of 300,000 unknown keys (3.5 MB) to /api/conv2d, again and again."""
    body = json.dumps({"input": [[1]], "weight": [[1]], **{f"k{i}": 1 for i in range(300_000)}})
    data = _request("POST", "/api/conv2d", body.encode())
    while not stop.is_set():
        try:
            tally.add(_status(_exchange(address, data)))
        except OSError as exc:
            tally.add(type(exc).__name__)


def largest_backprop(address: Address, stop: threading.Event, tally: Tally) -> None:
    """The largest /api/backprop accepted before the memory budget, as base64."""
    body = {
        "input": _zeros(3, 1024, 1024),
        "weight": _zeros(16, 3, 3, 3),
        "padding": 1,
        "activation": {"function": "relu"},
        "pool": {"kind": "max", "kernel_size": 2},
        "trace": False,
    }
    data = _request("POST", "/api/backprop?encoding=base64", json.dumps(body).encode())
    while not stop.is_set():
        try:
            tally.add(_status(_exchange(address, data)))
        except OSError as exc:
            tally.add(type(exc).__name__)


def unread_answers(address: Address, stop: threading.Event, tally: Tally) -> None:
    """8 clients asking for a 21 MiB answer each and never reading it."""
    body = {"input": _zeros(1, 512, 512), "weight": _zeros(16, 1, 3, 3), "padding": 1}
    data = _request(
        "POST", "/api/conv2d?encoding=base64", json.dumps(body | {"trace": False}).encode()
    )
    conns: list[socket.socket] = []
    while not stop.is_set():
        conns = [c for c in conns if c.fileno() >= 0]
        while len(conns) < 8:
            conn = socket.create_connection(address)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.sendall(data)
            conn.settimeout(30)
            try:
                tally.add(_status(conn.recv(12)))
            except OSError as exc:
                tally.add(type(exc).__name__)
            conns.append(conn)
        stop.wait(1.0)
    for conn in conns:
        conn.close()


def long_headers(address: Address, stop: threading.Event, tally: Tally) -> None:
    """8 connections each sending an unfinished 100 MB header line."""

    def one() -> None:
        piece = b"a" * 65536
        while not stop.is_set():
            try:
                with socket.create_connection(address, timeout=30) as conn:
                    conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ")
                    for _ in range(100_000_000 // len(piece)):
                        if stop.is_set():
                            return
                        conn.sendall(piece)
                    tally.add("sent 100 MB")
            except OSError as exc:
                tally.add(type(exc).__name__)  # closed by the server: what we expect

    threads = [threading.Thread(target=one, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def idle_sockets(address: Address, stop: threading.Event, tally: Tally, count: int = 5000) -> None:
    """``count`` connections that send nothing, reopened as the server closes them."""
    conns: list[socket.socket] = []
    while not stop.is_set():
        alive = []
        for conn in conns:
            try:
                conn.setblocking(False)
                if conn.recv(1) == b"":
                    tally.add("closed by the server")
                    conn.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                tally.add("closed by the server")
                conn.close()
                continue
            alive.append(conn)
        conns = alive
        while len(conns) < count and not stop.is_set():
            try:
                conns.append(socket.create_connection(address, timeout=5))
            except OSError as exc:
                tally.add(type(exc).__name__)
                break
        stop.wait(0.5)
    for conn in conns:
        conn.close()


def trickled_uploads(address: Address, stop: threading.Event, tally: Tally) -> None:
    """2 uploads sending their body a byte every second."""

    def one() -> None:
        while not stop.is_set():
            try:
                with socket.create_connection(address, timeout=60) as conn:
                    conn.sendall(
                        b"POST /api/images HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                        b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
                    )
                    while not stop.wait(1.0):
                        conn.sendall(b"x")
            except OSError as exc:
                tally.add(type(exc).__name__)  # dropped by the body time limit

    threads = [threading.Thread(target=one, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def unread_streams(address: Address, stop: threading.Event, tally: Tally) -> None:
    """4 paced descent streams opened and never read."""
    body = {
        "inputs": [[[1.0, 0.0], [0.0, 1.0]]],
        "weight": [[0.5]],
        "loss": "sum",
        "lr": 0.01,
        "max_iterations": 1000,
        "delay_ms": 100,
    }
    data = _request("POST", "/api/descent/stream", json.dumps(body).encode())
    conns = []
    for _ in range(4):
        conn = socket.create_connection(address)
        conn.sendall(data)
        conn.settimeout(30)
        try:
            tally.add(_status(conn.recv(12)))
        except OSError as exc:
            tally.add(type(exc).__name__)
        conns.append(conn)
    stop.wait()
    for conn in conns:
        conn.close()


def stream_burst(address: Address, stop: threading.Event, tally: Tally) -> None:
    """16 training streams started at the same instant, every 5 s; an answer that is a
    200 carrying an error event is counted as such."""
    body = json.dumps({"epochs": 3, "samples": 128, "validation_samples": 32}).encode()
    data = _request("POST", "/api/xo/train", body)

    def one(barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            answer = _exchange(address, data)
        except OSError as exc:
            tally.add(type(exc).__name__)
            return
        status = _status(answer)
        tally.add(status + (" with an error event" if b"event: error" in answer else ""))

    while not stop.is_set():
        barrier = threading.Barrier(16)
        threads = [threading.Thread(target=one, args=(barrier,), daemon=True) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.wait(5.0)


def odd_requests(address: Address, stop: threading.Event, tally: Tally) -> None:
    """Overflowing inputs, a 1024x1024 kernel, a photo with EXIF orientation 6, HEAD,
    a link with k=__proto__ and a parameter given twice, round and round."""
    overflow = json.dumps({"input": [[3e38, 3e38], [3e38, 3e38]], "weight": [[1.0, 1.0]] * 2})
    kernel = json.dumps({"input": _zeros(1, 1024, 1024), "weight": _zeros(1024, 1024)})
    upright = np.zeros((60, 40), np.uint8)
    upright[30:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(upright).rotate(90, expand=True).save(buffer, "JPEG", exif=exif)
    form = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + buffer.getvalue() + b"\r\n--b--\r\n"
    )
    requests = {
        "overflow": _request("POST", "/api/conv2d", overflow.encode()),
        "kernel 1024": _request("POST", "/api/conv2d", kernel.encode()),
        "exif photo": _request("POST", "/api/images", form, "multipart/form-data; boundary=b"),
        "HEAD /": _request("HEAD", "/"),
        "k=__proto__": _request("GET", "/?k=__proto__&lang=en&lang=ru"),
    }
    while not stop.is_set():
        for name, data in requests.items():
            try:
                tally.add(f"{name}: {_status(_exchange(address, data))}")
            except OSError as exc:
                tally.add(f"{name}: {type(exc).__name__}")
        stop.wait(0.5)


ATTACKS: dict[str, Callable[[Address, threading.Event, Tally], None]] = {
    "300,000-key bodies": key_bombs,
    "largest backprop": largest_backprop,
    "unread large answers": unread_answers,
    "100 MB header lines": long_headers,
    "5,000 idle sockets": idle_sockets,
    "trickled uploads": trickled_uploads,
    "unread descent streams": unread_streams,
    "16 streams at once": stream_burst,
    "overflow, kernel, EXIF, HEAD, URL": odd_requests,
}


class HealthProbe(threading.Thread):
    """``/healthz`` every 50 ms on a fresh connection; the worst latency and failures."""

    def __init__(self, address: Address) -> None:
        super().__init__(daemon=True)
        self.address = address
        self.stop = threading.Event()
        self.worst = 0.0
        self.failures = 0
        self.count = 0

    def run(self) -> None:
        data = _request("GET", "/healthz")
        while not self.stop.wait(0.05):
            start = time.perf_counter()
            try:
                ok = _status(_exchange(self.address, data, timeout=10)) == "200"
            except OSError:
                ok = False
            self.worst = max(self.worst, time.perf_counter() - start)
            self.count += 1
            self.failures += not ok


class Attack:
    """Runs some of ``ATTACKS`` in threads until :meth:`finish`."""

    def __init__(self, address: Address, names: list[str]) -> None:
        self.stop = threading.Event()
        self.tallies = {name: Tally() for name in names}
        self.threads = [
            threading.Thread(
                target=ATTACKS[name], args=(address, self.stop, self.tallies[name]), daemon=True
            )
            for name in names
        ]
        for t in self.threads:
            t.start()

    def finish(self) -> dict[str, dict[str, int]]:
        self.stop.set()
        for t in self.threads:
            t.join(60)
        return {name: dict(tally.statuses) for name, tally in self.tallies.items()}


@dataclass
class Outcome:
    """What one run of attacks saw: each attack's answers and ``/healthz``'s worst."""

    tallies: dict[str, dict[str, int]]
    health_worst: float
    health_failures: int
    health_count: int


def _run(address: Address, names: list[str], stop: Any, queue: Any) -> None:
    probe = HealthProbe(address)
    probe.start()
    attack = Attack(address, names)
    stop.wait()
    tallies = attack.finish()
    probe.stop.set()
    probe.join(15)
    queue.put(Outcome(tallies, probe.worst, probe.failures, probe.count))


class AttackProcess:
    """The attacks and the probe in a process of their own: their threads must not take
    the interpreter lock from the students' event loop in the load generator."""

    def __init__(self, address: Address, names: list[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.queue = context.Queue()
        self.process = context.Process(
            target=_run, args=(address, names, self.stop, self.queue), daemon=True
        )
        self.process.start()

    def finish(self) -> Outcome:
        self.stop.set()
        outcome: Outcome = self.queue.get(timeout=180)
        self.process.join(30)
        return outcome
