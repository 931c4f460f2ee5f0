"""The lecture's X/O network: a drawn glyph through every stage, and training it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api import limits
from app.api.errors import LimitError
from app.api.geometry import activation_geometry_out, conv2d_geometry_out, pool2d_geometry_out
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.route import GuardedRoute
from app.api.schemas import ERRORS
from app.api.sse import SSE_RESPONSES, Event, sse_response
from app.api.training_schemas import (
    XODoneEvent,
    XOEpochEvent,
    XOForwardRequest,
    XOForwardResponse,
    XOGeometry,
    XOGradients,
    XOParamsIn,
    XOParamsOut,
    XOSamplesResponse,
    XOStartEvent,
    XOTrainRequest,
)
from app.engine import conv, glyph_data, pool, xo_net, xo_training
from app.engine.errors import ShapeError
from app.engine.tensors import shape_text

router = APIRouter(prefix="/api/xo", tags=["X/O network"], route_class=GuardedRoute)


def _params(body: XOParamsIn, glyph_size: tuple[int, int]) -> xo_net.XONetParams:
    """The request's parameters, each missing one taken from the lecture's network."""
    lecture = xo_net.lecture_params()
    conv_weight = lecture.conv_weight if body.conv_weight is None else body.conv_weight
    filters = int(conv_weight.shape[0])
    if filters != lecture.filters and body.fc_weight is None:
        # The lecture's vote reads its three filters' maps; other filters need their own.
        raise ShapeError(
            "fc_weight",
            f"give one for {filters} filters: shape (2, {filters * 16})",
            code="needs_fc_weight",
            params={"filters": filters, "features": filters * 16},
        )
    return xo_net.make_params(
        conv_weight,
        np.zeros(filters, np.float32) if body.conv_bias is None else body.conv_bias,
        lecture.fc_weight if body.fc_weight is None else body.fc_weight,
        lecture.fc_bias if body.fc_bias is None else body.fc_bias,
        glyph_size,
    )


def _geometry(params: xo_net.XONetParams, glyph: np.ndarray) -> XOGeometry:
    """Each stage's geometry for one glyph, as the page would ask /api/conv2d and so on."""
    g = conv.conv2d_geometry(glyph[None], params.conv_weight, reduce=xo_net.REDUCE)
    maps = (g.out_channels, *g.output_size)
    p = pool.pool2d_geometry(maps, **xo_net.POOL)  # type: ignore[arg-type]
    return XOGeometry(
        conv=conv2d_geometry_out(g),
        relu=activation_geometry_out("relu", 0.01, maps),
        pool=pool2d_geometry_out("max_pool2d", g.out_channels, p),
    )


def _params_out(params: xo_net.XONetParams) -> XOParamsOut:
    return XOParamsOut(**params.arrays())


