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
