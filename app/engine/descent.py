"""Gradient descent on a convolution filter (the lecture's slide 10, made to run).

A :class:`ConvProblem` is one conv layer to fit: a few inputs, the conv's
parameters and a loss (mean squared error against target maps, or the sum of the
outputs). :func:`descend` runs gradient descent with optional momentum on its
weight (and bias) and yields one :class:`DescentStep` per iteration, so a caller
can stream the loss curve and the kernel's numbers as they change, and stop by
simply not asking for the next step.

Forward and backward are :func:`app.engine.conv.conv2d` and
:func:`~app.engine.conv.conv2d_backward`; the loss and its ``dE/dO`` come from
:mod:`app.engine.losses`; nothing is re-derived here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from app import presets
from app.engine import conv, losses
from app.engine.conv import Conv2dParams
from app.engine.errors import ParameterError, ShapeError
from app.engine.tensors import as_array, check_shape

STOP_REASONS = ("loss_tolerance", "grad_tolerance", "max_iterations", "diverged")
"""Why a run ended, on its last step:

- ``loss_tolerance``: the loss fell to ``loss_tolerance`` or below (converged);
- ``grad_tolerance``: the gradient's norm fell to ``grad_tolerance`` or below (a minimum);
- ``max_iterations``: the update budget was used up;
- ``diverged``: the *next* update would make the loss, the gradient or the weight
  NaN or infinite (the learning rate is too large), so the run stops on the last
  finite step.
