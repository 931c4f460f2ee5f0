"""A scene's tensors as one JSON-ready document: what the animation shows, as numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.export.scene import Scene


def document(scene: Scene) -> dict[str, Any]:
    """``input``, ``padded_input``, ``weight``, ``bias``, ``output`` and a trace summary.

    ``padded_input`` is what the window slides over (``trace.grid``): the padded
    input, or for a transposed convolution the stride-dilated and padded input; it
    is 2-D when the input is. The summary has, per step, the output cell
    (``out_index``: channel, row, column), the window's top-left cell in
    ``padded_input`` (``window``), the reduction before bias (``sums``) and the
    output value (``result``). Arrays stay numpy (the response serialises them).
    """
    t = scene.trace
    x = scene.tensors["input"]
    assert x is not None
    grid = t.grid[0] if x.ndim == 2 else t.grid
    return {
        "op": scene.op,
        "input": x,
        "padded_input": grid,
        "weight": scene.tensors.get("weight"),
        "bias": scene.tensors.get("bias"),
        "output": scene.output,
        "output_shape": list(np.shape(scene.output)),
        "trace": {
            "steps": t.steps,
            "grid_origin": list(t.grid_origin),
            "kernel_size": list(scene.kernel_size),
            "out_index": t.out_index,
            "window": t.window,
            "sums": t.sums,
            "result": t.result,
        },
    }
