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
    ActivationExport,
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
from app.engine.conv import Conv2dGeometry
from app.engine.conv_transpose import ConvTranspose2dGeometry
from app.engine.errors import ParameterError
from app.engine.pool import Pool2dGeometry
from app.engine.tensors import shape_text
from app.export import code, gif, scene, tensors
from app.export.schedule import Per, schedule
from app.export.words import Lang

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

Language = Annotated[
    Lang,
    Query(description="The language of the frame's words (title, labels, step counter)."),
]

# A POST response depends on its body, which no HTTP cache keys on: never store it.
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _params(body: ExportRequest) -> dict[str, object]:
    """The engine's keyword arguments: the request's fields minus tensors and switches."""
    skip = {"op", "input", "weight", "bias", "grad_output", "trace"}
    return {k: v for k, v in body if k not in skip}


Geometry = Conv2dGeometry | ConvTranspose2dGeometry | Pool2dGeometry | None


def _steps(body: ExportRequest) -> tuple[Geometry, int, int]:
    """The operation's geometry (every parameter checked, once) and its usual cost
    checks; return the geometry and (steps, taps) of its trace. An activation has
    no geometry: a step per cell, one tap each."""
    if isinstance(body, ActivationExport):
        if body.input.ndim not in (2, 3):
            raise ParameterError(
                "input",
                f"has {body.input.ndim} dimensions; an export draws (C, H, W) or (H, W)",
                code="wrong_shape",
                params={"expected": "(C, H, W) | (H, W)", "actual": shape_text(body.input.shape)},
            )
        return None, int(body.input.size), 1
    geo = body.geometry()
    if isinstance(geo, Conv2dGeometry):
        return geo, *conv2d_cost(geo)
    if isinstance(geo, ConvTranspose2dGeometry):
        return geo, *conv_transpose2d_cost(geo)
    channels = body.input.shape[0] if body.input.ndim == 3 else 1
    return geo, *pool2d_cost(channels, geo)


def _build(body: ExportRequest, geo: Geometry) -> scene.Scene:
    if isinstance(body, ActivationExport):
        return scene.activation_scene(body.function, body.input, body.negative_slope)
    if isinstance(body, Conv2dExport | ConvTranspose2dExport):
        bias = None if body.bias is None else np.asarray(body.bias, dtype=np.float32)
        if isinstance(geo, Conv2dGeometry):
            return scene.conv_scene(geo, body.input, body.weight, bias)
        assert isinstance(geo, ConvTranspose2dGeometry)
        return scene.conv_transpose_scene(geo, body.input, body.weight, bias)
    assert isinstance(geo, Pool2dGeometry)
    if isinstance(body, MaxPool2dExport):
        return scene.pool_scene("max_pool2d", geo, body.input)
    return scene.pool_scene("avg_pool2d", geo, body.input, body.count_include_pad)


def _scene(body: ExportRequest, gif_width: int | None = None) -> scene.Scene:
    """The request's scene, refused with a clear message when too large to draw.

    ``gif_width`` is the frame width of an animation (None: one frame or no image).
    """
    geo, steps, taps = _steps(body)
    animated = gif_width is not None
    note = trace_allowed(steps, taps)
    if note is not None:
        raise LimitError(
            "input",
            note.replace("trace left out", "cannot draw the steps"),
            code="steps_over_limit",
            params={"actual": steps * taps, "limit": limits.MAX_TRACE_TAPS}
            if steps <= limits.MAX_TRACE_STEPS
            else {"actual": steps, "limit": limits.MAX_TRACE_STEPS},
        )
    built = _build(body, geo)
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
            code="frame_cells_over_limit",
            params={"actual": cells, "limit": limits.MAX_EXPORT_CELLS},
        )
    if animated and cells * built.out_shape[0] > limits.MAX_GIF_DRAWN_CELLS:
        raise LimitError(
            "input",
            f"the animation would draw {cells:,} cells for each of {built.out_shape[0]:,} output"
            f" channels ({cells * built.out_shape[0]:,} cells), over the limit of"
            f" {limits.MAX_GIF_DRAWN_CELLS:,} cells;"
            " use fewer filters or a smaller input",
            code="gif_cells_over_limit",
            params={"actual": cells * built.out_shape[0], "limit": limits.MAX_GIF_DRAWN_CELLS},
        )
    return built