@router.post("/forward", response_model=XOForwardResponse, responses=ERRORS)
def forward(body: XOForwardRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """A glyph through conv (3 filters, mean), ReLU, 2x2 max pooling, fc and softmax.

    Every stage comes back, and the vote. Parameters not given are the lecture's:
    its three filters, zero conv biases and a nearest-template vote. With `shift`
    the glyph is moved first (slide 4): call it for each shift and the feature maps
    move with the glyph while the pooled features change little and the vote holds.
    With `label`, the cross-entropy and the gradient of every parameter, stage and
    the glyph come back too.
    """
    glyph = body.input
    if glyph.ndim != 2:
        raise ShapeError(
            "input",
            f"must be one (H, W) glyph, e.g. 9x9, got {glyph.ndim} axes",
            code="wrong_shape",
            params={"expected": "(H, W)", "actual": shape_text(glyph.shape)},
        )
    shifted = glyph_data.shift_glyph(glyph, body.shift[0], body.shift[1], body.fill)
    # The lecture's vote reads a 9x9 glyph's 48 features; a custom fc_weight may read others.
    size = (9, 9) if body.fc_weight is None else (int(glyph.shape[0]), int(glyph.shape[1]))
    params = _params(body, size)
    fwd = xo_net.forward(params, shifted)
    loss, gradients = None, None
    if body.label is not None:
        loss, grads = xo_net.backward(params, fwd, np.array([body.label]))
        gradients = XOGradients(
            conv_weight=grads.conv_weight,
            conv_bias=grads.conv_bias,
            fc_weight=grads.fc_weight,
            fc_bias=grads.fc_bias,
            logits=grads.logits[0],
            features=grads.features[0],
            pooled=grads.pooled[0],
            relu=grads.relu[0],
            conv=grads.conv[0],
            input=grads.input[0],
        )
    response = XOForwardResponse(
        classes=list(xo_net.CLASSES),
        filter_names=list(xo_net.FILTER_NAMES),
        input=shifted,
        shift=body.shift,
        conv=fwd.conv[0],
        relu=fwd.relu[0],
        pooled=fwd.pooled[0],
        pool_indices=fwd.pool_indices[0],
        features=fwd.features[0],
        logits=fwd.logits[0],
        probabilities=fwd.probabilities[0],
        prediction=xo_net.CLASSES[int(fwd.predictions[0])],
        params=_params_out(params),
        parameter_count=params.count,
        geometry=_geometry(params, shifted),
        loss=loss,
        gradients=gradients,
    )
    return ArrayJSONResponse(response, encoding)


def _config(body: XOTrainRequest) -> xo_training.TrainConfig:
    passes = body.epochs * (body.samples + body.validation_samples)
    if passes > limits.MAX_XO_SAMPLE_EPOCHS:
        most = limits.MAX_XO_SAMPLE_EPOCHS // (body.samples + body.validation_samples)
        raise LimitError(
            "epochs",
            f"{body.epochs} epochs x {body.samples + body.validation_samples} glyphs (training"
            f" and validation) is {passes:,} glyph passes, over the limit of"
            f" {limits.MAX_XO_SAMPLE_EPOCHS:,}; use epochs <= {most} or fewer samples",
            code="epochs_over_limit",
            params={"max": most},
        )
    seconds = (body.epochs + 1) * body.delay_ms / 1000
    if seconds > limits.MAX_STREAM_SECONDS:
        raise LimitError(
            "delay_ms",
            f"{body.epochs + 1} events x {body.delay_ms} ms would keep the stream open"
            f" {seconds:.0f} s, over the limit of {limits.MAX_STREAM_SECONDS} s",
            code="stream_over_limit",
            params={"seconds": round(seconds), "limit": limits.MAX_STREAM_SECONDS},
        )
    config = xo_training.TrainConfig(
        seed=body.seed,
        samples=body.samples,
        validation_samples=body.validation_samples,
        epochs=body.epochs,
        batch_size=body.batch_size,
        lr=body.lr,
        momentum=body.momentum,
        noise=body.noise,
        max_shift=body.max_shift,
        init=body.init,
        train_filters=body.train_filters,
    )
    config.check()
    return config


def _epoch(progress: xo_training.EpochProgress, epochs: int) -> dict[str, object]:
    return {
        "epoch": progress.epoch,
        "epochs": epochs,
        "loss": progress.loss,
        "accuracy": progress.accuracy,
        "validation_loss": progress.validation_loss,
        "validation_accuracy": progress.validation_accuracy,
        "conv_weight": progress.params.conv_weight,
        "conv_bias": progress.params.conv_bias,
        "seconds": progress.seconds,
    }


def _train_events(config: xo_training.TrainConfig) -> Iterator[Event]:
    yield (
        "start",
        XOStartEvent(
            epochs=config.epochs,
            samples=config.samples,
            validation_samples=config.validation_samples,
            batches_per_epoch=-(-config.samples // config.batch_size),
            classes=list(xo_net.CLASSES),
            filter_names=list(xo_net.FILTER_NAMES),
            lecture_filters=xo_net.lecture_filters(),
        ),
    )
    last = None
    for progress in xo_training.train(config):  # closing this generator closes the run
        yield "epoch", XOEpochEvent(**_epoch(progress, config.epochs))  # type: ignore[arg-type]
        last = progress
    assert last is not None
    yield (
        "done",
        XODoneEvent(
            **_epoch(last, config.epochs),  # type: ignore[arg-type]
            params=_params_out(last.params),
            lecture_filters=xo_net.lecture_filters(),
        ),
    )


@router.post("/train", responses=SSE_RESPONSES | ERRORS, response_model=None)
def train(body: XOTrainRequest, request: Request) -> Response:
    """Train the X/O network on generated glyphs, streamed as server-sent events.

    The glyphs are X's and O's of sides 5 and 7 with shifts up to `max_shift` and
    sign-flip `noise`, drawn from `seed` (training and held-out validation sets).
    Minibatch SGD with momentum on cross-entropy. Events, in order: `start` (sizes,
    classes, the lecture's filters), one `epoch` per epoch from 0 (before training)
    to `epochs` (loss, accuracy, validation_loss, validation_accuracy, the filters
    now), then `done` (the last epoch's numbers plus every learned parameter, for
    `POST /api/xo/forward`). `delay_ms` paces them. Closing the connection stops
    training. The default run takes about half a second.
    """
    config = _config(body)
    return sse_response(request, _train_events(config), delay=body.delay_ms / 1000)


@router.get("/samples", response_model=XOSamplesResponse)
def samples(
    count: int = Query(default=16, ge=1, le=limits.MAX_XO_GLYPHS_PREVIEW),
    seed: int = Query(default=0, ge=0, le=2**32 - 1),
    noise: float = Query(default=0.05, ge=0, le=0.5),
    max_shift: int = Query(default=1, ge=0, le=4),
) -> ArrayJSONResponse:
    """Generated glyphs like those the network trains on (the same generator).

    X's and O's of sides 5 and 7, shifted up to `max_shift` cells, each cell flipped
    with probability `noise`; labels in the same order. The same query gives the
    same glyphs.
    """
    glyphs, labels = glyph_data.generate(count, seed, noise=noise, max_shift=max_shift)
    response = XOSamplesResponse(
        glyphs=glyphs,
        labels=[xo_net.CLASSES[int(y)] for y in labels],
        classes=list(xo_net.CLASSES),
    )
    return ArrayJSONResponse(response)
