"""Live rooms: the lecturer publishes the view, followers receive it as it changes.

- ``POST /api/rooms`` opens a room: its code, join link, QR code and the lecturer's
  secret (returned once; the server keeps its digest).
- ``POST /api/rooms/{code}/state`` (secret in ``Authorization: Bearer``) publishes
  the view: a page path and query, checked like a link (app/rooms/view.py).
- ``GET /api/rooms/{code}/events``: server-sent events, ``state`` with each publish
  (the latest first, so a reconnect resumes there) and ``end`` when the room ends.
- ``GET /api/rooms/{code}``: the latest view and how many follow;
  ``POST /api/rooms/{code}/end`` (secret) ends it.
- ``GET /api/rooms/{code}/qr.svg``: the join link as a QR code for the projector.
- ``GET /r/{code}``: the join link; redirects to the room's view, marked to follow.

Server-sent events rather than WebSocket: the traffic is one way (the lecturer
publishes with plain POSTs), ``EventSource`` reconnects by itself, an SSE stream is
an ordinary HTTP response that nginx and the app's middleware already handle (no
upgrade, no second protocol to bound), and uvicorn needs no WebSocket library.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from app.api import limits
from app.api.room_schemas import Published, RoomCreated, RoomInfo, ViewIn
from app.api.routes.pages import scenes
from app.api.schemas import ERRORS, ErrorResponse
from app.api.sse import MEDIA_TYPE, StreamSlots
from app.rooms import codes
from app.rooms.broker import Broker, BrokerDown, RoomRecord, RoomsFull
from app.rooms.hub import Mailbox
from app.rooms.service import broker
from app.rooms.view import View, ViewError, check_view

router = APIRouter(tags=["rooms"])


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    said = {
        401: "No lecturer's secret was sent (Authorization: Bearer <secret>).",
        403: "The secret does not lead this room.",
        404: "No such room: it ended, went idle or never was.",
        503: "Too many rooms or followers, or the store is away: retry after `Retry-After` s.",
    }
    return {
        c: ({"model": ErrorResponse, "description": said[c]} if c in said else ERRORS[c])
        for c in codes
    }


#: Follower streams open in this process (a bound, like the training streams').
FOLLOWER_SLOTS = StreamSlots(limits.MAX_ROOM_FOLLOWERS)
KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies from closing a quiet stream (and finds
followers that left without closing it)."""
RECONNECT_MS = 1000
"""``retry:`` sent to EventSource: how soon a dropped follower tries again."""


def _fail(
    status: int,
    loc: list[str],
    msg: str,
    kind: str,
    retry: int | None = None,
    ctx: dict[str, int] | None = None,
) -> None:
    """Refuse with one error item; ``kind`` and ``ctx`` let the page word it in its
    own language (static/locales/lecture, ``room.err.<kind>``)."""
    headers = {"Retry-After": str(retry)} if retry is not None else None
    detail = [{"loc": loc, "msg": msg, "type": kind, "ctx": ctx or {}}]
    raise HTTPException(status_code=status, detail=detail, headers=headers)  # type: ignore[arg-type]


def _unavailable() -> None:
    _fail(
        503,
        [],
        "live rooms are unavailable for a moment (their store cannot be reached); try again",
        "rooms_unavailable",
        limits.ROOM_RETRY_AFTER_SECONDS,
    )


def _code(code: str) -> str:
    canonical = codes.normalize(code)
    if canonical is None:
        _fail(404, ["code"], f"no room {code[:20]!r}: a code is 8 letters and digits", "no_room")
    assert canonical is not None
    return canonical


def _view(body: ViewIn) -> View:
    try:
        return check_view(body.path, body.query, {s["id"] for s in scenes()})
    except ViewError as exc:
        _fail(422, ["body", exc.field], str(exc), "view")
        raise  # unreachable: _fail raises


async def _room(b: Broker, code: str) -> RoomRecord:
    try:
        record = await b.get(code)
    except BrokerDown:
        _unavailable()
        raise
    if record is None:
        _fail(404, ["code"], f"no room {codes.display(code)}: it ended or never was", "no_room")
    assert record is not None
    return record


def _check_secret(record: RoomRecord, authorization: str | None) -> None:
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        _fail(401, ["header", "authorization"], "send the lecturer's secret as Bearer", "auth")
    if not codes.matches(secret.strip(), record.secret_digest):
        _fail(403, ["header", "authorization"], "this secret does not lead this room", "auth")


