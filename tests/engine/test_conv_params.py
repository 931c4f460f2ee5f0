"""The one convolution-parameters type: checked once into a geometry, then computed from it.

`Conv2dParams.geometry(...)` and the geometries' methods (what the API uses) must
give exactly what the PyTorch-like functions give (what API users and the other
tests call), for every parameter; and a geometry must refuse tensors of another
shape than it was made for.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings

from app.engine import conv, conv_transpose, pool
from app.engine.errors import EngineError, ShapeError
from app.engine.trace import Trace
from tests.engine.test_conv import ConvCase, conv_cases
from tests.engine.test_conv_transpose import TransposeCase, transpose_cases


def assert_same_trace(a: Trace, b: Trace) -> None:
    for name in Trace.__dataclass_fields__:
        left, right = getattr(a, name), getattr(b, name)
        if left is None or right is None:
            assert left is None and right is None, name
        else:
            np.testing.assert_array_equal(left, right, err_msg=name)


def _geometry_or_none(case: ConvCase) -> conv.Conv2dGeometry | None:
    try:
        return conv.Conv2dParams(**case.kwargs()).geometry(case.x, case.w, case.b)
    except EngineError:
        return None


@settings(max_examples=60, deadline=None)
@given(case=conv_cases(max_size=6))
def test_conv2d_geometry_methods_equal_the_functions(case: ConvCase) -> None:
    g = _geometry_or_none(case)
    assume(g is not None)
    assert g is not None
    kw = case.kwargs()
    assert g == conv.conv2d_geometry(case.x, case.w, case.b, **kw)
    out = conv.conv2d(case.x, case.w, case.b, **kw)
    np.testing.assert_array_equal(g.forward(case.x, case.w, case.b), out)
    d = case.grad_output(out.shape)
    for ours, theirs in zip(
        g.backward(d, case.x, case.w, case.b),
        conv.conv2d_backward(d, case.x, case.w, case.b, **kw),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, theirs)
    assert_same_trace(
        g.trace(case.x, case.w, case.b), conv.conv2d_trace(case.x, case.w, case.b, **kw)
    )
    assert_same_trace(
        g.grad_weight_trace(d, case.x, case.w),
        conv.conv2d_grad_weight_trace(d, case.x, case.w, **kw),
    )
    assert_same_trace(
        g.grad_input_trace(d, case.w), conv.conv2d_grad_input_trace(d, case.x, case.w, **kw)
    )


@settings(max_examples=40, deadline=None)
@given(case=transpose_cases(max_size=5))
def test_conv_transpose2d_geometry_methods_equal_the_functions(case: TransposeCase) -> None:
    kw = case.kwargs()
    try:
        g = conv_transpose.conv_transpose2d_geometry(case.x, case.w, case.b, **kw)
    except EngineError:
        assume(False)
        return
    out = conv_transpose.conv_transpose2d(case.x, case.w, case.b, **kw)
    np.testing.assert_array_equal(g.forward(case.x, case.w, case.b), out)
    d = case.grad_output(out.shape)
    for ours, theirs in zip(
        g.backward(d, case.x, case.w, case.b),
        conv_transpose.conv_transpose2d_backward(d, case.x, case.w, case.b, **kw),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, theirs)
    assert_same_trace(
        g.trace(case.x, case.w, case.b),
        conv_transpose.conv_transpose2d_trace(case.x, case.w, case.b, **kw),
    )


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_geometry_methods_equal_the_functions(ceil_mode: bool) -> None:
    x = np.random.default_rng(0).standard_normal((2, 7, 6))
    args = (3, 2, 1)
    g = pool.pool2d_geometry(x.shape, *args, 1, ceil_mode)
    out, idx = pool.max_pool2d(x, *args, 1, ceil_mode)
    for a, b in zip(g.max_pool(x), (out, idx), strict=True):
        np.testing.assert_array_equal(a, b)
    assert_same_trace(g.max_trace(x), pool.max_pool2d_trace(x, *args, 1, ceil_mode))
    for include in (False, True):
        avg = pool.avg_pool2d(x, *args, ceil_mode, include)
        np.testing.assert_array_equal(g.avg_pool(x, include), avg)
        assert_same_trace(
            g.avg_trace(x, include), pool.avg_pool2d_trace(x, *args, ceil_mode, include)
        )
        d = np.ones_like(avg)
        np.testing.assert_array_equal(
            g.avg_backward(d, x.shape, include),
            pool.avg_pool2d_backward(d, x.shape, *args, ceil_mode, include),
        )


def test_a_geometry_refuses_tensors_it_was_not_made_for() -> None:
    g = conv.Conv2dParams(padding=1, groups=2).geometry(np.zeros((4, 5, 5)), np.zeros((6, 2, 3, 3)))
    with pytest.raises(ShapeError) as err:
        g.forward(np.zeros((4, 6, 5)), np.zeros((6, 2, 3, 3)))
    assert err.value.field == "input"
    assert "made for (4, 5, 5)" in err.value.message
    with pytest.raises(ShapeError) as err:
        g.trace(np.zeros((4, 5, 5)), np.zeros((6, 2, 2, 3)))
    assert err.value.field == "weight"
    with pytest.raises(ShapeError) as err:
        g.backward(np.zeros((6, 4, 4)), np.zeros((4, 5, 5)), np.zeros((6, 2, 3, 3)))
    assert err.value.field == "grad_output"
    t = conv_transpose.conv_transpose2d_geometry(np.zeros((2, 3, 3)), np.zeros((2, 1, 3, 3)))
    with pytest.raises(ShapeError) as err:
        t.forward(np.zeros((2, 3, 3)), np.zeros((2, 2, 3, 3)))
    assert err.value.field == "weight"
    p = pool.pool2d_geometry((3, 6, 6), 2)
    with pytest.raises(ShapeError) as err:
        p.max_pool(np.zeros((3, 6, 7)))
    assert err.value.field == "input"


def test_params_keep_pytorchs_names_and_defaults() -> None:
    params = conv.Conv2dParams()
    assert params.kwargs() == {
        "stride": 1,
        "padding": 0,
        "dilation": 1,
        "groups": 1,
        "padding_mode": "zeros",
        "reduce": "sum",
    }
    x, w = np.arange(16.0).reshape(4, 4), np.ones((2, 2))
    np.testing.assert_array_equal(
        conv.Conv2dParams(stride=2, reduce="mean").geometry(x, w).forward(x, w),
        conv.conv2d(x, w, stride=2, reduce="mean"),
    )
