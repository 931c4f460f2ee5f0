"""A network as a list of layers (PyTorch's ``nn.Sequential``), forward and backward
over a batch, built from the engine's own operations.

Layers, in PyTorch's terms (each a frozen dataclass holding its parameters):

- :class:`Conv2d` (``F.conv2d``): ``(B, C_in, H, W) -> (B, C_out, H_out, W_out)``;
- :class:`Activation` (``F.relu`` and the others of :mod:`app.engine.activations`):
  any shape, kept;
- :class:`MaxPool2d`, :class:`AvgPool2d`: ``(B, C, H, W) -> (B, C, H_out, W_out)``;
- :class:`Flatten` (``torch.flatten(x, 1)``): ``(B, C, H, W) -> (B, C*H*W)``;
- :class:`Linear` (``F.linear``): ``(B, F_in) -> (B, F_out)``.

The engine's convolution and pooling take one sample ``(C, H, W)``. A batch goes
through them in one call, as in :mod:`app.engine.xo_net`: the ``B`` samples' channels
are stacked into ``B*C`` channels and the conv runs with ``groups * B``, the filters
repeated once per sample, so every sample sees the same filters and nothing of the
others; pooling works per channel anyway.

:func:`forward` keeps every layer's output (the page shows them all) and what each
backward needs (max pooling's argmax); :func:`backward` walks back through them,
keeping ``dE/d`` of every layer's output and of every parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike

from app.engine import activations, conv, linear, pool
from app.engine.arithmetic import IntOrPair, PaddingArg
from app.engine.errors import EngineError, ShapeError
from app.engine.tensors import as_array, shape_text


@dataclass(frozen=True)
class Conv2d:
    """``F.conv2d(x, weight, bias, stride, padding, dilation, groups)``.

    weight : (C_out, C_in/groups, kH, kW) float32; bias : (C_out,) or None.
    """

    weight: np.ndarray
    bias: np.ndarray | None = None
    stride: IntOrPair = 1
    padding: PaddingArg = 0
    dilation: IntOrPair = 1
    groups: int = 1
    kind: str = field(default="conv2d", init=False)

    def kwargs(self) -> dict[str, object]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
        }

    @property
    def parameter_count(self) -> int:
        return int(self.weight.size) + (0 if self.bias is None else int(self.bias.size))


@dataclass(frozen=True)
class Activation:
    """An element-wise activation by name (``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``)."""

    function: str = "relu"
    negative_slope: float = 0.01
    kind: str = field(default="activation", init=False)

    def kwargs(self) -> dict[str, float]:
        return {"negative_slope": self.negative_slope} if self.function == "leaky_relu" else {}

    parameter_count = 0


@dataclass(frozen=True)
class MaxPool2d:
    """``F.max_pool2d``."""

    kernel_size: IntOrPair = 2
    stride: IntOrPair | None = None
    padding: IntOrPair = 0
    dilation: IntOrPair = 1
    ceil_mode: bool = False
    kind: str = field(default="max_pool2d", init=False)

    def kwargs(self) -> dict[str, object]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.ceil_mode,
        }

    parameter_count = 0


@dataclass(frozen=True)
class AvgPool2d:
    """``F.avg_pool2d``."""

    kernel_size: IntOrPair = 2
    stride: IntOrPair | None = None
    padding: IntOrPair = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    kind: str = field(default="avg_pool2d", init=False)

    def kwargs(self) -> dict[str, object]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "ceil_mode": self.ceil_mode,
            "count_include_pad": self.count_include_pad,
        }

    parameter_count = 0


@dataclass(frozen=True)
class Flatten:
    """``torch.flatten(x, 1)``."""

    kind: str = field(default="flatten", init=False)
    parameter_count = 0


@dataclass(frozen=True)
class Linear:
    """``F.linear(x, weight, bias)``; weight (F_out, F_in), bias (F_out,) or None."""

    weight: np.ndarray
    bias: np.ndarray | None = None
    kind: str = field(default="linear", init=False)

    @property
    def parameter_count(self) -> int:
        return int(self.weight.size) + (0 if self.bias is None else int(self.bias.size))


Layer = Conv2d | Activation | MaxPool2d | AvgPool2d | Flatten | Linear
PARAMETRISED = (Conv2d, Linear)


def _named(index: int, exc: EngineError) -> EngineError:
    """The error with the layer's index in its field: ``layers.2.weight``."""
    return exc.renamed(f"layers.{index}.{exc.field}")


