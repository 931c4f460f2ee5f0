"""Backprop through one layer, and gradient descent on its filter (slides 10 to 13)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api import conv_report, limits
from app.api.budget import conv2d_cost, pool2d_cost
from app.api.errors import LimitError
from app.api.geometry import activation_geometry_out, conv2d_geometry_out, pool2d_geometry_out
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.route import GuardedRoute
from app.api.schemas import ERRORS, traced
from app.api.sse import SSE_RESPONSES, Event, sse_response
from app.api.training_schemas import (
    ActivationStage,
    BackpropRequest,
    BackpropResponse,
    ConvStage,
    DescentDone,
    DescentRequest,
    DescentResponse,
    DescentStepOut,
    DescentStreamRequest,
    PoolLayer,
    PoolStage,
)
from app.engine import descent, stack

router = APIRouter(prefix="/api", tags=["backprop and training"], route_class=GuardedRoute)


def _array(values: list[float] | None) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float32)


# --------------------------------------------------------------------------- backprop


def _conv_stage(
    layer: stack.Stack, fwd: stack.StackForward, back: stack.StackBackward, trace: bool
) -> ConvStage:
    """The conv's numbers, its geometry and, each within the trace limit, its three traces."""
    geo, x, w, g = fwd.geometry, fwd.input, layer.weight, back.grad_conv_output
    traces = conv_report.traces(geo, x, w, layer.bias, g, trace)
    return ConvStage(
        output=fwd.conv,
        grad_output=g,
        grad_input=back.grad_input,
        grad_weight=back.grad_weight,
        grad_bias=back.grad_bias,
        formula=conv_report.formula(geo),
        parameter_count=conv_report.parameter_count(geo, layer.bias is not None),
        geometry=conv2d_geometry_out(geo),
        trace=traces.trace,
        grad_weight_trace=traces.grad_weight_trace,
        grad_input_trace=traces.grad_input_trace,
        trace_note=traces.note,
    )


def _pool_stage(
    spec: stack.PoolSpec, fwd: stack.StackForward, back: stack.StackBackward, trace: bool
) -> PoolStage:
    source, geo = fwd.pool_input, fwd.pool_geometry
    assert fwd.pooled is not None and back.grad_pool_input is not None and geo is not None
    channels = source.shape[0] if source.ndim == 3 else 1
    if spec.kind == "max":
        out = pool2d_geometry_out("max_pool2d", channels, geo)
        make = lambda: geo.max_trace(source)  # noqa: E731
    else:
        out = pool2d_geometry_out("avg_pool2d", channels, geo, spec.count_include_pad)
        make = lambda: geo.avg_trace(source, spec.count_include_pad)  # noqa: E731
    stage = PoolStage(
        kind=spec.kind,
        geometry=out,
        output=fwd.pooled,
        indices=fwd.indices,
        grad_output=back.grad_output,
        grad_input=back.grad_pool_input,
        formula=conv_report.pooling_formula(geo),
    )
    stage.trace, stage.trace_note = traced(trace, out.steps, out.taps, make)
    return stage


def _pool_spec(pl: PoolLayer) -> stack.PoolSpec:
    return stack.PoolSpec(
        kind=pl.kind,
        kernel_size=pl.kernel_size,
        stride=pl.stride,
        padding=pl.padding,
        dilation=pl.dilation,
        ceil_mode=pl.ceil_mode,
        count_include_pad=pl.count_include_pad,
    )


