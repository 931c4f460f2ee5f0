"""A class arrives: 300 clients within 10 s against a local server, mixing page loads,
lecture-size computations and image uploads.

Not a test: a measurement to read. It starts the production command itself
(``python -m app``, one worker per core, as ``docs/DEPLOY.md`` runs it) on a free
port of 127.0.0.1, and only ever talks to that server. Each client, like a student opening
the page, loads it (the HTML, its stylesheet, every ES module, the strings and the
presets), then clicks through the lecture's worked examples (``conv2d`` and
``max_pool2d`` requests as ``/api/presets`` lists them, plus the X/O network's
three filters with their backward pass) and uploads a picture (one in three a
512x512 photo, the others a small drawing), with a short pause between clicks.

It prints latency percentiles per kind of request, the status counts, transport
errors and the peak memory of the server's processes, and exits 1 unless every
answer was a 200, a 4xx or a 503 (the server's "busy, retry") and no request failed
outright.

With ``--attack``, the hostile clients of issue 11 (``benchmarks/attacks.py``) run
against the same server while the class arrives, and ``/healthz`` is asked every
50 ms; then each attack runs alone for ``--phase`` seconds. It passes when every
student got a 200 with a p99 under 2 s and no worker's peak memory went over its
limit (``--worker-limit``, docs/DEPLOY.md's pod limit per worker); it prints the
peak RSS per worker, the students' p99 and ``/healthz``'s worst latency during the
whole mix and during each attack alone.

    python benchmarks/load.py [--clients 300] [--arrival 10] [--workers N] [--static proxy]
    python benchmarks/load.py --attack [--phase 10]

Everything is bounded: a fixed number of requests per client, a timeout per
request and a deadline for the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never anything else: this script loads only the server it starts
# Unused over plain HTTP, but a client builds one by default, reading the CA bundle:
# 0.1 s of this process's CPU per client, which would stall every other client.
TLS = ssl.create_default_context()


def server_command(port: int, workers: int) -> list[str]:
    """The production command of docs/DEPLOY.md, on loopback."""
    return [
        sys.executable,
        "-m",
        "app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
    ]


# --- the server and its memory ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemoryWatch(threading.Thread):
    """Samples the summed RSS of the server's processes every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.stop = threading.Event()
        self.pids: set[int] = {pid}

    def run(self) -> None:
        while not self.stop.wait(0.05):
            pids = [self.pid, *_children(self.pid)]
            self.pids.update(pids)
            self.peak_kib = max(self.peak_kib, sum(_status_kib(p, "VmRSS") for p in pids))

    def cpu(self) -> float:
        """CPU seconds the server's processes have used so far."""
        return sum(cpu_seconds(p) for p in [self.pid, *_children(self.pid)])

    def peaks_per_process(self) -> dict[int, int]:
        """Each process's own peak (VmHWM), while it still runs."""
        return {p: _status_kib(p, "VmHWM") for p in sorted(self.pids)}


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        server_command(port, workers), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200:
                # Every worker must be up, not only the first to answer.
                if workers == 1 or len(_children(proc.pid)) >= workers:
                    return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "the server exited")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start within 60 s")


# --- what a student's browser sends ----------------------------------------------


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _photo() -> bytes:
    """A 512x512 RGB JPEG with structure and noise, like a phone photo scaled down."""
    y, x = np.mgrid[0:512, 0:512]
    rgb = np.stack([x / 2, y / 2, (x + y) / 4], axis=-1)
    rgb += np.random.default_rng(0).normal(0, 20, rgb.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Workload:
    static: list[str]
    computations: list[tuple[str, dict[str, Any]]]
    photo: bytes
    drawing: bytes


def workload(presets: dict[str, Any]) -> Workload:
    static = ["/static/css/app.css", "/static/favicon.svg", "/static/locales/en.json"]
    js = ROOT / "static/js"
    static += [f"/static/js/{p.relative_to(js).as_posix()}" for p in sorted(js.rglob("*.js"))]
    computations: list[tuple[str, dict[str, Any]]] = []
    for example in presets["examples"]:
        previous: dict[str, Any] | None = None
        for step in example["steps"]:
            request = dict(step["request"])
            if "input_from" in step and previous is not None:
                request["input"] = previous["input"]  # a stand-in of the right kind
            if step["operation"] in ("conv2d", "max_pool2d", "avg_pool2d"):
                computations.append((f"/api/{step['operation']}", request))
            previous = request
    glyphs = presets["glyphs"]
    x = glyphs["x"]["input"]
    filters = [[[1, -1, -1], [-1, 1, -1], [-1, -1, 1]], [[1, -1, 1], [-1, 1, -1], [1, -1, 1]]]
    filters.append([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]])
    computations.append(
        (
            "/api/conv2d",
            {
                "input": [x],
                "weight": [[f] for f in filters],
                "reduce": "mean",
                "grad_output": [[[0.1] * 7] * 7] * 3,
            },
        )
    )
    drawing = _png((np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8))
    return Workload(static, computations, _photo(), drawing)


# --- the clients -----------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    retry_after: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)


