"""API throughput against a bare endpoint, and a large tensor's server time against the engine's.

Not a test: a measurement to read. It starts one uvicorn worker on a free port of
127.0.0.1 (the production command's server and defaults, one process) serving a
small ASGI app made here: the real ``app.main.app`` behind a path test, and an
async FastAPI route that takes a JSON object and returns ``{"ok": true}``, twice:

- ``POST /bench/bare`` in a FastAPI app of its own beside ours: only uvicorn and
  FastAPI, none of our middleware (the baseline the issue names);
- ``POST /api/bench/bare`` added to our app object in the server process:
  through our middleware and a compute slot, exactly like ``/api/conv2d``, so the
  gap to it is what the conv route itself costs.

Both exist only in this script's server; production has no benchmark route.

1. Throughput. A fixed number of requests per round from an asyncio client
   (``--concurrency`` keep-alive connections, one request in flight on each: at
   most the compute slots plus their queue, so nothing gets 503), rounds
   alternating between the endpoints so that a change in the machine's load hits
   them alike. The client is a minimal HTTP/1.1 one (:class:`_Connection`):
   httpx's own CPU cost capped the bare endpoint. The table gives each endpoint's
   median requests/s and its share of each bare one's (target: a lecture-size
   request at least 60%). The lecture-size requests are the two the page sends
   most, as it sends them: the padding slide (5x5, 3x3 kernel, padding 1, stride
   2) and the 9x9 X glyph with the lecture's three filters (mean), each answered
   with its ``geometry`` and no trace, ``?encoding=base64`` (issue 10: the page
   derives every step); the X glyph with the full trace (``"trace": true``, JSON,
   as API users may ask) is measured beside them for comparison. Each
   is measured twice: *repeated* (the same body every time, as a class on one
   slide sends it: answered from ``app.middleware.response_cache`` after the
   first) and with a *new input* every time (one cell changed by 1e-6 x k, never
   repeated in the run: parsed, computed and serialised every time).
2. A 512x512 RGB image with 16 filters 3x3 (padding 1) through ``POST
   /api/conv2d``: base64 in and ``?encoding=base64`` out, then nested lists both
   ways, on a blocking socket (bodies of megabytes: never looked up in the answer
   cache). The server time comes from a Server-Timing header the benchmark's
   dispatcher adds: from the request's start to the answer's start, which the app
   sends only once the body is read, parsed and validated, the convolution done
   and the whole answer rendered (the bytes' travel is left out); the engine time
   is ``app.engine.conv.conv2d`` on the same tensors in this process, timed in
   turn with the requests. The client's round trip on loopback (body sent, answer
   read, not parsed) is shown beside it. Target: server time at most 2x the engine.

The client runs on the same 2 cores as the server, so absolute figures are lower
than with a separate load generator; the ratios are what to read.

    python benchmarks/api.py [--requests 1000] [--rounds 5] [--concurrency 8]

It takes about two minutes on 2 cores, and stops the server it started.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.api import limits  # noqa: E402
from app.engine import conv  # noqa: E402
from app.presets import x_glyph  # noqa: E402

LECTURE_SHARE = 0.60  # lecture-size throughput / bare throughput, at least (issue 6)
SERVER_OVER_ENGINE = 2.0  # 512x512 RGB, 16 filters: server time / engine time, at most

PADDING_SLIDE = {
    "input": [[2, 2, 3, 3, 3], [0, 1, 3, 0, 3], [2, 3, 0, 1, 3], [3, 3, 2, 1, 2], [3, 3, 0, 2, 3]],
    "weight": [[2, 0, 1], [1, 0, 0], [0, 1, 1]],
    "padding": 1,
    "stride": 2,
}
X_FILTERS = [
    [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
    [[1, -1, 1], [-1, 1, -1], [1, -1, 1]],
    [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]],
]
X_GLYPH = {
    "input": x_glyph(),
    "weight": [[f] for f in X_FILTERS],
    "reduce": "mean",
}
BARE_BODY = {"ok": True}
LECTURE = ("padding slide 5x5", "X glyph 9x9, 3 filters")
PAGE = "/api/conv2d?encoding=base64"  # the page's request: geometry, no trace, base64 out


def bench_app() -> Any:
    """Our app plus the bare endpoints; built in the server process only."""
    from fastapi import FastAPI

    from app.main import app

    async def bare(body: dict[str, Any]) -> dict[str, bool]:
        # Async: no thread pool hand-off, the cheapest JSON route FastAPI has (our conv
        # routes compute lecture-size requests inline too, see app.api.offload).
        return {"ok": True}

    # The same route inside our app object of this process (production's app.main
    # defines no such route): through our middleware and a compute slot, like
    # /api/conv2d, so it shows what a route's own work costs.
    app.add_api_route("/api/bench/bare", bare, methods=["POST"], include_in_schema=False)
    alone = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    alone.add_api_route("/bench/bare", bare, methods=["POST"])

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        # A path test in front, not a mount: our app sees its requests as in production.
        target = alone if scope.get("path") == "/bench/bare" else app
        start = time.perf_counter()

        async def send_timed(message: Any) -> None:
            # The app's time up to its answer (body read, computed, rendered), before
            # the answer travels: the client's round trip minus this is transfer.
            if message["type"] == "http.response.start":
                spent = f"app;dur={(time.perf_counter() - start) * 1e3:.2f}".encode()
                message["headers"] = [*message.get("headers", []), (b"server-timing", spent)]
            await send(message)

        await target(scope, receive, send_timed)

    return dispatch


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(bench_app(), host="127.0.0.1", port=port)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("the server exited at start") from None
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not answer /healthz within 30 s")


# --------------------------------------------------------------------------- throughput


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends prepared requests and reads replies.

    A client this small because httpx spent about 0.6 ms of CPU per request here:
    on 2 cores shared with the server it capped the bare endpoint near 300 req/s
    and hid the server's own cost. This one spends about 0.1 ms. It reads only what
    our server sends: a status line, headers with a content-length, the body.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> _Connection:
        host, port = url.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; the response's status code and body."""
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in header_lines if line)
        body = await self.reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1]), body

    def close(self) -> None:
        self.writer.close()


