"""The trained digit network: a drawing or an 8x8 picture through every layer, and
the learned weights themselves."""

from __future__ import annotations

from functools import cache

import numpy as np
from fastapi import APIRouter

from app.api import limits
from app.api.errors import LimitError
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.route import GuardedRoute
from app.api.routes.stack import layer_formula, pool_indices
from app.api.schemas import ERRORS
from app.api.stack_geometry import layer_geometry
from app.api.stack_schemas import (
    DigitForwardRequest,
    DigitForwardResponse,
    DigitLayerInfo,
    DigitModelResponse,
    DigitStage,
)
from app.engine import digits, sequential
from app.engine.errors import ParameterError

router = APIRouter(prefix="/api/digits", tags=["digit network"], route_class=GuardedRoute)

DATA = (
    "scikit-learn's load_digits (1,797 8x8 pictures shipped inside scikit-learn, BSD-3-Clause),"
    " a copy of the test set of the UCI Machine Learning Repository's 'Optical Recognition of"
    " Handwritten Digits' (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0): 32x32 bitmaps from NIST's"
    " preprocessing, their 4x4 blocks counted into 8x8 pictures of 0..16."
)


@cache
def _network() -> tuple[list[sequential.Layer], list[sequential.LayerPlan]]:
    layers = digits.architecture(digits.shipped_params())
    return layers, sequential.plan(layers, (1, digits.SIDE, digits.SIDE))


def _picture(body: DigitForwardRequest) -> tuple[np.ndarray, np.ndarray | None]:
    if (body.input is None) == (body.strokes is None):
        raise ParameterError(
            "input",
            "give an 8x8 picture in input or a drawing in strokes (one)",
            code="needs_input_or_strokes",
        )
    if body.strokes is not None:
        points = sum(len(s) for s in body.strokes)
        if points > limits.MAX_DIGIT_POINTS:
            raise LimitError(
                "strokes",
                f"{points:,} points is over the limit of {limits.MAX_DIGIT_POINTS:,};"
                " send fewer points per stroke",
                code="points_over_limit",
                params={"actual": points, "limit": limits.MAX_DIGIT_POINTS},
            )
        bitmap = digits.strokes_to_bitmap(body.strokes)
        return digits.bitmap_to_counts(bitmap), bitmap.astype(np.float32)
    return digits.as_pictures(body.input)[0, 0], None


@router.post("/forward", response_model=DigitForwardResponse, responses=ERRORS)
def forward(body: DigitForwardRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """The digit network on a drawing (`strokes`) or an 8x8 picture (`input`).

    A drawing is redrawn the way the training data was made (the digit's height
    filling a 32x32 bitmap, centred; 4x4 blocks counted into 8x8 of 0..16). Every
    layer's output comes back with its shape, formula and step geometry, then the
    logits, the class probabilities and the prediction. The network and its
    training: GET /api/digits/model, docs/STACK.md.
    """
    picture, bitmap = _picture(body)
    layers, plans = _network()
    fwd = digits.forward(layers, picture)
    stages = [
        DigitStage(
            name=name,
            type=p.layer.kind,
            output=fwd.stages[name][0],
            output_shape=list(p.output_shape),
            parameter_count=p.layer.parameter_count,
            formula=layer_formula(p),
            geometry=layer_geometry(p),
            indices=pool_indices(p.layer, saved),
        )
        for name, p, saved in zip(digits.STAGES, plans, fwd.fwd.saved, strict=True)
    ]
    response = DigitForwardResponse(
        classes=list(digits.CLASSES),
        input=picture,
        bitmap=bitmap,
        scaled=fwd.scaled[0],
        stages=stages,
        logits=fwd.logits[0],
        probabilities=fwd.probabilities[0],
        prediction=digits.CLASSES[int(fwd.predictions[0])],
    )
    return ArrayJSONResponse(response, encoding)


def _settings(layer: sequential.Layer) -> dict[str, object]:
    if isinstance(layer, sequential.Conv2d):
        return {
            "filters": int(layer.weight.shape[0]),
            "kernel_size": list(layer.weight.shape[2:]),
            **layer.kwargs(),
        }
    if isinstance(layer, sequential.MaxPool2d):
        return {"kernel_size": layer.kernel_size}
    if isinstance(layer, sequential.Activation):
        return {"function": layer.function}
    if isinstance(layer, sequential.Linear):
        return {
            "in_features": int(layer.weight.shape[1]),
            "out_features": int(layer.weight.shape[0]),
        }
    return {}


@router.get("/model", response_model=DigitModelResponse)
def model() -> ArrayJSONResponse:
    """The shipped network: its layers, every learned weight (conv1.weight are the
    first-layer filters: learned from data, not designed), how it was trained and
    its held-out accuracy, and where the data comes from."""
    layers, plans = _network()
    params = digits.shipped_params()
    response = DigitModelResponse(
        classes=list(digits.CLASSES),
        input_shape=[digits.SIDE, digits.SIDE],
        layers=[
            DigitLayerInfo(
                name=name,
                type=p.layer.kind,
                output_shape=list(p.output_shape),
                parameter_count=p.layer.parameter_count,
                settings=_settings(p.layer),
            )
            for name, p in zip(digits.STAGES, plans, strict=True)
        ],
        params=params,
        parameter_count=sum(int(v.size) for v in params.values()),
        training=digits.shipped_info(),
        data=DATA,
    )
    return ArrayJSONResponse(response)
