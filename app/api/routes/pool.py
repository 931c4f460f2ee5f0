"""Max and average pooling, forward and backward, with step traces."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from app.api.budget import pool2d_cost
from app.api.conv_report import pooling_formula
from app.api.geometry import Pool2dGeometryOut, pool2d_geometry_out
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.schemas import (
    ERRORS,
    AvgPool2dRequest,
    Formula,
    MaxPool2dRequest,
    MaxPoolResponse,
    PoolParams,
    PoolResponse,
    traced,
)
from app.engine import pool

router = APIRouter(prefix="/api", tags=["pooling"])


def _formula(body: PoolParams, dilation: object) -> Formula:
    return pooling_formula(
        body.input.shape, body.kernel_size, body.stride, body.padding, dilation, body.ceil_mode
    )


def _geometry(
    op: Literal["max_pool2d", "avg_pool2d"],
    body: MaxPool2dRequest | AvgPool2dRequest,
    dilation: Any,
    count_include_pad: bool | None = None,
) -> Pool2dGeometryOut:
    shape = body.input.shape
    g = pool.pool2d_geometry(
        shape, body.kernel_size, body.stride, body.padding, dilation, body.ceil_mode
    )
    return pool2d_geometry_out(op, shape[0] if len(shape) == 3 else 1, g, count_include_pad)


@router.post("/max_pool2d", response_model=MaxPoolResponse, responses=ERRORS)
def max_pool2d(body: MaxPool2dRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """`F.max_pool2d(..., return_indices=True)`; the backward routes each gradient to its argmax."""
    params = {
        "kernel_size": body.kernel_size,
        "stride": body.stride,
        "padding": body.padding,
        "dilation": body.dilation,
        "ceil_mode": body.ceil_mode,
    }
    steps, taps = pool2d_cost(body.input, **params)
    output, indices = pool.max_pool2d(body.input, **params)
    response = MaxPoolResponse(
        output=output,
        indices=indices,
        output_shape=list(output.shape),
        geometry=_geometry("max_pool2d", body, body.dilation),
        formula=_formula(body, body.dilation),
        feature_count=int(body.input.size),
    )
    response.trace, response.trace_note = traced(
        body.trace, steps, taps, lambda: pool.max_pool2d_trace(body.input, **params)
    )
    if body.grad_output is not None:
        response.grad_input = pool.max_pool2d_backward(body.grad_output, indices, body.input.shape)
    return ArrayJSONResponse(response, encoding)


@router.post("/avg_pool2d", response_model=PoolResponse, responses=ERRORS)
def avg_pool2d(body: AvgPool2dRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """`F.avg_pool2d`; the backward splits each gradient evenly over its window."""
    params = {
        "kernel_size": body.kernel_size,
        "stride": body.stride,
        "padding": body.padding,
        "ceil_mode": body.ceil_mode,
        "count_include_pad": body.count_include_pad,
    }
    steps, taps = pool2d_cost(
        body.input, body.kernel_size, body.stride, body.padding, 1, body.ceil_mode
    )
    output = pool.avg_pool2d(body.input, **params)
    response = PoolResponse(
        output=output,
        output_shape=list(output.shape),
        geometry=_geometry("avg_pool2d", body, 1, body.count_include_pad),
        formula=_formula(body, 1),
        feature_count=int(body.input.size),
    )
    response.trace, response.trace_note = traced(
        body.trace, steps, taps, lambda: pool.avg_pool2d_trace(body.input, **params)
    )
    if body.grad_output is not None:
        response.grad_input = pool.avg_pool2d_backward(body.grad_output, body.input.shape, **params)
    return ArrayJSONResponse(response, encoding)