def request_bytes(url: str, method: str, path: str, body: bytes | None) -> bytes:
    host = url.removeprefix("http://")
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}"]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _round(
    connections: list[_Connection], requests: list[bytes], count: int
) -> tuple[float, dict[int, int]]:
    """``count`` requests over the connections (one in flight on each), taken in turn
    from ``requests``; req/s and statuses."""
    statuses: dict[int, int] = {}
    sent = 0

    async def worker(connection: _Connection) -> None:
        nonlocal sent
        while sent < count:
            request = requests[sent % len(requests)]
            sent += 1
            status, _ = await connection.send(request)
            statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    return count / (time.perf_counter() - start), statuses


def _new_inputs(body: dict[str, Any], first: int, count: int) -> list[bytes]:
    """``count`` copies of ``body`` whose input's first cell differs in each (by 1e-6 x k):
    the same work, but no two alike, so none is answered from the answer cache."""
    import orjson

    bodies = []
    for k in range(first, first + count):
        rows = [list(row) for row in body["input"]]
        rows[0][0] = rows[0][0] + k * 1e-6
        bodies.append(orjson.dumps({**body, "input": rows}))
    return bodies


async def throughput(
    url: str, requests: int, rounds: int, at_once: int
) -> list[tuple[str, float, dict[int, int]]]:
    import orjson

    def same(body: Any) -> Any:
        return lambda _first, _count: [orjson.dumps(body)]

    def new(body: dict[str, Any]) -> Any:
        return lambda first, count: _new_inputs(body, first, count)

    none = lambda _first, _count: [None]  # noqa: E731
    endpoints = [
        ("bare, beside our app", "POST", "/bench/bare", same(BARE_BODY)),
        ("bare, in our app: /api/bench/bare", "POST", "/api/bench/bare", same(BARE_BODY)),
        ("GET /healthz", "GET", "/healthz", none),
        (f"{LECTURE[0]}, repeated", "POST", PAGE, same(PADDING_SLIDE)),
        (f"{LECTURE[0]}, new input", "POST", PAGE, new(PADDING_SLIDE)),
        (f"{LECTURE[1]}, repeated", "POST", PAGE, same(X_GLYPH)),
        (f"{LECTURE[1]}, new input", "POST", PAGE, new(X_GLYPH)),
        # For comparison: the full per-step trace (API users' oracle), as JSON.
        (f"{LECTURE[1]}, full trace, new", "POST", "/api/conv2d", new({**X_GLYPH, "trace": True})),
    ]

    def prepare(first: int, count: int) -> list[tuple[str, list[bytes]]]:
        return [
            (name, [request_bytes(url, method, path, b) for b in bodies(first, count)])
            for name, method, path, bodies in endpoints
        ]

    names = [name for name, *_ in endpoints]
    rates: dict[str, list[float]] = {name: [] for name in names}
    statuses: dict[str, dict[int, int]] = {name: {} for name in names}
    connections = [await _Connection.open(url) for _ in range(at_once)]
    try:
        warm = 4 * at_once
        for _name, prepared in prepare(0, warm):  # warm-up: imports, caches, the thread pool
            await _round(connections, prepared, warm)
        for r in range(rounds):
            rounds_requests = prepare(warm + r * requests, requests)  # new inputs never repeat
            for name, prepared in rounds_requests if r % 2 == 0 else rounds_requests[::-1]:
                rate, seen = await _round(connections, prepared, requests)
                rates[name].append(rate)
                for status, n in seen.items():
                    statuses[name][status] = statuses[name].get(status, 0) + n
    finally:
        for connection in connections:
            connection.close()
    return [(name, statistics.median(rates[name]), statuses[name]) for name in names]


