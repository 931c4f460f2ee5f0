"""The Dockerfile, checked as far as a machine without a Docker engine can.

No image is built here (this machine has the docker client but no engine, and no
registry to pull ``python:3.11-slim`` from). What the image depends on is checked
instead: its instructions (slim base, non-root user, health check, one worker per
core, the flags of docs/DEPLOY.md); that the files it copies are enough to build
the package; and that its own ``CMD`` and ``HEALTHCHECK`` commands, run from a
folder holding only those files, serve the app and report it healthy.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines)
        if word and not word.startswith("#")
    ]


def one(name: str) -> str:
    found = [args for word, args in instructions() if word == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def test_slim_base_non_root_user_health_check_and_a_worker_per_core() -> None:
    assert one("FROM") == "python:3.11-slim"
    user = one("USER")
    assert user not in ("root", "0")
    assert f"useradd --create-home --uid 10001 {user}" in one("RUN")
    assert "/healthz" in one("HEALTHCHECK")
    command = json.loads(one("CMD"))
    assert command[:2] == ["sh", "-c"]
    # nproc: the CPUs the container may use; WEB_CONCURRENCY overrides it under a quota.
    assert "--workers ${WEB_CONCURRENCY:-$(nproc)}" in command[2]


def test_the_container_runs_the_production_command_of_deploy_md() -> None:
    deploy = (ROOT / "docs" / "DEPLOY.md").read_text()
    block = deploy.split("## The production command", 1)[1].split("```bash", 1)[1]
    lines = block.split("```", 1)[0].replace("\\\n", " ").splitlines()
    (documented,) = [line for line in lines if line.startswith("python -m app ")]
    command = json.loads(one("CMD"))[2].removeprefix("exec ")
    documented_flags = shlex.split(documented.replace('"$(nproc)"', "N"))
    container_flags = shlex.split(command.replace("${WEB_CONCURRENCY:-$(nproc)}", "N"))
    assert container_flags == documented_flags


def _copied_tree(into: Path) -> Path:
    """A folder with exactly what the Dockerfile's COPY instructions put in the image."""
    into.mkdir()
    for word, args in instructions():
        if word != "COPY":
            continue
        *sources, destination = args.split()
        for source in sources:
            path = ROOT / source
            target = into / (path.name if destination == "./" else destination)
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, target)
    return into


def test_the_copied_files_are_enough_to_build_the_package(tmp_path: Path) -> None:
    tree = _copied_tree(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(wheels), str(tree)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("convviz-*.whl")
    assert wheel.stat().st_size > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_containers_command_serves_and_its_health_check_passes(tmp_path: Path) -> None:
    tree = _copied_tree(tmp_path / "srv")
    # Only the copy has this file: served means app/ (which finds static/ beside it) is
    # the copy's, not the checkout's.
    (tree / "static" / "copy-marker.txt").write_text("from the copy")
    port = _free_port()
    # The image's own command, on loopback and a free port instead of 0.0.0.0:8000.
    command = json.loads(one("CMD"))
    command[2] = command[2].replace("--host 0.0.0.0", "--host 127.0.0.1")
    command[2] = command[2].replace("--port 8000", f"--port {port}")
    assert str(port) in command[2] and "127.0.0.1" in command[2]
    health = one("HEALTHCHECK").split("CMD", 1)[1].strip().replace(":8000", f":{port}")
    env = {**os.environ, "WEB_CONCURRENCY": "2"}
    env.pop("PYTHONPATH", None)
    # uvicorn puts the working folder first on sys.path: the copied app/ is the one served.
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            command,
            cwd=tree,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30  # the image allows a 10 s start period
        while True:
            checked = subprocess.run(shlex.split(health), env=env, capture_output=True, timeout=10)
            if checked.returncode == 0:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"not healthy: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        for path in ("/", "/lecture", "/static/js/pages/main.js", "/api/presets"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                assert r.status == 200, path
        marker = f"http://127.0.0.1:{port}/static/copy-marker.txt"
        with urllib.request.urlopen(marker, timeout=10) as r:
            assert r.read() == b"from the copy"
        # The command holds the server's own limits (app/server.py), no proxy needed.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 300_000)
            assert conn.recv(64).startswith(b"HTTP/1.1 431 ")
        head = urllib.request.Request(f"http://127.0.0.1:{port}/", method="HEAD")
        with urllib.request.urlopen(head, timeout=10) as r:
            assert r.status == 200 and r.read() == b""
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # what `docker stop` sends
        try:
            server.wait(timeout=25)  # --timeout-graceful-shutdown 20
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 0
