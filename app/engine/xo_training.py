"""Training the X/O network on generated glyphs: minibatch SGD with momentum.

:func:`train` yields one :class:`EpochProgress` per epoch (epoch 0 is the
untrained network), so a caller can stream the loss and accuracy curves and the
filters as they change, and stop training by no longer asking for the next epoch:
no work is done ahead of the consumer.

The gradients are :func:`app.engine.xo_net.backward`'s; the update is
:func:`app.engine.descent.sgd_step` applied to each parameter (PyTorch's SGD).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from app.engine import glyph_data, xo_net
from app.engine.descent import sgd_step
from app.engine.errors import ParameterError
from app.engine.losses import cross_entropy

INITS = ("random", "lecture")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; the same config gives the same run.

    Attributes
    ----------
    seed : int
        Seeds the training glyphs, the validation glyphs, the shuffling and the
        random start (independent streams spawned from it).
    samples, validation_samples : int
        Glyphs to train on, and held-out glyphs to measure on.
    epochs, batch_size : int
    lr, momentum : float
        See :func:`app.engine.descent.sgd_step`.
    noise, max_shift : float, int
        See :func:`app.engine.glyph_data.generate`.
    init : {"random", "lecture"}
        Start from seeded random numbers, or from the lecture's filters and vote.
    train_filters : bool
        False keeps the conv filters and biases fixed (only the vote learns).
    """

    seed: int = 0
    samples: int = 512
    validation_samples: int = 256
    epochs: int = 15
    batch_size: int = 32
    lr: float = 0.1
    momentum: float = 0.9
    noise: float = 0.05
    max_shift: int = 1
    init: str = "random"
    train_filters: bool = True

    def check(self) -> None:
        """Raise a ParameterError naming the first setting out of its domain."""
        for name in ("samples", "validation_samples", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ParameterError(
                    name,
                    f"must be at least 1, got {getattr(self, name)}",
                    code="at_least",
                    params={"min": 1, "actual": getattr(self, name)},
                )
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise ParameterError(
                "lr",
                f"must be a positive number, got {self.lr}",
                code="positive",
                params={"actual": float(self.lr)},
            )
        if not 0 <= self.momentum < 1:
            raise ParameterError(
                "momentum",
                f"must be in [0, 1), got {self.momentum}",
                code="in_range_open",
                params={"min": 0, "max": 1, "actual": float(self.momentum)},
            )
        if self.init not in INITS:
            raise ParameterError(
                "init",
                f"unknown init {self.init!r}; use 'random' or 'lecture'",
                code="unknown_choice",
                params={"choices": "random, lecture"},
            )


@dataclass(frozen=True)
class EpochProgress:
    """The network after one epoch, measured on all training and validation glyphs.

    Attributes
    ----------
    epoch : int
        0 before any update, then 1..epochs.
    loss, accuracy : float
        Mean cross-entropy and fraction classified right, on the training glyphs.
    validation_loss, validation_accuracy : float
        The same on the held-out glyphs.
    params : XONetParams
        The parameters at the end of the epoch (``params.conv_weight``: the filters).
    seconds : float
        Compute time since training started (time the consumer spent between two
        epochs, e.g. sending them, is not counted).
    """

    epoch: int
    loss: float
    accuracy: float
    validation_loss: float
    validation_accuracy: float
    params: xo_net.XONetParams
    seconds: float


def evaluate(
    params: xo_net.XONetParams, glyphs: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of the network on a set of glyphs."""
    fwd = xo_net.forward(params, glyphs)
    return cross_entropy(fwd.logits, labels), float(np.mean(fwd.predictions == labels))


def datasets(
    config: TrainConfig,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.random.Generator]:
    """The training set, the validation set and the generator for shuffling and init."""
    train_seq, valid_seq, run_seq = np.random.SeedSequence(config.seed).spawn(3)
    noise, shift = config.noise, config.max_shift
    train_set = glyph_data.generate(config.samples, train_seq, noise=noise, max_shift=shift)
    valid_set = glyph_data.generate(
        config.validation_samples, valid_seq, noise=noise, max_shift=shift
    )
    return train_set, valid_set, np.random.default_rng(run_seq)


class _Clock:
    """Seconds spent computing: runs from :meth:`resume` to :meth:`lap`, adding up."""

    def __init__(self) -> None:
        self.total = 0.0
        self.started = time.perf_counter()

    def resume(self) -> None:
        self.started = time.perf_counter()

    def lap(self) -> float:
        self.total += time.perf_counter() - self.started
        self.started = time.perf_counter()
        return self.total


def train(config: TrainConfig) -> Iterator[EpochProgress]:
    """Train the X/O network; yield the state after each epoch (epoch 0 first).

    Yields
    ------
    EpochProgress
        ``config.epochs + 1`` of them. Stop early by closing the generator or not
        iterating further; nothing is computed ahead.
    """
    config.check()
    clock = _Clock()
    (x, y), (xv, yv), rng = datasets(config)
    if config.init == "lecture":
        params = xo_net.lecture_params()
    else:
        params = xo_net.random_params(int(rng.integers(2**31)))
    velocity = {name: np.zeros_like(a) for name, a in params.arrays().items()}
    frozen = () if config.train_filters else ("conv_weight", "conv_bias")

    def progress(epoch: int) -> EpochProgress:
        loss, accuracy = evaluate(params, x, y)
        v_loss, v_accuracy = evaluate(params, xv, yv)
        return EpochProgress(epoch, loss, accuracy, v_loss, v_accuracy, params, clock.lap())

    yield progress(0)
    for epoch in range(1, config.epochs + 1):
        clock.resume()
        order = rng.permutation(len(y))
        for first in range(0, len(y), config.batch_size):
            batch = order[first : first + config.batch_size]
            _, grads = xo_net.backward(params, xo_net.forward(params, x[batch]), y[batch])
            updated = {}
            for name, value in params.arrays().items():
                if name in frozen:
                    continue
                updated[name], velocity[name] = sgd_step(
                    value, velocity[name], getattr(grads, name), config.lr, config.momentum
                )
            params = params.replace(**updated)
        yield progress(epoch)


__all__ = ["INITS", "EpochProgress", "TrainConfig", "datasets", "evaluate", "train"]
