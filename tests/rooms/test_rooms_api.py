"""The rooms API in process (memory broker): who may publish, what may be published,
the stream's first and last events, the bounds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.routes import rooms as rooms_route
from app.api.sse import StreamSlots
from app.main import app
from app.rooms import codes, service
from app.rooms.broker import MemoryBroker
from app.rooms.view import STATE_KEYS
from tests.api.sse_parse import parse_events

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client() -> Iterator[TestClient]:
    service.use(MemoryBroker())
    with TestClient(app) as c:
        yield c
    service.use(None)


def room(client: TestClient, query: str = "?step=3") -> tuple[str, str]:
    r = client.post("/api/rooms", json={"path": "/", "query": query})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["code"], body["secret"]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_create_answers_a_code_a_link_a_qr_and_the_secret_once(client: TestClient) -> None:
    r = client.post("/api/rooms", json={"path": "/lecture/padding", "query": "?p=1&step=2"})
    assert r.status_code == 201
    body = r.json()
    assert re.fullmatch(f"[{codes.ALPHABET}]{{8}}", body["code"])
    assert body["display_code"] == f"{body['code'][:4]}-{body['code'][4:]}"
    assert body["join_url"] == f"http://testserver/r/{body['code']}"
    assert len(body["secret"]) >= 43  # 256 bits in base64url
    info = client.get(f"/api/rooms/{body['code']}")
    assert info.status_code == 200
    assert info.json()["path"] == "/lecture/padding" and info.json()["query"] == "?p=1&step=2"
    assert body["secret"] not in info.text  # a follower cannot learn it
    qr = client.get(body["qr_url"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.startswith("<svg") and "<script" not in qr.text
    join = client.get(f"/r/{body['code'].lower()}", follow_redirects=False)
    assert join.status_code == 302
    assert join.headers["location"] == f"/lecture/padding?p=1&step=2#join={body['code']}"


def test_only_the_secret_publishes_or_ends(client: TestClient) -> None:
    code, secret = room(client)
    other_code, other_secret = room(client)
    view = {"path": "/", "query": "?step=4"}
    url = f"/api/rooms/{code}/state"
    assert client.post(url, json=view).status_code == 401
    assert client.post(url, json=view, headers={"Authorization": "Basic x"}).status_code == 401
    assert client.post(url, json=view, headers=bearer(other_secret)).status_code == 403
    assert client.post(url, json=view, headers=bearer(secret[:-1])).status_code == 403
    assert client.post(f"/api/rooms/{code}/end", headers=bearer(other_secret)).status_code == 403
    assert client.get(f"/api/rooms/{code}").json()["version"] == 1  # nothing changed
    r = client.post(url, json=view, headers=bearer(secret))
    assert r.status_code == 200 and r.json() == {"version": 2, "followers": 0}
    assert client.post(f"/api/rooms/{code}/end", headers=bearer(secret)).status_code == 204
    assert client.get(f"/api/rooms/{code}").status_code == 404
    assert client.post(url, json=view, headers=bearer(secret)).status_code == 404
    assert client.get(f"/api/rooms/{other_code}").status_code == 200


@pytest.mark.parametrize(
    ("view", "field"),
    [
        ({"path": "/network", "query": ""}, "path"),
        ({"path": "https://evil.example/", "query": ""}, "path"),
        ({"path": "/lecture/no-such-scene", "query": ""}, "path"),
        ({"path": "/", "query": "?in=<script>alert(1)</script>"}, "query"),
        ({"path": "/", "query": "?in=%3Cscript%3E"}, "query"),
        ({"path": "/", "query": "?k=a%22onerror%3D"}, "query"),
        ({"path": "/", "query": "?javascript=1"}, "query"),
        ({"path": "/", "query": "?step=1&step=2"}, "query"),
        ({"path": "/", "query": "?step"}, "query"),
        ({"path": "/", "query": "?in=" + "1," * 30000}, "query"),
    ],
)
def test_a_published_view_is_checked_like_a_link(
    client: TestClient, view: dict[str, str], field: str
) -> None:
    code, secret = room(client)
    r = client.post(f"/api/rooms/{code}/state", json=view, headers=bearer(secret))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", field]
    assert client.post("/api/rooms", json=view).status_code == 422


def test_a_body_over_the_rooms_limit_is_413(client: TestClient) -> None:
    code, secret = room(client)
    body = '{"path": "/", "query": "?in=' + "1" * 70_000 + '"}'
    r = client.post(
        f"/api/rooms/{code}/state",
        content=body,
        headers={**bearer(secret), "content-type": "application/json"},
    )
    assert r.status_code == 413


def test_real_views_pass(client: TestClient) -> None:
    query = "?in=1x3x3:0,1*4,-1,2.5,1e-7,3&k=diagonal~centre_x&s=2&p=same&act=leaky_relu&ns=0.2"
    code, secret = room(client, query)
    r = client.post(f"/api/rooms/{code}/state", json={"query": query}, headers=bearer(secret))
    assert r.status_code == 200


def test_the_stream_starts_with_the_latest_and_ends_with_the_room(client: TestClient) -> None:
    code, secret = room(client)
    client.post(f"/api/rooms/{code}/state", json={"query": "?step=7"}, headers=bearer(secret))
    text = ""
    with client.stream("GET", f"/api/rooms/{code}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["x-accel-buffering"] == "no"
        assert "content-length" not in stream.headers  # uvicorn would cut the stream
        lines = stream.iter_lines()
        for line in lines:
            text += line + "\n"
            if line.startswith("data:"):
                break
        assert client.get(f"/api/rooms/{code}").json()["followers"] == 1
        client.post(f"/api/rooms/{code}/state", json={"query": "?step=8"}, headers=bearer(secret))
        client.post(f"/api/rooms/{code}/end", headers=bearer(secret))
        for line in lines:
            text += line + "\n"
    assert text.startswith("retry: 1000\n\n")
    events = parse_events(text[len("retry: 1000\n\n") :])
    assert events[0] == {
        "event": "state",
        "id": 2,
        "data": {"version": 2, "path": "/", "query": "?step=7"},
    }
    assert events[-1] == {"event": "end", "id": None, "data": {"reason": "ended"}}
    assert secret not in text
    # The follower's slot came back.
    assert rooms_route.FOLLOWER_SLOTS.active == 0


def test_followers_and_rooms_past_their_bounds_get_503(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = room(client)
    monkeypatch.setattr(rooms_route, "FOLLOWER_SLOTS", StreamSlots(0))
    r = client.get(f"/api/rooms/{code}/events")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    # The page words it from the type and the numbers (room.err.busy).
    assert r.json()["detail"][0]["type"] == "busy" and r.json()["detail"][0]["ctx"] == {"limit": 0}
    service.use(MemoryBroker(max_rooms=1))
    room(client)
    r = client.post("/api/rooms", json={})
    assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
    assert "rooms are open already" in r.json()["detail"][0]["msg"]
    assert r.json()["detail"][0]["type"] == "rooms_full"
    assert r.json()["detail"][0]["ctx"] == {"limit": 1}


def test_unknown_or_malformed_codes_are_404(client: TestClient) -> None:
    for code in ("ZZZZZZZZ", "bad", "<script>"):
        assert client.get(f"/api/rooms/{code}").status_code == 404
        assert client.get(f"/api/rooms/{code}/events").status_code == 404
    assert client.get("/r/ZZZZZZZZ", follow_redirects=False).headers["location"] == (
        "/#join=ZZZZZZZZ"
    )


def test_an_unreachable_redis_is_503_not_500(client: TestClient) -> None:
    from app.rooms.redis_broker import RedisBroker

    service.use(RedisBroker("redis://127.0.0.1:1/0"))
    r = client.post("/api/rooms", json={})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert client.get(f"/api/rooms/{codes.new_code()}/events").status_code == 503
    assert rooms_route.FOLLOWER_SLOTS.active == 0


def test_the_state_keys_are_those_of_state_js() -> None:
    source = (ROOT / "static/js/core/state.js").read_text("utf-8")
    props = source[source.index("export const PROPS") :]
    keys = set(re.findall(r"key: '(\w+)'", props[: props.index("];")]))
    assert keys == STATE_KEYS
