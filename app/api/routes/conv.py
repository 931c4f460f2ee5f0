"""Convolution and transposed convolution, forward and backward, with step traces."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from app.api import conv_report, offload
from app.api.budget import conv2d_cost, conv_transpose2d_cost
from app.api.geometry import conv2d_geometry_out, conv_transpose2d_geometry_out
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.schemas import (
    ERRORS,
    Conv2dRequest,
    ConvResponse,
    ConvTranspose2dRequest,
    traced,
)
from app.engine import conv, conv_transpose

router = APIRouter(prefix="/api", tags=["convolution"])


def _bias(values: list[float] | None) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float32)


@router.post("/conv2d", response_model=ConvResponse, responses=ERRORS)
async def conv2d(body: Conv2dRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """`F.conv2d` with `padding_mode` and `reduce`; with `grad_output`, its backward pass."""
    steps, taps = conv2d_cost(
        body.input, body.weight, body.stride, body.padding, body.dilation, body.groups
    )
    passes = 1 if body.grad_output is None else 3  # the backward pass has two more traces
    return await offload.compute(steps * taps * passes, lambda: _conv2d(body, encoding))


def _conv2d(body: Conv2dRequest, encoding: Encoding) -> ArrayJSONResponse:
    params = {
        "stride": body.stride,
        "padding": body.padding,
        "dilation": body.dilation,
        "groups": body.groups,
        "padding_mode": body.padding_mode,
        "reduce": body.reduce,
    }
    x, w, b = body.input, body.weight, _bias(body.bias)
    geo = conv.conv2d_geometry(x, w, b, **params)
    response = ConvResponse(
        output=conv.conv2d(x, w, b, **params),
        output_shape=list(geo.output_shape),
        geometry=conv2d_geometry_out(geo),
        formula=conv_report.formula(geo),
        feature_count=int(x.size),
        parameter_count=conv_report.parameter_count(geo, b is not None),
    )
    g = body.grad_output
    if g is not None:
        grad_input, grad_weight, grad_bias = conv.conv2d_backward(g, x, w, b, **params)
        response.grad_input, response.grad_weight = grad_input, grad_weight
        response.grad_bias = grad_bias
    traces = conv_report.traces(geo, x, w, b, g, params, body.trace)
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
    steps, taps = conv_transpose2d_cost(
        body.input,
        body.weight,
        body.stride,
        body.padding,
        body.output_padding,
        body.dilation,
        body.groups,
    )
    passes = 1 if body.grad_output is None else 2  # the backward pass has no trace
    return await offload.compute(
        steps * taps * passes, lambda: _conv_transpose2d(body, encoding, steps, taps)
    )


def _conv_transpose2d(
    body: ConvTranspose2dRequest, encoding: Encoding, steps: int, taps: int
) -> ArrayJSONResponse:
    params = {
        "stride": body.stride,
        "padding": body.padding,
        "output_padding": body.output_padding,
        "groups": body.groups,
        "dilation": body.dilation,
    }
    x, w, b = body.input, body.weight, _bias(body.bias)
    geo = conv_transpose.conv_transpose2d_geometry(x, w, b, **params)
    output = conv_transpose.conv_transpose2d(x, w, b, **params)
    response = ConvResponse(
        output=output,
        output_shape=list(output.shape),
        geometry=conv_transpose2d_geometry_out(geo),
        formula=conv_report.transpose_formula(geo),
        feature_count=int(x.size),
        parameter_count=conv_report.transpose_parameter_count(geo, b is not None),
    )
    response.trace, response.trace_note = traced(
        body.trace, steps, taps, lambda: conv_transpose.conv_transpose2d_trace(x, w, b, **params)
    )
    if body.grad_output is not None:
        grads = conv_transpose.conv_transpose2d_backward(body.grad_output, x, w, b, **params)
        response.grad_input, response.grad_weight, response.grad_bias = grads
    return ArrayJSONResponse(response, encoding)
