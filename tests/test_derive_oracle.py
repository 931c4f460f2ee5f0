"""The page's step derivation held to the engine's full trace (issue 10, docs/STEPS.md).

This test writes one JSON fixture per random configuration (the geometry as the API
serialises it, the tensors the page holds, and the engine's full trace as the API's
``TraceOut`` JSON), then runs ``tests/js/oracle/derive_oracle.mjs`` with Node over
the folder; that runner checks, step by step, that ``static/js/model/derive.js``
gives the same numbers. The configurations come from a seeded numpy RNG, so every
run writes the same fixtures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.api.geometry import (
    conv2d_geometry_out,
    conv_transpose2d_geometry_out,
    pool2d_geometry_out,
)
from app.api.schemas import trace_out
from app.engine import conv, conv_transpose, pool
from app.engine.errors import EngineError
from app.engine.trace import Trace

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "js" / "oracle" / "derive_oracle.mjs"
SEED = 20261203
CASES = 240

DERIVATIONS = (
    "conv2d",
    "conv2d_grad_weight",
    "conv2d_grad_input",
    "conv_transpose2d",
    "max_pool2d",
    "avg_pool2d",
)
MODES = ("zeros", "reflect", "replicate", "circular")


@dataclass
class Case:
    """One fixture: what it is called, its derivation, and the features it exercises."""

    name: str
    derivation: str
    geometry: dict[str, Any]
    tensors: dict[str, Any]
    trace: Trace
    features: set[str] = field(default_factory=set)

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "derivation": self.derivation,
            "geometry": self.geometry,
            "tensors": self.tensors,
            "trace": trace_out(self.trace).model_dump(mode="json"),
        }


def _values(rng: np.random.Generator, shape: tuple[int, ...], ties: bool) -> np.ndarray:
    """Small integers (ties for max pooling, exact sums) or normal float32 numbers."""
    if ties:
        return rng.integers(-3, 4, size=shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def _pair(rng: np.random.Generator, low: int, high: int) -> int | tuple[int, int]:
    a, b = (int(v) for v in rng.integers(low, high + 1, size=2))
    return a if rng.random() < 0.4 else (a, b)


def _listed(array: np.ndarray | None) -> Any:
    return None if array is None else array.tolist()


def _conv_case(rng: np.random.Generator, i: int, derivation: str) -> Case:
    """A conv2d (forward or one of its gradients) with every parameter drawn."""
    two_d = rng.random() < 0.2
    groups = 1 if two_d else int(rng.choice([1, 1, 2, 3]))
    c_in = 1 if two_d else groups * int(rng.integers(1, 3))
    c_out = 1 if two_d else groups * int(rng.integers(1, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    kind = ("int", "pair", "four", "same", "valid")[i % 5]
    stride = 1 if kind == "same" else _pair(rng, 1, 3)
    dilation = _pair(rng, 1, 2)
    padding: Any
    if kind == "int":
        padding = int(rng.integers(0, 3))
    elif kind == "pair":
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
    elif kind == "four":
        padding = tuple(int(v) for v in rng.integers(0, 3, size=4))
    else:
        padding = kind
    mode = MODES[(i // 5) % 4]
    reduce = "mean" if rng.random() < 0.35 else "sum"
    h, w = (int(v) for v in rng.integers(3, 8, size=2))
    ties = rng.random() < 0.3
    x = _values(rng, (h, w) if two_d else (c_in, h, w), ties)
    weight = _values(rng, (kh, kw) if two_d else (c_out, c_in // groups, kh, kw), ties)
    bias = _values(rng, (c_out,), ties) if derivation == "conv2d" and rng.random() < 0.5 else None
    params = conv.Conv2dParams(stride, padding, dilation, groups, mode, reduce)
    g = params.geometry(x, weight, bias)
    tensors: dict[str, Any] = {
        "input": x.tolist(),
        "weight": weight.tolist(),
        "bias": _listed(bias),
        "grad_output": None,
        "indices": None,
    }
    if derivation == "conv2d":
        trace = g.trace(x, weight, bias)
    else:
        d = _values(rng, g.output_shape, ties)
        tensors["grad_output"] = d.tolist()
        if derivation == "conv2d_grad_weight":
            trace = g.grad_weight_trace(d, x, weight)
        else:
            trace = g.grad_input_trace(d, weight)
    p = g.padding
    features = {f"padding_{kind}", f"mode_{mode}", f"reduce_{reduce}"}
    features |= {
        name
        for name, on in (
            ("channels", c_in > 1 or c_out > 1),
            ("groups", groups > 1),
            ("rectangular_kernel", kh != kw),
            ("stride", max(g.stride) > 1),
            ("dilation", max(g.dilation) > 1),
            ("asymmetric_padding", (p.top, p.left) != (p.bottom, p.right)),
            ("bias", bias is not None),
            ("two_d", two_d),
        )
        if on
    }
    return Case("", derivation, conv2d_geometry_out(g).model_dump(), tensors, trace, features)


def _transpose_case(rng: np.random.Generator, i: int) -> Case:
    two_d = rng.random() < 0.2
    groups = 1 if two_d else int(rng.choice([1, 2]))
    c_in = 1 if two_d else groups * int(rng.integers(1, 3))
    out_per_group = 1 if two_d else int(rng.integers(1, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    output_padding = tuple(
        int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation, strict=True)
    )
    padding = _pair(rng, 0, 2)
    h, w = (int(v) for v in rng.integers(2, 5, size=2))
    ties = rng.random() < 0.3
    x = _values(rng, (h, w) if two_d else (c_in, h, w), ties)
    weight = _values(rng, (kh, kw) if two_d else (c_in, out_per_group, kh, kw), ties)
    bias = _values(rng, (out_per_group * groups,), ties) if rng.random() < 0.5 else None
    g = conv_transpose.conv_transpose2d_geometry(
        x, weight, bias, stride, padding, output_padding, groups, dilation
    )
    features = {
        name
        for name, on in (
            ("output_padding", max(g.output_padding) > 0),
            ("groups", groups > 1),
            ("stride", max(g.stride) > 1),
            ("dilation", max(g.dilation) > 1),
            ("padding", max(g.padding) > 0),
            ("bias", bias is not None),
            ("rectangular_kernel", kh != kw),
        )
        if on
    }
    tensors = {
        "input": x.tolist(),
        "weight": weight.tolist(),
        "bias": _listed(bias),
        "grad_output": None,
        "indices": None,
    }
    trace = g.trace(x, weight, bias)
    geometry = conv_transpose2d_geometry_out(g).model_dump()
    return Case("", "conv_transpose2d", geometry, tensors, trace, features)


def _pool_case(rng: np.random.Generator, i: int, derivation: str) -> Case:
    two_d = rng.random() < 0.3
    channels = 1 if two_d else int(rng.integers(1, 4))
    kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    stride = None if rng.random() < 0.3 else _pair(rng, 1, 3)
    padding = (int(rng.integers(0, kernel[0] // 2 + 1)), int(rng.integers(0, kernel[1] // 2 + 1)))
    dilation = _pair(rng, 1, 2) if derivation == "max_pool2d" else 1
    ceil_mode = bool(i % 2)
    include = bool((i // 2) % 2)
    h, w = (int(v) for v in rng.integers(2, 8, size=2))
    x = _values(rng, (h, w) if two_d else (channels, h, w), ties=rng.random() < 0.5)
    g = pool.pool2d_geometry(x.shape, kernel, stride, padding, dilation, ceil_mode)
    tensors: dict[str, Any] = {
        "input": x.tolist(),
        "weight": None,
        "bias": None,
        "grad_output": None,
        "indices": None,
    }
    if derivation == "max_pool2d":
        tensors["indices"] = g.max_pool(x)[1].tolist()
        trace = g.max_trace(x)
        geometry = pool2d_geometry_out("max_pool2d", channels, g)
    else:
        trace = g.avg_trace(x, include)
        geometry = pool2d_geometry_out("avg_pool2d", channels, g, include)
    overhang = g.grid != (h + 2 * padding[0], w + 2 * padding[1])
    features = {
        name
        for name, on in (
            ("ceil_mode", ceil_mode),
            ("ceil_overhang", overhang),
            ("padding", max(padding) > 0),
            ("dilation", max(g.dilation) > 1),
            ("stride_default", stride is None),
            ("count_include_pad_true", derivation == "avg_pool2d" and include),
            ("count_include_pad_false", derivation == "avg_pool2d" and not include),
            ("channels", channels > 1),
        )
        if on
    }
    return Case("", derivation, geometry.model_dump(), tensors, trace, features)


def _draw(rng: np.random.Generator, i: int, derivation: str) -> Case:
    if derivation.startswith("conv2d"):
        return _conv_case(rng, i, derivation)
    if derivation == "conv_transpose2d":
        return _transpose_case(rng, i)
    return _pool_case(rng, i, derivation)


def generate(count: int = CASES, seed: int = SEED) -> Iterator[Case]:
    """``count`` valid configurations, the derivations in turn; a draw the engine refuses
    (e.g. reflect padding as wide as the input) is drawn again from the same RNG."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        derivation = DERIVATIONS[i % len(DERIVATIONS)]
        for _ in range(100):
            try:
                case = _draw(rng, i // len(DERIVATIONS), derivation)
            except EngineError:
                continue
            case.name = f"{i:03d}-{derivation}"
            yield case
            break
        else:  # pragma: no cover - the draws above almost always fit
            raise AssertionError(f"no valid {derivation} configuration in 100 draws")


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return list(generate())


def write_fixtures(cases: list[Case], folder: Path) -> None:
    for case in cases:
        (folder / f"{case.name}.json").write_text(json.dumps(case.document()))


def run_runner(folder: Path, runner: Path = RUNNER) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None, "node is needed to run the derivation oracle"
    env = {**os.environ, "CONVVIZ_DERIVE_FIXTURES": str(folder)}
    return subprocess.run(
        [node, str(runner)], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_page_derivation_equals_the_engine_trace(cases: list[Case], tmp_path: Path) -> None:
    assert RUNNER.exists(), (
        f"{RUNNER.relative_to(ROOT)} is missing: the page's derivation oracle (written with"
        " static/js/model/derive.js) must be present for this test to run"
    )
    write_fixtures(cases, tmp_path)
    done = run_runner(tmp_path)
    assert done.returncode == 0, (
        f"derive_oracle.mjs failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    )


REQUIRED: dict[str, set[str]] = {
    "conv2d": {
        "channels",
        "groups",
        "rectangular_kernel",
        "stride",
        "dilation",
        "asymmetric_padding",
        "bias",
        "two_d",
        "reduce_mean",
        "reduce_sum",
        *(f"padding_{k}" for k in ("int", "pair", "four", "same", "valid")),
        *(f"mode_{m}" for m in MODES),
    },
    "conv2d_grad_weight": {
        "groups",
        "stride",
        "dilation",
        "asymmetric_padding",
        "reduce_mean",
        *(f"mode_{m}" for m in MODES),
    },
    "conv2d_grad_input": {
        "groups",
        "stride",
        "dilation",
        "asymmetric_padding",
        "reduce_mean",
        *(f"mode_{m}" for m in MODES),
    },
    "conv_transpose2d": {
        "output_padding",
        "groups",
        "stride",
        "dilation",
        "padding",
        "bias",
        "rectangular_kernel",
    },
    "max_pool2d": {"ceil_mode", "ceil_overhang", "padding", "dilation", "stride_default"},
    "avg_pool2d": {
        "ceil_mode",
        "ceil_overhang",
        "padding",
        "count_include_pad_true",
        "count_include_pad_false",
    },
}


def test_the_fixtures_cover_every_derivation_and_parameter(cases: list[Case]) -> None:
    assert len(cases) >= 200
    kinds = Counter(case.derivation for case in cases)
    assert set(kinds) == set(DERIVATIONS)
    assert min(kinds.values()) >= 30, kinds
    for derivation, required in REQUIRED.items():
        seen: Counter[str] = Counter()
        for case in cases:
            if case.derivation == derivation:
                seen.update(case.features)
        missing = {f for f in required if seen[f] < 2}
        assert not missing, f"{derivation}: fewer than two cases with {sorted(missing)}"


def test_the_fixtures_are_the_api_forms(cases: list[Case], tmp_path: Path) -> None:
    """Each fixture is plain JSON in the documented layout, and its geometry agrees with
    its trace (the runner reads both)."""
    write_fixtures(cases[:12], tmp_path)
    for path in sorted(tmp_path.iterdir()):
        doc = json.loads(path.read_text())
        assert set(doc) == {"name", "derivation", "geometry", "tensors", "trace"}
        assert set(doc["tensors"]) == {"input", "weight", "bias", "grad_output", "indices"}
        trace, geometry = doc["trace"], doc["geometry"]
        if doc["derivation"] in ("conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"):
            assert geometry["steps"] == len(trace["result"])
            assert geometry["taps"] == len(trace["cells"][0])
        assert geometry["op"] in ("conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d")


def test_a_missing_or_failing_runner_fails(tmp_path: Path) -> None:
    """The runner's exit code is what the oracle test trusts: a failing runner must fail
    it (checked with a throwaway runner that rejects every folder)."""
    runner = tmp_path / "reject.mjs"
    runner.write_text("console.error('no fixtures'); process.exit(3);\n")
    done = run_runner(tmp_path, runner)
    assert done.returncode == 3 and "no fixtures" in done.stderr
