"""Static files from memory, compressed once, revalidated cheaply.

Starlette's ``StaticFiles`` behind ``GZipMiddleware`` looked each file up and read
it in the thread pool, then compressed it again at level 9 on the event loop, for
every request: 2.5 ms of CPU per ES module, and a page loads about 30 of them. A
class of 300 opening the page at once spent more CPU on that than on every
computation it asked for (docs/PERFORMANCE.md, the load test).

Here a file found by ``StaticFiles``'s own lookup (which keeps requests inside the
folder) is read once, gzipped once if that makes it smaller, and kept in memory
with a content ETag; ``static/`` is about 400 KB. A later request for the same
path is answered from memory after one ``stat`` (so an edited file is read again),
as 304 when the browser already has it. ``Cache-Control: no-cache``: file names
carry no version, so a browser must ask each time, and a 304 costs a few bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

MAX_KEPT_BYTES = 1024 * 1024
"""Files larger than this are streamed from disk by ``StaticFiles`` as before."""

_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class KeptFile:
    full_path: str
    mtime_ns: int
    size: int
    media_type: str
    etag: str
    last_modified: str
    body: bytes
    gzipped: bytes | None  # None when compressing would not make it smaller

    def headers(self, gzipped: bool) -> dict[str, str]:
        headers = {
            "content-type": self.media_type,
            "etag": self.etag,
            "last-modified": self.last_modified,
            "cache-control": "no-cache",
        }
        if self.gzipped is not None:
            headers["vary"] = "Accept-Encoding"
        if gzipped:
            headers["content-encoding"] = "gzip"
        return headers


def _read(full_path: str, stat_result: os.stat_result) -> KeptFile:
    body = Path(full_path).read_bytes()
    media_type = mimetypes.guess_type(full_path)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type == "application/javascript":
        media_type += "; charset=utf-8"
    gzipped = None
    if media_type.startswith(_COMPRESSIBLE) and len(body) >= 1024:
        # mtime=0: the same bytes (and so the same ETag) from every worker and restart.
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    return KeptFile(
        full_path=full_path,
        mtime_ns=stat_result.st_mtime_ns,
        size=stat_result.st_size,
        media_type=media_type,
        etag='"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        last_modified=formatdate(stat_result.st_mtime, usegmt=True),
        body=body,
        gzipped=gzipped,
    )


def _accepts_gzip(headers: Headers) -> bool:
    for coding in headers.get("accept-encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class CompressedStaticFiles(StaticFiles):
    """``StaticFiles`` that keeps small files in memory, gzipped once."""

    def __init__(self, *, directory: str | os.PathLike[str]) -> None:
        super().__init__(directory=directory)
        self._kept: dict[str, KeptFile] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        kept = self._kept.get(path)
        if kept is not None and scope["method"] in ("GET", "HEAD"):
            try:
                fresh = os.stat(kept.full_path).st_mtime_ns == kept.mtime_ns
            except OSError:
                fresh = False
            if fresh:
                return self._answer(kept, scope)
            del self._kept[path]
        return await super().get_response(path, scope)  # looks the path up safely

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        if status_code != 200 or stat_result.st_size > MAX_KEPT_BYTES:
            return super().file_response(full_path, stat_result, scope, status_code)
        kept = _read(os.fspath(full_path), stat_result)
        self._kept[self.get_path(scope)] = kept
        return self._answer(kept, scope)

    def _answer(self, kept: KeptFile, scope: Scope) -> Response:
        request = Headers(scope=scope)
        gzipped = kept.gzipped is not None and _accepts_gzip(request)
        headers = kept.headers(gzipped)
        if_none_match = request.get("if-none-match")
        if if_none_match is not None:
            tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
            if kept.etag in tags or "*" in tags:
                unchanged = {k: v for k, v in headers.items() if not k.startswith("content-")}
                return Response(status_code=304, headers=unchanged)
        body = kept.gzipped if gzipped and kept.gzipped is not None else kept.body
        if scope["method"] == "HEAD":
            return Response(headers={**headers, "content-length": str(len(body))})
        return Response(body, headers=headers)
