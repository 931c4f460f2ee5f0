"""Convolution and transposed convolution, forward and backward, with step traces.

Each request's parameters are checked once, into the engine's geometry; the cost
check, the computation, the answer's ``geometry`` and the traces all take it.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from app.api import conv_report, offload
from app.api.budget import conv2d_cost, conv_transpose2d_cost
from app.api.geometry import conv2d_geometry_out, conv_transpose2d_geometry_out
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.route import GuardedRoute
from app.api.schemas import (
    ERRORS,
    Conv2dRequest,
    ConvResponse,
    ConvTranspose2dRequest,
    traced,
)
from app.engine.conv import Conv2dGeometry
from app.engine.conv_transpose import ConvTranspose2dGeometry

router = APIRouter(prefix="/api", tags=["convolution"], route_class=GuardedRoute)


def _bias(values: list[float] | None) -> np.ndarray | None:
    """The bias as the engine computes with it (float32), so the traces show those numbers."""
    return None if values is None else np.asarray(values, dtype=np.float32)


@router.post("/conv2d", response_model=ConvResponse, responses=ERRORS)
async def conv2d(body: Conv2dRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """`F.conv2d` with `padding_mode` and `reduce`; with `grad_output`, its backward pass."""
    geo = body.geometry()
    steps, taps = conv2d_cost(geo)
    passes = 1 if body.grad_output is None else 3  # the backward pass has two more traces
    return await offload.compute(steps * taps * passes, lambda: _conv2d(body, geo, encoding))


def _conv2d(body: Conv2dRequest, geo: Conv2dGeometry, encoding: Encoding) -> ArrayJSONResponse:
    x, w, b = body.input, body.weight, _bias(body.bias)
    response = ConvResponse(
        output=geo.forward(x, w, b),
        output_shape=list(geo.output_shape),
        geometry=conv2d_geometry_out(geo),
        formula=conv_report.formula(geo),
        feature_count=int(x.size),
        parameter_count=conv_report.parameter_count(geo, b is not None),
    )
    g = body.grad_output
    if g is not None:
        response.grad_input, response.grad_weight, response.grad_bias = geo.backward(g, x, w, b)
    traces = conv_report.traces(geo, x, w, b, g, body.trace)
    response.trace = traces.trace
    response.grad_weight_trace = traces.grad_weight_trace
    response.grad_input_trace = traces.grad_input_trace
    response.trace_note = traces.note
    return ArrayJSONResponse(response, encoding)


@router.post("/conv_transpose2d", response_model=ConvResponse, responses=ERRORS)
async def conv_transpose2d(
    body: ConvTranspose2dRequest, encoding: Encoding = "json"
) -> ArrayJSONResponse:
    """`F.conv_transpose2d` with `output_padding`; with `grad_output`, its backward pass."""
    geo = body.geometry()
    steps, taps = conv_transpose2d_cost(geo)
    passes = 1 if body.grad_output is None else 2  # the backward pass has no trace
    return await offload.compute(
        steps * taps * passes, lambda: _conv_transpose2d(body, geo, encoding, steps, taps)
    )


def _conv_transpose2d(
    body: ConvTranspose2dRequest,
    geo: ConvTranspose2dGeometry,
    encoding: Encoding,
    steps: int,
    taps: int,
) -> ArrayJSONResponse:
    x, w, b = body.input, body.weight, _bias(body.bias)
    output = geo.forward(x, w, b)
    response = ConvResponse(
        output=output,
        output_shape=list(output.shape),
        geometry=conv_transpose2d_geometry_out(geo),
        formula=conv_report.transpose_formula(geo),
        feature_count=int(x.size),
        parameter_count=conv_report.transpose_parameter_count(geo, b is not None),
    )
    response.trace, response.trace_note = traced(
        body.trace, steps, taps, lambda: geo.trace(x, w, b)
    )
    if body.grad_output is not None:
        response.grad_input, response.grad_weight, response.grad_bias = geo.backward(
            body.grad_output, x, w, b
        )
    return ArrayJSONResponse(response, encoding)
