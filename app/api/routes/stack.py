"""A stack of layers (conv, activation, max/avg pooling) run on one input, every
layer's maps returned with its shape, formula, parameter count and step geometry."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from app.api import conv_report, limits, offload
from app.api.budget import conv2d_cost, pool2d_cost
from app.api.errors import LimitError
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.route import GuardedRoute
from app.api.schemas import ERRORS, Formula
from app.api.stack_geometry import layer_geometry
from app.api.stack_schemas import (
    ActivationLayer,
    AvgPoolLayer,
    ConvLayer,
    MaxPoolLayer,
    StackLayerOut,
    StackRequest,
    StackResponse,
)
from app.engine import sequential
from app.engine.errors import EngineError
from app.engine.tensors import as_chw

router = APIRouter(prefix="/api", tags=["layer stack"], route_class=GuardedRoute)


def engine_layer(
    spec: ConvLayer | ActivationLayer | MaxPoolLayer | AvgPoolLayer,
) -> sequential.Layer:
    """The request's layer as the engine's."""
    if isinstance(spec, ConvLayer):
        bias = None if spec.bias is None else np.asarray(spec.bias, dtype=np.float32)
        return sequential.Conv2d(
            spec.weight, bias, spec.stride, spec.padding, spec.dilation, spec.groups
        )
    if isinstance(spec, ActivationLayer):
        return sequential.Activation(spec.function, spec.negative_slope)
    if isinstance(spec, MaxPoolLayer):
        return sequential.MaxPool2d(
            spec.kernel_size, spec.stride, spec.padding, spec.dilation, spec.ceil_mode
        )
    return sequential.AvgPool2d(
        spec.kernel_size, spec.stride, spec.padding, spec.ceil_mode, spec.count_include_pad
    )


def check_budget(plans: list[sequential.LayerPlan]) -> int:
    """Refuse a stack over the limits before computing anything; return its multiply-adds."""
    total_macs = 0
    total_out = 0
    for p in plans:
        layer = p.layer
        where = f"layers.{p.index}"
        try:
            if isinstance(layer, sequential.Conv2d):
                filters = int(layer.weight.shape[0])
                if filters > limits.MAX_STACK_FILTERS:
                    raise LimitError(
                        "weight",
                        f"{filters} filters is over the limit of {limits.MAX_STACK_FILTERS}"
                        " per layer; use fewer filters",
                        code="filters_over_limit",
                        params={"actual": filters, "limit": limits.MAX_STACK_FILTERS},
                    )
                conv2d_cost(p.geometry)  # type: ignore[arg-type]  # a conv's plan holds its geometry
            elif isinstance(layer, sequential.MaxPool2d | sequential.AvgPool2d):
                pool2d_cost(p.input_shape[0], p.geometry)  # type: ignore[arg-type]
        except EngineError as exc:
            raise exc.renamed(f"{where}.{exc.field}") from exc
        total_macs += p.macs
        total_out += int(np.prod(p.output_shape))
    if total_macs > limits.MAX_STACK_MACS:
        raise LimitError(
            "layers",
            f"the stack's multiply-adds would be {total_macs:,}, over the limit of"
            f" {limits.MAX_STACK_MACS:,}; use fewer filters or layers, a smaller input, or"
            " pool earlier",
            code="stack_macs_over_limit",
            params={"actual": total_macs, "limit": limits.MAX_STACK_MACS},
        )
    if total_out > limits.MAX_STACK_OUTPUT_ELEMENTS:
        raise LimitError(
            "layers",
            f"all layers' maps together would hold {total_out:,} numbers, over the limit of"
            f" {limits.MAX_STACK_OUTPUT_ELEMENTS:,}; pool earlier or use fewer filters",
            code="stack_maps_over_limit",
            params={"actual": total_out, "limit": limits.MAX_STACK_OUTPUT_ELEMENTS},
        )
    return total_macs


def layer_formula(p: sequential.LayerPlan) -> Formula | None:
    if isinstance(p.layer, sequential.Conv2d):
        return conv_report.formula(p.geometry)  # type: ignore[arg-type]
    if isinstance(p.layer, sequential.MaxPool2d | sequential.AvgPool2d):
        return conv_report.pooling_formula(p.geometry)  # type: ignore[arg-type]
    return None


def pool_indices(layer: sequential.Layer, saved: object) -> np.ndarray | None:
    """A max pooling's argmax of one sample, (C, H_out, W_out), from what its forward kept
    (``(B*C, H_out, W_out)``, B = 1): the page's step view names the engine's winner."""
    if isinstance(layer, sequential.MaxPool2d) and isinstance(saved, np.ndarray):
        return saved
    return None


def layer_out(p: sequential.LayerPlan, output: np.ndarray, saved: object = None) -> StackLayerOut:
    """One layer's answer: its maps, shapes, formula, parameters, range and geometry."""
    return StackLayerOut(
        type=p.layer.kind,
        output=output,
        input_shape=list(p.input_shape),
        output_shape=list(p.output_shape),
        formula=layer_formula(p),
        parameter_count=p.layer.parameter_count,
        macs=p.macs,
        range=(float(output.min()), float(output.max())),
        geometry=layer_geometry(p),
        indices=pool_indices(p.layer, saved),
    )


@router.post("/stack", response_model=StackResponse, responses=ERRORS)
async def stack(body: StackRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """Run a stack of layers on one input and return every layer's maps.

    Layers run in order, each on the output of the one before: `conv2d` (weight,
    bias, stride, padding, dilation, groups), `activation` (relu, leaky_relu,
    sigmoid, tanh), `max_pool2d`, `avg_pool2d`, with `torch.nn.functional`'s
    parameters. Each layer's answer has its maps `(C, H, W)`, shapes, output-size
    formula, parameter count, multiply-adds, the `[min, max]` of its maps (one
    shared scale per layer) and its `geometry` (docs/STEPS.md), from which the page
    derives any map's every step. A layer that cannot take what the one before gives
    (channels, a window larger than the maps left) is a 422 naming
    `layers.<index>.<field>`. Send and receive large tensors with `?encoding=base64`.
    """
    x, _ = as_chw(body.input)
    layers = [engine_layer(spec) for spec in body.layers]
    plans = sequential.plan(layers, x.shape)
    macs = check_budget(plans)
    return await offload.compute(macs, lambda: _run(x, layers, plans, macs, encoding))


def _run(
    x: np.ndarray,
    layers: list[sequential.Layer],
    plans: list[sequential.LayerPlan],
    macs: int,
    encoding: Encoding,
) -> ArrayJSONResponse:
    fwd = sequential.forward(layers, x[None])
    response = StackResponse(
        input_shape=list(x.shape),
        layers=[
            layer_out(p, out[0], saved)
            for p, out, saved in zip(plans, fwd.outputs, fwd.saved, strict=True)
        ],
        parameter_count=sum(layer.parameter_count for layer in layers),
        macs=macs,
    )
    return ArrayJSONResponse(response, encoding)
