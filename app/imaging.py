"""Decode an uploaded picture into the numbers a network sees, safely.

Uploads are untrusted: any byte string may arrive. :func:`decode_image` accepts only
PNG, JPEG, WebP and GIF, refuses a picture whose header declares too many pixels
before decoding a single one, decodes fully (a truncated JPEG passes Pillow's
``verify()`` but not ``load()``) and turns every decoder failure into one of the
:class:`ImageError` subclasses below, each with a message that says what is wrong
and what to do. The module knows nothing of HTTP; the web layer maps the classes to
status codes.

Pixel limit
-----------
The limit is :data:`MAX_PIXELS`, checked by this module against the header's
``width * height`` before ``load()`` (for WebP even before ``Image.open``, whose
decoder allocates the canvas when it is created). Pillow's global
``Image.MAX_IMAGE_PIXELS`` is left as it is (it is process-wide and other code may
rely on it); it is higher than ours, so Pillow's own check fires only for still
larger images, during ``Image.open``. While decoding, its
``DecompressionBombWarning`` is raised as an error instead of being printed, and
both it and ``DecompressionBombError`` become :class:`ImageTooLargeError`.
``warnings.catch_warnings`` is process-global, not thread-local, on Python < 3.14:
if two threads decode at once, one may briefly see the other's filters. That can
only turn Pillow's bomb warning back into a warning, and our own pixel check still
refuses the image, so the limit holds either way.

Colours
-------
Transparency is composited onto white (what a browser shows on a white page): a
transparent pixel reads 255. Grey is Pillow's ITU-R 601-2 luma,
``L = 0.299 R + 0.587 G + 0.114 B``; grey requested as RGB is repeated in each
channel. 16-bit grey is scaled to 0..255 (``value * 255 / 65535``) rather than
clipped as Pillow's own ``convert("L")`` would; its transparency, rare, is ignored.
CMYK JPEGs are converted by Pillow.

Orientation
-----------
A picture's EXIF orientation (a phone's photo held upright is stored sideways, with
orientation 6) is applied, as a browser shows it: the result is upright.
"""

from __future__ import annotations

import struct
import warnings
from io import BytesIO
from typing import Final, Literal

import numpy as np
from PIL import Image, ImageOps

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_PIXELS",
    "MAX_SIDE_LIMIT",
    "CorruptImageError",
    "ImageError",
    "ImageOptionError",
    "ImageTooLargeError",
    "UnsupportedImageError",
    "decode_image",
]

#: The formats Pillow may try, as Pillow names them.
ALLOWED_FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF")

#: The largest ``width * height`` a header may declare (a 40-megapixel photo).
#: Measured at the limit: an RGBA PNG peaks near 0.3 GB and 0.5 s, an animated WebP
#: near 0.6 GB (libwebp keeps two canvases); a JPEG costs little, as it is decoded
#: straight at 1/2, 1/4 or 1/8 scale. Lower it to bound memory per request further.
MAX_PIXELS: Final = 40_000_000

#: The largest ``max_side`` callers may ask for.
MAX_SIDE_LIMIT: Final = 512

_FIX: Final = "upload a PNG, JPEG, WebP or GIF"

# File signatures of the allowed formats: a file that starts like one of them but
# does not open is damaged, not of the wrong type.
_ALLOWED_SIGNATURES: Final = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)

# Signatures of common formats we refuse, only to name them in the message.
_OTHER_SIGNATURES: Final = (
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"%PDF", "PDF"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
)

# What Pillow's decoders raise on bad data. Image.open already turns most of these
# into UnidentifiedImageError (an OSError); load() and convert() do not.
_DECODER_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    RuntimeError,
    struct.error,
)

_EXIF_ORIENTATION: Final = 0x0112

_SIXTEEN_BIT_MODES: Final = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


class ImageError(Exception):
    """An upload that cannot be turned into pixels; ``message`` says why and what to do.

    Parameters
    ----------
    message : str
        A sentence for the person who uploaded the file.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedImageError(ImageError):
    """Not an image, or an image in a format other than PNG, JPEG, WebP or GIF."""


class CorruptImageError(ImageError):
    """An allowed format that cannot be decoded: truncated, damaged, or empty."""


class ImageTooLargeError(ImageError):
    """The header declares more pixels than :data:`MAX_PIXELS` (a decompression bomb)."""


class ImageOptionError(ImageError, ValueError):
    """A bad ``mode`` or ``max_side``: the caller's options, not the file, are at fault."""


