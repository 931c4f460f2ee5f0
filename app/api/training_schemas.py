"""Request and response models of backprop, gradient descent and the X/O network.

Tensors are ``app.api.tensors.Tensor`` in requests and ``Array`` in responses, in
PyTorch's layout without the batch, as everywhere in the API. Cross-field rules
(which loss needs which tensor, shapes against each other) are the engine's: it
raises an error that names the field, and the API answers 422 with it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app import presets
from app.api import limits
from app.api.geometry import ActivationGeometryOut, Conv2dGeometryOut, Pool2dGeometryOut
from app.api.schemas import (
    Array,
    Bias,
    CheckedOnce,
    Conv2dLayer,
    DilationPair,
    FiniteFloat,
    Formula,
    KernelSize,
    PoolPadding,
    Strict,
    StridePair,
    TraceOut,
)
from app.api.tensors import Tensor
from app.engine import conv
from app.engine.xo_net import CLASSES

# Strict, as in app.api.schemas: `true` is not a learning rate and "0.1" is not a number.
LearningRate = Annotated[float, Field(strict=True, gt=0, le=1e6, allow_inf_nan=False)]
Momentum = Annotated[float, Field(strict=True, ge=0, lt=1, allow_inf_nan=False)]
Tolerance = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
Seed = Annotated[int, Field(strict=True, ge=0, le=2**32 - 1)]
DelayMs = Annotated[
    int,
    Field(
        strict=True,
        ge=0,
        le=limits.MAX_STREAM_DELAY_MS,
        description="Pause between two events, in ms, to pace an animation (0: as fast as"
        " computed). Iterations x delay must stay under the stream time limit.",
    ),
]


class ArrayModel(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)


# --------------------------------------------------------------------------- the layer stack


class ActivationLayer(Strict):
    function: Literal["relu", "leaky_relu", "sigmoid", "tanh"] = "relu"
    negative_slope: Annotated[float, Field(strict=True, allow_inf_nan=False)] = Field(
        default=0.01, description="leaky_relu only."
    )


class PoolLayer(Strict):
    kind: Literal["max", "avg"] = "max"
    kernel_size: KernelSize = 2
    stride: StridePair | None = Field(default=None, description="Default: kernel_size.")
    padding: PoolPadding = 0
    dilation: DilationPair = Field(default=1, description="max only.")
    ceil_mode: StrictBool = False
    count_include_pad: StrictBool = Field(default=True, description="avg only.")


_X = presets.x_glyph()
_DIAGONAL = presets.KERNELS["diagonal"]["weight"]


class BackpropRequest(Conv2dLayer, CheckedOnce):
    """One layer (conv, then optionally an activation and a pooling) and a loss."""

    input: Tensor = Field(description="(C, H, W) or (H, W).")
    weight: Tensor = Field(description="(C_out, C_in/groups, kH, kW) or (kH, kW).")
    bias: Bias | None = Field(default=None, description="(C_out,) or null.")
    activation: ActivationLayer | None = Field(default=None, description="After the conv.")
    pool: PoolLayer | None = Field(default=None, description="After the activation.")
    loss: Literal["mse", "sum", "grad_output"] = Field(
        default="sum",
        description="'mse' against `target` or against the output of `teacher_weight`;"
        " 'sum' of the outputs (dE/dO = 1); 'grad_output': a hand-set dE/dO, no loss value.",
    )
    target: Tensor | None = Field(default=None, description="mse: shaped like the output.")
    teacher_weight: Tensor | None = Field(
        default=None,
        description="mse: the target is this stack with the teacher's conv weight (same bias).",
    )
    grad_output: Tensor | None = Field(
        default=None, description="loss 'grad_output': dE/dO shaped like the output."
    )
    trace: StrictBool = Field(
        default=False,
        description="Also send the full per-step traces, the documented oracle (left out, with"
        " a reason, past the trace limits). Each stage's `geometry` is always sent.",
    )

    def geometry(self) -> conv.Conv2dGeometry:
        """The conv's geometry: every parameter checked, once (the budget and the route)."""
        return self._once(
            lambda: self.conv_params().geometry(
                self.input, self.weight, None if self.bias is None else np.asarray(self.bias)
            )
        )

    repeat: StrictBool = Field(
        default=True,
        description="Send every field, also those that repeat another field of the answer"
        " (the top-level gradients repeat conv's; a stage's grad_input is the stage before's"
        " grad_output; the last stage's output and grad_output are the answer's). false: those"
        " come back null (see docs/TRAINING_API.md), and the answer is up to half the size.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "input": [[1, 2, 0], [3, 1, 2], [0, 1, 3]],
                    "weight": [[1, -1], [2, 0]],
                    "loss": "grad_output",
                    "grad_output": [[1, 0], [-1, 2]],
                },
                {
                    "input": _X,
                    "weight": [[0.1, 0.0, -0.2], [0.3, 0.5, 0.0], [-0.1, 0.2, 0.4]],
                    "reduce": "mean",
                    "activation": {"function": "relu"},
                    "pool": {"kind": "max", "kernel_size": 2, "stride": 2, "ceil_mode": True},
                    "loss": "mse",
                    "teacher_weight": _DIAGONAL,
                },
            ]
        }
    )