def _spatial(x: np.ndarray, index: int, layer: Layer) -> tuple[int, int, int, int]:
    if x.ndim != 4:
        raise ShapeError(
            f"layers.{index}",
            f"{layer.kind} needs maps (B, C, H, W) but the layer before gives"
            f" {shape_text(x.shape[1:])} per sample; move it before the flatten",
            code="needs_maps",
            params={"layer": layer.kind, "shape": shape_text(x.shape[1:])},
        )
    b, c, h, w = x.shape
    return b, c, h, w


def _batched(layer: Conv2d, batch: int) -> tuple[np.ndarray, np.ndarray | None, int]:
    """The conv's filters and biases repeated once per sample, and its groups times ``batch``."""
    weight = np.tile(layer.weight, (batch, 1, 1, 1)) if batch > 1 else layer.weight
    bias = None
    if layer.bias is not None:
        bias = np.tile(layer.bias, batch) if batch > 1 else layer.bias
    return weight, bias, layer.groups * batch


def layer_forward(layer: Layer, x: np.ndarray, index: int = 0) -> tuple[np.ndarray, object]:
    """One layer on a batch: ``(output, what its backward needs)``."""
    try:
        if isinstance(layer, Conv2d):
            b, c, h, w = _spatial(x, index, layer)
            weight, bias, groups = _batched(layer, b)
            kw = {**layer.kwargs(), "groups": groups}
            y = conv.conv2d(x.reshape(b * c, h, w), weight, bias, **kw)  # type: ignore[arg-type]
            return y.reshape(b, -1, *y.shape[-2:]), None
        if isinstance(layer, Activation):
            return activations.activation(layer.function, x, **layer.kwargs()), None
        if isinstance(layer, MaxPool2d):
            b, c, h, w = _spatial(x, index, layer)
            y, idx = pool.max_pool2d(x.reshape(b * c, h, w), **layer.kwargs())  # type: ignore[arg-type]
            return y.reshape(b, c, *y.shape[-2:]), idx
        if isinstance(layer, AvgPool2d):
            b, c, h, w = _spatial(x, index, layer)
            y = pool.avg_pool2d(x.reshape(b * c, h, w), **layer.kwargs())  # type: ignore[arg-type]
            return y.reshape(b, c, *y.shape[-2:]), None
        if isinstance(layer, Flatten):
            return linear.flatten(x), None
        return linear.linear(x, layer.weight, layer.bias), None
    except EngineError as exc:
        if exc.field.startswith("layers."):
            raise
        raise _named(index, exc) from exc


@dataclass(frozen=True)
class Grads:
    """``dE/d`` of one layer's parameters (None for a layer without any)."""

    weight: np.ndarray
    bias: np.ndarray | None