class _NoAnswer(Exception):
    """The connection failed before the answer's status line arrived."""

    def __init__(self, cause: httpx.TransportError) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def _fetch(client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response:
    """One request; a transport error before the answer began is raised as _NoAnswer."""
    request = client.build_request(method, path, **kw)
    try:
        response = await client.send(request, stream=True)
    except httpx.TransportError as exc:
        raise _NoAnswer(exc) from exc
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


async def _timed(results: Results, kind: str, make: Any) -> None:
    """Time one request (``make()`` sends it). Sent once more if the connection failed
    before any answer came back, as Chromium does on a kept-alive connection for any
    method (the server may close an idle connection just as a request is written);
    an error after the answer began is a failure."""
    start = time.perf_counter()
    try:
        try:
            response = await make()
        except _NoAnswer as first:
            results.retried[f"{kind}: {type(first.cause).__name__}"] += 1
            try:
                response = await make()
            except _NoAnswer as second:
                raise second.cause from None
    except httpx.HTTPError as exc:
        results.errors[f"{kind}: {type(exc).__name__}"] += 1
        return
    results.latencies[kind].append(time.perf_counter() - start)
    results.statuses[response.status_code] += 1
    if response.status_code == 503:
        results.retry_after[response.headers.get("retry-after", "missing")] += 1


async def student(
    base: str,
    arrival: float,
    load: Workload,
    results: Results,
    rng: random.Random,
    clicks: int,
    static: bool,
) -> None:
    await asyncio.sleep(arrival)
    # What a browser opens to one host; idle connections are dropped before the
    # server's 5 s keep-alive ends, or a request may race the server's close.
    limits = httpx.Limits(max_connections=6, keepalive_expiry=3)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits, verify=TLS) as client:
        lang = rng.choice(["en", "ru"])

        async def get(kind: str, path: str) -> None:
            await _timed(results, kind, partial(_fetch, client, "GET", path))

        await get("page", f"/?lang={lang}")
        if static:
            await asyncio.gather(*(get("static", p) for p in load.static))
        await get("presets", "/api/presets")
        upload_at = rng.randrange(clicks)
        for click in range(clicks):
            await asyncio.sleep(rng.uniform(0.2, 1.0))  # reading the numbers, moving the mouse
            if click == upload_at:
                photo = rng.random() < 1 / 3
                data = load.photo if photo else load.drawing
                files = {"file": ("a.jpg" if photo else "a.png", data)}
                form = {"mode": "rgb" if photo else "grey", "max_side": "64"}
                await _timed(
                    results,
                    "upload",
                    partial(_fetch, client, "POST", "/api/images", files=files, data=form),
                )
            else:
                path, body = rng.choice(load.computations)
                await _timed(results, "compute", partial(_fetch, client, "POST", path, json=body))


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.0f}"