class ConvStage(ArrayModel):
    output: Array | None = Field(
        description="Z = conv2d(input, weight, bias). (null with `repeat: false` when the conv is"
        " the last stage: the answer's `output`.)"
    )
    grad_output: Array | None = Field(
        description="dE/dZ: what the conv's backward starts from. (null with `repeat: false`"
        " when the conv is the last stage: the answer's `grad_output`.)"
    )
    grad_input: Array = Field(description="dE/dX.")
    grad_weight: Array = Field(description="dE/dW = conv(X, dE/dZ).")
    grad_bias: Array | None = Field(description="dE/db: dE/dZ summed per channel.")
    formula: Formula
    parameter_count: int
    geometry: Conv2dGeometryOut = Field(
        description="The compact step form of the forward conv, dE/dW and dE/dX (docs/STEPS.md)."
    )
    trace: TraceOut | None = Field(default=None, description="The forward conv, step by step.")
    grad_weight_trace: TraceOut | None = Field(
        default=None, description="dE/dW: dE/dZ sliding over the (padded) input."
    )
    grad_input_trace: TraceOut | None = Field(
        default=None,
        description="dE/dX on the padded grid: full correlation of the dilated dE/dZ with the"
        " 180-degree-rotated kernel.",
    )
    trace_note: str | None = Field(default=None, description="Why the traces were left out.")


class ActivationStage(ArrayModel):
    function: str
    output: Array | None = Field(
        description="A = f(Z). (null with `repeat: false` without a pooling: the answer's"
        " `output`.)"
    )
    gate: Array = Field(description="f'(Z): ReLU's gate, 1 where Z > 0 and 0 elsewhere.")
    grad_output: Array | None = Field(
        description="dE/dA. (null with `repeat: false` without a pooling: the answer's"
        " `grad_output`.)"
    )
    grad_input: Array | None = Field(
        description="dE/dZ = dE/dA * f'(Z). (null with `repeat: false`: conv.grad_output.)"
    )
    geometry: ActivationGeometryOut = Field(description="The compact step form (docs/STEPS.md).")


class PoolStage(ArrayModel):
    kind: str
    output: Array | None = Field(
        description="P = pool(A). (null with `repeat: false`: the answer's `output`.)"
    )
    indices: Array | None = Field(description="max: flat h*W+w of each window's argmax.")
    grad_output: Array | None = Field(
        description="dE/dP. (null with `repeat: false`: the answer's `grad_output`.)"
    )
    grad_input: Array | None = Field(
        description="dE/dA: each dE/dP cell routed to its argmax (max) or split evenly (avg)."
        " (null with `repeat: false`: activation.grad_output, or conv.grad_output.)"
    )
    formula: Formula
    geometry: Pool2dGeometryOut = Field(description="The compact step form (docs/STEPS.md).")
    trace: TraceOut | None = Field(
        default=None,
        description="The forward pooling step by step; `argmax` (max) or `divisor` (avg) tells"
        " where each gradient goes back to.",
    )
    trace_note: str | None = None


class BackpropResponse(ArrayModel):
    output: Array = Field(description="The stack's output O (after the last layer given).")
    output_shape: list[int]
    loss: float | None = Field(description="E, or null for a hand-set grad_output.")
    loss_kind: str
    target: Array | None = Field(description="mse: the map O was compared with.")
    grad_output: Array = Field(description="dE/dO at the stack's output.")
    grad_input: Array | None = Field(
        description="dE/dX (the same as conv.grad_input; null with `repeat: false`)."
    )
    grad_weight: Array | None = Field(
        description="dE/dW (the same as conv.grad_weight; null with `repeat: false`)."
    )
    grad_bias: Array | None = Field(
        description="dE/db (the same as conv.grad_bias; null with `repeat: false`)."
    )
    feature_count: int = Field(description="Numbers in the input: C x H x W.")
    conv: ConvStage
    activation: ActivationStage | None
    pool: PoolStage | None


# --------------------------------------------------------------------------- descent


