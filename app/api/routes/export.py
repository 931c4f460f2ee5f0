"""Exports of one operation: GIF animation, one PNG frame, tensors as JSON, code.

Every endpoint takes the operation's own request body (see
``app.api.export_schemas.ExportRequest``) and is bounded before any drawing: the
operation's usual cost checks, then the export limits of ``app.api.limits``.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from app.api import limits
from app.api.budget import conv2d_cost, conv_transpose2d_cost, pool2d_cost, trace_allowed
from app.api.errors import LimitError
from app.api.export_schemas import (
    CodeExport,
    Conv2dExport,
    ConvTranspose2dExport,
    ExportRequest,
    MaxPool2dExport,
    TensorsExport,
    Theme,
)
from app.api.responses import ArrayJSONResponse
from app.api.route import GuardedRoute
from app.api.schemas import ERRORS
from app.engine import conv, conv_transpose, pool
from app.engine.errors import ParameterError
from app.export import code, gif, scene, tensors

router = APIRouter(prefix="/api/export", tags=["export"], route_class=GuardedRoute)

Body_ = Annotated[ExportRequest, Body()]
FrameMs = Annotated[int, Query(ge=20, le=10_000, multiple_of=10, description="Time per frame, ms.")]
HoldMs = Annotated[
    int, Query(ge=0, le=60_000, multiple_of=10, description="Extra time on the last frame, ms.")
]
Width = Annotated[
    int,
    Query(
        ge=limits.MIN_EXPORT_WIDTH,
        le=limits.MAX_EXPORT_WIDTH,
        description="Frame width in pixels; the height is width * 9/16.",
    ),
]

# A POST response depends on its body, which no HTTP cache keys on: never store it.
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _params(body: ExportRequest) -> dict[str, object]:
    """The engine's keyword arguments: the request's fields minus tensors and switches."""
    skip = {"op", "input", "weight", "bias", "grad_output", "trace"}
    return {k: v for k, v in body if k not in skip}


def _steps(body: ExportRequest) -> tuple[int, int]:
    """The operation's usual cost checks; return (steps, taps) of its trace."""
    if isinstance(body, Conv2dExport):
        args = (body.stride, body.padding, body.dilation, body.groups)
        return conv2d_cost(body.input, body.weight, *args)
    if isinstance(body, ConvTranspose2dExport):
        args = (body.stride, body.padding, body.output_padding, body.dilation, body.groups)
        return conv_transpose2d_cost(body.input, body.weight, *args)
    dilation = body.dilation if isinstance(body, MaxPool2dExport) else 1
    return pool2d_cost(
        body.input, body.kernel_size, body.stride, body.padding, dilation, body.ceil_mode
    )


def _build(body: ExportRequest) -> scene.Scene:
    params = _params(body)
    if isinstance(body, Conv2dExport | ConvTranspose2dExport):
        bias = None if body.bias is None else np.asarray(body.bias, dtype=np.float32)
        make = scene.conv2d_scene if body.op == "conv2d" else scene.conv_transpose2d_scene
        return make(body.input, body.weight, bias, **params)  # type: ignore[arg-type]
    make_pool = scene.max_pool2d_scene if body.op == "max_pool2d" else scene.avg_pool2d_scene
    return make_pool(body.input, **params)  # type: ignore[arg-type]


def _scene(body: ExportRequest, gif_width: int | None = None) -> scene.Scene:
    """The request's scene, refused with a clear message when too large to draw.

    ``gif_width`` is the frame width of an animation (None: one frame or no image).
    """
    steps, taps = _steps(body)
    animated = gif_width is not None
    if animated and steps > limits.MAX_GIF_FRAMES:
        raise LimitError(
            "input",
            f"the animation would have {steps:,} frames (one per output cell), over the limit"
            f" of {limits.MAX_GIF_FRAMES:,}; use a smaller input, a larger stride or fewer"
            " filters, or export single frames as PNG",
        )
    if animated and steps * gif_width * round(gif_width * 9 / 16) > limits.MAX_GIF_PIXELS:
        raise LimitError(
            "width",
            f"{steps:,} frames of {gif_width} pixels wide are over the limit of"
            f" {limits.MAX_GIF_PIXELS:,} pixels per GIF; use a smaller width (e.g. 960) or"
            " fewer steps",
        )
    note = trace_allowed(steps, taps)
    if note is not None:
        raise LimitError("input", note.replace("trace left out", "cannot draw the steps"))
    built = _build(body)
    _, hg, wg = built.trace.grid.shape
    kh, kw = built.kernel_size
    _, ho, wo = built.out_shape
    kernel = kh * kw if built.has_kernel else 0
    cells = built.channels_per_step * (hg * wg + kernel) + ho * wo
    if cells > limits.MAX_EXPORT_CELLS:
        raise LimitError(
            "input",
            f"one frame would draw {cells:,} cells, over the limit of"
            f" {limits.MAX_EXPORT_CELLS:,} (numbers would be too small to read);"
            " use a smaller input or fewer channels",
        )
    if animated and cells * built.out_shape[0] > limits.MAX_GIF_DRAWN_CELLS:
        raise LimitError(
            "input",
            f"the animation would draw {cells:,} cells for each of {built.out_shape[0]:,} output"
            f" channels, over the limit of {limits.MAX_GIF_DRAWN_CELLS:,} cells;"
            " use fewer filters or a smaller input",
        )
    return built


