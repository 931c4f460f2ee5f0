"""decode_image: every allowed format and colour mode, scaling, and hostile uploads.

All images are made in memory; the decompression bombs are real, valid PNGs whose
pixels are all zero, so they compress to a few kilobytes.
"""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from app import imaging
from app.imaging import (
    MAX_PIXELS,
    CorruptImageError,
    ImageError,
    ImageOptionError,
    ImageTooLargeError,
    UnsupportedImageError,
    decode_image,
)

# --------------------------------------------------------------------------- helpers


def _save(im: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _grey(values: list[list[int]]) -> Image.Image:
    return Image.fromarray(np.array(values, dtype=np.uint8))


def _noise(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    shape = (height, width, channels) if channels > 1 else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG of ``width x height`` zeros, compressed row by row."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _check(result: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    assert result.dtype == np.float32
    assert result.flags.c_contiguous
    assert result.shape == shape
    assert result.min() >= 0 and result.max() <= 255
    return result


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("mode", ["gray", "RGB", "", None])
def test_bad_mode(mode: object) -> None:
    png = _save(_grey([[0]]), "PNG")
    with pytest.raises(ImageOptionError, match="mode must be 'grey' or 'rgb'") as info:
        decode_image(png, mode=mode)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert info.value.message.startswith("mode must be")


@pytest.mark.parametrize(
    ("max_side", "fragment"),
    [
        (0, "between 1 and 512, got 0"),
        (513, "between 1 and 512, got 513"),
        (-5, "between 1 and 512"),
        (True, "must be an integer, got True"),
        (2.5, "must be an integer, got 2.5"),
    ],
)
def test_bad_max_side(max_side: object, fragment: str) -> None:
    png = _save(_grey([[0]]), "PNG")
    with pytest.raises(ImageOptionError, match=fragment):
        decode_image(png, max_side=max_side)  # type: ignore[arg-type]


def test_options_are_checked_before_the_file() -> None:
    with pytest.raises(ImageOptionError):
        decode_image(b"", max_side=0)


def test_data_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="data must be bytes, got str"):
        decode_image("not bytes")  # type: ignore[arg-type]


def test_bytearray_and_memoryview_are_accepted() -> None:
    png = _save(_grey([[7, 9]]), "PNG")
    for data in (bytearray(png), memoryview(png)):
        assert decode_image(data).tolist() == [[[7.0, 9.0]]]  # type: ignore[arg-type]


def test_exception_hierarchy() -> None:
    for cls in (UnsupportedImageError, CorruptImageError, ImageTooLargeError, ImageOptionError):
        assert issubclass(cls, ImageError)
    assert issubclass(ImageOptionError, ValueError)
    assert not issubclass(CorruptImageError, ValueError)
    assert ImageError("why").message == "why" == str(ImageError("why"))


# --------------------------------------------------------------------------- formats and modes


def test_grey_png_values_exact() -> None:
    values = [[0, 50, 100], [150, 200, 255]]
    result = _check(decode_image(_save(_grey(values), "PNG")), (1, 2, 3))
    assert result[0].tolist() == values


def test_rgb_png_values_exact_and_channels_first() -> None:
    pixels = _noise(5, 7)
    result = _check(decode_image(_save(Image.fromarray(pixels), "PNG"), mode="rgb"), (3, 5, 7))
    assert np.array_equal(result, pixels.transpose(2, 0, 1))


def test_rgb_png_as_grey_is_pillow_luma() -> None:
    im = Image.fromarray(_noise(4, 6))
    result = _check(decode_image(_save(im, "PNG"), mode="grey"), (1, 4, 6))
    assert np.array_equal(result[0], np.asarray(im.convert("L")))
    # ITU-R 601-2: pure red, green and blue
    primaries = Image.fromarray(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8))
    assert decode_image(_save(primaries, "PNG"))[0, 0].tolist() == [76, 150, 29]


