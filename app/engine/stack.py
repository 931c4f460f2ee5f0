"""One layer of a convnet as the page shows it: conv, then optionally an activation
and a pooling, scored by a loss; forward and backward through every stage.

The backward view needs each stage's ``dE/d(its output)`` and ``dE/d(its input)``
(the ReLU gate, pooling's routing to the argmax or its even split, then the conv's
``dE/dW``, ``dE/dX`` and ``dE/db``), so :func:`stack_backward` keeps them all.
Every stage is an existing engine operation and its backward:
:mod:`app.engine.conv`, :mod:`app.engine.activations`, :mod:`app.engine.pool`.

The loss is one of

- ``"mse"`` against a target map shaped like the stack's output, given directly
  or made by a *teacher*: the same stack with the teacher's conv weight;
- ``"sum"``: ``dE/dO = 1`` everywhere;
- ``"grad_output"``: a hand-set ``dE/dO``; there is no loss value then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from app.engine import activations, losses, pool
from app.engine.conv import Conv2dGeometry, Conv2dParams
from app.engine.errors import EngineError, ParameterError
from app.engine.tensors import as_array, check_shape

STACK_LOSSES = ("mse", "sum", "grad_output")


@contextmanager
def _layer(name: str) -> Iterator[None]:
    """Name the layer in an error's field: the conv and the pooling both have a
    ``padding``, and the page must know which one to point at."""
    try:
        yield
    except EngineError as exc:
        raise exc.renamed(f"{name}.{exc.field}") from exc


@dataclass(frozen=True)
class ActivationSpec:
    """An activation after the conv: a name of ``activations.ACTIVATIONS``."""

    function: str = "relu"
    negative_slope: float = 0.01

    def kwargs(self) -> dict[str, float]:
        return {"negative_slope": self.negative_slope} if self.function == "leaky_relu" else {}


@dataclass(frozen=True)
class PoolSpec:
    """A pooling after the activation, as ``F.max_pool2d`` or ``F.avg_pool2d``."""

    kind: str = "max"
    kernel_size: object = 2
    stride: object = None
    padding: object = 0
    dilation: object = 1
    ceil_mode: bool = False
    count_include_pad: bool = True

    def geometry(self, input_shape: tuple[int, ...]) -> pool.Pool2dGeometry:
        """Check these settings against the pooling input's shape (avg pools undilated)."""
        if self.kind not in ("max", "avg"):
            raise ParameterError(
                "pool.kind",
                f"unknown pooling {self.kind!r}; use 'max' or 'avg'",
                code="unknown_choice",
                params={"choices": "max, avg"},
            )
        dilation = self.dilation if self.kind == "max" else 1
        with _layer("pool"):
            return pool.pool2d_geometry(
                input_shape,
                self.kernel_size,  # type: ignore[arg-type]
                self.stride,  # type: ignore[arg-type]
                self.padding,  # type: ignore[arg-type]
                dilation,  # type: ignore[arg-type]
                self.ceil_mode,
            )


@dataclass(frozen=True)
class StackForward:
    """Every stage's output.

    Attributes
    ----------
    input : ndarray, (C_in, H, W) or (H, W)
    geometry : Conv2dGeometry
        The conv's geometry for this input, made once; the backward pass and the
        traces take it.
    pool_geometry : Pool2dGeometry or None
        The pooling's, when there is one.
    conv : ndarray
        ``Z = conv2d(input, weight, bias)``.
    activated : ndarray or None
        ``A = f(Z)`` when there is an activation.
    pooled : ndarray or None
        ``P = pool(A or Z)`` when there is a pooling.
    indices : ndarray of int64 or None
        Max pooling's argmax (flat ``h * W + w`` in its channel).
    output : ndarray
        The last of ``Z, A, P``.
    """

    input: np.ndarray
    geometry: Conv2dGeometry
    pool_geometry: pool.Pool2dGeometry | None
    conv: np.ndarray
    activated: np.ndarray | None
    pooled: np.ndarray | None
    indices: np.ndarray | None

    @property
    def output(self) -> np.ndarray:
        if self.pooled is not None:
            return self.pooled
        return self.activated if self.activated is not None else self.conv

    @property
    def pool_input(self) -> np.ndarray:
        return self.activated if self.activated is not None else self.conv


@dataclass(frozen=True)
class Stack:
    """A conv layer with an optional activation and pooling after it."""

    weight: np.ndarray
    bias: np.ndarray | None
    settings: Conv2dParams
    activation: ActivationSpec | None = None
    pool: PoolSpec | None = None

    def forward(
        self,
        input: ArrayLike,
        weight: ArrayLike | None = None,
        geometry: Conv2dGeometry | None = None,
        pool_geometry: pool.Pool2dGeometry | None = None,
    ) -> StackForward:
        """Run the stack (with another conv ``weight`` for a teacher, of the same shape).

        ``geometry``, ``pool_geometry``: the conv's and the pooling's, when the caller
        has made them for this input already (each is checked only once).
        """
        x = as_array(input, "input", np.float32)
        w = self.weight if weight is None else weight
        g = self.settings.geometry(x, w, self.bias) if geometry is None else geometry
        z = g.forward(x, w, self.bias)
        a = None
        if self.activation is not None:
            spec = self.activation
            with _layer("activation"):
                a = activations.activation(spec.function, z, **spec.kwargs())
        pooled, indices, pg = None, None, None
        if self.pool is not None:
            source = a if a is not None else z
            pg = self.pool.geometry(source.shape) if pool_geometry is None else pool_geometry
            with _layer("pool"):
                if self.pool.kind == "max":
                    pooled, indices = pg.max_pool(source)
                else:
                    pooled = pg.avg_pool(source, self.pool.count_include_pad)
        return StackForward(x, g, pg, z, a, pooled, indices)


