"""Training the X/O network: it learns, on a fixed seed, within a time bound."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.engine import xo_net, xo_training
from app.engine.errors import ParameterError


def test_training_reaches_high_accuracy_quickly() -> None:
    config = xo_training.TrainConfig(seed=0)
    start = time.perf_counter()
    history = list(xo_training.train(config))
    elapsed = time.perf_counter() - start
    assert [p.epoch for p in history] == list(range(config.epochs + 1))
    first, last = history[0], history[-1]
    assert first.validation_accuracy < 0.7  # random filters: about a coin toss
    assert last.accuracy >= 0.97
    assert last.validation_accuracy >= 0.97
    assert last.loss < first.loss / 5
    # The bound the API's limits assume (about 0.4 s here; slack for a busy machine).
    assert elapsed < 5.0
    assert not np.allclose(last.params.conv_weight, history[0].params.conv_weight)


def test_same_seed_same_run() -> None:
    config = xo_training.TrainConfig(seed=4, epochs=2, samples=64, validation_samples=32)
    a = list(xo_training.train(config))
    b = list(xo_training.train(config))
    for pa, pb in zip(a, b, strict=True):
        assert pa.loss == pb.loss
        np.testing.assert_array_equal(pa.params.fc_weight, pb.params.fc_weight)


def test_frozen_filters_stay_the_lecture_ones() -> None:
    config = xo_training.TrainConfig(init="lecture", train_filters=False, epochs=3)
    *_, last = xo_training.train(config)
    np.testing.assert_array_equal(last.params.conv_weight, xo_net.lecture_filters())
    assert last.validation_accuracy >= 0.95


def test_stopping_early_does_no_more_work() -> None:
    run = xo_training.train(xo_training.TrainConfig(epochs=100))
    next(run)
    next(run)
    run.close()  # what the API does when the client goes away
    with pytest.raises(StopIteration):
        next(run)


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(ParameterError, match="batch_size: must be at least 1"):
        next(xo_training.train(xo_training.TrainConfig(batch_size=0)))
    with pytest.raises(ParameterError, match="init: unknown init 'zeros'"):
        next(xo_training.train(xo_training.TrainConfig(init="zeros")))
