"""Max and average pooling, forward and backward, with step traces.

Each request's parameters are checked once, into the engine's pooling geometry;
the cost check, the computation, the answer's ``geometry`` and the trace take it.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.budget import pool2d_cost
from app.api.conv_report import pooling_formula
from app.api.geometry import pool2d_geometry_out
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.route import GuardedRoute
from app.api.schemas import (
    ERRORS,
    AvgPool2dRequest,
    MaxPool2dRequest,
    MaxPoolResponse,
    PoolResponse,
    traced,
)
from app.engine import pool

router = APIRouter(prefix="/api", tags=["pooling"], route_class=GuardedRoute)


def _channels(shape: tuple[int, ...]) -> int:
    return shape[0] if len(shape) == 3 else 1


@router.post("/max_pool2d", response_model=MaxPoolResponse, responses=ERRORS)
def max_pool2d(body: MaxPool2dRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """`F.max_pool2d(..., return_indices=True)`; the backward routes each gradient to its argmax."""
    x = body.input
    geo = body.geometry()
    steps, taps = pool2d_cost(_channels(x.shape), geo)
    output, indices = geo.max_pool(x)
    response = MaxPoolResponse(
        output=output,
        indices=indices,
        output_shape=list(output.shape),
        geometry=pool2d_geometry_out("max_pool2d", _channels(x.shape), geo),
        formula=pooling_formula(geo),
        feature_count=int(x.size),
    )
    response.trace, response.trace_note = traced(body.trace, steps, taps, lambda: geo.max_trace(x))
    if body.grad_output is not None:
        response.grad_input = pool.max_pool2d_backward(body.grad_output, indices, x.shape)
    return ArrayJSONResponse(response, encoding)


@router.post("/avg_pool2d", response_model=PoolResponse, responses=ERRORS)
def avg_pool2d(body: AvgPool2dRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """`F.avg_pool2d`; the backward splits each gradient evenly over its window."""
    x, include = body.input, body.count_include_pad
    geo = body.geometry()
    steps, taps = pool2d_cost(_channels(x.shape), geo)
    output = geo.avg_pool(x, include)
    response = PoolResponse(
        output=output,
        output_shape=list(output.shape),
        geometry=pool2d_geometry_out("avg_pool2d", _channels(x.shape), geo, include),
        formula=pooling_formula(geo),
        feature_count=int(x.size),
    )
    response.trace, response.trace_note = traced(
        body.trace, steps, taps, lambda: geo.avg_trace(x, include)
    )
    if body.grad_output is not None:
        response.grad_input = geo.avg_backward(body.grad_output, x.shape, include)
    return ArrayJSONResponse(response, encoding)
