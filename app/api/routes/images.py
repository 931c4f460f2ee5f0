"""Image upload: decode a picture into the numbers a network sees."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.formparsers import MultiPartParser

from app import imaging
from app.api import limits
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.schemas import Array, ErrorResponse

router = APIRouter(prefix="/api", tags=["images"])

# Starlette spools a file part past 1 MiB to a temporary file on disk. Uploads are
# at most limits.MAX_UPLOAD_BODY_BYTES (the body limit) and at most COMPUTE_SLOTS of
# them are read at once per worker, so keep them in memory: nothing touches disk.
MultiPartParser.spool_max_size = limits.MAX_UPLOAD_BODY_BYTES

# One file and two short fields; Starlette's defaults (1,000 of each) would let one
# request make thousands of parts.
FORM_LIMITS = {
    "max_files": limits.MAX_FORM_FILES,
    "max_fields": limits.MAX_FORM_FIELDS,
    "max_part_size": limits.MAX_FORM_FIELD_BYTES,
}


class ImageResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    input: Array = Field(description="(C, H, W), pixel values 0..255.")
    channels: int
    height: int
    width: int


ERRORS = {
    400: {"model": ErrorResponse, "description": "Not a multipart form, or too many parts."},
    413: {"model": ErrorResponse, "description": "The file or the picture is too large."},
    415: {"model": ErrorResponse, "description": "Not a PNG, JPEG, WebP or GIF."},
    422: {"model": ErrorResponse, "description": "Corrupt file or bad option."},
    503: {"model": ErrorResponse, "description": "Busy: try again after `Retry-After` s."},
}


def _status(exc: imaging.ImageError) -> int:
    if isinstance(exc, imaging.UnsupportedImageError):
        return 415
    if isinstance(exc, imaging.ImageTooLargeError):
        return 413
    return 422


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"detail": [{"loc": ["file"], "msg": message, "type": "image"}]},
    )


@router.post(
    "/images",
    response_model=ImageResponse,
    responses=ERRORS,
    form_limits=FORM_LIMITS,  # type: ignore[arg-type]  # a plain dict for FastAPI's private TypedDict
)
async def upload_image(
    file: Annotated[UploadFile, File(description="PNG, JPEG, WebP or GIF (first frame).")],
    mode: Annotated[Literal["grey", "rgb"], Form()] = "grey",
    max_side: Annotated[int, Form(ge=1, le=512, description="Scale down to this side.")] = 64,
    encoding: Encoding = "json",
) -> JSONResponse | ArrayJSONResponse:
    """Decode an image to `input` shaped `(C, H, W)`, scaled down to `max_side`."""
    data = await file.read(limits.MAX_UPLOAD_BYTES + 1)
    if len(data) > limits.MAX_UPLOAD_BYTES:
        return _error(
            413, f"the file is over {limits.MAX_UPLOAD_BYTES // 2**20} MiB; upload a smaller one"
        )
    try:
        # Decoding is CPU work: keep it off the event loop so other requests go on.
        pixels = await run_in_threadpool(imaging.decode_image, data, mode=mode, max_side=max_side)
    except imaging.ImageError as exc:
        return _error(_status(exc), exc.message)
    c, h, w = pixels.shape
    response = ImageResponse(input=pixels, channels=c, height=h, width=w)
    return ArrayJSONResponse(response, encoding)
