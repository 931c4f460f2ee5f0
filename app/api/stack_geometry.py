"""The compact ``geometry`` object of docs/STEPS.md for each layer of a stack.

A stand-in written for issue 13: the geometry of every conv and pooling answer is
being added by another change; this module builds the same JSON (field for field as
docs/STEPS.md specifies) from the engine's resolved geometries, so the stack and
digit pages can derive any map's steps. When that change lands, the two should be
merged into one serialiser.
"""

from __future__ import annotations

from typing import Any

from app.engine import conv
from app.engine.sequential import Activation, AvgPool2d, LayerPlan, MaxPool2d


def conv2d_geometry(geo: conv.Conv2dGeometry) -> dict[str, Any]:
    """``{"op": "conv2d", ...}`` (docs/STEPS.md, "conv2d")."""
    p = geo.padding
    cells = geo.output_size[0] * geo.output_size[1]
    return {
        "op": "conv2d",
        "steps": geo.out_channels * cells,
        "taps": geo.window_size,
        "in_channels": geo.in_channels,
        "out_channels": geo.out_channels,
        "groups": geo.groups,
        "input_size": list(geo.input_size),
        "kernel_size": list(geo.kernel_size),
        "stride": list(geo.stride),
        "dilation": list(geo.dilation),
        "padding": {"top": p.top, "bottom": p.bottom, "left": p.left, "right": p.right},
        "padding_mode": geo.padding_mode,
        "reduce": geo.reduce,
        "output_size": list(geo.output_size),
        "padded_size": list(geo.padded_size),
    }


def pool2d_geometry(
    op: str, channels: int, resolved: Any, count_include_pad: bool | None
) -> dict[str, Any]:
    """``{"op": "max_pool2d" | "avg_pool2d", ...}`` from the engine's resolved pooling."""
    (kh, kw), (oh, ow) = resolved.kernel, resolved.out
    return {
        "op": op,
        "steps": channels * oh * ow,
        "taps": kh * kw,
        "channels": channels,
        "input_size": list(resolved.size),
        "kernel_size": [kh, kw],
        "stride": list(resolved.stride),
        "padding": list(resolved.padding),
        "dilation": list(resolved.dilation),
        "ceil_mode": bool(resolved.ceil_mode),
        "count_include_pad": count_include_pad,
        "output_size": [oh, ow],
        "grid_size": list(resolved.grid),
    }


def activation_geometry(layer: Activation, steps: int) -> dict[str, Any]:
    return {
        "op": "activation",
        "function": layer.function,
        "negative_slope": layer.negative_slope,
        "steps": steps,
    }


def layer_geometry(p: LayerPlan) -> dict[str, Any] | None:
    """The geometry of one planned layer (None for flatten and linear: nothing slides)."""
    layer = p.layer
    if p.layer.kind == "conv2d":
        return conv2d_geometry(p.geometry)  # type: ignore[arg-type]
    if isinstance(layer, MaxPool2d):
        return pool2d_geometry("max_pool2d", p.input_shape[0], p.geometry, None)
    if isinstance(layer, AvgPool2d):
        return pool2d_geometry("avg_pool2d", p.input_shape[0], p.geometry, layer.count_include_pad)
    if isinstance(layer, Activation):
        size = 1
        for s in p.output_shape:
            size *= s
        return activation_geometry(layer, size)
    return None