def report(results: Results, elapsed: float, memory: MemoryWatch, args: argparse.Namespace) -> bool:
    every = [v for values in results.latencies.values() for v in values]
    print(f"\n{args.clients} clients arriving within {args.arrival:g} s, {args.clicks} clicks each")
    print(f"server: {args.workers} workers on {os.cpu_count()} cores; run took {elapsed:.1f} s")
    print(f"static files served by: {args.static}; load average before the run: {args.load}")
    print(f"\n{'kind':<10}{'requests':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind in ("page", "static", "presets", "compute", "upload"):
        values = results.latencies.get(kind, [])
        top = f"{1000 * max(values):.0f}" if values else "-"
        print(
            f"{kind:<10}{len(values):>9}{_ms(values, 0.5):>9}{_ms(values, 0.9):>9}"
            f"{_ms(values, 0.99):>9}{top:>9}"
        )
    print(
        f"{'all':<10}{len(every):>9}{_ms(every, 0.5):>9}{_ms(every, 0.9):>9}{_ms(every, 0.99):>9}"
        f"{1000 * max(every, default=0):>9.0f}"
    )
    print(f"\nthroughput: {len(every) / elapsed:.0f} requests/s")
    served = memory.cpu() - args.server_cpu_before
    own = time.process_time() - args.own_cpu_before
    print(
        f"CPU used: server {served:.1f} s ({served / elapsed:.2f} cores on average,"
        f" {len(every) / max(served, 1e-9):.0f} requests per server CPU-second);"
        f" this load generator {own:.1f} s"
    )
    print("statuses:", dict(sorted(results.statuses.items())))
    if results.retry_after:
        # "missing": uvicorn's own 503 past its concurrency backstop, which sends none.
        print("503 Retry-After:", dict(results.retry_after))
    print("transport errors:", dict(results.errors) or "none")
    if results.retried:
        print("sent again (the connection failed before any answer):", dict(results.retried))
    print(f"peak server RSS (all processes, sampled every 50 ms): {memory.peak_kib / 1024:.0f} MiB")
    peaks = ", ".join(f"{kib / 1024:.0f}" for kib in memory.peaks_per_process().values() if kib)
    print(f"peak RSS per process (VmHWM, MiB): {peaks}")
    bad = {s: n for s, n in results.statuses.items() if s >= 500 and s != 503}
    ok = not bad and not results.errors
    print("\nPASS: only 200, 4xx and 503" if ok else f"\nFAIL: {bad or dict(results.errors)}")
    return ok


async def run(args: argparse.Namespace, base: str) -> tuple[Results, float]:
    async with httpx.AsyncClient(base_url=base) as c:
        presets = (await c.get("/api/presets")).json()
    load = workload(presets)
    results = Results()
    rng = random.Random(args.seed)
    arrivals = sorted(rng.uniform(0, args.arrival) for _ in range(args.clients))
    start = time.perf_counter()
    static = args.static == "app"
    tasks = [
        student(base, t, load, results, random.Random(rng.random()), args.clicks, static)
        for t in arrivals
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.deadline)
    except TimeoutError:
        results.errors["the run's deadline"] += 1
    return results, time.perf_counter() - start


def attack_report(
    results: Results,
    memory: MemoryWatch,
    mix: Any,
    phases: list[tuple[str, Any]],
    args: argparse.Namespace,
) -> bool:
    """The attack mix's verdict: students served, workers within their memory limit."""
    every = [v for values in results.latencies.values() for v in values]
    students_p99 = float(_ms(every, 0.99)) / 1000 if every else float("inf")
    only_200 = set(results.statuses) == {200} and not results.errors
    print("\n--- the class under attack ---")
    print(f"students: {dict(sorted(results.statuses.items()))}, p99 {students_p99 * 1000:.0f} ms")
    print(
        f"/healthz during the mix: worst {mix.health_worst * 1000:.0f} ms,"
        f" {mix.health_failures} failed of {mix.health_count}"
    )
    for name, statuses in mix.tallies.items():
        print(f"  {name}: {statuses}")
    workers = {p: kib for p, kib in memory.peaks_per_process().items() if p != memory.pid}
    workers = workers or {memory.pid: _status_kib(memory.pid, "VmHWM")}
    print(
        "peak RSS per worker (VmHWM, MiB): "
        + ", ".join(f"{kib / 1024:.0f}" for kib in workers.values())
        + f" (limit {args.worker_limit} MiB)"
    )
    if phases:
        print(f"\n{'each attack alone':<36}{'/healthz worst ms':>18}{'failed':>8}  statuses")
        for name, outcome in phases:
            worst, failed = outcome.health_worst * 1000, outcome.health_failures
            print(f"{name:<36}{worst:>18.0f}{failed:>8}  {outcome.tallies[name]}")
    within = all(kib / 1024 <= args.worker_limit for kib in workers.values())
    ok = only_200 and students_p99 < 2.0 and within
    verdict = "PASS" if ok else "FAIL"
    print(
        f"\n{verdict}: students all 200: {only_200}; p99 under 2 s: {students_p99 < 2.0};"
        f" every worker within {args.worker_limit} MiB: {within}"
    )
    return ok


def attack_phases(address: tuple[str, int], seconds: float) -> list[tuple[str, Any]]:
    """Each attack alone for ``seconds``, with /healthz asked every 50 ms."""
    from attacks import ATTACKS, AttackProcess

    phases = []
    for name in ATTACKS:
        attack = AttackProcess(address, [name])
        time.sleep(seconds)
        phases.append((name, attack.finish()))
        time.sleep(1.0)  # what the attack held is given back before the next
    return phases


def main() -> int:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--arrival", type=float, default=10.0, help="seconds they arrive over")
    parser.add_argument("--clicks", type=int, default=8, help="requests after the page load")
    parser.add_argument("--workers", type=int, default=cores)
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--static",
        choices=["app", "proxy"],
        default="app",
        help="who serves static/: this server (every page load fetches its ~30 files from"
        " it) or a proxy in front, as docs/DEPLOY.md sets up (they never reach the app)",
    )
    parser.add_argument(
        "--attack", action="store_true", help="issue 11's hostile clients during the class"
    )
    parser.add_argument("--phase", type=float, default=10.0, help="seconds of each attack alone")
    parser.add_argument(
        "--worker-limit", type=int, default=1280, help="MiB a worker may peak at (DEPLOY.md)"
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 2000 or not 1 <= args.clicks <= 100:
        parser.error("--clients must be 1..2000 and --clicks 1..100")

    # The load generator shares the machine with the server (and whatever else runs).
    args.load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    port = _free_port()
    print("server:", " ".join(server_command(port, args.workers)[1:]))
    proc = start_server(port, args.workers)
    memory = MemoryWatch(proc.pid)
    memory.start()
    args.server_cpu_before = memory.cpu()
    args.own_cpu_before = time.process_time()
    try:
        if args.attack:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from attacks import ATTACKS, AttackProcess

            attack = AttackProcess((HOST, port), list(ATTACKS))
            time.sleep(3.0)  # the attacks are under way when the class arrives
        results, elapsed = asyncio.run(run(args, f"http://{HOST}:{port}"))
        time.sleep(0.2)
        ok = report(results, elapsed, memory, args)
        if args.attack:
            mix = attack.finish()
            phases = attack_phases((HOST, port), args.phase) if args.phase > 0 else []
            ok = attack_report(results, memory, mix, phases, args)
    finally:
        memory.stop.set()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