"""


@dataclass(frozen=True)
class ConvProblem:
    """One conv layer's inputs and loss; the weight is what descent changes.

    Build it with :func:`conv_problem`, which checks every shape.

    Attributes
    ----------
    inputs : tuple of ndarray, each (C_in, H, W) or (H, W)
    loss : {"mse", "sum"}
    targets : tuple of ndarray or None
        One target per input, shaped like that input's conv output (``"mse"``).
    settings : Conv2dParams
    geometries : tuple of Conv2dGeometry
        One per input, made once by :func:`conv_problem` (inputs may differ in size).
    """

    inputs: tuple[np.ndarray, ...]
    loss: str
    targets: tuple[np.ndarray, ...] | None
    settings: Conv2dParams
    geometries: tuple[conv.Conv2dGeometry, ...]

    def evaluate(
        self, weight: np.ndarray, bias: np.ndarray | None
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """The loss averaged over the inputs and its gradient.

        Returns
        -------
        loss : float
            ``mean_k E(conv2d(inputs[k], weight, bias), targets[k])``.
        grad_weight : ndarray of float32, shape of ``weight``
        grad_bias : ndarray of float32, shape (C_out,), or None without a bias
        """
        total = 0.0
        grad_w = np.zeros(weight.shape, dtype=np.float64)
        grad_b = None if bias is None else np.zeros(bias.shape, dtype=np.float64)
        for k, (x, g) in enumerate(zip(self.inputs, self.geometries, strict=True)):
            out = g.forward(x, weight, bias)
            target = None if self.targets is None else self.targets[k]
            loss, grad_out = losses.loss_and_grad(self.loss, out, target)
            _, gw, gb = g.backward(grad_out, x, weight, bias)
            total += loss
            grad_w += gw
            if grad_b is not None and gb is not None:
                grad_b += gb
        n = len(self.inputs)
        return (
            total / n,
            (grad_w / n).astype(np.float32),
            None if grad_b is None else (grad_b / n).astype(np.float32),
        )


def conv_problem(
    inputs: Sequence[ArrayLike],
    weight: ArrayLike,
    loss: str = "mse",
    *,
    targets: Sequence[ArrayLike] | None = None,
    teacher_weight: ArrayLike | None = None,
    teacher_bias: ArrayLike | None = None,
    settings: Conv2dParams | None = None,
) -> ConvProblem:
    """Check a descent problem against the weight it starts from.

    Parameters
    ----------
    inputs : sequence of array_like, each (C_in, H, W) or (H, W)
        At least one; they may differ in size.
    weight : array_like of shape (C_out, C_in/groups, kH, kW) or (kH, kW)
        The starting weight (only its shape is used here).
    loss : {"mse", "sum"}
    targets : sequence of array_like, optional
        For ``"mse"``: one target map per input, shaped like its conv output.
    teacher_weight, teacher_bias : array_like, optional
        For ``"mse"`` instead of ``targets``: the targets are ``conv2d(input,
        teacher_weight, teacher_bias)`` with the same settings ("learn this filter").
    settings : Conv2dParams, optional

    Returns
    -------
    ConvProblem
    """
    settings = settings or Conv2dParams()
    if not inputs:
        raise ShapeError("inputs", "give at least one input", code="no_inputs")
    xs = tuple(as_array(x, "inputs", np.float32) for x in inputs)
    w = as_array(weight, "weight", np.float32)
    geometries = tuple(settings.geometry(x, w) for x in xs)
    shapes = [g.output_shape for g in geometries]
    if loss == "sum":
        return ConvProblem(xs, "sum", None, settings, geometries)
    if loss != "mse":
        raise ParameterError(
            "loss",
            f"unknown loss {loss!r}; use 'mse' or 'sum'",
            code="unknown_choice",
            params={"choices": "mse, sum"},
        )
    if (targets is None) == (teacher_weight is None):
        raise ParameterError(
            "targets",
            "the mse loss needs either targets (one map per input) or a teacher_weight"
            " whose outputs are the targets, not both",
            code="needs_one_target",
        )
    if teacher_weight is not None:
        teacher = as_array(teacher_weight, "teacher_weight", np.float32)
        check_shape(teacher, w.shape, "teacher_weight", "weight")
        tb = None if teacher_bias is None else as_array(teacher_bias, "teacher_bias", np.float32)
        made = tuple(g.forward(x, teacher, tb) for x, g in zip(xs, geometries, strict=True))
        return ConvProblem(xs, "mse", made, settings, geometries)
    assert targets is not None
    if len(targets) != len(xs):
        raise ShapeError(
            "targets",
            f"has {len(targets)} maps for {len(xs)} inputs; give one target per input",
            code="count_mismatch",
            params={"given": len(targets), "needed": len(xs)},
        )
    ts = tuple(as_array(t, "targets", np.float32) for t in targets)
    for k, (t, shape) in enumerate(zip(ts, shapes, strict=True)):
        check_shape(t, shape, "targets", f"the conv output of input {k}")
    return ConvProblem(xs, "mse", ts, settings, geometries)


# --------------------------------------------------------------------------- the update


def sgd_step(
    weight: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float, momentum: float
) -> tuple[np.ndarray, np.ndarray]:
    """One step of SGD with momentum, as ``torch.optim.SGD`` (no dampening, not Nesterov).

    Parameters
    ----------
    weight, velocity, grad : ndarray of one shape
        ``velocity`` is zeros before the first step.
    lr : float
        Learning rate, > 0.
    momentum : float
        In [0, 1); 0 is plain gradient descent.

    Returns
    -------
    weight, velocity : ndarray of float32
        ``v = momentum * v + grad``; ``w = w - lr * v``.
    """
    v = (np.float32(momentum) * velocity + grad).astype(np.float32)
    return (weight - np.float32(lr) * v).astype(np.float32), v


@dataclass(frozen=True)
class DescentStep:
    """The state at one iteration: the weight, its loss and its gradient.

    Attributes
    ----------
    iteration : int
        0 is the starting weight; iteration ``k`` follows ``k`` updates.
    loss : float
    weight : ndarray of float32, the weight's shape
    grad : ndarray of float32, the weight's shape
        ``dE/dW`` at ``weight``; the next update moves against it.
    grad_norm : float
        Euclidean norm of ``grad`` and ``grad_bias`` together.
    bias, grad_bias : ndarray of shape (C_out,) or None
    velocity, velocity_bias : ndarray or None
        The momentum buffers that the *next* update starts from (pass them back to
        continue a run one step at a time).
    stop : str or None
        On the last step, one of :data:`STOP_REASONS`.
    """

    iteration: int
    loss: float
    weight: np.ndarray
    grad: np.ndarray
    grad_norm: float
    bias: np.ndarray | None = None
    grad_bias: np.ndarray | None = None
    velocity: np.ndarray | None = None
    velocity_bias: np.ndarray | None = None
    stop: str | None = None


def _finite(*arrays: np.ndarray | float | None) -> bool:
    return all(a is None or bool(np.all(np.isfinite(a))) for a in arrays)


def _check_hyper(lr: float, momentum: float, max_iterations: int) -> None:
    if not (np.isfinite(lr) and lr > 0):
        raise ParameterError(
            "lr",
            f"must be a positive number, got {lr!r}; try 0.1",
            code="positive",
            params={"actual": float(lr)},
        )
    if not (0 <= momentum < 1):
        raise ParameterError(
            "momentum",
            f"must be in [0, 1), got {momentum!r}; 0 turns it off",
            code="in_range_open",
            params={"min": 0, "max": 1, "actual": float(momentum)},
        )
    if max_iterations < 0:
        raise ParameterError(
            "max_iterations",
            f"must be at least 0, got {max_iterations}",
            code="at_least",
            params={"min": 0, "actual": max_iterations},
        )


def descend(
    problem: ConvProblem,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    lr: float,
    momentum: float = 0.0,
    max_iterations: int = 100,
    loss_tolerance: float | None = None,
    grad_tolerance: float | None = None,
    velocity: ArrayLike | None = None,
    velocity_bias: ArrayLike | None = None,
) -> Iterator[DescentStep]:
    """Gradient descent on ``weight`` (and ``bias``), one yielded step per iteration.

    Parameters
    ----------
    problem : ConvProblem
    weight : array_like of shape (C_out, C_in/groups, kH, kW) or (kH, kW)
        The starting weight.
    bias : array_like of shape (C_out,), optional
        Trained too when given.
    lr, momentum : float
        See :func:`sgd_step`.
    max_iterations : int
        At most this many updates (so at most ``max_iterations + 1`` steps).
    loss_tolerance, grad_tolerance : float, optional
        Stop once the loss, or the gradient's norm, is at or below these; None never
        stops there (a sum loss can be negative, so 0 is not "off").
    velocity, velocity_bias : array_like, optional
        Momentum buffers to continue from (a previous run's last step); zeros if omitted.

    Yields
    ------
    DescentStep
        Iteration 0 first; the last step has ``stop`` set (see :data:`STOP_REASONS`).
        Every number yielded is finite.

    Notes
    -----
    Each step is evaluated one update ahead: the step for iteration ``k`` is yielded
    only after the weight of ``k + 1`` is known to be finite, so that a divergent run
    ends *on* its last finite weight with ``stop="diverged"``.
    """
    _check_hyper(lr, momentum, max_iterations)
    w = as_array(weight, "weight", np.float32).copy()
    b = None if bias is None else as_array(bias, "bias", np.float32).copy()
    vw = np.zeros_like(w) if velocity is None else as_array(velocity, "velocity", np.float32)
    check_shape(vw, w.shape, "velocity", "weight")
    vb = None
    if b is not None:
        vb = np.zeros_like(b) if velocity_bias is None else as_array(velocity_bias, "velocity_bias")
        check_shape(vb, b.shape, "velocity_bias", "bias")
    # Overflow is an outcome here (a too-large learning rate), reported as "diverged".
    with np.errstate(over="ignore", invalid="ignore"):
        loss, gw, gb = problem.evaluate(w, b)
    if not _finite(loss, gw, gb):
        raise ParameterError(
            "weight",
            "the starting weight already gives a non-finite loss; use smaller numbers",
            code="non_finite_loss",
        )
    iteration = 0
    while True:
        norm = float(np.sqrt(np.sum(gw.astype(np.float64) ** 2) + _sq(gb)))
        step = DescentStep(iteration, loss, w, gw, norm, b, gb, vw, vb)
        if loss_tolerance is not None and loss <= loss_tolerance:
            yield _stopped(step, "loss_tolerance")
            return
        if grad_tolerance is not None and norm <= grad_tolerance:
            yield _stopped(step, "grad_tolerance")
            return
        if iteration >= max_iterations:
            yield _stopped(step, "max_iterations")
            return
        with np.errstate(over="ignore", invalid="ignore"):
            w2, vw2 = sgd_step(w, vw, gw, lr, momentum)
            b2, vb2 = (None, None)
            if b is not None and gb is not None and vb is not None:
                b2, vb2 = sgd_step(b, vb, gb, lr, momentum)
            loss2, gw2, gb2 = problem.evaluate(w2, b2) if _finite(w2, b2) else (np.nan, gw, gb)
        if not _finite(loss2, gw2, gb2):
            yield _stopped(step, "diverged")
            return
        yield step
        iteration += 1
        w, b, vw, vb, loss, gw, gb = w2, b2, vw2, vb2, loss2, gw2, gb2


def _sq(a: np.ndarray | None) -> float:
    return 0.0 if a is None else float(np.sum(a.astype(np.float64) ** 2))


def _stopped(step: DescentStep, reason: str) -> DescentStep:
    return DescentStep(**{**step.__dict__, "stop": reason})


# --------------------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Scenario:
    """A ready-made descent run: what to fit, where to start and how fast to go."""

    inputs: tuple[np.ndarray, ...]
    teacher_weight: np.ndarray
    weight: np.ndarray
    settings: Conv2dParams
    lr: float
    momentum: float
    max_iterations: int
    loss_tolerance: float

    def problem(self) -> ConvProblem:
        return conv_problem(
            self.inputs,
            self.weight,
            "mse",
            teacher_weight=self.teacher_weight,
            settings=self.settings,
        )


def diagonal_detector(seed: int = 0, scale: float = 0.5) -> Scenario:
    """ "Learn the diagonal detector": recover the lecture's diagonal filter from its outputs.

    The targets are the lecture's diagonal filter (slide 5, ``reduce="mean"``)
    applied to the X, the O and the X shifted one column; the start is a 3x3 of
    ``N(0, scale**2)`` numbers drawn with ``seed``. The loss is a convex quadratic in
    the weight whose only minimum is the diagonal filter (the three glyphs' 3x3
    windows span all nine directions), so descent converges to it from anywhere.

    The learning rate fits the mean reduction: each output is a ninth of a window's
    sum, so the gradients are small (the Hessian's largest eigenvalue is about 0.08).
    """
    rng = np.random.default_rng(seed)
    glyphs = (presets.x_glyph(), presets.o_glyph(), presets.GLYPHS["x_shifted"]["input"])
    return Scenario(
        inputs=tuple(np.asarray(g, dtype=np.float32) for g in glyphs),
        teacher_weight=np.asarray(presets.KERNELS["diagonal"]["weight"], dtype=np.float32),
        weight=rng.normal(0.0, scale, size=(3, 3)).astype(np.float32),
        settings=Conv2dParams(reduce="mean"),
        lr=5.0,
        momentum=0.5,
        max_iterations=300,
        loss_tolerance=1e-8,
    )


__all__ = [
    "STOP_REASONS",
    "ConvProblem",
    "DescentStep",
    "Scenario",
    "conv_problem",
    "descend",
    "diagonal_detector",
    "sgd_step",
]
