"""Request and response models of POST /api/stack and the digit network (/api/digits).

A stack is a list of layers, each an object with a ``type`` (``conv2d``,
``activation``, ``max_pool2d``, ``avg_pool2d``) and that operation's parameters in
``torch.nn.functional``'s names. Shapes between layers are checked by the engine
(``app.engine.sequential.plan``), whose errors name ``layers.<index>.<field>``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.api import limits
from app.api.schemas import (
    Array,
    Bias,
    ConvParams,
    DilationPair,
    FiniteFloat,
    Formula,
    KernelSize,
    PoolPadding,
    Strict,
    StridePair,
)
from app.api.stack_geometry import LayerGeometry
from app.api.tensors import Tensor


class ConvLayer(ConvParams):
    type: Literal["conv2d"]
    weight: Tensor = Field(description="(C_out, C_in/groups, kH, kW).")
    bias: Bias | None = Field(default=None, description="(C_out,) or null.")


class ActivationLayer(Strict):
    type: Literal["activation"]
    function: Literal["relu", "leaky_relu", "sigmoid", "tanh"] = "relu"
    negative_slope: FiniteFloat = Field(default=0.01, description="leaky_relu only.")


class MaxPoolLayer(Strict):
    type: Literal["max_pool2d"]
    kernel_size: KernelSize = 2
    stride: StridePair | None = Field(default=None, description="Default: kernel_size.")
    padding: PoolPadding = 0
    dilation: DilationPair = 1
    ceil_mode: StrictBool = False


class AvgPoolLayer(Strict):
    type: Literal["avg_pool2d"]
    kernel_size: KernelSize = 2
    stride: StridePair | None = Field(default=None, description="Default: kernel_size.")
    padding: PoolPadding = 0
    ceil_mode: StrictBool = False
    count_include_pad: StrictBool = True


StackLayer = Annotated[
    ConvLayer | ActivationLayer | MaxPoolLayer | AvgPoolLayer, Field(discriminator="type")
]

_EDGE = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]


class StackRequest(Strict):
    input: Tensor = Field(description="(C, H, W) or (H, W): a photo, 0..255 or any scale.")
    layers: list[StackLayer] = Field(
        min_length=1,
        max_length=limits.MAX_STACK_LAYERS,
        description="Run in order; each layer reads the one before's output.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "input": [
                        [0, 0, 9, 9, 9, 0],
                        [0, 0, 9, 9, 9, 0],
                        [0, 0, 9, 9, 9, 0],
                        [0, 0, 9, 9, 9, 0],
                        [0, 0, 9, 9, 9, 0],
                        [0, 0, 9, 9, 9, 0],
                    ],
                    "layers": [
                        {"type": "conv2d", "weight": [[_EDGE]], "bias": [0], "padding": 1},
                        {"type": "activation", "function": "relu"},
                        {"type": "max_pool2d", "kernel_size": 2},
                        {"type": "conv2d", "weight": [[[[0.25, 0.25], [0.25, 0.25]]]]},
                    ],
                }
            ]
        }
    )


class StackLayerOut(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    type: str
    output: Array = Field(description="(C, H, W): every map of this layer.")
    input_shape: list[int]
    output_shape: list[int]
    formula: Formula | None = Field(
        default=None, description="Output-size formula of conv and pooling layers."
    )
    parameter_count: int = Field(description="Weights and biases of this layer (0 for others).")
    macs: int = Field(description="Multiply-adds of this layer (conv only).")
    range: tuple[float, float] = Field(
        description="[min, max] over all this layer's maps: one shared scale per layer."
    )
    geometry: LayerGeometry | None = Field(
        description="The compact step form of docs/STEPS.md: derive any map's steps from it."
    )
    indices: Array | None = Field(
        default=None,
        description="max_pool2d only, (C, H_out, W_out): the flat h*W+w index of each"
        " window's maximum in its input map, as F.max_pool2d(return_indices=True).",
    )


class StackResponse(BaseModel):
    input_shape: list[int]
    layers: list[StackLayerOut]
    parameter_count: int
    macs: int


# --------------------------------------------------------------------------- the digit network

Point = tuple[FiniteFloat, FiniteFloat]


class DigitForwardRequest(Strict):
    input: Tensor | None = Field(
        default=None, description="An 8x8 picture of counts 0..16, like the dataset's."
    )
    strokes: (
        Annotated[
            list[Annotated[list[Point], Field(min_length=1)]],
            Field(max_length=limits.MAX_DIGIT_STROKES),
        ]
        | None
    ) = Field(
        default=None,
        description="A drawing: strokes of [x, y] points (any unit, y down). It is redrawn"
        " as the dataset's digits were made: height filling a 32x32 bitmap, centred, 4x4"
        " blocks counted into 8x8.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"strokes": [[[50, 10], [50, 110]]]},
                {
                    "input": [
                        [0, 0, 5, 13, 9, 1, 0, 0],
                        [0, 0, 13, 15, 10, 15, 5, 0],
                        [0, 3, 15, 2, 0, 11, 8, 0],
                        [0, 4, 12, 0, 0, 8, 8, 0],
                        [0, 5, 8, 0, 0, 9, 8, 0],
                        [0, 4, 11, 0, 1, 12, 7, 0],
                        [0, 2, 14, 5, 10, 12, 0, 0],
                        [0, 0, 6, 13, 10, 0, 0, 0],
                    ]
                },
            ]
        }
    )


class DigitStage(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = Field(description="conv1, relu1, pool1, conv2, relu2, pool2, flatten, fc1, ...")
    type: str
    output: Array
    output_shape: list[int]
    parameter_count: int
    formula: Formula | None = None
    geometry: LayerGeometry | None = None
    indices: Array | None = Field(
        default=None, description="max_pool2d only: each window's argmax, as in /api/stack."
    )


class DigitForwardResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    classes: list[str]
    input: Array = Field(description="(8, 8) counts 0..16: what the network reads.")
    bitmap: Array | None = Field(
        default=None, description="(32, 32) 0/1: the drawing redrawn (strokes only)."
    )
    scaled: Array = Field(description="(1, 8, 8) input / 16: what the first conv reads.")
    stages: list[DigitStage]
    logits: Array
    probabilities: Array
    prediction: str


class DigitLayerInfo(BaseModel):
    name: str
    type: str
    output_shape: list[int]
    parameter_count: int
    settings: dict[str, Any]


class DigitModelResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    classes: list[str]
    input_shape: list[int]
    layers: list[DigitLayerInfo]
    params: dict[str, Array] = Field(
        description="Every weight and bias by name: conv1.weight (16, 1, 3, 3) are the"
        " first-layer filters, learned from data."
    )
    parameter_count: int
    training: dict[str, Any] = Field(description="Seed, epochs, accuracies of the shipped weights.")
    data: str = Field(description="Where the training data comes from, and its licence.")
