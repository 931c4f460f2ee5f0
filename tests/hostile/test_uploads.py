"""Hostile uploads to POST /api/images: bombs, damaged, mislabelled and oversized forms."""

from __future__ import annotations

import io
import struct
import tempfile
import zlib
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

FIX = "upload a PNG, JPEG, WebP or GIF"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width x height`` zeros: a few KB that decode to megabytes."""
    row = b"\x00" * (1 + (width + 7) // 8)
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _saved(fmt: str, size: tuple[int, int] = (64, 48), **options: Any) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _upload(client: TestClient, data: bytes, name: str = "a.png", kind: str = "image/png") -> Any:
    return client.post("/api/images", files={"file": (name, data, kind)})


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text[:300]
    detail = r.json()["detail"]
    assert len(detail) == 1
    return dict(detail[0])


def test_png_bomb_is_refused_from_its_header(client: TestClient) -> None:
    data = _png_bomb(7000, 7000)  # 49 Mpx in about 6 KB
    assert len(data) < 10_000
    assert _error(_upload(client, data), 413) == {
        "loc": ["file"],
        "msg": "The image is 7000x7000 = 49,000,000 pixels, more than 40,000,000 pixels;"
        " scale it down (e.g. to 6000x6000) and upload it again.",
        "type": "image",
    }


def test_png_bomb_far_over_pillows_own_limit(client: TestClient) -> None:
    data = _png_bomb(30_000, 30_000)  # 900 Mpx: Pillow itself refuses it while opening
    assert _error(_upload(client, data), 413)["msg"] == (
        "The image declares more than 40,000,000 pixels; scale it down (e.g. to 6000x6000)"
        " and upload it again."
    )


def test_gif_with_a_65535_square_screen(client: TestClient) -> None:
    frame = _saved("GIF", (4, 4))
    data = frame[:6] + struct.pack("<HH", 65535, 65535) + frame[10:]  # logical screen size
    assert _error(_upload(client, data, "a.gif", "image/gif"), 413)["msg"] == (
        "The image declares more than 40,000,000 pixels; scale it down (e.g. to 6000x6000)"
        " and upload it again."
    )


def test_webp_declaring_a_16384_square_canvas(client: TestClient) -> None:
    side = (16384 - 1).to_bytes(3, "little")
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + side + side
    data = b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    assert _error(_upload(client, data, "a.webp", "image/webp"), 413)["msg"] == (
        "The image is 16384x16384 = 268,435,456 pixels, more than 40,000,000 pixels;"
        " scale it down (e.g. to 6000x6000) and upload it again."
    )


def test_a_large_picture_under_the_pixel_limit_is_decoded_and_scaled(client: TestClient) -> None:
    r = _upload(client, _png_bomb(6000, 6000))  # 36 Mpx: allowed, decoded to 64x64
    assert r.status_code == 200, r.text[:300]
    assert (r.json()["height"], r.json()["width"]) == (64, 64)


def test_truncated_jpeg(client: TestClient) -> None:
    data = _saved("JPEG", quality=90)
    assert _error(_upload(client, data[: len(data) // 2], "a.jpg", "image/jpeg"), 422) == {
        "loc": ["file"],
        "msg": "The image is damaged or truncated and cannot be decoded; open it in an image"
        f" editor and save it again, or {FIX}.",
        "type": "image",
    }


def test_png_header_only(client: TestClient) -> None:
    assert _error(_upload(client, b"\x89PNG\r\n\x1a\n"), 422)["msg"] == (
        f"The file starts like a PNG image but is damaged or truncated; save it again, or {FIX}."
    )


def test_a_png_labelled_as_jpeg_is_read_as_what_it_is(client: TestClient) -> None:
    r = _upload(client, _saved("PNG"), "photo.jpg", "image/jpeg")
    assert r.status_code == 200
    assert (r.json()["height"], r.json()["width"]) == (48, 64)


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        (b"hello, I am text", f"The file is not a PNG, JPEG, WebP or GIF image; {FIX}."),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            f"SVG images are not supported; convert it and {FIX}.",
        ),
        (b"%PDF-1.7\n" + b"\x00" * 100, f"PDF images are not supported; convert it and {FIX}."),
        (
            b"<?php system($_GET['c']); ?>",
            f"The file is not a PNG, JPEG, WebP or GIF image; {FIX}.",
        ),
    ],
)
def test_not_an_image_labelled_png(client: TestClient, data: bytes, msg: str) -> None:
    assert _error(_upload(client, data), 415) == {"loc": ["file"], "msg": msg, "type": "image"}


def test_a_refused_format_labelled_png(client: TestClient) -> None:
    assert _error(_upload(client, _saved("BMP")), 415)["msg"] == (
        f"BMP images are not supported; convert it and {FIX}."
    )


def test_an_empty_file(client: TestClient) -> None:
    assert _error(_upload(client, b""), 422)["msg"] == f"The file is empty (0 bytes); {FIX}."


def test_a_file_just_over_10_mib(client: TestClient) -> None:
    r = _upload(client, b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024))
    assert _error(r, 413) == {
        "loc": ["file"],
        "msg": "the file is over 10 MiB; upload a smaller one",
        "type": "image",
    }


def test_a_9_mib_upload_never_touches_disk(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Starlette spools file parts past 1 MiB to a temporary file unless told otherwise.
    def no_disk(*args: object, **kwargs: object) -> object:
        raise AssertionError("an upload was written to disk")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_disk)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_disk)
    r = _upload(client, b"GIF89a" + bytes(9 * 1024 * 1024))
    assert _error(r, 422)["msg"].startswith("The file starts like a GIF image but is damaged")


def test_10000_form_fields(client: TestClient) -> None:
    fields = {f"field{i}": "x" for i in range(10_000)}
    r = client.post("/api/images", files={"file": ("a.png", b"x", "image/png")}, data=fields)
    assert _error(r, 400) == {
        "loc": [],
        "msg": "Too many fields. Maximum number of fields is 2.",
        "type": "http",
    }


def test_10000_files(client: TestClient) -> None:
    files = [("file", (f"{i}.png", b"x", "image/png")) for i in range(10_000)]
    r = client.post("/api/images", files=files)
    assert _error(r, 400)["msg"] == "Too many files. Maximum number of files is 1."


def test_a_form_field_of_5000_bytes(client: TestClient) -> None:
    r = client.post(
        "/api/images",
        files={"file": ("a.png", _saved("PNG"), "image/png")},
        data={"mode": "g" * 5000},
    )
    assert _error(r, 400)["msg"] == "Part exceeded maximum size of 1KB."


def test_multipart_without_a_boundary(client: TestClient) -> None:
    r = client.post(
        "/api/images", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}
    )
    assert _error(r, 400)["msg"] == "Missing boundary in multipart."


def test_json_sent_to_the_upload(client: TestClient) -> None:
    r = client.post("/api/images", json={"file": "aGVsbG8="})
    assert _error(r, 422) == {"loc": ["file"], "msg": "file is required", "type": "missing"}


def test_a_bad_mode(client: TestClient) -> None:
    r = client.post(
        "/api/images", files={"file": ("a.png", _saved("PNG"), "image/png")}, data={"mode": "cmyk"}
    )
    assert _error(r, 422)["loc"] == ["mode"]