def _check_operation(body: ExportRequest) -> None:
    """Let the engine refuse what PyTorch would refuse (channels, shapes, padding), so the
    generated code runs; cheap after the cost checks of :func:`_steps`."""
    params = _params(body)
    if isinstance(body, Conv2dExport):
        conv.conv2d_geometry(body.input, body.weight, body.bias, **params)  # type: ignore[arg-type]
    elif isinstance(body, ConvTranspose2dExport):
        conv_transpose.conv_transpose2d_geometry(body.input, body.weight, body.bias, **params)  # type: ignore[arg-type]
    elif isinstance(body, MaxPool2dExport):
        pool.max_pool2d(body.input, **params)  # type: ignore[arg-type]
    else:
        pool.avg_pool2d(body.input, **params)  # type: ignore[arg-type]


def _filename(body: ExportRequest, suffix: str) -> str:
    shapes = ["x".join(map(str, body.input.shape))]
    weight = getattr(body, "weight", None)
    if weight is not None:
        shapes.append("k" + "x".join(map(str, weight.shape)))
    return f"convviz-{body.op}-{'-'.join(shapes)}{suffix}"


def _file(content: bytes, media_type: str, filename: str) -> Response:
    headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=media_type, headers=headers)


def _image_responses(media_type: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type: {}}, "description": "The image."}, **ERRORS}


@router.post("/gif", response_class=Response, responses=_image_responses("image/gif"))
def export_gif(
    body: Body_,
    frame_ms: FrameMs = gif.DEFAULT_FRAME_MS,
    hold_ms: HoldMs = gif.DEFAULT_HOLD_MS,
    width: Width = gif.DEFAULT_WIDTH,
    theme: Theme = "light",
) -> Response:
    """The step animation as a looping GIF: one frame per output cell, the last held longer."""
    built = _scene(body, gif_width=width)
    data = gif.gif_bytes(built, frame_ms, hold_ms, width, theme)
    return _file(data, "image/gif", _filename(body, ".gif"))


@router.post("/png", response_class=Response, responses=_image_responses("image/png"))
def export_png(
    body: Body_,
    step: Annotated[int, Query(ge=0, description="The step to draw, from 0.")] = 0,
    width: Width = gif.DEFAULT_WIDTH,
    theme: Theme = "light",
) -> Response:
    """One frame of the animation (step ``step``, 0-based) as a PNG."""
    built = _scene(body)
    if step >= built.trace.steps:
        raise ParameterError(
            "step", f"is {step} but this operation has steps 0..{built.trace.steps - 1}"
        )
    data = gif.png_bytes(built, step, width, theme)
    return _file(data, "image/png", _filename(body, f"-step{step}.png"))


@router.post("/json", response_model=TensorsExport, responses=ERRORS)
def export_json(body: Body_) -> ArrayJSONResponse:
    """Input, padded input, weight, bias, output and a per-step summary, as a JSON file."""
    document = TensorsExport.model_validate(tensors.document(_scene(body)))
    response = ArrayJSONResponse(document)
    response.headers.update(
        {**_NO_STORE, "Content-Disposition": f'attachment; filename="{_filename(body, ".json")}"'}
    )
    return response


@router.post("/code", response_model=CodeExport, responses=ERRORS)
def export_code(body: Body_, request: Request) -> CodeExport:
    """The operation as a PyTorch program that prints its output, and as a curl command."""
    _steps(body)
    sent = body.model_dump(exclude_unset=True, exclude={"op"})
    numbers = sum(np.size(v) for v in sent.values() if isinstance(v, np.ndarray))
    if numbers > limits.MAX_CODE_ELEMENTS:
        raise LimitError(
            "input",
            f"the code would embed {numbers:,} numbers, over the limit of"
            f" {limits.MAX_CODE_ELEMENTS:,}; use a smaller input",
        )
    _check_operation(body)
    fields = {**_params(body), "input": body.input, "bias": getattr(body, "bias", None)}
    if hasattr(body, "weight"):
        fields["weight"] = body.weight
    return CodeExport(
        pytorch=code.pytorch_code(body.op, fields),
        curl=code.curl_command(body.op, sent, str(request.base_url)),
    )