def _join_url(request: Request, code: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/r/{code}"


Auth = Annotated[str | None, Header(description="Bearer <the room's secret>")]


@router.post("/api/rooms", status_code=201, responses=_errors(413, 422, 503))
async def create_room(request: Request, body: ViewIn | None = None) -> RoomCreated:
    """Open a room on a view (the lecturer's page); answers the secret, once."""
    view = _view(body or ViewIn())
    b = broker()
    secret = codes.new_secret()
    try:
        for _ in range(5):  # a clash among 2**40 codes is rare; five in a row is impossible
            code = codes.new_code()
            if await b.create(code, codes.digest(secret), view.url):
                break
        else:
            _unavailable()
    except RoomsFull:
        _fail(
            503,
            [],
            f"{b.max_rooms} live rooms are open already; try again later",
            "rooms_full",
            60,
            {"limit": b.max_rooms},
        )
    except BrokerDown:
        _unavailable()
    return RoomCreated(
        code=code,
        display_code=codes.display(code),
        join_url=_join_url(request, code),
        qr_url=f"/api/rooms/{code}/qr.svg",
        secret=secret,
        idle_seconds=int(b.idle_seconds),
    )


def _info(record: RoomRecord) -> RoomInfo:
    path, sep, query = record.view.partition("?")
    return RoomInfo(
        code=record.code,
        display_code=codes.display(record.code),
        path=path,
        query=sep + query,
        version=record.version,
        followers=record.followers,
        expires_in=record.expires_in,
    )


@router.get("/api/rooms/{code}", responses=_errors(404, 503))
async def room_info(code: str) -> RoomInfo:
    """The room's latest view and how many follow it (anyone with the code may ask)."""
    return _info(await _room(broker(), _code(code)))


@router.post("/api/rooms/{code}/state", responses=_errors(401, 403, 404, 413, 422, 503))
async def publish(code: str, body: ViewIn, authorization: Auth = None) -> Published:
    """Publish the lecturer's view; only the holder of the room's secret may."""
    b = broker()
    record = await _room(b, _code(code))
    _check_secret(record, authorization)
    view = _view(body)
    try:
        version = await b.publish(record.code, view.url)
    except BrokerDown:
        _unavailable()
        raise
    if version is None:
        _fail(404, ["code"], f"no room {codes.display(record.code)}: it ended", "no_room")
    assert version is not None
    return Published(version=version, followers=record.followers)


@router.post("/api/rooms/{code}/end", status_code=204, responses=_errors(401, 403, 404, 503))
async def end_room(code: str, authorization: Auth = None) -> Response:
    """End the room: every follower is told, and the code is free again."""
    b = broker()
    record = await _room(b, _code(code))
    _check_secret(record, authorization)
    try:
        await b.end(record.code)
    except BrokerDown:
        _unavailable()
    return Response(status_code=204)


@router.get(
    "/api/rooms/{code}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **_errors(404, 503)},
)
async def qr(request: Request, code: str) -> Response:
    """The join link as a QR code (SVG), drawn here: no outside service sees the link."""
    record = await _room(broker(), _code(code))
    out = io.BytesIO()
    segno.make(_join_url(request, record.code), error="m").save(
        out, kind="svg", scale=8, border=4, xmldecl=False, title="QR code"
    )
    return Response(
        out.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get(
    "/api/rooms/{code}/events",
    response_class=Response,
    responses={
        200: {"description": "server-sent events", "content": {MEDIA_TYPE: {}}},
        **_errors(404, 503),
    },
)
async def events(code: str) -> Response:
    """Follow the room: ``state`` events (``{version, path, query}``, the latest first,
    id = version) and a final ``end`` (``{reason}``: ended or expired). Publishes
    faster than a follower reads are skipped: each follower gets the latest."""
    b = broker()
    canonical = _code(code)
    if not FOLLOWER_SLOTS.try_acquire():
        _fail(
            503,
            [],
            f"{FOLLOWER_SLOTS.size} followers are connected to this server already; try again",
            "busy",
            limits.ROOM_RETRY_AFTER_SECONDS,
            {"limit": FOLLOWER_SLOTS.size},
        )
    try:
        box = await b.join(canonical)
    except BrokerDown:
        FOLLOWER_SLOTS.release()
        _unavailable()
        raise
    except BaseException:
        FOLLOWER_SLOTS.release()
        raise
    if box is None:
        FOLLOWER_SLOTS.release()
        _fail(404, ["code"], f"no room {codes.display(canonical)}: it ended", "no_room")
    assert box is not None
    return FollowerStream(b, canonical, box)


class FollowerStream(Response):
    """One follower's event stream: the mailbox's messages as they come, until the room
    ends or the follower leaves; the slot and the mailbox go back however it ends."""

    media_type = MEDIA_TYPE

    def __init__(self, b: Broker, code: str, box: Mailbox) -> None:
        super().__init__(
            media_type=MEDIA_TYPE,
            # No caching, and no buffering by nginx, or states arrive in lumps.
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        # A stream has no length: drop the "content-length: 0" of the empty body.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.broker, self.code, self.box = b, code, box

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def chunk(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        async def pump() -> None:
            await chunk(f"retry: {RECONNECT_MS}\n\n".encode())
            while True:
                message = await self.box.get(KEEPALIVE_SECONDS)
                if message is None:
                    await chunk(b": keep-alive\n\n")
                    continue
                await chunk(message.event)
                if message.kind == "end":
                    return

        async def gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            tasks = {asyncio.ensure_future(pump()), asyncio.ensure_future(gone())}
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, OSError):
                        await task
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            FOLLOWER_SLOTS.release()
            await self.broker.leave(self.code, self.box)


@router.get("/r/{code}", include_in_schema=False)
async def join(code: str) -> RedirectResponse:
    """The join link: to the room's current view, marked (``#join=``) to follow it.

    A room that ended still lands on the visualizer, which says the room ended."""
    canonical = codes.normalize(code)
    if canonical is None:
        return RedirectResponse("/", 302)
    try:
        record = await broker().get(canonical)
    except BrokerDown:
        record = None
    view = record.view if record is not None else "/"
    return RedirectResponse(f"{view}#join={canonical}", 302)
