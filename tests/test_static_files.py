"""CompressedStaticFiles on a folder of its own: edits are seen, large files streamed."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from app import static_files
from app.static_files import CompressedStaticFiles


@pytest.fixture(autouse=True)
def _as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about caching and gzip: files served as written (minifying
    ES modules is tested in tests/api/test_static.py)."""
    monkeypatch.setenv("CONVVIZ_MINIFY", "0")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.js").write_text("export const a = 1;\n" * 200)
    return tmp_path


def _client(folder: Path) -> TestClient:
    app = Starlette(routes=[Mount("/s", CompressedStaticFiles(directory=folder))])
    return TestClient(app)


def test_an_edited_file_is_read_again(folder: Path) -> None:
    client = _client(folder)
    first = client.get("/s/a.js", headers={"accept-encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.text == "export const a = 1;\n" * 200
    (folder / "a.js").write_text("export const a = 2;\n" * 200)
    stat = (folder / "a.js").stat()
    os.utime(folder / "a.js", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = client.get("/s/a.js", headers={"accept-encoding": "gzip"})
    assert second.text == "export const a = 2;\n" * 200
    assert second.headers["etag"] != first.headers["etag"]


def test_a_deleted_file_is_404(folder: Path) -> None:
    client = _client(folder)
    assert client.get("/s/a.js").status_code == 200
    (folder / "a.js").unlink()
    assert client.get("/s/a.js").status_code == 404


def test_the_gzip_bytes_are_the_same_every_time(folder: Path) -> None:
    # mtime=0 in the gzip header: every worker sends the same bytes for the same ETag.
    kept = static_files._read(str(folder / "a.js"), (folder / "a.js").stat())
    again = static_files._read(str(folder / "a.js"), (folder / "a.js").stat())
    assert kept.gzipped == again.gzipped
    assert kept.gzipped is not None
    assert gzip.decompress(kept.gzipped) == kept.body


def test_a_file_too_large_to_keep_is_streamed_from_disk(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(static_files, "MAX_KEPT_BYTES", 100)
    static = CompressedStaticFiles(directory=folder)
    client = TestClient(Starlette(routes=[Mount("/s", static)]))
    r = client.get("/s/a.js")
    assert r.status_code == 200
    assert r.text == "export const a = 1;\n" * 200
    assert static._kept == {}


def test_small_or_incompressible_files_are_sent_as_they_are(folder: Path) -> None:
    (folder / "tiny.js").write_text("x")
    (folder / "noise.png").write_bytes(os.urandom(4096))
    client = _client(folder)
    for name in ("tiny.js", "noise.png"):
        r = client.get(f"/s/{name}", headers={"accept-encoding": "gzip"})
        assert r.status_code == 200
        assert "content-encoding" not in r.headers, name
        assert "vary" not in r.headers, name


def test_a_file_replaced_with_its_old_mtime_is_read_again(folder: Path) -> None:
    # cp -p, rsync -a and tar keep the mtime: size, inode and ctime still tell.
    client = _client(folder)
    assert client.get("/s/a.js").text == "export const a = 1;\n" * 200
    old = (folder / "a.js").stat()
    replacement = folder / "new.js.tmp"
    replacement.write_text("export const a = 22;\n" * 200)
    os.utime(replacement, ns=(old.st_atime_ns, old.st_mtime_ns))
    replacement.replace(folder / "a.js")
    assert client.get("/s/a.js").text == "export const a = 22;\n" * 200


def test_files_are_kept_when_the_app_starts_and_links_out_are_not(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("not for the web")
    (folder / "link.txt").symlink_to(outside)
    (folder / "dangling.txt").symlink_to(folder / "nowhere")
    (folder / "sub").mkdir()
    (folder / "sub" / "b.css").write_text("b {}")
    static = CompressedStaticFiles(directory=folder)
    assert set(static._kept) == {"a.js", os.path.join("sub", "b.css")}
    client = TestClient(Starlette(routes=[Mount("/s", static)]))
    assert client.get("/s/link.txt").status_code == 404
    assert client.get("/s/sub/b.css").text == "b {}"


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("gzip, deflate, br", True),
        ("gzip;q=0.5", True),
        ("*", True),
        ("*;q=0, gzip", True),  # an explicit entry wins over *
        ("gzip;q=0", False),
        ("gzip;Q=0", False),
        ("gzip;q=0.0000", False),
        ("gzip;q=0, *", False),
        ("identity", False),
        ("", False),
    ],
)
def test_gzip_is_sent_only_when_accepted(folder: Path, accept: str, gzipped: bool) -> None:
    r = _client(folder).get("/s/a.js", headers={"accept-encoding": accept})
    assert ("content-encoding" in r.headers) is gzipped
    assert r.text == "export const a = 1;\n" * 200


def test_each_encoding_has_its_own_etag_and_revalidates_with_it(folder: Path) -> None:
    client = _client(folder)
    plain = client.get("/s/a.js", headers={"accept-encoding": "identity"})
    packed = client.get("/s/a.js", headers={"accept-encoding": "gzip"})
    assert plain.headers["etag"] != packed.headers["etag"]
    for r, accept in ((plain, "identity"), (packed, "gzip")):
        again = client.get(
            "/s/a.js", headers={"accept-encoding": accept, "if-none-match": r.headers["etag"]}
        )
        assert again.status_code == 304
    crossed = client.get(
        "/s/a.js", headers={"accept-encoding": "gzip", "if-none-match": plain.headers["etag"]}
    )
    assert crossed.status_code == 200


def test_if_modified_since_is_honoured_when_no_etag_is_sent(folder: Path) -> None:
    client = _client(folder)
    stamp = client.get("/s/a.js").headers["last-modified"]
    assert client.get("/s/a.js", headers={"if-modified-since": stamp}).status_code == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/s/a.js", headers={"if-modified-since": earlier}).status_code == 200
    assert client.get("/s/a.js", headers={"if-modified-since": "soon"}).status_code == 200
    # If-None-Match, when sent, decides alone (RFC 9110 13.1.3).
    both = {"if-modified-since": stamp, "if-none-match": '"other"'}
    assert client.get("/s/a.js", headers=both).status_code == 200