class DescentRequest(Conv2dLayer):
    """Gradient descent on a conv filter against a loss averaged over a few inputs."""

    inputs: list[Tensor] = Field(
        min_length=1,
        max_length=limits.MAX_DESCENT_INPUTS,
        description="(C, H, W) or (H, W) each; the loss is averaged over them.",
    )
    weight: Tensor = Field(
        description="The starting weight: (C_out, C_in/groups, kH, kW) or (kH, kW)."
    )
    bias: Bias | None = Field(default=None, description="Trained too when given.")
    loss: Literal["mse", "sum"] = "mse"
    targets: list[Tensor] | None = Field(
        default=None,
        max_length=limits.MAX_DESCENT_INPUTS,
        description="mse: one target map per input, shaped like its conv output.",
    )
    teacher_weight: Tensor | None = Field(
        default=None, description="mse: targets are conv2d(input, teacher_weight, teacher_bias)."
    )
    teacher_bias: Bias | None = None
    lr: LearningRate = Field(description="Learning rate.")
    momentum: Momentum = Field(default=0.0, description="0 is plain gradient descent.")
    max_iterations: Annotated[int, Field(strict=True, ge=0, le=limits.MAX_DESCENT_ITERATIONS)] = 100
    loss_tolerance: Tolerance | None = Field(
        default=None, description="Stop once loss <= this (null: never)."
    )
    grad_tolerance: Tolerance | None = Field(
        default=None, description="Stop once |grad| <= this (null: never)."
    )
    velocity: Tensor | None = Field(
        default=None, description="Momentum buffer to continue from (a previous run's)."
    )
    velocity_bias: Bias | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "inputs": [_X, presets.o_glyph()],
                    "weight": [[0.1, 0.0, -0.2], [0.3, 0.5, 0.0], [-0.1, 0.2, 0.4]],
                    "reduce": "mean",
                    "loss": "mse",
                    "teacher_weight": _DIAGONAL,
                    "lr": 5.0,
                    "momentum": 0.5,
                    "max_iterations": 200,
                    "loss_tolerance": 1e-8,
                }
            ]
        }
    )


class DescentStreamRequest(DescentRequest):
    delay_ms: DelayMs = 0


class DescentStepOut(ArrayModel):
    """One iteration: the weight, its loss and its gradient (SSE event ``step``)."""

    iteration: int = Field(description="0 is the start; k follows k updates.")
    loss: float
    weight: Array
    grad: Array = Field(description="dE/dW at this weight; the next update moves against it.")
    grad_norm: float = Field(description="Norm of the weight's and the bias's gradient together.")
    bias: Array | None = None
    grad_bias: Array | None = None


class DescentDone(ArrayModel):
    """How the run ended, and where to continue from (SSE event ``done``)."""

    stop_reason: Literal["loss_tolerance", "grad_tolerance", "max_iterations", "diverged"] = Field(
        description="loss_tolerance / grad_tolerance: converged; max_iterations: the budget is"
        " used up; diverged: the next update would give a non-finite loss (lr too large), so"
        " the run ends on its last finite step."
    )
    iterations: int = Field(description="Updates made (the last step's iteration).")
    loss: float
    weight: Array
    bias: Array | None
    velocity: Array = Field(description="Send back as `velocity` to continue the run.")
    velocity_bias: Array | None


class DescentResponse(DescentDone):
    steps: list[DescentStepOut] = Field(description="Every iteration, 0 first.")


# --------------------------------------------------------------------------- the X/O network

ShiftSide = Annotated[int, Field(strict=True, ge=-8, le=8)]


class XOParamsIn(Strict):
    conv_weight: Tensor | None = Field(
        default=None, description="(K, 3, 3) or (K, 1, 3, 3); default: the lecture's three."
    )
    conv_bias: Tensor | None = Field(default=None, description="(K,); default zeros.")
    fc_weight: Tensor | None = Field(
        default=None, description="(2, K*4*4); default: the lecture's vote (nearest template)."
    )
    fc_bias: Tensor | None = Field(default=None, description="(2,).")


class XOForwardRequest(XOParamsIn):
    """A drawn glyph through the X/O network; optional parameters replace the lecture's."""

    input: Tensor = Field(description="The glyph, (9, 9); the lecture uses -1 and +1.")
    shift: tuple[ShiftSide, ShiftSide] = Field(
        default=(0, 0),
        description="[dy, dx]: run on the glyph moved dy rows down and dx columns right"
        " (slide 4: translation invariance).",
    )
    fill: FiniteFloat | None = Field(
        default=None, description="What cells shifted in hold; default: the glyph's minimum."
    )
    label: Literal["X", "O"] | None = Field(
        default=None, description="The right class: ask for the loss and every gradient."
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"input": _X, "shift": [0, 1], "label": "X"}]}
    )


class XOParamsOut(ArrayModel):
    conv_weight: Array = Field(description="(K, 1, 3, 3).")
    conv_bias: Array = Field(description="(K,).")
    fc_weight: Array = Field(description="(2, K*4*4): row 0 scores X, row 1 scores O.")
    fc_bias: Array = Field(description="(2,).")