@router.post("/backprop", response_model=BackpropResponse, responses=ERRORS)
def backprop(body: BackpropRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """Forward and backward through conv -> activation -> pooling, from a chosen loss.

    The loss is `mse` against a `target` map (or the output of a `teacher_weight`),
    the `sum` of the outputs, or a hand-set `grad_output`. Every stage comes back
    with its output, the gradient arriving at it, the gradient it passes on and its
    `geometry`, so the page can show dE/dO, pooling's routing, the ReLU gate, then
    dE/dW, dE/dX and dE/db step by step; with `trace: true` the full step traces of
    the conv's forward and of both gradients come too (under the same trace limits
    as `/api/conv2d`).
    """
    act, pl = body.activation, body.pool
    layer = stack.Stack(
        weight=body.weight,
        bias=_array(body.bias),
        settings=body.conv_params(),
        activation=None if act is None else stack.ActivationSpec(act.function, act.negative_slope),
        pool=None if pl is None else _pool_spec(pl),
    )
    # Every parameter is checked once, into the geometries, and the costs come from
    # them before anything is computed (the pooling's input is the conv's output).
    geo = body.geometry()
    conv2d_cost(geo)
    pool_geo = None
    if layer.pool is not None:
        pool_geo = layer.pool.geometry(geo.output_shape)
        pool2d_cost(geo.out_channels, pool_geo)
    fwd = layer.forward(body.input, geometry=geo, pool_geometry=pool_geo)
    loss, grad_output, target = stack.stack_loss(
        layer,
        fwd,
        body.loss,
        target=body.target,
        teacher_weight=body.teacher_weight,
        grad_output=body.grad_output,
    )
    back = stack.stack_backward(layer, fwd, grad_output)
    activation = None
    if layer.activation is not None:
        assert fwd.activated is not None and back.gate is not None
        activation = ActivationStage(
            function=layer.activation.function,
            output=fwd.activated,
            gate=back.gate,
            grad_output=back.grad_pool_input if layer.pool is not None else back.grad_output,
            grad_input=back.grad_conv_output,
            geometry=activation_geometry_out(
                layer.activation.function, layer.activation.negative_slope, fwd.conv.shape
            ),
        )
    response = BackpropResponse(
        output=fwd.output,
        output_shape=list(fwd.output.shape),
        loss=loss,
        loss_kind=body.loss,
        target=target,
        grad_output=back.grad_output,
        grad_input=back.grad_input,
        grad_weight=back.grad_weight,
        grad_bias=back.grad_bias,
        feature_count=int(body.input.size),
        conv=_conv_stage(layer, fwd, back, body.trace),
        activation=activation,
        pool=None if layer.pool is None else _pool_stage(layer.pool, fwd, back, body.trace),
    )
    if not body.repeat:
        _drop_repeats(response)
    return ArrayJSONResponse(response, encoding)


def _drop_repeats(r: BackpropResponse) -> None:
    """Null every field that repeats another (``repeat: false``): each tensor is sent
    once, where it first appears: the answer's output and dE/dO, then conv's numbers,
    then each stage's own (docs/TRAINING_API.md lists them)."""
    r.grad_input = r.grad_weight = r.grad_bias = None  # conv's
    last = r.pool or r.activation or r.conv
    last.output = last.grad_output = None  # the answer's output and grad_output
    if r.activation is not None:
        r.activation.grad_input = None  # conv.grad_output
    if r.pool is not None:
        r.pool.grad_input = None  # activation.grad_output, or conv.grad_output


# --------------------------------------------------------------------------- descent


def _check_descent(body: DescentRequest) -> None:
    """Refuse a run whose answer or work would be too large, before any of it is done."""
    if body.weight.size > limits.MAX_DESCENT_WEIGHT_ELEMENTS:
        raise LimitError(
            "weight",
            f"has {body.weight.size:,} numbers, over the descent limit of"
            f" {limits.MAX_DESCENT_WEIGHT_ELEMENTS:,} (every step sends the weight back);"
            " train fewer or smaller filters",
            code="weight_over_limit",
            params={"actual": int(body.weight.size), "limit": limits.MAX_DESCENT_WEIGHT_ELEMENTS},
        )
    runs = (body.max_iterations + 1) * len(body.inputs)
    if runs > limits.MAX_DESCENT_CONVS:
        most = limits.MAX_DESCENT_CONVS // len(body.inputs) - 1
        raise LimitError(
            "max_iterations",
            f"{body.max_iterations + 1} iterations x {len(body.inputs)} inputs is {runs:,}"
            f" forward and backward passes, over the limit of {limits.MAX_DESCENT_CONVS:,};"
            f" use max_iterations <= {most} or fewer inputs",
            code="iterations_over_limit",
            params={"max": most},
        )
    per_iteration = 0
    params = body.conv_params()
    for x in body.inputs:
        steps, taps = conv2d_cost(params.geometry(x, body.weight))
        per_iteration += 3 * steps * taps  # forward, dE/dW and dE/dX
    total = per_iteration * (body.max_iterations + 1)
    if total > limits.MAX_DESCENT_MACS:
        most = max(limits.MAX_DESCENT_MACS // max(per_iteration, 1) - 1, 0)
        raise LimitError(
            "max_iterations",
            f"the run would take {total:,} multiply-adds, over the limit of"
            f" {limits.MAX_DESCENT_MACS:,}; use max_iterations <= {most}, or fewer or"
            " smaller inputs",
            code="iterations_over_limit",
            params={"max": most},
        )


def _start(body: DescentRequest) -> Iterator[descent.DescentStep]:
    """The run's steps; the first is computed now, so a bad request fails with 422."""
    _check_descent(body)
    problem = descent.conv_problem(
        body.inputs,
        body.weight,
        body.loss,
        targets=body.targets,
        teacher_weight=body.teacher_weight,
        teacher_bias=_array(body.teacher_bias),
        settings=body.conv_params(),
    )
    steps = descent.descend(
        problem,
        body.weight,
        _array(body.bias),
        lr=body.lr,
        momentum=body.momentum,
        max_iterations=body.max_iterations,
        loss_tolerance=body.loss_tolerance,
        grad_tolerance=body.grad_tolerance,
        velocity=body.velocity,
        velocity_bias=_array(body.velocity_bias),
    )
    first = next(steps)

    def resumed() -> Iterator[descent.DescentStep]:
        yield first
        if first.stop is None:
            yield from steps  # closing this generator closes the run as well

    return resumed()


def _step_out(step: descent.DescentStep) -> DescentStepOut:
    return DescentStepOut(
        iteration=step.iteration,
        loss=step.loss,
        weight=step.weight,
        grad=step.grad,
        grad_norm=step.grad_norm,
        bias=step.bias,
        grad_bias=step.grad_bias,
    )


def _done(step: descent.DescentStep) -> DescentDone:
    assert step.stop is not None and step.velocity is not None
    return DescentDone(
        stop_reason=step.stop,  # type: ignore[arg-type]  # one of descent.STOP_REASONS
        iterations=step.iteration,
        loss=step.loss,
        weight=step.weight,
        bias=step.bias,
        velocity=step.velocity,
        velocity_bias=step.velocity_bias,
    )


@router.post("/descent", response_model=DescentResponse, responses=ERRORS)
def run_descent(body: DescentRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """Gradient descent on a conv filter; the whole history in one answer.

    The loss is averaged over `inputs`: `mse` against `targets` (one per input) or
    against the outputs of `teacher_weight` ("learn this filter"), or the `sum` of
    the outputs. Each update is `v = momentum * v + grad; weight -= lr * v`
    (PyTorch's SGD). The run stops on `loss_tolerance`, `grad_tolerance`,
    `max_iterations` or divergence; `stop_reason` says which. To step once, send
    `max_iterations: 1` and continue from the answer's `weight` and `velocity`.
    """
    steps = list(_start(body))
    done = _done(steps[-1])
    response = DescentResponse(steps=[_step_out(s) for s in steps], **dict(done))
    return ArrayJSONResponse(response, encoding)


def _descent_events(steps: Iterator[descent.DescentStep]) -> Iterator[Event]:
    for step in steps:
        yield "step", _step_out(step)
        if step.stop is not None:
            yield "done", _done(step)


@router.post("/descent/stream", responses=SSE_RESPONSES | ERRORS, response_model=None)
def stream_descent(body: DescentStreamRequest, request: Request) -> Response:
    """The same run as `POST /api/descent`, streamed as server-sent events.

    Events, in order: one `step` per iteration (the fields of a `steps` item of
    `/api/descent`: iteration, loss, weight, grad, grad_norm, bias, grad_bias),
    then one `done` (stop_reason, iterations, loss, weight, bias, velocity,
    velocity_bias). `delay_ms` paces them for an animation. Closing the connection
    stops the run. Bad input is refused with 422 before the stream starts.
    """
    seconds = body.max_iterations * body.delay_ms / 1000
    if seconds > limits.MAX_STREAM_SECONDS:
        raise LimitError(
            "delay_ms",
            f"{body.max_iterations} iterations x {body.delay_ms} ms would keep the stream open"
            f" {seconds:.0f} s, over the limit of {limits.MAX_STREAM_SECONDS} s; use a shorter"
            " delay or fewer iterations",
            code="stream_over_limit",
            params={"seconds": round(seconds), "limit": limits.MAX_STREAM_SECONDS},
        )
    return sse_response(request, _descent_events(_start(body)), delay=body.delay_ms / 1000)


@router.get(
    "/descent/scenarios/diagonal-detector",
    response_model=DescentRequest,
)
def diagonal_detector(
    seed: int = Query(default=0, ge=0, le=2**32 - 1, description="Seeds the random start."),
) -> ArrayJSONResponse:
    """ "Learn the diagonal detector": a ready body for `POST /api/descent`.

    The targets are the lecture's diagonal filter (slide 5, `reduce: "mean"`) on the
    X, the O and the shifted X (given as `teacher_weight`); the start `weight` is a
    seeded random 3x3. Descent converges to the diagonal filter.
    """
    scenario = descent.diagonal_detector(seed)
    body = DescentRequest(
        inputs=list(scenario.inputs),
        weight=scenario.weight,
        reduce="mean",
        loss="mse",
        teacher_weight=scenario.teacher_weight,
        lr=scenario.lr,
        momentum=scenario.momentum,
        max_iterations=scenario.max_iterations,
        loss_tolerance=scenario.loss_tolerance,
    )
    # Rendered like every other answer (orjson), so a float32 reads the same in both.
    return ArrayJSONResponse(body)
