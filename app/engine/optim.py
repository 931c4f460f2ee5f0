"""Optimisers over a list of parameter arrays, as ``torch.optim.SGD`` and ``torch.optim.Adam``.

Each keeps its state (velocities, moments) beside the parameters, in the same order,
and :meth:`step` returns new arrays (it never writes into the ones given), so a
caller can keep any earlier set. Updates follow PyTorch's formulas exactly (no
weight decay, no Nesterov, no amsgrad), so the tests can compare step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.engine.errors import ParameterError


def _positive(value: float, name: str) -> float:
    if not value > 0:
        raise ParameterError(
            name, f"must be > 0, got {value!r}", code="positive", params={"actual": float(value)}
        )
    return float(value)


@dataclass
class SGD:
    """``torch.optim.SGD(lr, momentum)``: ``v = momentum * v + g``; ``p = p - lr * v``
    (the first step's ``v`` is ``g`` itself, as in PyTorch)."""

    lr: float
    momentum: float = 0.0
    _velocity: list[np.ndarray] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        _positive(self.lr, "lr")
        if not 0 <= self.momentum < 1:
            raise ParameterError(
                "momentum",
                f"must lie in [0, 1), got {self.momentum!r}",
                code="in_range_open",
                params={"min": 0, "max": 1, "actual": float(self.momentum)},
            )

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.momentum == 0:
            return [
                (p - self.lr * g).astype(np.float32) for p, g in zip(params, grads, strict=True)
            ]
        if self._velocity is None:
            self._velocity = [g.astype(np.float32) for g in grads]
        else:
            self._velocity = [
                (self.momentum * v + g).astype(np.float32)
                for v, g in zip(self._velocity, grads, strict=True)
            ]
        return [
            (p - self.lr * v).astype(np.float32)
            for p, v in zip(params, self._velocity, strict=True)
        ]


@dataclass
class Adam:
    """``torch.optim.Adam(lr, betas, eps)``.

    With ``t`` the step number from 1::

        m = b1 * m + (1 - b1) * g          v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    _t: int = field(default=0, init=False)
    _m: list[np.ndarray] = field(default_factory=list, init=False)
    _v: list[np.ndarray] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        _positive(self.lr, "lr")
        _positive(self.eps, "eps")
        if not all(0 <= b < 1 for b in self.betas):
            raise ParameterError(
                "betas",
                f"must each lie in [0, 1), got {self.betas!r}",
                code="in_range_open",
                params={"min": 0, "max": 1, "actual": str(self.betas)[:40]},
            )

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> list[np.ndarray]:
        b1, b2 = self.betas
        if not self._m:
            self._m = [np.zeros_like(p, dtype=np.float64) for p in params]
            self._v = [np.zeros_like(p, dtype=np.float64) for p in params]
        self._t += 1
        c1, c2 = 1 - b1**self._t, 1 - b2**self._t
        out = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            g64 = g.astype(np.float64)
            self._m[i] = b1 * self._m[i] + (1 - b1) * g64
            self._v[i] = b2 * self._v[i] + (1 - b2) * g64 * g64
            update = self.lr * (self._m[i] / c1) / (np.sqrt(self._v[i] / c2) + self.eps)
            out.append((p - update).astype(np.float32))
        return out


__all__ = ["SGD", "Adam"]