class XOGradients(XOParamsOut):
    logits: Array = Field(description="dE/dlogits = softmax - onehot, (2,).")
    features: Array = Field(description="(K*16,).")
    pooled: Array = Field(description="(K, 4, 4).")
    relu: Array = Field(description="dE/d(relu output), (K, 7, 7): pooling's routing.")
    conv: Array = Field(description="dE/d(conv output), (K, 7, 7): after the ReLU gate.")
    input: Array = Field(description="dE/d(glyph), (9, 9).")


class XOGeometry(BaseModel):
    """The compact step form of each stage that slides a window (docs/STEPS.md)."""

    conv: Conv2dGeometryOut = Field(description="The glyph (1, H, W) under the K filters.")
    relu: ActivationGeometryOut
    pool: Pool2dGeometryOut


class XOForwardResponse(ArrayModel):
    classes: list[str] = Field(examples=[list(CLASSES)])
    filter_names: list[str] = Field(description="The lecture's names of the default filters.")
    input: Array = Field(description="The glyph the network saw (after the shift), (9, 9).")
    shift: tuple[int, int]
    conv: Array = Field(description="Feature maps, (K, 7, 7): mean match + bias.")
    relu: Array = Field(description="(K, 7, 7).")
    pooled: Array = Field(description="(K, 4, 4): 2x2 max pooling, stride 2, ceil_mode.")
    pool_indices: Array = Field(description="(K, 4, 4): flat row*7+col of each maximum.")
    features: Array = Field(description="(K*16,): pooled, flattened channel by channel.")
    logits: Array = Field(description="(2,): the fc layer's score for X and O.")
    probabilities: Array = Field(description="(2,): softmax of the logits, the vote.")
    prediction: str
    params: XOParamsOut = Field(description="The parameters used (the lecture's by default).")
    parameter_count: int
    geometry: XOGeometry
    loss: float | None = Field(description="Cross-entropy for `label`, or null.")
    gradients: XOGradients | None = Field(description="With `label`: dE/d of everything.")


class XOTrainRequest(Strict):
    """A training run on generated glyphs; the same request gives the same run."""

    seed: Seed = 0
    samples: Annotated[int, Field(strict=True, ge=2, le=limits.MAX_XO_SAMPLES)] = 512
    validation_samples: Annotated[
        int, Field(strict=True, ge=2, le=limits.MAX_XO_VALIDATION_SAMPLES)
    ] = 256
    epochs: Annotated[int, Field(strict=True, ge=1, le=limits.MAX_XO_EPOCHS)] = 15
    batch_size: Annotated[int, Field(strict=True, ge=1, le=limits.MAX_XO_SAMPLES)] = 32
    lr: LearningRate = 0.1
    momentum: Momentum = 0.9
    noise: Annotated[float, Field(strict=True, ge=0, le=0.5)] = Field(
        default=0.05, description="Probability that a cell of a glyph flips sign."
    )
    max_shift: Annotated[int, Field(strict=True, ge=0, le=4)] = Field(
        default=1, description="Largest offset of a glyph from the centre, per axis."
    )
    init: Literal["random", "lecture"] = Field(
        default="random", description="Seeded random start, or the lecture's filters and vote."
    )
    train_filters: StrictBool = Field(
        default=True, description="False: keep the filters fixed and train only the vote."
    )
    delay_ms: DelayMs = 0

    model_config = ConfigDict(json_schema_extra={"examples": [{"seed": 0, "epochs": 15}]})


class XOStartEvent(ArrayModel):
    """SSE event ``start``: what is about to be trained."""

    epochs: int
    samples: int
    validation_samples: int
    batches_per_epoch: int
    classes: list[str]
    filter_names: list[str]
    lecture_filters: Array = Field(description="(3, 1, 3, 3): to show beside the learned ones.")


class XOEpochEvent(ArrayModel):
    """SSE event ``epoch``: the network after an epoch (epoch 0: before training)."""

    epoch: int
    epochs: int
    loss: float = Field(description="Mean cross-entropy on the training glyphs.")
    accuracy: float = Field(description="Fraction of training glyphs classified right.")
    validation_loss: float
    validation_accuracy: float = Field(description="On held-out glyphs.")
    conv_weight: Array = Field(description="The filters now, (K, 1, 3, 3).")
    conv_bias: Array
    seconds: float = Field(description="Compute time since training started.")


class XODoneEvent(XOEpochEvent):
    """SSE event ``done``: the trained network, ready for ``POST /api/xo/forward``."""

    stop_reason: Literal["completed"] = "completed"
    params: XOParamsOut
    lecture_filters: Array


class XOSamplesResponse(ArrayModel):
    glyphs: Array = Field(description="(N, 9, 9), -1 and +1.")
    labels: list[str] = Field(description="'X' or 'O' for each glyph.")
    classes: list[str]


class StreamError(BaseModel):
    """SSE event ``error``: the stream stopped without finishing."""

    msg: str
    type: str