def decode_image(
    data: bytes, *, mode: Literal["grey", "rgb"] = "grey", max_side: int = 64
) -> np.ndarray:
    """Decode an uploaded PNG, JPEG, WebP or GIF into pixel values.

    Parameters
    ----------
    data : bytes
        The uploaded file, untrusted.
    mode : {"grey", "rgb"}
        One grey channel or three colour channels.
    max_side : int
        The longest side of the result, 1..512. Larger pictures are scaled down,
        keeping their aspect ratio (each side at least 1 pixel); smaller ones are
        left as they are, never scaled up.

    Returns
    -------
    ndarray of shape (C, H, W), float32
        ``C`` is 1 for grey and 3 for RGB; values 0..255. Animated GIF, WebP and PNG
        give their first frame.

    Raises
    ------
    ImageOptionError
        ``mode`` or ``max_side`` is invalid (also a ``ValueError``).
    UnsupportedImageError
        ``data`` is not a PNG, JPEG, WebP or GIF.
    ImageTooLargeError
        The header declares more than :data:`MAX_PIXELS` pixels.
    CorruptImageError
        ``data`` is empty, or an allowed format that is truncated or damaged.

    Notes
    -----
    Scaling uses Pillow's ``BOX`` filter: each result pixel is the mean of the
    source pixels it covers (alpha-weighted for transparent pictures), so the
    numbers stay explainable. Transparent pixels are composited onto white.
    """
    _check_options(mode, max_side)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise CorruptImageError(f"The file is empty (0 bytes); {_FIX}.")
    try:
        with warnings.catch_warnings():
            # Pillow's notes about a file's oddities ("Invalid APNG, will use default
            # PNG image", "malformed MPO file") concern the upload, not the server.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(data, mode, max_side)
    except ImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageTooLargeError(_too_large_message()) from exc
    except _DECODER_ERRORS as exc:
        raise CorruptImageError(
            f"The image is damaged or truncated and cannot be decoded; open it in an image"
            f" editor and save it again, or {_FIX}."
        ) from exc


def _check_options(mode: object, max_side: object) -> None:
    if mode not in ("grey", "rgb"):
        raise ImageOptionError(f"mode must be 'grey' or 'rgb', got {mode!r}")
    if not isinstance(max_side, int) or isinstance(max_side, bool):
        raise ImageOptionError(f"max_side must be an integer, got {max_side!r}")
    if not 1 <= max_side <= MAX_SIDE_LIMIT:
        raise ImageOptionError(f"max_side must be between 1 and {MAX_SIDE_LIMIT}, got {max_side}")


def _decode(data: bytes, mode: str, max_side: int) -> np.ndarray:
    _check_webp_size(data)
    try:
        im = Image.open(BytesIO(data), formats=ALLOWED_FORMATS)
    except _DECODER_ERRORS as exc:  # UnidentifiedImageError, or a plugin's own error
        kind = _looks_allowed(data)
        if kind is not None:
            raise CorruptImageError(_starts_like_message(kind)) from exc
        raise UnsupportedImageError(_unsupported_message(data)) from exc
    with im:
        if im.format not in ALLOWED_FORMATS:  # defensive: Image.open was told the formats
            raise UnsupportedImageError(_unsupported_message(data))
        width, height = im.size
        if width < 1 or height < 1:
            raise CorruptImageError(f"The image declares a size of {width}x{height}; {_FIX}.")
        if width * height > MAX_PIXELS:
            raise ImageTooLargeError(_too_large_message(width, height))
        # A phone stores a photo as its sensor saw it and says how to turn it upright in
        # the EXIF orientation tag: 5 to 8 swap the sides.
        orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
        turned = orientation in (5, 6, 7, 8)
        target = _target_size(width, height, max_side)
        if im.format == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result is small
            # anyway (never below the target size): less memory, less time.
            im.draft("L" if mode == "grey" else "RGB", target)
        im.load()
        if orientation != 1:
            im = ImageOps.exif_transpose(im)
            target = (target[1], target[0]) if turned else target
        return _to_array(im, mode, target)


