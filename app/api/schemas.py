"""Request and response models of the JSON API.

Field names follow ``torch.nn.functional``; tensors are ``app.api.tensors.Tensor``.
Requests are layered: each operation's parameters, then the request that adds the
tensors, the backward pass and the trace switch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    StrictBool,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from app.api import limits
from app.api.budget import trace_allowed
from app.api.geometry import (
    ActivationGeometryOut,
    Conv2dGeometryOut,
    ConvTranspose2dGeometryOut,
    Pool2dGeometryOut,
)
from app.api.tensors import FLOAT32_MAX, RESPONSE_ARRAY_JSON_SCHEMA, Tensor
from app.engine import conv, conv_transpose, pool
from app.engine.trace import Trace

# Numbers and switches are strict: `true` is not a stride of 1, `0` is not False, and
# 2.0 is not a stride (as in PyTorch); JSON integers are still accepted as floats.
Stride = Annotated[int, Field(strict=True, ge=1, le=limits.MAX_STRIDE)]
Dilation = Annotated[int, Field(strict=True, ge=1, le=limits.MAX_DILATION)]
Pad = Annotated[int, Field(strict=True, ge=0, le=limits.MAX_PADDING)]
KernelSide = Annotated[int, Field(strict=True, ge=1, le=limits.MAX_KERNEL_SIDE)]


def _float32(value: float) -> float:
    # The engine computes in float32: 3.5e38 is a finite Python float but casts to inf.
    if abs(value) > FLOAT32_MAX:
        raise PydanticCustomError(
            "float32", "is too large for float32 (over 3.4e38); scale it down"
        )
    return value


FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_float32)]
Bias = Annotated[list[FiniteFloat], Field(min_length=1, max_length=limits.MAX_CHANNELS)]
OutputPad = Annotated[int, Field(strict=True, ge=0, le=limits.MAX_STRIDE)]

StridePair = Stride | tuple[Stride, Stride]
DilationPair = Dilation | tuple[Dilation, Dilation]
KernelSize = KernelSide | tuple[KernelSide, KernelSide]
PoolPadding = Pad | tuple[Pad, Pad]
ConvPadding = Pad | tuple[Pad, Pad] | tuple[Pad, Pad, Pad, Pad] | Literal["same", "valid"]

Array = Annotated[
    np.ndarray,
    PlainSerializer(lambda a: a.tolist(), when_used="json"),
    WithJsonSchema(RESPONSE_ARRAY_JSON_SCHEMA),
]
"""A response-only array of any dtype (validation is skipped: the engine made it)."""


class Strict(BaseModel):
    """Unknown fields are a mistake worth reporting (a typo like ``strides``)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


G = TypeVar("G")


class CheckedOnce(BaseModel):
    """A request whose parameters are checked once, into the engine's geometry: the
    request budget (app/api/request_budget.py) and the route share that one object."""

    _geometry: Any = PrivateAttr(default=None)

    def _once(self, make: Callable[[], G]) -> G:
        if self._geometry is None:
            self._geometry = make()  # an EngineError leaves nothing kept: the route re-raises
        return self._geometry  # type: ignore[no-any-return]


# --- requests -----------------------------------------------------------------


class BackwardRequest(Strict):
    grad_output: Tensor | None = Field(
        default=None,
        description="dE/dO, shaped like `output`: ask for the backward pass.",
    )
    trace: StrictBool = Field(
        default=False,
        description="Also send the full per-step trace(s), the documented oracle (left out,"
        " with a reason in `trace_note`, past the trace limits). `geometry` is always sent:"
        " every step follows from it and the tensors (docs/STEPS.md).",
    )


class ConvParams(Strict):
    stride: StridePair = 1
    padding: ConvPadding = Field(
        default=0,
        description=(
            "An int, [pH, pW], [left, right, top, bottom] (asymmetric, F.pad order),"
            " 'same' (stride 1) or 'valid'."
        ),
    )
    dilation: DilationPair = 1
    groups: Annotated[int, Field(strict=True, ge=1, le=limits.MAX_CHANNELS)] = 1


class Conv2dLayer(ConvParams):
    """conv2d's parameters: those of every convolution plus padding_mode and reduce."""

    padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"
    reduce: Literal["sum", "mean"] = Field(
        default="sum",
        description="'mean' divides each window's sum by its number of weights (the lecture's"
        " X/O normalisation).",
    )

    def conv_params(self) -> conv.Conv2dParams:
        """The engine's one convolution-parameters type, from this request."""
        return conv.Conv2dParams(
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups,
            padding_mode=self.padding_mode,
            reduce=self.reduce,
        )


class Conv2dRequest(Conv2dLayer, BackwardRequest, CheckedOnce):
    input: Tensor = Field(description="(C, H, W) or (H, W).")
    weight: Tensor = Field(description="(C_out, C_in/groups, kH, kW) or (kH, kW).")
    bias: Bias | None = Field(default=None, description="(C_out,) or null.")

    def geometry(self) -> conv.Conv2dGeometry:
        """The engine's geometry of this request: every parameter checked, once."""
        return self._once(lambda: self.conv_params().geometry(self.input, self.weight, self.bias))

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "input": [
                        [2, 2, 3, 3, 3],
                        [0, 1, 3, 0, 3],
                        [2, 3, 0, 1, 3],
                        [3, 3, 2, 1, 2],
                        [3, 3, 0, 2, 3],
                    ],
                    "weight": [[2, 0, 1], [1, 0, 0], [0, 1, 1]],
                    "padding": 1,
                    "stride": 2,
                }
            ]
        }
    )


