"""Every answer the page animates carries `geometry` (docs/STEPS.md); the trace is opt-in."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app import presets

X = presets.x_glyph()
LECTURE_FILTERS = [
    [presets.KERNELS[k]["weight"]] for k in ("diagonal", "centre_x", "anti_diagonal")
]
NO_PADDING = {"top": 0, "bottom": 0, "left": 0, "right": 0}


def _post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _lecture_conv(**extra: Any) -> dict[str, Any]:
    return {
        "op": "conv2d",
        "steps": 147,
        "taps": 9,
        "in_channels": 1,
        "out_channels": 3,
        "groups": 1,
        "input_size": [9, 9],
        "kernel_size": [3, 3],
        "stride": [1, 1],
        "dilation": [1, 1],
        "padding": NO_PADDING,
        "padding_mode": "zeros",
        "reduce": "mean",
        "output_size": [7, 7],
        "padded_size": [9, 9],
        **extra,
    }


def _pool(**fields: Any) -> dict[str, Any]:
    return {
        "op": "max_pool2d",
        "steps": 16,
        "taps": 4,
        "channels": 1,
        "input_size": [7, 7],
        "kernel_size": [2, 2],
        "stride": [2, 2],
        "padding": [0, 0],
        "dilation": [1, 1],
        "ceil_mode": True,
        "count_include_pad": None,
        "output_size": [4, 4],
        "grid_size": [8, 8],
        **fields,
    }


def test_conv2d_geometry_of_the_lecture_and_no_trace_by_default(client: TestClient) -> None:
    body = _post(client, "/api/conv2d", {"input": X, "weight": LECTURE_FILTERS, "reduce": "mean"})
    assert body["geometry"] == _lecture_conv()
    assert body["trace"] is None and body["trace_note"] == "trace not requested"


def test_conv2d_geometry_resolves_padding(client: TestClient) -> None:
    x = np.zeros((4, 6, 7)).tolist()
    w = np.zeros((6, 2, 3, 2)).tolist()
    body = _post(
        client,
        "/api/conv2d",
        {
            "input": x,
            "weight": w,
            "padding": [1, 0, 2, 1],
            "stride": [2, 1],
            "groups": 2,
            "dilation": [1, 2],
            "padding_mode": "reflect",
        },
    )
    g = body["geometry"]
    assert g["padding"] == {"top": 2, "bottom": 1, "left": 1, "right": 0}
    assert g["padded_size"] == [9, 8]
    assert g["output_size"] == [4, 6] and g["steps"] == 6 * 4 * 6 and g["taps"] == 2 * 3 * 2
    assert (g["groups"], g["padding_mode"], g["reduce"]) == (2, "reflect", "sum")
    same = _post(client, "/api/conv2d", {"input": X, "weight": [[1.0] * 4] * 3, "padding": "same"})
    assert same["geometry"]["padding"] == {"top": 1, "bottom": 1, "left": 1, "right": 2}


def test_conv_transpose2d_geometry(client: TestClient) -> None:
    body = _post(
        client,
        "/api/conv_transpose2d",
        {"input": [[1, 2], [3, 4]], "weight": [[1, 0, 1], [0, 1, 0], [1, 0, 1]]},
    )
    assert body["geometry"] == {
        "op": "conv_transpose2d",
        "steps": 16,
        "taps": 9,
        "in_channels": 1,
        "out_channels": 1,
        "groups": 1,
        "input_size": [2, 2],
        "kernel_size": [3, 3],
        "stride": [1, 1],
        "dilation": [1, 1],
        "padding": [0, 0],
        "output_padding": [0, 0],
        "output_size": [4, 4],
    }
    body = _post(
        client,
        "/api/conv_transpose2d",
        {
            "input": np.ones((3, 3)).tolist(),
            "weight": np.ones((3, 3)).tolist(),
            "stride": 2,
            "padding": 1,
            "output_padding": 1,
        },
    )
    assert body["geometry"]["output_size"] == [6, 6] and body["geometry"]["output_padding"] == [
        1,
        1,
    ]


def test_pooling_geometry(client: TestClient) -> None:
    zeros = np.zeros((7, 7)).tolist()
    body = _post(client, "/api/max_pool2d", {"input": zeros, "kernel_size": 2, "ceil_mode": True})
    assert body["geometry"] == _pool()
    body = _post(
        client,
        "/api/avg_pool2d",
        {
            "input": np.zeros((2, 6, 5)).tolist(),
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "count_include_pad": False,
        },
    )
    assert body["geometry"] == _pool(
        op="avg_pool2d",
        steps=18,
        taps=9,
        channels=2,
        input_size=[6, 5],
        kernel_size=[3, 3],
        padding=[1, 1],
        ceil_mode=False,
        count_include_pad=False,
        output_size=[3, 3],
        grid_size=[8, 7],
    )


def test_activation_geometry(client: TestClient) -> None:
    body = _post(
        client,
        "/api/activation",
        {"function": "leaky_relu", "negative_slope": 0.2, "input": [[[1, -1, 0]], [[2, 3, 4]]]},
    )
    assert body["geometry"] == {
        "op": "activation",
        "steps": 6,
        "taps": 1,
        "function": "leaky_relu",
        "negative_slope": 0.2,
        "shape": [2, 1, 3],
    }


def test_backprop_stages_carry_geometry(client: TestClient) -> None:
    body = _post(
        client,
        "/api/backprop",
        {
            "input": X,
            "weight": LECTURE_FILTERS,
            "reduce": "mean",
            "activation": {},
            "pool": {"kernel_size": 2, "ceil_mode": True},
            "loss": "sum",
        },
    )
    assert body["conv"]["geometry"] == _lecture_conv()
    assert body["activation"]["geometry"]["shape"] == [3, 7, 7]
    assert body["pool"]["geometry"] == _pool(steps=48, channels=3)
    assert body["conv"]["trace"] is None and body["pool"]["trace"] is None
    assert body["conv"]["trace_note"] == body["pool"]["trace_note"] == "trace not requested"


def test_xo_forward_carries_each_stage_geometry(client: TestClient) -> None:
    g = _post(client, "/api/xo/forward", {"input": X})["geometry"]
    assert g["conv"] == _lecture_conv()
    assert g["relu"]["steps"] == 147 and g["relu"]["shape"] == [3, 7, 7]
    assert g["pool"] == _pool(steps=48, channels=3)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/conv2d",
            {
                "input": np.arange(30.0).reshape(2, 3, 5).tolist(),
                "weight": np.ones((4, 1, 2, 3)).tolist(),
                "groups": 2,
                "padding": [1, 2],
                "stride": [1, 2],
                "grad_output": np.ones((4, 4, 4)).tolist(),
            },
        ),
        (
            "/api/conv_transpose2d",
            {
                "input": np.ones((2, 3, 2)).tolist(),
                "weight": np.ones((2, 2, 3, 2)).tolist(),
                "stride": 2,
                "padding": 1,
                "dilation": [1, 2],
            },
        ),
        (
            "/api/max_pool2d",
            {
                "input": np.arange(42.0).reshape(6, 7).tolist(),
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "dilation": [1, 2],
                "ceil_mode": True,
            },
        ),
        (
            "/api/avg_pool2d",
            {
                "input": np.ones((2, 5, 5)).tolist(),
                "kernel_size": 2,
                "padding": 1,
                "ceil_mode": True,
            },
        ),
    ],
)
def test_trace_true_sends_both_forms_and_they_agree(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    answer = _post(client, path, {**body, "trace": True})
    g, t = answer["geometry"], answer["trace"]
    assert answer["trace_note"] is None
    assert g["steps"] == len(t["result"]) and g["taps"] == len(t["cells"][0])
    grid = np.array(t["grid"]).shape
    if g["op"] == "conv2d":
        assert list(grid) == [g["in_channels"], *g["padded_size"]]
        assert t["grid_origin"] == [g["padding"]["top"], g["padding"]["left"]]
        assert len(answer["grad_weight_trace"]["result"]) == np.size(body["weight"])
    elif g["op"] == "conv_transpose2d":
        assert grid[0] == g["in_channels"]
    else:
        assert list(grid) == [g["channels"], *g["grid_size"]]
    without = _post(client, path, body)
    assert without["geometry"] == g and without["trace"] is None
    np.testing.assert_array_equal(without["output"], answer["output"])


def test_no_step_ceiling_on_the_compact_form(client: TestClient) -> None:
    # 64x64x3 with 16 filters: 61,504 steps, over the trace limit, still one small answer.
    rng = np.random.default_rng(0)
    body = {
        "input": rng.normal(size=(3, 64, 64)).tolist(),
        "weight": rng.normal(size=(16, 3, 3, 3)).tolist(),
    }
    answer = _post(client, "/api/conv2d", body)
    assert answer["geometry"]["steps"] == 16 * 62 * 62
    answer = _post(client, "/api/conv2d", {**body, "trace": True})
    assert answer["trace"] is None and answer["trace_note"].startswith("trace left out: 61,504")
    assert answer["geometry"]["steps"] == 16 * 62 * 62


def test_openapi_documents_geometry(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for model in (
        "ConvResponse",
        "PoolResponse",
        "MaxPoolResponse",
        "ActivationResponse",
        "ConvStage",
        "PoolStage",
        "ActivationStage",
        "XOForwardResponse",
    ):
        assert "geometry" in schemas[model]["required"], model
    for model in (
        "Conv2dGeometryOut",
        "ConvTranspose2dGeometryOut",
        "Pool2dGeometryOut",
        "ActivationGeometryOut",
    ):
        assert {"op", "steps", "taps"} <= set(schemas[model]["properties"]), model
    assert schemas["Conv2dRequest"]["properties"]["trace"]["default"] is False
    assert schemas["BackpropRequest"]["properties"]["trace"]["default"] is False


def test_each_request_checks_its_conv_parameters_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 7 of issue 10: /api/backprop used to check the same arguments up to seven
    times; now the route builds the geometry once and passes it on."""
    from app.engine import conv

    calls: list[int] = []
    prepare = conv._prepare

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(conv, "_prepare", counted)
    _post(
        client,
        "/api/backprop",
        {
            "input": X,
            "weight": LECTURE_FILTERS[0][0],
            "reduce": "mean",
            "activation": {},
            "pool": {"kind": "avg", "kernel_size": 2},
            "loss": "mse",
            "teacher_weight": LECTURE_FILTERS[1][0],
            "trace": True,
        },
    )
    assert len(calls) == 1
    calls.clear()
    _post(
        client,
        "/api/conv2d",
        {
            "input": X,
            "weight": LECTURE_FILTERS,
            "grad_output": np.ones((3, 7, 7)).tolist(),
            "trace": True,
        },
    )
    assert len(calls) == 1


def test_the_unvalidated_conv_geometry_is_valid() -> None:
    """conv2d_geometry_out skips validation for speed; what it builds must still pass it."""
    from app.api.geometry import Conv2dGeometryOut, conv2d_geometry_out
    from app.engine import conv

    for padding, mode in (("same", "reflect"), ((1, 0, 2, 1), "circular"), (0, "zeros")):
        g = conv.Conv2dParams(padding=padding, padding_mode=mode, groups=2).geometry(
            np.zeros((4, 6, 7)), np.zeros((2, 2, 3, 2))
        )
        built = conv2d_geometry_out(g).model_dump()
        assert Conv2dGeometryOut.model_validate(built).model_dump() == built
