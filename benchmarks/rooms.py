"""A live lecture across replicas: one lecturer, 300 followers, 2 server processes
joined by Redis, all on loopback; then one process is killed mid-lecture.

Not a test: a measurement to read. It starts Debian's redis-server and two app
processes (uvicorn, one worker each, CONVVIZ_REDIS_URL set) on free ports of
127.0.0.1, opens a room on the first, and connects the followers' event streams,
half to each process. Followers are raw HTTP/1.1 readers in two child processes
(asyncio, uvloop when present), so the measuring side keeps up with 3,000 events
a second; a follower whose process dies reconnects to the other one after the
``retry:`` delay the server asked for (as EventSource does behind a load balancer).

Phase 1 (steady): the lecturer publishes ``--rate`` views a second for
``--seconds``; for each publish, the time from just before its POST to the last
follower's receipt of it (or of a later one: a follower may skip intermediate
states by design). Reported: the rate reached, p50/p99/max of that time, and how
many followers missed the final state.

Phase 2 (failover): publishing goes on; the lecturer's process is killed (SIGKILL);
its followers reconnect to the other, the lecturer's next publish goes there too.
Reported: for each moved follower, the time from the kill to its first state after
reconnecting, checked to be the room's latest at that moment; that the versions went
on without a reset (the state lives in Redis); and the final state at every follower.

    python benchmarks/rooms.py [--followers 300] [--rate 10] [--seconds 20] [--quick]

Exit status 1 when a follower misses the final state or the lecturer's state is lost.
Every loop is bounded: fixed durations, timeouts, and a deadline for the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never anything else: only the servers this script starts


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


def start_redis(workdir: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if not binary:
        sys.exit("redis-server is missing: apt-get install redis-server (scripts/test does)")
    port = free_port()
    cmd = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL)
    wait_port(port, proc, "redis-server")
    return proc, f"redis://{HOST}:{port}/0"


def start_app(redis_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", HOST, "--port", str(port)]
    cmd += ["--workers", "1", "--no-access-log", "--timeout-keep-alive", "5"]
    env = {**os.environ, "CONVVIZ_REDIS_URL": redis_url}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_port(port, proc, "uvicorn")
    return proc, port


# ---------------------------------------------------------------- followers (child processes)


async def follow(
    code: str, ports: list[int], first: int, log: list[tuple[float, int, int]], stop: float
) -> None:
    """One follower: read events, log (receipt time, version, port) of each state;
    on a dropped connection wait the server's ``retry:`` and go to the next port."""
    at = first
    retry = 1.0
    while time.time() < stop:
        port = ports[at]
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            at = (at + 1) % len(ports)
            await asyncio.sleep(retry)
            continue
        try:
            request = f"GET /api/rooms/{code}/events HTTP/1.1\r\nHost: {HOST}\r\n\r\n"
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                raise ConnectionError(head[:40])
            while time.time() < stop:
                size_line = await asyncio.wait_for(reader.readline(), max(0.1, stop - time.time()))
                if not size_line:
                    raise ConnectionError("closed")
                size = int(size_line.strip() or b"0", 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    raise ConnectionError("end of stream")
                if chunk.startswith(b"retry: "):
                    retry = int(chunk[7:].split(b"\n", 1)[0]) / 1000
                    continue
                if chunk.startswith(b"event: state"):
                    version = int(chunk.split(b"\nid: ", 1)[1].split(b"\n", 1)[0])
                    log.append((time.time(), version, port))
                elif chunk.startswith(b"event: end"):
                    return
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            at = (at + 1) % len(ports)
            await asyncio.sleep(retry)
        except TimeoutError:
            pass
        finally:
            writer.close()


def follower_process(
    code: str, ports: list[int], firsts: list[int], stop: float, ready: Any, out: Any
) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    logs: list[list[tuple[float, int, int]]] = [[] for _ in firsts]

    async def main() -> None:
        tasks = [
            asyncio.create_task(follow(code, ports, first, log, stop))
            for first, log in zip(firsts, logs, strict=True)
        ]
        ready.put(len(tasks))
        await asyncio.gather(*tasks)

    asyncio.run(main())
    out.put(logs)


# ---------------------------------------------------------------- the lecturer


class Lecturer:
    """Publishes over keep-alive HTTP; on a dead process, to the next one (a load balancer)."""

    def __init__(self, ports: list[int], code: str, secret: str) -> None:
        self.ports, self.code = ports, code
        self.at = 0
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.client = httpx.Client(base_url=f"http://{HOST}:{ports[0]}", timeout=5.0)
        self.sent: dict[int, float] = {}  # version -> time just before its POST

    def publish(self, step: int) -> int:
        for _ in range(len(self.ports) * 3):
            t0 = time.time()
            try:
                r = self.client.post(
                    f"/api/rooms/{self.code}/state",
                    json={"query": f"?step={step}"},
                    headers=self.headers,
                )
            except httpx.TransportError:
                self.at = (self.at + 1) % len(self.ports)
                self.client.close()
                base = f"http://{HOST}:{self.ports[self.at]}"
                self.client = httpx.Client(base_url=base, timeout=5.0)
                continue
            if r.status_code != 200:
                raise RuntimeError(f"publish refused: {r.status_code} {r.text}")
            version = int(r.json()["version"])
            self.sent[version] = t0
            return version
        raise RuntimeError("no server took the publish")

    def run(self, rate: float, seconds: float, step: int, on_tick: Any = None) -> int:
        period = 1 / rate
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            self.publish(step + n)
            n += 1
            if on_tick is not None:
                on_tick(n)
            delay = start + n * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return n


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--followers", type=int, default=300)
    ap.add_argument("--rate", type=float, default=10.0, help="publishes per second")
    ap.add_argument("--seconds", type=float, default=20.0, help="steady phase")
    ap.add_argument("--failover-seconds", type=float, default=6.0)
    ap.add_argument("--quick", action="store_true", help="5 s steady, 4 s failover: does it work?")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.failover_seconds = 5.0, 4.0

    workdir = tempfile.mkdtemp(prefix="convviz-rooms-bench-")
    procs: list[subprocess.Popen[bytes]] = []
    children: list[Any] = []
    try:
        redis_proc, redis_url = start_redis(workdir)
        procs.append(redis_proc)
        apps = [start_app(redis_url) for _ in range(2)]
        procs += [p for p, _ in apps]
        ports = [port for _, port in apps]

        created = httpx.post(f"http://{HOST}:{ports[0]}/api/rooms", json={"path": "/"}).json()
        code, secret = created["code"], created["secret"]
        lecturer = Lecturer(ports, code, secret)

        total = args.seconds + args.failover_seconds + 30
        stop = time.time() + total
        ctx = mp.get_context("spawn")
        ready, out = ctx.Queue(), ctx.Queue()
        halves = [list(range(i, args.followers, 2)) for i in range(2)]
        for half in halves:  # follower i starts on process i % 2
            firsts = [i % 2 for i in half]
            work = (code, ports, firsts, stop, ready, out)
            child = ctx.Process(target=follower_process, args=work)
            child.start()
            children.append(child)
        for _ in children:
            ready.get(timeout=30)
        deadline = time.monotonic() + 30
        info = f"http://{HOST}:{ports[0]}/api/rooms/{code}"
        while (answer := httpx.get(info).json()).get("followers", -1) < args.followers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the followers did not all connect: {answer}")
            time.sleep(0.2)

        # Phase 1: steady publishing.
        t_steady = time.time()
        n1 = lecturer.run(args.rate, args.seconds, 1)
        steady_elapsed = time.time() - t_steady
        steady_versions = sorted(lecturer.sent)

        # Phase 2: kill the lecturer's process mid-lecture, keep publishing.
        killed = {"at": 0.0, "version_before": 0}

        def kill_once(n: int) -> None:
            if not killed["at"] and n == int(args.rate):  # one second into phase 2
                killed["version_before"] = max(lecturer.sent)
                killed["at"] = time.time()
                apps[0][0].send_signal(signal.SIGKILL)

        lecturer.run(args.rate, args.failover_seconds, 1 + n1, on_tick=kill_once)
        final = max(lecturer.sent)
        time.sleep(2.0)  # the last state's way to everyone
        room_url = f"http://{HOST}:{ports[1]}/api/rooms/{code}"
        kept = httpx.get(room_url).json()  # what the surviving process knows of the room
        logs: list[list[tuple[float, int, int]]] = []
        stop_wait = time.monotonic() + total + 10
        # Ending the room ends every follower's stream, so the children finish now.
        httpx.post(f"{room_url}/end", headers={"Authorization": f"Bearer {secret}"})
        for _ in children:
            logs += out.get(timeout=max(1.0, stop_wait - time.monotonic()))
    finally:
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    # ---- phase 1: publish -> last follower's receipt (of it or a later state)
    last_receipt: list[float] = []
    for v in steady_versions:
        times = []
        for log in logs:
            got = [t for t, version, _ in log if version >= v]
            times.append(min(got) if got else float("inf"))
        last_receipt.append(max(times) - lecturer.sent[v])
    lat_ms = [x * 1000 for x in last_receipt if x != float("inf")]
    never = sum(1 for x in last_receipt if x == float("inf"))
    steady_final = steady_versions[-1]

    # ---- phase 2: the killed process's followers
    dead_port = ports[0]
    moved: list[float] = []
    stale = 0
    for log in logs:
        before = [e for e in log if e[0] < killed["at"]]
        if not before or before[-1][2] != dead_port:
            continue
        after = [e for e in log if e[0] >= killed["at"] and e[2] != dead_port]
        if not after:
            moved.append(float("inf"))
            continue
        t, version, _ = after[0]
        moved.append(t - killed["at"])
        # The latest published 250 ms (the steady target) before it arrived.
        latest = max((v for v, t0 in lecturer.sent.items() if t0 <= t - 0.25), default=0)
        if version < latest:
            stale += 1
    missing_final = sum(1 for log in logs if not log or max(v for _, v, _ in log) < final)
    # The lecturer's state survives the kill: the room's latest view is the last
    # publish (a publish whose answer died with the process is retried, so a version
    # may be skipped, never repeated or reset).
    versions = list(lecturer.sent)
    kept_state = kept["version"] == final and kept["query"] == f"?step={len(versions)}"
    increasing = all(b > a for a, b in zip(versions, versions[1:], strict=False))

    print(f"followers {args.followers} over 2 processes, Redis pub/sub on loopback")
    print()
    print("steady phase                          value")
    rate = n1 / steady_elapsed
    print(f"publishes                             {n1} in {steady_elapsed:.1f} s = {rate:.1f}/s")
    print(f"publish -> last receipt, p50 (ms)     {percentile(lat_ms, 50):.1f}")
    print(f"publish -> last receipt, p99 (ms)     {percentile(lat_ms, 99):.1f}   (target <= 250)")
    print(f"publish -> last receipt, max (ms)     {max(lat_ms) if lat_ms else float('nan'):.1f}")
    print(f"publishes some follower never reached {never}")
    print(
        f"followers missing version {steady_final} (end of steady) "
        f"{sum(1 for log in logs if not any(v >= steady_final for _, v, _ in log))}"
    )
    print()
    print("failover: the lecturer's process killed")
    print(f"followers moved                       {len(moved)}")
    finite = [m for m in moved if m != float("inf")]
    print(f"kill -> latest state, p50 (s)         {percentile(finite, 50):.2f}")
    worst = max(moved) if moved else float("nan")
    print(f"kill -> latest state, max (s)         {worst:.2f}   (target <= 3)")
    print(f"moved followers shown a stale state   {stale}")
    print(f"versions only grow across the kill    {increasing} ({versions[0]}..{versions[-1]})")
    print(f"the room kept the last publish        {kept_state} (version {kept['version']})")
    print(f"followers missing the final state     {missing_final} (final version {final})")
    ok = missing_final == 0 and increasing and kept_state and never == 0 and stale == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
