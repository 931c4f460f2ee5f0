"""The compact step form: an answer's ``geometry``, the engine's geometry serialised.

Every answer the page animates carries, instead of a per-step trace, the few
integers from which step ``n``'s window, taps, weights, divisor and mask follow
(docs/STEPS.md). These models are those integers; the functions below build them
from the engine's own geometry objects, so the answer says exactly what the
engine computed with. ``tests/test_derive_oracle.py`` uses the same functions to
write the oracle fixtures, so the page's derivation is held to what is sent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.engine.conv import Conv2dGeometry
from app.engine.conv_transpose import ConvTranspose2dGeometry
from app.engine.pool import Pool2dGeometry

Pair = tuple[int, int]


class PaddingOut(BaseModel):
    """Padding of each side, resolved ("same", pairs and F.pad's four values expanded)."""

    top: int
    bottom: int
    left: int
    right: int


class _ConvGeometryOut(BaseModel):
    """What conv2d's and conv_transpose2d's geometries share (the subclasses fix ``op``)."""

    op: str
    steps: int = Field(description="Forward steps: C_out * H_out * W_out.")
    taps: int = Field(description="Taps per forward step: C_in/groups * kH * kW.")
    in_channels: int
    out_channels: int
    groups: int
    input_size: Pair = Field(description="(H, W) of the unpadded input.")
    kernel_size: Pair
    stride: Pair
    dilation: Pair


class Conv2dGeometryOut(_ConvGeometryOut):
    """conv2d's geometry: the forward, dE/dW and dE/dX derivations all follow from it."""

    op: Literal["conv2d"] = "conv2d"
    padding: PaddingOut
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"]
    reduce: Literal["sum", "mean"]
    output_size: Pair
    padded_size: Pair = Field(description="(H + top + bottom, W + left + right).")


class ConvTranspose2dGeometryOut(_ConvGeometryOut):
    """conv_transpose2d's geometry (the gather view; docs/STEPS.md)."""

    op: Literal["conv_transpose2d"] = "conv_transpose2d"
    padding: Pair = Field(description="(pH, pW), cut from each side of the full result.")
    output_padding: Pair
    output_size: Pair


class Pool2dGeometryOut(BaseModel):
    """max_pool2d's or avg_pool2d's geometry; the grid and mask follow app/engine/pool.py."""

    op: Literal["max_pool2d", "avg_pool2d"]
    steps: int = Field(description="C * H_out * W_out.")
    taps: int = Field(description="kH * kW.")
    channels: int
    input_size: Pair
    kernel_size: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    ceil_mode: bool
    count_include_pad: bool | None = Field(description="avg only (null for max).")
    output_size: Pair
    grid_size: Pair = Field(
        description="Rows and columns every tap fits in: the padded input plus any ceil_mode"
        " overhang."
    )


class ActivationGeometryOut(BaseModel):
    """An element-wise activation: step n is element n in row-major order."""

    op: Literal["activation"] = "activation"
    steps: int
    taps: Literal[1] = 1
    function: Literal["relu", "leaky_relu", "sigmoid", "tanh"]
    negative_slope: float = Field(description="leaky_relu's slope (sent for every function).")
    shape: list[int] = Field(description="The input's shape.")


def _conv_common(g: Conv2dGeometry | ConvTranspose2dGeometry) -> dict[str, object]:
    kh, kw = g.kernel_size
    return {
        "steps": g.out_channels * g.output_size[0] * g.output_size[1],
        "taps": g.in_channels // g.groups * kh * kw,
        "in_channels": g.in_channels,
        "out_channels": g.out_channels,
        "groups": g.groups,
        "input_size": g.input_size,
        "kernel_size": g.kernel_size,
        "stride": g.stride,
        "dilation": g.dilation,
        "output_size": g.output_size,
    }


def conv2d_geometry_out(g: Conv2dGeometry) -> Conv2dGeometryOut:
    """The answer form of the engine's :class:`Conv2dGeometry`.

    Built without validation (``model_construct``): every value is a Python int or
    string the engine has checked, and this runs on every lecture-size answer.
    """
    return Conv2dGeometryOut.model_construct(
        **_conv_common(g),
        padding=PaddingOut.model_construct(**g.padding._asdict()),
        padding_mode=g.padding_mode,
        reduce=g.reduce,
        padded_size=g.padded_size,
    )


def conv_transpose2d_geometry_out(g: ConvTranspose2dGeometry) -> ConvTranspose2dGeometryOut:
    """The answer form of the engine's :class:`ConvTranspose2dGeometry`."""
    return ConvTranspose2dGeometryOut(
        **_conv_common(g),  # type: ignore[arg-type]
        padding=g.padding,
        output_padding=g.output_padding,
    )


def pool2d_geometry_out(
    op: Literal["max_pool2d", "avg_pool2d"],
    channels: int,
    g: Pool2dGeometry,
    count_include_pad: bool | None = None,
) -> Pool2dGeometryOut:
    """The answer form of the engine's :class:`Pool2dGeometry` over ``channels`` channels."""
    return Pool2dGeometryOut(
        op=op,
        steps=channels * g.out[0] * g.out[1],
        taps=g.kernel[0] * g.kernel[1],
        channels=channels,
        input_size=g.size,
        kernel_size=g.kernel,
        stride=g.stride,
        padding=g.padding,
        dilation=g.dilation,
        ceil_mode=g.ceil_mode,
        count_include_pad=count_include_pad if op == "avg_pool2d" else None,
        output_size=g.out,
        grid_size=g.grid,
    )


def activation_geometry_out(
    function: str, negative_slope: float, shape: tuple[int, ...]
) -> ActivationGeometryOut:
    steps = 1
    for side in shape:
        steps *= int(side)
    return ActivationGeometryOut(
        steps=steps,
        function=function,  # type: ignore[arg-type]  # checked by the request model
        negative_slope=negative_slope,
        shape=[int(s) for s in shape],
    )
