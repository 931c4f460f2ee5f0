"""The compact ``geometry`` (docs/STEPS.md) of each layer of a stack or of the digit
network: the same serialisers every other answer uses (:mod:`app.api.geometry`), so
the page derives any map's steps exactly as it does on the main page."""

from __future__ import annotations

from app.api.geometry import (
    ActivationGeometryOut,
    Conv2dGeometryOut,
    Pool2dGeometryOut,
    activation_geometry_out,
    conv2d_geometry_out,
    pool2d_geometry_out,
)
from app.engine.conv import Conv2dGeometry
from app.engine.pool import Pool2dGeometry
from app.engine.sequential import Activation, AvgPool2d, LayerPlan, MaxPool2d

LayerGeometry = Conv2dGeometryOut | Pool2dGeometryOut | ActivationGeometryOut


def layer_geometry(p: LayerPlan) -> LayerGeometry | None:
    """The geometry of one planned layer (None for flatten and linear: nothing slides)."""
    layer, geometry = p.layer, p.geometry
    if isinstance(geometry, Conv2dGeometry):
        return conv2d_geometry_out(geometry)
    if isinstance(layer, MaxPool2d) and isinstance(geometry, Pool2dGeometry):
        return pool2d_geometry_out("max_pool2d", p.input_shape[0], geometry)
    if isinstance(layer, AvgPool2d) and isinstance(geometry, Pool2dGeometry):
        return pool2d_geometry_out(
            "avg_pool2d", p.input_shape[0], geometry, layer.count_include_pad
        )
    if isinstance(layer, Activation):
        return activation_geometry_out(layer.function, layer.negative_slope, p.input_shape)
    return None
