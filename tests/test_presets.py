"""Presets: the lecture's glyphs and filters as SLIDES.md defines them, kernel shapes and
sums, and every worked example checked against PyTorch (the independent reference)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.presets import EXAMPLES, GLYPHS, KERNELS, all_presets

# --------------------------------------------------------------------------- glyphs


def test_x_glyph_matches_the_slide_definition() -> None:
    x = GLYPHS["x"]["input"]
    assert len(x) == 9 and all(len(row) == 9 for row in x)
    assert x[0] == [-1.0] * 9 and x[8] == [-1.0] * 9
    for i in range(9):
        for j in range(9):
            stroke = 1 <= i <= 7 and j in (i, 8 - i)
            assert x[i][j] == (1.0 if stroke else -1.0), (i, j)


def test_o_glyph_is_a_ring_inside_the_x_frame() -> None:
    o = torch.tensor(GLYPHS["o"]["input"])
    assert o.shape == (9, 9)
    assert set(o.unique().tolist()) == {-1.0, 1.0}
    # the frame (row/column 0 and 8) and the hole in the middle are background
    assert (o[0] == -1).all() and (o[8] == -1).all()
    assert (o[:, 0] == -1).all() and (o[:, 8] == -1).all()
    assert (o[3:6, 3:6] == -1).all()
    # symmetric under both flips
    assert torch.equal(o, o.flip(0)) and torch.equal(o, o.flip(1))


def test_shifted_x_is_the_x_one_column_to_the_right() -> None:
    x = torch.tensor(GLYPHS["x"]["input"])
    shifted = torch.tensor(GLYPHS["x_shifted"]["input"])
    assert torch.equal(shifted[:, 1:], x[:, :-1])
    assert (shifted[:, 0] == -1).all()


@pytest.mark.parametrize("name", sorted(GLYPHS))
def test_glyph_is_a_rectangular_grid_of_the_page_values(name: str) -> None:
    grid = GLYPHS[name]["input"]
    assert len({len(row) for row in grid}) == 1
    assert 3 <= len(grid) <= 64 and 3 <= len(grid[0]) <= 64  # the draw pad's sizes
    values = {v for row in grid for v in row}
    assert values <= {-1.0, 1.0} or values <= {0.0, 1.0}
    assert len(values) == 2
    assert GLYPHS[name]["description_en"] and GLYPHS[name]["description_ru"]


# --------------------------------------------------------------------------- kernels

EXPECTED_KERNEL_SHAPES = {
    "identity": (3, 3),
    "box_blur": (3, 3),
    "gaussian_blur": (3, 3),
    "gaussian_blur_5x5": (5, 5),
    "sharpen": (3, 3),
    "sobel_x": (3, 3),
    "sobel_y": (3, 3),
    "prewitt_x": (3, 3),
    "prewitt_y": (3, 3),
    "laplacian": (3, 3),
    "emboss": (3, 3),
    "outline": (3, 3),
    "sobel_left": (3, 3),
    "sobel_right": (3, 3),
    "sobel_top": (3, 3),
    "sobel_bottom": (3, 3),
    "diagonal": (3, 3),
    "centre_x": (3, 3),
    "anti_diagonal": (3, 3),
}

# Derivative kernels answer 0 on a flat image; smoothing and sharpening keep its level.
EXPECTED_KERNEL_SUMS = {
    "identity": 1.0,
    "box_blur": 1.0,
    "gaussian_blur": 1.0,
    "gaussian_blur_5x5": 1.0,
    "sharpen": 1.0,
    "emboss": 1.0,
    "sobel_x": 0.0,
    "sobel_y": 0.0,
    "prewitt_x": 0.0,
    "prewitt_y": 0.0,
    "laplacian": 0.0,
    "outline": 0.0,
    "sobel_left": 0.0,
    "sobel_right": 0.0,
    "sobel_top": 0.0,
    "sobel_bottom": 0.0,
}


def test_every_kernel_has_a_stated_shape() -> None:
    assert set(KERNELS) == set(EXPECTED_KERNEL_SHAPES)


@pytest.mark.parametrize("name", sorted(EXPECTED_KERNEL_SHAPES))
def test_kernel_shape_and_descriptions(name: str) -> None:
    weight = KERNELS[name]["weight"]
    assert (len(weight), len(weight[0])) == EXPECTED_KERNEL_SHAPES[name]
    assert all(len(row) == len(weight[0]) for row in weight)
    assert all(isinstance(v, float) for row in weight for v in row)
    assert KERNELS[name]["description_en"] and KERNELS[name]["description_ru"]


@pytest.mark.parametrize("name", sorted(EXPECTED_KERNEL_SUMS))
def test_kernel_sum(name: str) -> None:
    assert sum(map(sum, KERNELS[name]["weight"])) == pytest.approx(
        EXPECTED_KERNEL_SUMS[name], abs=1e-12
    )


def test_lecture_filters_are_exactly_the_slide_ones() -> None:
    assert KERNELS["diagonal"]["weight"] == [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
    assert KERNELS["centre_x"]["weight"] == [[1, -1, 1], [-1, 1, -1], [1, -1, 1]]
    assert KERNELS["anti_diagonal"]["weight"] == [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]]


def test_gaussian_kernels_are_binomial() -> None:
    assert KERNELS["gaussian_blur"]["weight"] == [
        [1 / 16, 2 / 16, 1 / 16],
        [2 / 16, 4 / 16, 2 / 16],
        [1 / 16, 2 / 16, 1 / 16],
    ]
    g5 = torch.tensor(KERNELS["gaussian_blur_5x5"]["weight"], dtype=torch.float64)
    row = torch.tensor([1.0, 4, 6, 4, 1], dtype=torch.float64)
    assert torch.allclose(g5, torch.outer(row, row) / 256)


def test_sobel_x_is_positive_where_the_image_brightens_to_the_right() -> None:
    ramp = torch.arange(5.0).repeat(5, 1)  # brighter to the right
    for name in ("sobel_x", "prewitt_x"):
        out = F.conv2d(ramp[None, None], torch.tensor(KERNELS[name]["weight"])[None, None])
        assert (out > 0).all(), name
    for name in ("sobel_y", "prewitt_y"):
        out = F.conv2d(ramp.T[None, None], torch.tensor(KERNELS[name]["weight"])[None, None])
        assert (out > 0).all(), name


# setosa.io's edge kernels answer positively on the side they are named after.
SETOSA_SIDES = {
    "sobel_right": lambda r: r,
    "sobel_left": lambda r: r.flip(1),
    "sobel_bottom": lambda r: r.T,
    "sobel_top": lambda r: r.T.flip(0),
}


@pytest.mark.parametrize("name", sorted(SETOSA_SIDES))
def test_setosa_sobel_is_positive_where_its_side_is_brighter(name: str) -> None:
    ramp = SETOSA_SIDES[name](torch.arange(5.0).repeat(5, 1))
    out = F.conv2d(ramp[None, None], torch.tensor(KERNELS[name]["weight"])[None, None])
    assert (out > 0).all()


def test_outline_answers_zero_on_flat_and_positive_on_a_bright_dot() -> None:
    weight = torch.tensor(KERNELS["outline"]["weight"])[None, None]
    assert F.conv2d(torch.full((1, 1, 5, 5), 7.0), weight).abs().max() == 0
    dot = torch.zeros(1, 1, 3, 3)
    dot[0, 0, 1, 1] = 1
    assert F.conv2d(dot, weight).item() == 8


# --------------------------------------------------------------------------- examples

CONV_FIELDS = {"input", "weight", "bias", "stride", "padding", "dilation", "reduce", "grad_output"}
POOL_FIELDS = {"input", "kernel_size", "stride", "padding", "ceil_mode"}


def _t(matrix: list[list[float]]) -> torch.Tensor:
    return torch.tensor(matrix, dtype=torch.float64)


def _torch_conv2d(request: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    """``request`` run through ``F.conv2d`` with the API's semantics (2-D in, 2-D out;
    ``reduce="mean"`` divides by the number of weights)."""
    assert set(request) <= CONV_FIELDS, set(request) - CONV_FIELDS
    w = _t(request["weight"])
    bias = request.get("bias")
    out = F.conv2d(
        x[None, None],
        w[None, None],
        stride=request.get("stride", 1),
        padding=request.get("padding", 0),
        dilation=request.get("dilation", 1),
    )[0, 0]
    if request.get("reduce", "sum") == "mean":
        out = out / w.numel()
    return out if bias is None else out + bias


def _torch_max_pool2d(request: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    assert set(request) <= POOL_FIELDS, set(request) - POOL_FIELDS
    return F.max_pool2d(
        x[None, None],
        request["kernel_size"],
        stride=request.get("stride", request["kernel_size"]),
        padding=request.get("padding", 0),
        ceil_mode=request.get("ceil_mode", False),
    )[0, 0]


def _run_steps(example: dict[str, Any]) -> list[torch.Tensor]:
    outputs: list[torch.Tensor] = []
    for step in example["steps"]:
        request = step["request"]
        if "input_from" in step:
            assert "input" not in request
            x = outputs[step["input_from"]]
        else:
            x = _t(request["input"])
        if step["operation"] == "conv2d":
            outputs.append(_torch_conv2d(request, x))
        else:
            assert step["operation"] == "max_pool2d"
            outputs.append(_torch_max_pool2d(request, x))
    return outputs


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_example_expectations_agree_with_torch(example: dict[str, Any]) -> None:
    outputs = _run_steps(example)
    for step, out in zip(example["steps"], outputs, strict=True):
        expected = step["expected"]
        assert expected, "every step states at least the output shape"
        assert list(out.shape) == expected["shape"]
        if "output" in expected:
            assert torch.allclose(out, _t(expected["output"]), rtol=0, atol=1e-12)
        for cell in expected.get("cells", []):
            r, c = cell["index"]
            assert out[r, c].item() == pytest.approx(cell["value"], abs=1e-12), (r, c)


def test_slide5_states_only_the_first_row_and_the_diagonal() -> None:
    (conv, pool) = next(e for e in EXAMPLES if e["id"] == "xo-diagonal")["steps"]
    assert "output" not in conv["expected"]
    cells = {tuple(c["index"]): c["value"] for c in conv["expected"]["cells"]}
    assert set(cells) == {(0, c) for c in range(7)} | {(i, i) for i in range(7)}
    assert [cells[0, c] for c in range(7)] == [7 / 9, -1 / 9, 1 / 9, 3 / 9, 5 / 9, -1 / 9, 3 / 9]
    # the deck's diagonal: 0.77 1.00 1.00 0.55 1.00 1.00 0.77 (SLIDES.md misses the 0.55)
    assert [cells[i, i] for i in range(7)] == [7 / 9, 1, 1, 5 / 9, 1, 1, 7 / 9]
    assert conv["request"]["reduce"] == "mean"
    assert pool["request"] == {"kernel_size": 2, "stride": 2, "ceil_mode": True}
    assert pool["expected"]["cells"] == [{"index": [0, 0], "value": 1.0}]


def test_slide6_is_not_the_garbled_deck_output() -> None:
    (step,) = next(e for e in EXAMPLES if e["id"] == "padding")["steps"]
    assert step["expected"]["output"] == [[1, 5, 6], [7, 8, 3], [3, 10, 4]]


def test_backprop_example_obeys_the_slide13_formulas() -> None:
    """dE/dF = conv(X, dE/dO) and dE/dX = full correlation of dE/dO with rot180(F),
    each against autograd, on the example's own numbers."""
    (step,) = next(e for e in EXAMPLES if e["id"] == "backprop")["steps"]
    request = step["request"]
    x = _t(request["input"]).requires_grad_()
    w = _t(request["weight"]).requires_grad_()
    grad_out = _t(request["grad_output"])
    assert (x.shape, w.shape) == ((3, 3), (2, 2))
    out = F.conv2d(x[None, None], w[None, None])[0, 0]
    assert out.shape == grad_out.shape
    out.backward(grad_out)
    assert x.grad is not None and w.grad is not None

    grad_w = F.conv2d(x.detach()[None, None], grad_out[None, None])[0, 0]
    grad_x = F.conv2d(grad_out[None, None], w.detach().flip(0, 1)[None, None], padding=1)[0, 0]
    assert torch.allclose(w.grad, grad_w)
    assert torch.allclose(x.grad, grad_x)
    # every number is non-trivial, so the animation shows real products
    assert (w.grad != 0).any() and (x.grad != 0).any()


def test_examples_have_unique_ids_and_both_languages() -> None:
    ids = [e["id"] for e in EXAMPLES]
    assert len(ids) == len(set(ids))
    assert {e["slide"] for e in EXAMPLES} >= {5, 6, 8, 12}
    for e in EXAMPLES:
        assert e["title_en"] and e["title_ru"] and e["note_en"] and e["note_ru"]


# --------------------------------------------------------------------------- all_presets


def test_all_presets_is_json_and_a_private_copy() -> None:
    presets = all_presets()
    assert set(presets) == {"kernels", "glyphs", "examples"}
    assert json.loads(json.dumps(presets)) == presets
    presets["kernels"]["identity"]["weight"][1][1] = 99.0
    presets["examples"].clear()
    assert KERNELS["identity"]["weight"][1][1] == 1.0
    assert all_presets()["examples"] == EXAMPLES