def _filename(body: ExportRequest, suffix: str) -> str:
    shapes = ["x".join(map(str, body.input.shape))]
    weight = getattr(body, "weight", None)
    if weight is not None:
        shapes.append("k" + "x".join(map(str, weight.shape)))
    name = body.function if isinstance(body, ActivationExport) else body.op
    return f"convviz-{name}-{'-'.join(shapes)}{suffix}"


def _file(content: bytes, media_type: str, filename: str) -> Response:
    headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=media_type, headers=headers)


def _image_responses(media_type: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type: {}}, "description": "The image."}, **ERRORS}


def most_frames(width: int) -> int:
    """The most frames a GIF of this width may have: the frame limit, or fewer when
    the pixel limit (frames x width x height) is reached first."""
    return min(limits.MAX_GIF_FRAMES, limits.MAX_GIF_PIXELS // (width * round(width * 9 / 16)))


@router.post("/gif", response_class=Response, responses=_image_responses("image/gif"))
def export_gif(
    body: Body_,
    frame_ms: FrameMs = gif.DEFAULT_FRAME_MS,
    hold_ms: HoldMs = gif.DEFAULT_HOLD_MS,
    width: Width = gif.DEFAULT_WIDTH,
    theme: Theme = "light",
    per: Annotated[
        Per,
        Query(
            description="`step`: a frame per step, or every k-th step when there are more"
            " steps than the GIF's frame budget (k the smallest that fits, written on each"
            " frame); `row`: one frame per output row (the step completing it)."
        ),
    ] = "step",
    lang: Language = "en",
) -> Response:
    """The step animation as a looping GIF, the last frame held longer.

    One frame per output cell; past the frame budget (`MAX_GIF_FRAMES`, fewer at large
    widths) every k-th step, or with `per=row` one frame per output row. The last step
    is always drawn, and each frame says which steps the animation shows.
    """
    built = _scene(body, gif_width=width)
    frames = schedule(built.trace.steps, built.out_shape, most_frames(width), per)
    data = gif.gif_bytes(built, frame_ms, hold_ms, width, theme, frames, lang)
    return _file(data, "image/gif", _filename(body, ".gif"))


@router.post("/png", response_class=Response, responses=_image_responses("image/png"))
def export_png(
    body: Body_,
    step: Annotated[int, Query(ge=0, description="The step to draw, from 0.")] = 0,
    width: Width = gif.DEFAULT_WIDTH,
    theme: Theme = "light",
    lang: Language = "en",
) -> Response:
    """One frame of the animation (step ``step``, 0-based) as a PNG."""
    built = _scene(body)
    if step >= built.trace.steps:
        raise ParameterError(
            "step",
            f"is {step} but this operation has steps 0..{built.trace.steps - 1}",
            code="in_range",
            params={"min": 0, "max": built.trace.steps - 1, "actual": step},
        )
    data = gif.png_bytes(built, step, width, theme, lang)
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
    _steps(body)  # the engine refuses what PyTorch would, so the generated code runs
    sent = body.model_dump(exclude_unset=True, exclude={"op"})
    numbers = sum(np.size(v) for v in sent.values() if isinstance(v, np.ndarray))
    if numbers > limits.MAX_CODE_ELEMENTS:
        raise LimitError(
            "input",
            f"the code would embed {numbers:,} numbers, over the limit of"
            f" {limits.MAX_CODE_ELEMENTS:,}; use a smaller input",
            code="code_numbers_over_limit",
            params={"actual": int(numbers), "limit": limits.MAX_CODE_ELEMENTS},
        )
    fields = {**_params(body), "input": body.input, "bias": getattr(body, "bias", None)}
    if hasattr(body, "weight"):
        fields["weight"] = body.weight
    return CodeExport(
        pytorch=code.pytorch_code(body.op, fields),
        curl=code.curl_command(body.op, sent, str(request.base_url)),
    )