class ConvTranspose2dRequest(ConvParams, BackwardRequest, CheckedOnce):
    input: Tensor = Field(description="(C_in, H, W) or (H, W).")
    weight: Tensor = Field(description="(C_in, C_out/groups, kH, kW) or (kH, kW).")
    bias: Bias | None = Field(default=None, description="(C_out,) or null.")
    padding: PoolPadding = 0  # type: ignore[assignment]  # PyTorch: no 'same' here
    output_padding: OutputPad | tuple[OutputPad, OutputPad] = 0

    def geometry(self) -> conv_transpose.ConvTranspose2dGeometry:
        """The engine's geometry of this request: every parameter checked, once."""
        return self._once(
            lambda: conv_transpose.conv_transpose2d_geometry(
                self.input,
                self.weight,
                self.bias,
                stride=self.stride,
                padding=self.padding,
                output_padding=self.output_padding,
                groups=self.groups,
                dilation=self.dilation,
            )
        )


class PoolParams(Strict):
    kernel_size: KernelSize
    stride: StridePair | None = Field(default=None, description="Default: kernel_size.")
    padding: PoolPadding = 0
    ceil_mode: StrictBool = False


class MaxPool2dRequest(PoolParams, BackwardRequest, CheckedOnce):
    input: Tensor = Field(description="(C, H, W) or (H, W).")
    dilation: DilationPair = 1

    def geometry(self) -> pool.Pool2dGeometry:
        """The engine's geometry of this request: every parameter checked, once."""
        return self._once(
            lambda: pool.pool2d_geometry(
                self.input.shape,
                self.kernel_size,
                self.stride,
                self.padding,
                self.dilation,
                self.ceil_mode,
            )
        )


class AvgPool2dRequest(PoolParams, BackwardRequest, CheckedOnce):
    input: Tensor = Field(description="(C, H, W) or (H, W).")
    count_include_pad: StrictBool = True

    def geometry(self) -> pool.Pool2dGeometry:
        """The engine's geometry of this request: every parameter checked, once."""
        return self._once(
            lambda: pool.pool2d_geometry(
                self.input.shape, self.kernel_size, self.stride, self.padding, 1, self.ceil_mode
            )
        )


class ActivationRequest(Strict):
    function: Literal["relu", "leaky_relu", "sigmoid", "tanh"]
    input: Tensor = Field(description="Any shape.")
    negative_slope: FiniteFloat = Field(default=0.01, description="leaky_relu only.")
    grad_output: Tensor | None = Field(default=None, description="dE/dO, shaped like input.")


# --- responses ----------------------------------------------------------------


class TraceOut(BaseModel):
    """One operation's step trace (see docs/API.md and ``app.engine.trace.Trace``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    grid: Array
    grid_origin: tuple[int, int]
    out_index: Array
    window: Array
    cells: Array
    mask: Array | None
    values: Array
    weights: Array | None
    products: Array | None
    sums: Array
    bias: Array | None
    result: Array
    argmax: Array | None
    divisor: Array | None


class Formula(BaseModel):
    height: str = Field(examples=["H_out = floor((5 + 2 - 1*(3-1) - 1) / 2) + 1 = 3"])
    width: str


class OperationResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    output: Array
    output_shape: list[int]
    formula: Formula
    feature_count: int = Field(description="Numbers in the input: C x H x W.")
    trace: TraceOut | None = None
    trace_note: str | None = Field(default=None, description="Why the trace was left out.")
    grad_input: Array | None = None


GEOMETRY_DESCRIPTION = (
    "The compact step form: every step's window, taps, weights and divisor follow from this"
    " and the tensors (docs/STEPS.md)."
)


class ConvResponse(OperationResponse):
    geometry: Annotated[
        Conv2dGeometryOut | ConvTranspose2dGeometryOut,
        Field(discriminator="op", description=GEOMETRY_DESCRIPTION),
    ]
    parameter_count: int = Field(description="C_out * C_in/groups * kH * kW (+ C_out biases).")
    grad_weight: Array | None = None
    grad_bias: Array | None = None
    grad_weight_trace: TraceOut | None = None
    grad_input_trace: TraceOut | None = None


class PoolResponse(OperationResponse):
    geometry: Pool2dGeometryOut = Field(description=GEOMETRY_DESCRIPTION)


class MaxPoolResponse(PoolResponse):
    indices: Array = Field(description="Flat h*W+w index of each maximum in its channel.")


class ActivationResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    output: Array
    geometry: ActivationGeometryOut = Field(description=GEOMETRY_DESCRIPTION)
    grad_input: Array | None = None


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    detail: list[ErrorItem] | str


ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The body is over the size limit."},
    422: {"model": ErrorResponse, "description": "What is wrong and how to fix it."},
    503: {"model": ErrorResponse, "description": "Busy: try again after `Retry-After` s."},
}
"""The error answers every computing route documents (``responses=ERRORS``)."""


TRACE_NOT_REQUESTED = "trace not requested"


def trace_out(trace: Any) -> TraceOut:
    """The response form of an engine ``Trace``."""
    return TraceOut.model_validate(trace, from_attributes=True)


def traced(
    requested: bool, steps: int, taps: int, make: Callable[[], Trace]
) -> tuple[TraceOut | None, str | None]:
    """``(trace, trace_note)`` of a response: ``make()``'s trace when it is requested and
    within the trace limits (the note is then None), else no trace and the reason."""
    note = trace_allowed(steps, taps) if requested else TRACE_NOT_REQUESTED
    return (trace_out(make()) if note is None else None), note