# --------------------------------------------------------------------------- large tensors


def _compact(array: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {
        "dtype": "float32",
        "shape": list(data.shape),
        "base64": base64.b64encode(data).decode(),
    }


def _median_ms(f: Any, repeats: int) -> float:
    f()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


class _BlockingConnection:
    """A keep-alive connection on a blocking socket, reading a body into one buffer.

    For the 21 MiB answers: asyncio's stream reader (and httpx) spent more time
    taking the bytes in than the server spent computing them.
    """

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.socket = socket.create_connection((host, int(port)))
        self.headers: dict[str, str] = {}

    def send(self, request: bytes) -> tuple[int, bytes]:
        self.socket.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            received += self.socket.recv(1 << 16)
        head, rest = received.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.headers = dict(line.lower().split(": ", 1) for line in header_lines if line)
        body = bytearray(int(self.headers["content-length"]))
        view = memoryview(body)
        view[: len(rest)] = rest
        got = len(rest)
        while got < len(body):
            got += self.socket.recv_into(view[got:])
        return int(status_line.split()[1]), bytes(body)

    def app_ms(self) -> float:
        return float(self.headers["server-timing"].split("dur=")[1])

    def close(self) -> None:
        self.socket.close()


def large(url: str, repeats: int) -> list[tuple[str, float, int, int]]:
    import orjson

    rng = np.random.default_rng(0)
    x = rng.random((3, 512, 512), dtype=np.float32)  # an RGB image scaled to 0..1
    w = rng.standard_normal((16, 3, 3, 3), dtype=np.float32)
    b = rng.standard_normal(16, dtype=np.float32)
    fields = {"bias": b.tolist(), "padding": 1, "trace": False}
    compact_body = orjson.dumps({"input": _compact(x), "weight": _compact(w), **fields})
    lists_body = orjson.dumps({"input": x.tolist(), "weight": w.tolist(), **fields})
    compact_request = request_bytes(url, "POST", "/api/conv2d?encoding=base64", compact_body)
    lists_request = request_bytes(url, "POST", "/api/conv2d", lists_body)
    expected = conv.conv2d(x, w, b, padding=1)
    connection = _BlockingConnection(url)
    sizes: dict[bytes, int] = {}

    def post(request: bytes) -> bytes:
        status, body = connection.send(request)
        if status != 200:
            raise SystemExit(f"{status} {body[:300]!r}")
        sizes[request] = len(body)
        return body

    def timed(request: bytes, app_times: list[float]) -> float:
        start = time.perf_counter()
        post(request)
        app_times.append(connection.app_ms() / 1e3)
        return time.perf_counter() - start

    def engine() -> float:
        start = time.perf_counter()
        conv.conv2d(x, w, b, padding=1)
        return time.perf_counter() - start

    try:
        # Both encodings must bring back the engine's numbers.
        got = orjson.loads(post(compact_request))["output"]
        out = np.frombuffer(base64.b64decode(got["base64"]), "<f4").reshape(got["shape"])
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
        lists_out = np.array(orjson.loads(post(lists_request))["output"], np.float32)
        np.testing.assert_allclose(lists_out, expected, rtol=1e-5, atol=1e-4)
        engine_times: list[float] = []
        compact_times: list[float] = []
        lists_times: list[float] = []
        compact_app: list[float] = []
        lists_app: list[float] = []
        for r in range(repeats):  # interleaved, so a change of load hits all three
            engine_times.append(engine())
            compact_times.append(timed(compact_request, compact_app))
            if r % 3 == 0:
                lists_times.append(timed(lists_request, lists_app))
    finally:
        connection.close()
    ms = [
        statistics.median(t) * 1e3
        for t in (engine_times, compact_times, compact_app, lists_times, lists_app)
    ]
    return [
        ("engine: conv2d in-process", ms[0], 0, 0),
        ("base64: round trip", ms[1], len(compact_body), sizes[compact_request]),
        ("base64: app (read, compute, render)", ms[2], 0, 0),
        ("nested lists: round trip", ms[3], len(lists_body), sizes[lists_request]),
        ("nested lists: app", ms[4], 0, 0),
    ]


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9, help="large requests (base64)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    most = limits.COMPUTE_SLOTS + limits.COMPUTE_QUEUE
    if args.concurrency > most:
        raise SystemExit(f"--concurrency over {most} (compute slots + queue) would measure 503s")

    proc, url = start_server()
    try:
        print(f"server: one uvicorn worker on {url}; client: {args.concurrency} connections")
        print(f"{args.rounds} rounds x {args.requests} requests per endpoint, interleaved\n")
        rows = asyncio.run(throughput(url, args.requests, args.rounds, args.concurrency))
        beside, inside = rows[0][1], rows[1][1]
        print(f"{'endpoint':43} {'req/s':>7} {'of bare':>8} {'of bare in app':>15}  statuses")
        print("-" * 93)
        for name, rate, statuses in rows:
            codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
            print(f"{name:43} {rate:7.0f} {rate / beside:8.0%} {rate / inside:15.0%}  {codes}")
        for kind in ("repeated", "new input"):
            lecture = min(rate for name, rate, _ in rows if name.endswith(kind))
            for what, bare in (("bare beside our app", beside), ("bare in our app", inside)):
                verdict = "met" if lecture / bare >= LECTURE_SHARE else "MISSED"
                print(
                    f"target: lecture-size ({kind}) >= {LECTURE_SHARE:.0%} of {what}:"
                    f" {verdict} ({lecture / bare:.0%})"
                )
        print()

        print("512x512 RGB, 16 filters 3x3, padding 1 (medians, ms)")
        print(f"{'what':36} {'ms':>8} {'x engine':>9} {'request':>9} {'response':>9}")
        print("-" * 75)
        rows_large = large(url, args.repeats)
        engine = rows_large[0][1]
        for name, ms, sent, received in rows_large:
            print(f"{name:36} {ms:8.1f} {ms / engine:9.1f} {_mib(sent):>9} {_mib(received):>9}")
        ratio = rows_large[2][1] / engine  # the app's time: the server's share of the trip
        verdict = "met" if ratio <= SERVER_OVER_ENGINE else "MISSED"
        target = f"base64 server time <= {SERVER_OVER_ENGINE:g}x engine"
        print(f"target: {target}: {verdict} ({ratio:.1f}x)")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
