"""Gradient descent on a filter: the step is PyTorch's SGD, the gradient autograd's,
the lecture's diagonal detector is learned, and every way of stopping works."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app import presets
from app.engine import descent
from app.engine.conv import Conv2dParams
from app.engine.errors import ParameterError, ShapeError


@pytest.fixture(autouse=True, scope="module")
def single_threaded_torch() -> Iterator[None]:
    """The reference tensors are tiny: torch's thread pool only costs time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


DIAGONAL = np.asarray(presets.KERNELS["diagonal"]["weight"], dtype=np.float32)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_step_matches_torch_optim(momentum: float) -> None:
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(2, 1, 3, 3)).astype(np.float32)
    grads = [rng.normal(size=w0.shape).astype(np.float32) for _ in range(4)]
    p = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.SGD([p], lr=0.3, momentum=momentum)
    w, v = w0, np.zeros_like(w0)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        w, v = descent.sgd_step(w, v, g, 0.3, momentum)
    np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_problem_gradient_matches_autograd(seed: int) -> None:
    """Mean over inputs of the mse (or sum) of a strided, padded conv with bias."""
    rng = np.random.default_rng(seed)
    settings = Conv2dParams(stride=2, padding=1, reduce=("sum", "mean")[seed % 2])
    inputs = [rng.normal(size=(2, 7, 6)).astype(np.float32) for _ in range(3)]
    weight = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    loss_kind = ("mse", "sum")[seed // 2]
    targets = [rng.normal(size=(3, 4, 3)).astype(np.float32) for _ in inputs]
    problem = descent.conv_problem(
        inputs,
        weight,
        loss_kind,
        targets=targets if loss_kind == "mse" else None,
        settings=settings,
    )
    loss, gw, gb = problem.evaluate(weight, bias)

    w = torch.tensor(weight, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(bias, dtype=torch.float64, requires_grad=True)
    divisor = 18 if settings.reduce == "mean" else 1
    total = 0
    for x, t in zip(inputs, targets, strict=True):
        out = F.conv2d(torch.tensor(x, dtype=torch.float64)[None], w, None, 2, 1)[0] / divisor
        out = out + b[:, None, None]
        total = total + (
            F.mse_loss(out, torch.tensor(t, dtype=torch.float64))
            if loss_kind == "mse"
            else out.sum()
        )
    (total / len(inputs)).backward()
    assert loss == pytest.approx(total.item() / len(inputs), rel=1e-5)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert gb is not None
    np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_learns_the_diagonal_detector() -> None:
    scenario = descent.diagonal_detector(seed=0)
    assert np.abs(scenario.weight - DIAGONAL).max() > 1  # it starts far away
    steps = list(
        descent.descend(
            scenario.problem(),
            scenario.weight,
            lr=scenario.lr,
            momentum=scenario.momentum,
            max_iterations=scenario.max_iterations,
            loss_tolerance=scenario.loss_tolerance,
        )
    )
    last = steps[-1]
    assert last.stop == "loss_tolerance"
    assert [s.iteration for s in steps] == list(range(len(steps)))
    assert len(steps) < scenario.max_iterations
    np.testing.assert_allclose(last.weight, DIAGONAL, atol=2e-3)
    losses = [s.loss for s in steps]
    assert losses[0] > 0.1 and losses[-1] <= scenario.loss_tolerance
    assert all(s.stop is None for s in steps[:-1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_diagonal_detector_from_other_starts(seed: int) -> None:
    scenario = descent.diagonal_detector(seed=seed)
    *_, last = descent.descend(
        scenario.problem(),
        scenario.weight,
        lr=scenario.lr,
        momentum=scenario.momentum,
        max_iterations=scenario.max_iterations,
        loss_tolerance=scenario.loss_tolerance,
    )
    assert last.stop == "loss_tolerance"
    np.testing.assert_allclose(last.weight, DIAGONAL, atol=2e-3)


def _problem() -> tuple[descent.ConvProblem, np.ndarray]:
    scenario = descent.diagonal_detector(seed=0)
    return scenario.problem(), scenario.weight


def test_stops_on_max_iterations_and_continues_with_velocity() -> None:
    problem, w0 = _problem()
    straight = list(descent.descend(problem, w0, lr=2.0, momentum=0.5, max_iterations=6))
    assert straight[-1].stop == "max_iterations" and straight[-1].iteration == 6
    first = list(descent.descend(problem, w0, lr=2.0, momentum=0.5, max_iterations=3))
    resumed = list(
        descent.descend(
            problem,
            first[-1].weight,
            lr=2.0,
            momentum=0.5,
            max_iterations=3,
            velocity=first[-1].velocity,
        )
    )
    np.testing.assert_allclose(resumed[-1].weight, straight[-1].weight, rtol=1e-6)


def test_stops_on_gradient_tolerance() -> None:
    problem, w0 = _problem()
    *_, last = descent.descend(problem, w0, lr=5.0, max_iterations=500, grad_tolerance=1e-3)
    assert last.stop == "grad_tolerance" and last.grad_norm <= 1e-3


def test_divergence_stops_on_the_last_finite_step() -> None:
    problem, w0 = _problem()
    steps = list(descent.descend(problem, w0, lr=100.0, max_iterations=1000))
    last = steps[-1]
    assert last.stop == "diverged"
    assert last.iteration < 1000
    assert all(np.isfinite(s.loss) and np.isfinite(s.weight).all() for s in steps)
    assert steps[-1].loss > 1e6 * steps[0].loss  # it was blowing up


def test_bias_is_trained_too() -> None:
    x = [np.asarray(presets.x_glyph(), dtype=np.float32)]
    problem = descent.conv_problem(
        x,
        DIAGONAL,
        "mse",
        teacher_weight=DIAGONAL,
        teacher_bias=np.array([0.5], np.float32),
        settings=Conv2dParams(reduce="mean"),
    )
    *_, last = descent.descend(
        problem,
        DIAGONAL,
        np.zeros(1, np.float32),
        lr=1.0,
        momentum=0.9,
        max_iterations=1000,
        loss_tolerance=1e-10,
    )
    assert last.bias is not None and last.bias[0] == pytest.approx(0.5, abs=1e-4)


def test_bad_problems_name_the_field() -> None:
    x = [np.ones((5, 5), np.float32)]
    with pytest.raises(ParameterError, match="targets: the mse loss needs either targets"):
        descent.conv_problem(x, DIAGONAL, "mse")
    with pytest.raises(ShapeError, match="targets: has 2 maps for 1 inputs"):
        descent.conv_problem(x, DIAGONAL, "mse", targets=[np.ones((3, 3))] * 2)
    with pytest.raises(ShapeError, match="but the conv output of input 0 has shape \\(3, 3\\)"):
        descent.conv_problem(x, DIAGONAL, "mse", targets=[np.ones((4, 4))])
    with pytest.raises(ShapeError, match="teacher_weight: has shape \\(2, 2\\)"):
        descent.conv_problem(x, DIAGONAL, "mse", teacher_weight=np.ones((2, 2)))
    problem = descent.conv_problem(x, DIAGONAL, "sum")
    with pytest.raises(ParameterError, match="momentum: must be in \\[0, 1\\)"):
        next(descent.descend(problem, DIAGONAL, lr=0.1, momentum=1.0))
    with pytest.raises(ParameterError, match="lr: must be a positive number"):
        next(descent.descend(problem, DIAGONAL, lr=0.0))