@dataclass(frozen=True)
class StackBackward:
    """``dE/d`` of each stage's output and input.

    Attributes
    ----------
    grad_output : ndarray
        ``dE/dO`` at the stack's output (where the loss starts).
    grad_pool_input : ndarray or None
        ``dE/d(pool input)``: each output gradient routed to its argmax (max) or
        split evenly over its window (avg).
    gate : ndarray or None
        The activation's local derivative ``f'(Z)`` (ReLU: 1 where ``Z > 0``, else 0).
    grad_conv_output : ndarray
        ``dE/dZ = dE/dA * f'(Z)``: what the conv's backward starts from.
    grad_input, grad_weight : ndarray
        ``dE/dX`` and ``dE/dW``.
    grad_bias : ndarray or None
    """

    grad_output: np.ndarray
    grad_pool_input: np.ndarray | None
    gate: np.ndarray | None
    grad_conv_output: np.ndarray
    grad_input: np.ndarray
    grad_weight: np.ndarray
    grad_bias: np.ndarray | None


def stack_backward(stack: Stack, fwd: StackForward, grad_output: ArrayLike) -> StackBackward:
    """Back through pooling, the activation and the conv, keeping every gradient."""
    g = as_array(grad_output, "grad_output", np.float32)
    check_shape(g, fwd.output.shape, "grad_output", "the stack's output")
    grad_pool_input = None
    d = g
    if stack.pool is not None:
        source = fwd.pool_input
        if stack.pool.kind == "max":
            assert fwd.indices is not None
            d = pool.max_pool2d_backward(d, fwd.indices, source.shape)
        else:
            assert fwd.pool_geometry is not None
            d = fwd.pool_geometry.avg_backward(d, source.shape, stack.pool.count_include_pad)
        grad_pool_input = d
    gate = None
    if stack.activation is not None:
        spec = stack.activation
        gate = activations.activation_backward(
            spec.function, np.ones_like(fwd.conv), fwd.conv, **spec.kwargs()
        )
        d = activations.activation_backward(spec.function, d, fwd.conv, **spec.kwargs())
    grad_input, grad_weight, grad_bias = fwd.geometry.backward(
        d, fwd.input, stack.weight, stack.bias
    )
    return StackBackward(g, grad_pool_input, gate, d, grad_input, grad_weight, grad_bias)


def stack_loss(
    stack: Stack,
    fwd: StackForward,
    loss: str,
    *,
    target: ArrayLike | None = None,
    teacher_weight: ArrayLike | None = None,
    grad_output: ArrayLike | None = None,
) -> tuple[float | None, np.ndarray, np.ndarray | None]:
    """The loss at the stack's output and its ``dE/dO``.

    Returns
    -------
    loss : float or None
        None for a hand-set ``grad_output``.
    grad_output : ndarray of float32, the output's shape
    target : ndarray or None
        The map the mse loss compared with (the teacher's output when a teacher
        weight was given).
    """
    given = {"target": target, "teacher_weight": teacher_weight, "grad_output": grad_output}
    allowed = {"mse": ("target", "teacher_weight"), "sum": (), "grad_output": ("grad_output",)}
    if loss not in allowed:
        raise ParameterError(
            "loss",
            f"unknown loss {loss!r}; use one of {', '.join(allowed)}",
            code="unknown_choice",
            params={"choices": ", ".join(allowed)},
        )
    for name, value in given.items():
        if value is not None and name not in allowed[loss]:
            raise ParameterError(
                name,
                f"is not used by the {loss!r} loss; remove it",
                code="unused_parameter",
                params={"by": loss},
            )
    if loss == "grad_output":
        if grad_output is None:
            raise ParameterError(
                "grad_output",
                "the 'grad_output' loss needs a hand-set dE/dO",
                code="needs_grad_output",
            )
        g = as_array(grad_output, "grad_output", np.float32)
        check_shape(g, fwd.output.shape, "grad_output", "the stack's output")
        return None, g, None
    if loss == "sum":
        value, g = losses.loss_and_grad("sum", fwd.output)
        return value, g, None
    if (target is None) == (teacher_weight is None):
        raise ParameterError(
            "target",
            "the mse loss needs a target map or a teacher_weight (one of them)",
            code="needs_one_target",
        )
    if teacher_weight is not None:
        teacher = as_array(teacher_weight, "teacher_weight", np.float32)
        check_shape(teacher, stack.weight.shape, "teacher_weight", "weight")
        t = stack.forward(fwd.input, teacher, fwd.geometry, fwd.pool_geometry).output
    else:
        t = as_array(target, "target", np.float32)
        check_shape(t, fwd.output.shape, "target", "the stack's output")
    value, g = losses.loss_and_grad("mse", fwd.output, t)
    return value, g, t


__all__ = [
    "STACK_LOSSES",
    "ActivationSpec",
    "PoolSpec",
    "Stack",
    "StackBackward",
    "StackForward",
    "stack_backward",
    "stack_loss",
]
