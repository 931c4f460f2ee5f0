"""Request and response models of the export endpoints (``/api/export/...``).

An export request is the operation's own request (the body of ``POST /api/conv2d``
and so on) with an ``op`` field saying which operation; without ``op`` it is a
conv2d request, so the page can send its conv2d body unchanged. How to draw
(frame time, width, theme) travels in the query, so one body serves every export.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from app.api.schemas import (
    ActivationRequest,
    Array,
    AvgPool2dRequest,
    Conv2dRequest,
    ConvTranspose2dRequest,
    MaxPool2dRequest,
)

OPS = ("conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "activation")


class Conv2dExport(Conv2dRequest):
    op: Literal["conv2d"] = "conv2d"


class ConvTranspose2dExport(ConvTranspose2dRequest):
    op: Literal["conv_transpose2d"]


class MaxPool2dExport(MaxPool2dRequest):
    op: Literal["max_pool2d"]


class AvgPool2dExport(AvgPool2dRequest):
    op: Literal["avg_pool2d"]


class ActivationExport(ActivationRequest):
    """An element-wise activation (``POST /api/activation``'s body): each step one
    cell, ``x -> f(x)``. The input is ``(C, H, W)`` or ``(H, W)`` here."""

    op: Literal["activation"]
    trace: bool = Field(default=False, description="Accepted and ignored, as for the other ops.")


def _op(value: Any) -> Any:
    """The union's tag, ``op=<op>`` (``op=conv2d`` when it is left out); the ``=`` marks it
    as a union member for ``app.api.errors``, which leaves it out of error locations."""
    if isinstance(value, dict):
        return f"op={value.get('op', 'conv2d')}"
    return f"op={getattr(value, 'op', 'conv2d')}"


ExportRequest = Annotated[
    Annotated[Conv2dExport, Tag("op=conv2d")]
    | Annotated[ConvTranspose2dExport, Tag("op=conv_transpose2d")]
    | Annotated[MaxPool2dExport, Tag("op=max_pool2d")]
    | Annotated[AvgPool2dExport, Tag("op=avg_pool2d")]
    | Annotated[ActivationExport, Tag("op=activation")],
    Discriminator(
        _op,
        custom_error_type="op",
        custom_error_message=f"op must be one of {', '.join(OPS)} (default conv2d)",
    ),
]
"""Any exportable operation's request; ``grad_output`` and ``trace`` are accepted and
ignored (exports show the forward pass)."""

Theme = Literal["light", "dark", "high-contrast"]


class CodeExport(BaseModel):
    pytorch: str = Field(description="A Python program that prints the output with PyTorch.")
    curl: str = Field(description="The same request to this API as a curl command.")


class TraceSummary(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    steps: int
    grid_origin: list[int] = Field(description="Where input[..., 0, 0] sits in padded_input.")
    kernel_size: list[int]
    out_index: Array = Field(description="(steps, 3): channel, row, column of each output cell.")
    window: Array = Field(description="(steps, 2): the window's top-left cell in padded_input.")
    sums: Array = Field(description="(steps,): each window's reduction, before bias.")
    result: Array = Field(description="(steps,): each output cell.")


class TensorsExport(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    op: str
    input: Array
    padded_input: Array = Field(
        description="What the window slides over: the padded input (for conv_transpose2d the"
        " stride-dilated, padded input); 2-D when the input is."
    )
    weight: Array | None
    bias: Array | None
    output: Array
    output_shape: list[int]
    trace: TraceSummary
