"""Two app processes on loopback joined by a real Redis: the lecturer on one, the
follower on the other, as behind a load balancer with several replicas."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx


def events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])


def test_a_follower_on_one_process_follows_a_lecturer_on_the_other(
    two_servers: tuple[str, str],
) -> None:
    a, b = two_servers
    timeout = httpx.Timeout(10.0)
    with (
        httpx.Client(base_url=a, timeout=timeout) as lecturer,
        httpx.Client(base_url=b, timeout=timeout) as follower,
    ):
        created = lecturer.post("/api/rooms", json={"path": "/", "query": "?step=1"})
        assert created.status_code == 201
        code, secret = created.json()["code"], created.json()["secret"]
        auth = {"Authorization": f"Bearer {secret}"}
        # The join link works on either process.
        assert follower.get(f"/r/{code}").headers["location"] == f"/?step=1#join={code}"
        with follower.stream("GET", f"/api/rooms/{code}/events") as stream:
            got = events(stream.iter_lines())
            assert next(got) == ("state", {"version": 1, "path": "/", "query": "?step=1"})
            # Counted on the lecturer's process, from the follower's.
            assert lecturer.get(f"/api/rooms/{code}").json()["followers"] == 1
            for step in range(2, 7):
                sent = time.monotonic()
                r = lecturer.post(
                    f"/api/rooms/{code}/state", json={"query": f"?step={step}"}, headers=auth
                )
                assert r.status_code == 200 and r.json()["version"] == step
                name, data = next(got)
                assert (name, data["query"], data["version"]) == ("state", f"?step={step}", step)
                assert time.monotonic() - sent < 1.0
            # The other process refuses a follower's attempt to publish without the secret.
            assert (
                follower.post(f"/api/rooms/{code}/state", json={"query": "?step=9"}).status_code
                == 401
            )
            # A reconnect to the other process resumes at the latest view, not a replay.
            with lecturer.stream("GET", f"/api/rooms/{code}/events") as again:
                assert next(events(again.iter_lines()))[1]["query"] == "?step=6"
            assert lecturer.post(f"/api/rooms/{code}/end", headers=auth).status_code == 204
            assert next(got) == ("end", {"reason": "ended"})
        assert follower.get(f"/api/rooms/{code}").status_code == 404