def layer_backward(
    layer: Layer, grad: np.ndarray, x: np.ndarray, saved: object
) -> tuple[np.ndarray, Grads | None]:
    """``(dE/d(input), dE/d(parameters))`` of one layer, from ``dE/d(output)``.

    ``x`` is the layer's input in the forward pass and ``saved`` what
    :func:`layer_forward` returned beside its output.
    """
    if isinstance(layer, Conv2d):
        b, c, h, w = x.shape
        weight, bias, groups = _batched(layer, b)
        kw = {**layer.kwargs(), "groups": groups}
        g = grad.reshape(b * grad.shape[1], *grad.shape[2:])
        dx, dw, db = conv.conv2d_backward(g, x.reshape(b * c, h, w), weight, bias, **kw)  # type: ignore[arg-type]
        dw = dw.reshape(b, *layer.weight.shape).sum(axis=0)
        db = None if db is None else db.reshape(b, -1).sum(axis=0)
        return dx.reshape(x.shape), Grads(dw, db)
    if isinstance(layer, Activation):
        return activations.activation_backward(layer.function, grad, x, **layer.kwargs()), None
    if isinstance(layer, MaxPool2d):
        b, c, h, w = x.shape
        g = grad.reshape(b * c, *grad.shape[2:])
        dx = pool.max_pool2d_backward(g, saved, (b * c, h, w))  # type: ignore[arg-type]
        return dx.reshape(x.shape), None
    if isinstance(layer, AvgPool2d):
        b, c, h, w = x.shape
        g = grad.reshape(b * c, *grad.shape[2:])
        dx = pool.avg_pool2d_backward(g, (b * c, h, w), **layer.kwargs())  # type: ignore[arg-type]
        return dx.reshape(x.shape), None
    if isinstance(layer, Flatten):
        return linear.flatten_backward(grad, x.shape), None
    dx, dw, db = linear.linear_backward(grad, x, layer.weight, layer.bias is not None)
    return dx, Grads(dw, db)


@dataclass(frozen=True)
class Forward:
    """A forward pass: ``outputs[i]`` is layer ``i``'s output; ``inputs[i]`` its input."""

    input: np.ndarray
    outputs: list[np.ndarray]
    saved: list[object]

    @property
    def output(self) -> np.ndarray:
        return self.outputs[-1] if self.outputs else self.input

    def layer_input(self, i: int) -> np.ndarray:
        return self.input if i == 0 else self.outputs[i - 1]


def forward(layers: list[Layer], input: ArrayLike) -> Forward:
    """Run ``layers`` on a batch ``(B, C, H, W)``, keeping every layer's output."""
    x = as_array(input, "input", np.float32)
    outputs, saved = [], []
    current = x
    for i, layer in enumerate(layers):
        current, keep = layer_forward(layer, current, i)
        outputs.append(current)
        saved.append(keep)
    return Forward(x, outputs, saved)


@dataclass(frozen=True)
class Backward:
    """``grad_outputs[i]`` is ``dE/d`` of layer ``i``'s output; ``params[i]`` its
    parameters' gradients (None for a layer without parameters)."""

    grad_input: np.ndarray
    grad_outputs: list[np.ndarray]
    params: list[Grads | None]


def backward(layers: list[Layer], fwd: Forward, grad_output: ArrayLike) -> Backward:
    """Back through every layer from ``dE/d(output)`` (shape of ``fwd.output``)."""
    g = as_array(grad_output, "grad_output", np.float32)
    if g.shape != fwd.output.shape:
        raise ShapeError(
            "grad_output",
            f"must have shape {shape_text(fwd.output.shape)}, got {shape_text(g.shape)}",
            code="wrong_shape",
            params={"expected": shape_text(fwd.output.shape), "actual": shape_text(g.shape)},
        )
    n = len(layers)
    grad_outputs: list[np.ndarray] = [g] * n
    params: list[Grads | None] = [None] * n
    for i in range(n - 1, -1, -1):
        grad_outputs[i] = g
        g, params[i] = layer_backward(layers[i], g, fwd.layer_input(i), fwd.saved[i])
    return Backward(g, grad_outputs, params)


@dataclass(frozen=True)
class LayerPlan:
    """What one layer of a single-sample stack will do, from shapes alone.

    input_shape, output_shape : (C, H, W) or (F,)
    geometry : Conv2dGeometry (conv), the pooling's resolved geometry (pools), or None
    macs : multiply-adds (conv and linear; 0 for the rest)
    """

    index: int
    layer: Layer
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    geometry: object
    macs: int


def _zeros(shape: tuple[int, ...]) -> np.ndarray:
    """A read-only array of ``shape`` that allocates nothing (one zero, broadcast)."""
    return np.broadcast_to(np.float32(0), shape)