def _check_webp_size(data: bytes) -> None:
    """Refuse a WebP whose header declares too many pixels, before Pillow opens it.

    Pillow's WebP plugin creates libwebp's decoder, which allocates the whole canvas
    (twice, for animations), inside ``Image.open``, checking only twice Pillow's own
    limit first. The size is read from the first chunk as the WebP container
    specification lays it out: ``VP8X`` holds the canvas size (24 bits each, minus
    one), ``VP8L`` packs 14-bit sizes (minus one) after its 0x2F signature, and
    ``VP8 `` has 14-bit sizes after the key frame's start code 9D 01 2A.
    """
    if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return
    chunk = data[12:16]
    size: tuple[int, int] | None = None
    if chunk == b"VP8X" and len(data) >= 30:
        size = (
            int.from_bytes(data[24:27], "little") + 1,
            int.from_bytes(data[27:30], "little") + 1,
        )
    elif chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        size = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        size = (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    if size is None:
        raise CorruptImageError(_starts_like_message("WebP"))
    if size[0] * size[1] > MAX_PIXELS:
        raise ImageTooLargeError(_too_large_message(*size))


def _target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """``(width, height)`` scaled so the longer side is ``max_side``; never enlarged."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    return (
        max(1, round(width * max_side / longest)),
        max(1, round(height * max_side / longest)),
    )


def _to_array(im: Image.Image, mode: str, size: tuple[int, int]) -> np.ndarray:
    """A loaded image as float32 ``(C, H, W)`` at ``size``, composited onto white."""
    grey = mode == "grey"
    if im.mode in _SIXTEEN_BIT_MODES:
        # Scale 0..65535 to 0..255 in float ("F"); convert("L") would clip instead.
        values = np.asarray(im).astype(np.float32)
        np.clip(values, 0, 65535, out=values)
        values *= np.float32(255 / 65535)
        im = Image.fromarray(values)
    elif im.mode in _ALPHA_MODES or "transparency" in im.info:
        if im.mode != ("LA" if grey else "RGBA"):
            im = im.convert("RGBA")  # also turns palette or colour-key transparency into alpha
            if grey:
                im = im.convert("LA")
    else:
        if im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        if grey and im.mode == "RGB":
            im = im.convert("L")
    if im.size != size:
        # Pillow resizes LA and RGBA with premultiplied alpha, so transparent pixels'
        # hidden colours do not bleed into their neighbours.
        im = im.resize(size, Image.Resampling.BOX)
    pixels = np.asarray(im, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if im.mode in ("LA", "RGBA"):
        alpha = pixels[:, :, -1:] / np.float32(255)
        pixels = pixels[:, :, :-1] * alpha + np.float32(255) * (1 - alpha)
    if not grey and pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    # float rounding in the compositing must not leave 0..255
    return np.ascontiguousarray(np.clip(pixels, 0, 255).transpose(2, 0, 1), dtype=np.float32)


def _looks_allowed(data: bytes) -> str | None:
    """The allowed format ``data`` starts like, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    for signature, name in _ALLOWED_SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def _starts_like_message(kind: str) -> str:
    return (
        f"The file starts like a {kind} image but is damaged or truncated; save it again,"
        f" or {_FIX}."
    )


def _unsupported_message(data: bytes) -> str:
    kind = _other_format(data)
    if kind is None:
        return f"The file is not a PNG, JPEG, WebP or GIF image; {_FIX}."
    return f"{kind} images are not supported; convert it and {_FIX}."


def _other_format(data: bytes) -> str | None:
    """Name a refused format from its signature, for the message only."""
    for signature, name in _OTHER_SIGNATURES:
        if data.startswith(signature):
            return name
    if data[4:8] == b"ftyp":
        return "HEIC/AVIF"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "SVG"
    return None


def _too_large_message(width: int | None = None, height: int | None = None) -> str:
    limit = f"{MAX_PIXELS:,} pixels"
    if width is None or height is None:
        declared = f"declares more than {limit}"
    else:
        declared = f"is {width}x{height} = {width * height:,} pixels, more than {limit}"
    return f"The image {declared}; scale it down (e.g. to 6000x6000) and upload it again."
