"""Static files from memory, compressed once, revalidated cheaply.

Starlette's ``StaticFiles`` behind ``GZipMiddleware`` looked each file up and read
it in the thread pool, then compressed it again at level 9 on the event loop, for
every request: 2.5 ms of CPU per ES module, and a page loads about 30 of them. A
class of 300 opening the page at once spent more CPU on that than on every
computation it asked for (docs/PERFORMANCE.md, the load test).

Here every file of the folder (``static/`` is about 400 KB) is read and gzipped
once, when the app starts (ES modules first stripped of comments and spacing,
see ``_minified``), and kept in memory with a content ETag. A request is
found by ``StaticFiles``'s own lookup (which keeps paths inside the folder) the
first time, then answered from memory after one ``stat`` that must match the kept
file's (inode, size, times: an edited or replaced file is read again), as 304 when
the browser already has it. ``Cache-Control: no-cache``: file names carry no
version, so a browser must ask each time, and a 304 costs a few bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import rjsmin
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

MAX_KEPT_BYTES = 1024 * 1024
"""Files larger than this are streamed from disk by ``StaticFiles`` as before."""

_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


def _identity(stat_result: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is edited or replaced, even with its old mtime kept
    (``cp -p``, ``rsync -a``, builds that set one date on every file)."""
    return (
        stat_result.st_ino,
        stat_result.st_dev,
        stat_result.st_size,
        stat_result.st_mtime_ns,
        stat_result.st_ctime_ns,
    )


@dataclass(frozen=True)
class KeptFile:
    full_path: str
    identity: tuple[int, ...]
    mtime: int  # whole seconds, as Last-Modified has them
    media_type: str
    etag: str
    last_modified: str
    body: bytes
    gzipped: bytes | None  # None when compressing would not make it smaller

    def headers(self, gzipped: bool) -> dict[str, str]:
        headers = {
            "content-type": self.media_type,
            # Each encoding is its own representation, with its own tag.
            "etag": self.etag[:-1] + '-gz"' if gzipped else self.etag,
            "last-modified": self.last_modified,
            "cache-control": "no-cache",
        }
        if self.gzipped is not None:
            headers["vary"] = "Accept-Encoding"
        if gzipped:
            headers["content-encoding"] = "gzip"
        return headers


def _minified(body: bytes) -> bytes:
    """An ES module without its comments and spacing: the modules are written to be
    read (a third of their bytes is comments), the first view must stay under its
    weight budget (docs/PERFORMANCE.md). rjsmin, not a regex of ours: it knows
    strings, regex literals and template literals, so it never cuts inside one, and
    it is a small pure-Python package maintained since 2011. Done once per file, at
    startup or when the file changes; ``CONVVIZ_MINIFY=0`` serves the sources as
    written (for reading them in the browser's debugger)."""
    if os.environ.get("CONVVIZ_MINIFY", "1") == "0":
        return body
    return rjsmin.jsmin(body.decode("utf-8")).encode("utf-8")


def _read(full_path: str, stat_result: os.stat_result) -> KeptFile:
    body = Path(full_path).read_bytes()
    media_type = mimetypes.guess_type(full_path)[0] or "application/octet-stream"
    if media_type in ("application/javascript", "text/javascript"):
        body = _minified(body)
    if media_type.startswith("text/") or media_type == "application/javascript":
        media_type += "; charset=utf-8"
    gzipped = None
    if media_type.startswith(_COMPRESSIBLE) and len(body) >= 1024:
        # mtime=0: the same bytes (and so the same ETag) from every worker and restart.
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    return KeptFile(
        full_path=full_path,
        identity=_identity(stat_result),
        mtime=int(stat_result.st_mtime),
        media_type=media_type,
        etag='"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        last_modified=formatdate(stat_result.st_mtime, usegmt=True),
        body=body,
        gzipped=gzipped,
    )


def accepts_gzip(headers: Headers) -> bool:
    """Whether ``Accept-Encoding`` allows gzip: an explicit ``gzip`` entry wins over
    ``*``, and a q-value of 0 (in any spelling) refuses."""
    found: dict[str, float] = {}
    for coding in headers.get("accept-encoding", "").split(","):
        name, *params = (part.strip() for part in coding.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name:
            found[name.lower()] = quality
    quality = found.get("gzip", found.get("x-gzip", found.get("*", 0.0)))
    return quality > 0


class CompressedStaticFiles(StaticFiles):
    """``StaticFiles`` that keeps small files in memory, gzipped once."""

    def __init__(self, *, directory: str | os.PathLike[str]) -> None:
        super().__init__(directory=directory)
        self._kept: dict[str, KeptFile] = {}
        self._warm(Path(directory))

    def _warm(self, folder: Path) -> None:
        """Read and compress every file now, once per worker, so that the first class
        to arrive does not each make the event loop gzip the same modules."""
        root = folder.resolve()
        for path in sorted(folder.rglob("*")):
            real = path.resolve()
            if root not in real.parents:  # a link out of the folder: StaticFiles refuses it
                continue
            try:
                stat_result = real.stat()
            except OSError:  # a dangling link
                continue
            if real.is_file() and stat_result.st_size <= MAX_KEPT_BYTES:
                relative = os.path.normpath(path.relative_to(folder))
                self._kept[relative] = _read(str(real), stat_result)

    def _fresh(self, path: str) -> KeptFile | None:
        kept = self._kept.get(path)
        if kept is None:
            return None
        try:
            same = _identity(os.stat(kept.full_path)) == kept.identity
        except OSError:
            same = False
        if not same:
            del self._kept[path]
            return None
        return kept

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] in ("GET", "HEAD"):
            kept = self._fresh(path)
            if kept is not None:
                return self._answer(kept, scope)
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
        path = self.get_path(scope)
        kept = self._fresh(path)
        if kept is None or kept.identity != _identity(stat_result):
            kept = _read(os.fspath(full_path), stat_result)  # a new or edited file
            self._kept[path] = kept
        return self._answer(kept, scope)

    def _answer(self, kept: KeptFile, scope: Scope) -> Response:
        request = Headers(scope=scope)
        gzipped = kept.gzipped is not None and accepts_gzip(request)
        headers = kept.headers(gzipped)
        if _not_modified(request, headers["etag"], kept.mtime):
            unchanged = {k: v for k, v in headers.items() if not k.startswith("content-")}
            return Response(status_code=304, headers=unchanged)
        body = kept.gzipped if gzipped and kept.gzipped is not None else kept.body
        if scope["method"] == "HEAD":
            return Response(headers={**headers, "content-length": str(len(body))})
        return Response(body, headers=headers)


def _not_modified(request: Headers, etag: str, mtime: int) -> bool:
    """RFC 9110's conditional GET: If-None-Match (weak comparison) when sent, else
    If-Modified-Since against the file's time in whole seconds."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return etag in tags or "*" in tags
    if_modified_since = request.get("if-modified-since")
    if if_modified_since is not None:
        try:
            return mtime <= parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False  # an unreadable date: send the file
    return False