def plan(layers: list[Layer], input_shape: tuple[int, ...]) -> list[LayerPlan]:
    """Check a stack on one sample of ``input_shape`` ``(C, H, W)`` layer by layer,
    computing nothing: each layer's output shape, geometry and cost, or the first
    layer that cannot take what the one before gives (an EngineError whose field is
    ``layers.<index>.<field>``)."""
    shape = tuple(int(s) for s in input_shape)
    out: list[LayerPlan] = []
    for i, layer in enumerate(layers):
        try:
            geometry: object = None
            macs = 0
            if isinstance(layer, Conv2d | MaxPool2d | AvgPool2d) and len(shape) != 3:
                raise ShapeError(
                    "type",
                    f"{layer.kind} needs maps (C, H, W) but the layer before gives"
                    f" {shape_text(shape)}; move it before the flatten",
                    code="needs_maps",
                    params={"layer": layer.kind, "shape": shape_text(shape)},
                )
            if isinstance(layer, Conv2d):
                geo = conv.conv2d_geometry(
                    _zeros(shape), layer.weight, layer.bias, **layer.kwargs()
                )  # type: ignore[arg-type]
                geometry = geo
                new = (geo.out_channels, *geo.output_size)
                macs = geo.out_channels * geo.output_size[0] * geo.output_size[1] * geo.window_size
            elif isinstance(layer, MaxPool2d | AvgPool2d):
                kw = layer.kwargs()
                dilation = kw.pop("dilation", 1)
                kw.pop("count_include_pad", None)
                try:  # the pooling's own checks and sizes, without pooling anything
                    geometry = pool._resolve(shape[1:], dilation=dilation, **kw)  # type: ignore[arg-type]
                except ShapeError as exc:  # the window does not fit what is left
                    raise ShapeError(
                        "kernel_size",
                        f"the pooling leaves nothing: the input {exc.message}",
                        code=exc.code,
                        params=exc.params,
                    ) from exc
                new = (shape[0], *geometry.out)  # type: ignore[attr-defined]
            elif isinstance(layer, Flatten):
                new = (int(np.prod(shape)),)
            elif isinstance(layer, Linear):
                if len(shape) != 1 or layer.weight.ndim != 2 or layer.weight.shape[1] != shape[0]:
                    raise ShapeError(
                        "weight",
                        f"must have shape (F_out, {int(np.prod(shape))}) to read the"
                        f" {shape_text(shape)} before it (flatten first)",
                        code="features_mismatch",
                        params={
                            "needed": int(layer.weight.shape[1]),
                            "actual": int(np.prod(shape)),
                        },
                    )
                new = (int(layer.weight.shape[0]),)
                macs = int(layer.weight.size)
            else:
                activations.activation(layer.function, np.zeros(1, np.float32), **layer.kwargs())
                new = shape
        except EngineError as exc:
            raise _named(i, exc) from exc
        out.append(LayerPlan(i, layer, shape, new, geometry, macs))
        shape = new
    return out


def with_params(layers: list[Layer], params: list[Grads | None]) -> list[Layer]:
    """The layers with new weights and biases (None keeps a layer as it is)."""
    out: list[Layer] = []
    for layer, p in zip(layers, params, strict=True):
        out.append(layer if p is None else replace(layer, weight=p.weight, bias=p.bias))  # type: ignore[arg-type]
    return out


def parameters(layers: list[Layer]) -> list[Grads | None]:
    """Each layer's (weight, bias), or None, in the form :func:`with_params` takes."""
    return [
        Grads(lay.weight, lay.bias) if isinstance(lay, PARAMETRISED) else None for lay in layers
    ]


__all__ = [
    "Activation",
    "AvgPool2d",
    "Backward",
    "Conv2d",
    "Flatten",
    "Forward",
    "Grads",
    "Layer",
    "LayerPlan",
    "Linear",
    "MaxPool2d",
    "backward",
    "forward",
    "layer_backward",
    "layer_forward",
    "parameters",
    "plan",
    "with_params",
]