def test_grey_png_as_rgb_repeats_the_channel() -> None:
    result = _check(decode_image(_save(_grey([[10, 20]]), "PNG"), mode="rgb"), (3, 1, 2))
    assert result.tolist() == [[[10, 20]]] * 3


def test_rgba_composited_on_white() -> None:
    pixels = np.array(
        [[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 0, 0], [0, 0, 255, 51]]], dtype=np.uint8
    )
    result = _check(decode_image(_save(Image.fromarray(pixels), "PNG"), mode="rgb"), (3, 1, 4))
    assert result[:, 0, 0].tolist() == [255, 0, 0]  # opaque: as is
    assert result[:, 0, 1].tolist() == [255, 255, 255]  # transparent: white
    assert result[:, 0, 2].tolist() == [255, 255, 255]  # transparent black: white too
    assert result[:, 0, 3] == pytest.approx([204, 204, 255])  # 20 % blue over white


def test_la_png_as_grey_and_rgb() -> None:
    pixels = np.array([[[0, 255], [0, 0], [100, 51]]], dtype=np.uint8)
    data = _save(Image.fromarray(pixels, "LA"), "PNG")
    grey = _check(decode_image(data), (1, 1, 3))
    assert grey[0, 0] == pytest.approx([0, 255, 0.2 * 100 + 0.8 * 255])
    rgb = _check(decode_image(data, mode="rgb"), (3, 1, 3))
    assert np.array_equal(rgb, np.repeat(grey, 3, axis=0))


def test_palette_png() -> None:
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putdata([0, 1, 2])
    result = _check(decode_image(_save(im, "PNG"), mode="rgb"), (3, 1, 3))
    assert result[:, 0].T.tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


def test_palette_png_with_transparent_index() -> None:
    im = Image.new("P", (2, 1))
    im.putpalette([10, 20, 30, 40, 50, 60] + [0] * (256 * 3 - 6))
    im.putdata([0, 1])
    result = decode_image(_save(im, "PNG", transparency=1), mode="rgb")
    assert result[:, 0].T.tolist() == [[10, 20, 30], [255, 255, 255]]


def test_grey_png_with_colour_key_transparency() -> None:
    result = decode_image(_save(_grey([[0, 128]]), "PNG", transparency=0))
    assert result.tolist() == [[[255, 128]]]


def test_one_bit_png() -> None:
    im = Image.fromarray(np.array([[True, False], [False, True]]))
    assert im.mode == "1"
    assert decode_image(_save(im, "PNG")).tolist() == [[[255, 0], [0, 255]]]


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    values = np.array([[0, 257 * 128, 65535], [257, 257 * 200, 1000]], dtype=np.uint16)
    data = _save(Image.fromarray(values), "PNG")
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode.startswith("I")  # really decoded as 16-bit
    result = _check(decode_image(data), (1, 2, 3))
    assert result[0] == pytest.approx(values.astype(np.float64) * 255 / 65535, abs=1e-3)
    assert result[0, 0, :2].tolist() == [0, 128]
    rgb = decode_image(data, mode="rgb")
    assert rgb.shape == (3, 2, 3) and np.array_equal(rgb[0], rgb[2])


def test_jpeg_grey_and_rgb() -> None:
    data = _save(Image.new("RGB", (16, 8), (200, 100, 50)), "JPEG", quality=95)
    rgb = _check(decode_image(data, mode="rgb"), (3, 8, 16))
    assert np.abs(rgb - np.array([200, 100, 50])[:, None, None]).max() <= 3
    grey = _check(decode_image(data), (1, 8, 16))
    assert np.abs(grey - (0.299 * 200 + 0.587 * 100 + 0.114 * 50)).max() <= 3


def test_cmyk_jpeg() -> None:
    data = _save(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG", quality=95)
    assert np.abs(_check(decode_image(data, mode="rgb"), (3, 8, 8)) - 255).max() <= 3
    data = _save(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG", quality=95)
    red = decode_image(data, mode="rgb")[:, 4, 4]
    assert red[0] > 240 and red[1] < 15 and red[2] < 15


def test_webp_lossless_exact() -> None:
    pixels = _noise(6, 4)
    data = _save(Image.fromarray(pixels), "WEBP", lossless=True)
    result = _check(decode_image(data, mode="rgb"), (3, 6, 4))
    assert np.array_equal(result, pixels.transpose(2, 0, 1))


def _frames() -> list[Image.Image]:
    return [Image.new("RGB", (5, 3), colour) for colour in ((255, 0, 0), (0, 0, 255))]


def test_animated_gif_gives_the_first_frame() -> None:
    first, second = _frames()
    data = _save(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    with Image.open(io.BytesIO(data)) as im:
        assert im.n_frames == 2
    result = _check(decode_image(data, mode="rgb"), (3, 3, 5))
    assert result[:, 1, 2].tolist() == [255, 0, 0]


def test_animated_webp_gives_the_first_frame() -> None:
    first, second = _frames()
    data = _save(first, "WEBP", save_all=True, append_images=[second], lossless=True)
    with Image.open(io.BytesIO(data)) as im:
        assert im.n_frames == 2
    assert decode_image(data, mode="rgb")[:, 1, 2].tolist() == [255, 0, 0]


def test_apng_gives_the_first_frame() -> None:
    first, second = _frames()
    data = _save(first, "PNG", save_all=True, append_images=[second], duration=100)
    with Image.open(io.BytesIO(data)) as im:
        assert im.n_frames == 2
    assert decode_image(data, mode="rgb")[:, 1, 2].tolist() == [255, 0, 0]


# --------------------------------------------------------------------------- scaling


@pytest.mark.parametrize(
    ("size", "max_side", "shape"),
    [
        ((200, 100), 64, (32, 64)),  # (width, height) -> (H, W)
        ((100, 200), 64, (64, 32)),
        ((300, 10), 64, (2, 64)),
        ((1000, 3), 64, (1, 64)),  # never below 1 pixel
        ((3, 1000), 16, (16, 1)),
        ((10, 5), 64, (5, 10)),  # never enlarged
        ((64, 64), 64, (64, 64)),
        ((65, 65), 1, (1, 1)),
        ((700, 300), 512, (219, 512)),
    ],
)
def test_scaled_down_keeping_the_aspect_ratio(
    size: tuple[int, int], max_side: int, shape: tuple[int, int]
) -> None:
    data = _save(Image.new("L", size, 90), "PNG")
    result = _check(decode_image(data, max_side=max_side), (1, *shape))
    assert (result == 90).all()


def test_box_scaling_averages_blocks() -> None:
    # 4x4 made of 2x2 blocks, scaled to 2x2: each result pixel is one block's mean
    values = [[0, 0, 100, 100], [0, 0, 100, 100], [10, 30, 255, 255], [50, 70, 255, 255]]
    result = decode_image(_save(_grey(values), "PNG"), max_side=2)
    assert result.tolist() == [[[0, 100], [40, 255]]]


def test_transparent_pixels_do_not_bleed_when_scaled() -> None:
    # opaque red next to transparent black: with premultiplied alpha the mean is
    # half-transparent *red*, which on white is (255, 128, 128), not dark red
    pixels = np.array([[[255, 0, 0, 255], [0, 0, 0, 0]]], dtype=np.uint8)
    result = decode_image(_save(Image.fromarray(pixels), "PNG"), mode="rgb", max_side=1)
    assert result[:, 0, 0] == pytest.approx([255, 127.5, 127.5], abs=1.5)


def test_large_jpeg_is_scaled_down() -> None:
    im = Image.new("RGB", (2048, 1024), (30, 160, 90))
    data = _save(im, "JPEG", quality=90)
    result = _check(decode_image(data, mode="rgb", max_side=64), (3, 32, 64))
    assert np.abs(result - np.array([30, 160, 90])[:, None, None]).max() <= 4
    assert _check(decode_image(data, max_side=100), (1, 50, 100)).std() < 1


# --------------------------------------------------------------------------- hostile uploads

UNSUPPORTED = "The file is not a PNG, JPEG, WebP or GIF image; upload a PNG, JPEG, WebP or GIF."
DAMAGED = "damaged or truncated"


def test_empty_file() -> None:
    with pytest.raises(CorruptImageError, match=r"The file is empty \(0 bytes\)"):
        decode_image(b"")


def test_random_bytes() -> None:
    data = random.Random(0).randbytes(4096)
    with pytest.raises(UnsupportedImageError) as info:
        decode_image(data)
    assert info.value.message == UNSUPPORTED


def test_text_file() -> None:
    with pytest.raises(UnsupportedImageError) as info:
        decode_image(b"name,value\nx,1\n")
    assert info.value.message == UNSUPPORTED


@pytest.mark.parametrize(("fmt", "name"), [("BMP", "BMP"), ("TIFF", "TIFF"), ("ICO", "ICO")])
def test_valid_image_in_a_refused_format(fmt: str, name: str) -> None:
    data = _save(Image.new("RGB", (16, 16), (1, 2, 3)), fmt)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == fmt  # a real image, just not an allowed one
    with pytest.raises(UnsupportedImageError) as info:
        decode_image(data)
    assert info.value.message == (
        f"{name} images are not supported; convert it and upload a PNG, JPEG, WebP or GIF."
    )


def test_svg() -> None:
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(UnsupportedImageError, match="SVG images are not supported"):
        decode_image(svg)


def test_truncated_png() -> None:
    data = _save(Image.fromarray(_noise(64, 64)), "PNG")
    with pytest.raises(CorruptImageError, match=DAMAGED) as info:
        decode_image(data[: len(data) // 2])
    assert "upload a PNG, JPEG, WebP or GIF" in info.value.message


def test_truncated_jpeg() -> None:
    data = _save(Image.fromarray(_noise(64, 64)), "JPEG", quality=90)
    with Image.open(io.BytesIO(data[: len(data) // 2])) as im:
        im.verify()  # passes: only a full decode finds the truncation
    with pytest.raises(CorruptImageError, match=DAMAGED):
        decode_image(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "JPEG"),
        (b"GIF89a\x01", "GIF"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "WebP"),
    ],
)
def test_header_only(data: bytes, kind: str) -> None:
    with pytest.raises(CorruptImageError, match=f"starts like a {kind} image but is damaged"):
        decode_image(data)


def test_png_with_bad_checksum() -> None:
    data = bytearray(_save(_grey([[1, 2], [3, 4]]), "PNG"))
    data[29] ^= 0xFF  # inside the IHDR chunk's CRC
    with pytest.raises(CorruptImageError, match=DAMAGED):
        decode_image(bytes(data))


def test_zero_width_png() -> None:
    ihdr = struct.pack(">IIBBBBB", 0, 10, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")
    with pytest.raises(CorruptImageError):
        decode_image(data)


def test_bomb_over_our_limit_is_refused_before_decoding() -> None:
    # 49 Mpx: over our 40 Mpx, under Pillow's own limit, so only our check stops it
    data = _bomb_png(7000, 7000)
    assert len(data) < 10_000
    assert 7000 * 7000 > MAX_PIXELS
    assert 7000 * 7000 < Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageTooLargeError) as info:
        decode_image(data)
    assert info.value.message == (
        "The image is 7000x7000 = 49,000,000 pixels, more than 40,000,000 pixels;"
        " scale it down (e.g. to 6000x6000) and upload it again."
    )


def test_bomb_over_pillows_warning_limit_raises_even_with_warnings_ignored() -> None:
    # 100 Mpx: Pillow warns (DecompressionBombWarning); decode_image makes it an error
    # itself, whatever the caller's warning filters are
    data = _bomb_png(10_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ImageTooLargeError, match="more than 40,000,000 pixels"):
            decode_image(data)


def test_bomb_over_pillows_error_limit() -> None:
    # 225 Mpx: over twice Pillow's limit, DecompressionBombError in Image.open
    with pytest.raises(ImageTooLargeError, match="more than 40,000,000 pixels; scale it down"):
        decode_image(_bomb_png(15_000, 15_000))


def test_our_limit_holds_without_pillows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(ImageTooLargeError, match="15000x15000 = 225,000,000 pixels"):
        decode_image(_bomb_png(15_000, 15_000))


def test_bomb_in_a_gif_header() -> None:
    # 65535 x 65535 declared in 30 bytes: the logical screen and one image descriptor
    screen = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\x00;"
    with pytest.raises(ImageTooLargeError, match="more than 40,000,000 pixels"):
        decode_image(screen + frame)


def _webp_with_canvas(width: int, height: int) -> bytes:
    """A small animated WebP whose VP8X header is patched to declare a huge canvas."""
    first, second = _frames()
    data = bytearray(_save(first, "WEBP", save_all=True, append_images=[second], lossless=True))
    assert data[12:16] == b"VP8X"
    data[24:27] = (width - 1).to_bytes(3, "little")
    data[27:30] = (height - 1).to_bytes(3, "little")
    return bytes(data)


def test_webp_canvas_bomb_is_refused_before_pillow_opens_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # libwebp allocates the canvas when Pillow opens the file; 12000x12000 is under
    # Pillow's error limit, so our header check is what stops it
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("Image.open reached")

    monkeypatch.setattr(Image, "open", fail)
    with pytest.raises(ImageTooLargeError, match="12000x12000 = 144,000,000 pixels"):
        decode_image(_webp_with_canvas(12_000, 12_000))


@pytest.mark.parametrize("kind", ["lossy", "lossless", "animated"])
def test_webp_header_size_is_read_right(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # one chunk layout each: VP8, VP8L, VP8X; a limit of exactly 70x40 passes, one less not
    im = Image.fromarray(_noise(40, 70))
    if kind == "animated":
        data = _save(im, "WEBP", save_all=True, append_images=[im.rotate(180)])
    else:
        data = _save(im, "WEBP", lossless=kind == "lossless")
    monkeypatch.setattr(imaging, "MAX_PIXELS", 70 * 40)
    _check(decode_image(data, mode="rgb", max_side=100), (3, 40, 70))
    monkeypatch.setattr(imaging, "MAX_PIXELS", 70 * 40 - 1)
    monkeypatch.setattr(Image, "open", None)  # the header alone must decide
    with pytest.raises(ImageTooLargeError, match="70x40 = 2,800 pixels"):
        decode_image(data)


def _sample(name: str) -> bytes:
    im = Image.fromarray(_noise(12, 10))
    if name == "png-rgba":
        return _save(Image.fromarray(_noise(8, 8, channels=4)), "PNG")
    if name == "apng":
        return _save(im, "PNG", save_all=True, append_images=[im.rotate(90)])
    if name == "webp-animated":
        return _save(im, "WEBP", save_all=True, append_images=[im.rotate(90)])
    fmt = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}[name]
    return _save(im, fmt)


@pytest.mark.parametrize(
    "name", ["png", "png-rgba", "apng", "jpeg", "gif", "webp", "webp-animated"]
)
def test_every_prefix_and_mutation_gives_pixels_or_an_image_error(name: str) -> None:
    """Truncated at every length, and with random bytes overwritten: never anything
    but a valid result or an ImageError."""
    data = _sample(name)
    rng = random.Random(name)
    candidates = [data[:n] for n in range(0, len(data), max(1, len(data) // 200))]
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        candidates.append(bytes(mutated))
    outcomes = {"ok": 0, "error": 0}
    for candidate in candidates:
        try:
            result = decode_image(candidate, mode="rgb")
        except ImageError as exc:
            assert exc.message.endswith(".")
            outcomes["error"] += 1
        else:
            assert result.dtype == np.float32 and result.ndim == 3 and result.shape[0] == 3
            assert np.isfinite(result).all()
            outcomes["ok"] += 1
    assert outcomes["error"] > 0
