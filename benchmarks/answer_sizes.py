"""The sizes of the answers the page gets: the compact step form against the full trace.

Not a test: a table to read (issue 10's figures). Each case is sent in-process
(FastAPI's TestClient, no server) as the page sends it: every tensor of more than
1,024 numbers as ``{dtype, shape, base64}`` (static/js/core/api.js, ``COMPACT_MIN``)
and ``?encoding=base64``, so every array of the answer comes back as float32
base64, and /api/backprop with ``"repeat": false`` (every tensor once). The
answer carries ``geometry`` and no trace (the page derives every step); the same
request with ``"trace": true`` (the full per-step trace, the
documented oracle for API users) is shown beside it, with the server's time for
both (median of a few, in-process).

    python benchmarks/answer_sizes.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.presets import KERNELS, x_glyph  # noqa: E402

COMPACT_MIN = 1024  # static/js/core/api.js: tensors of more numbers travel as base64
KB = 1000

LECTURE_FILTERS = [[KERNELS[k]["weight"]] for k in ("diagonal", "centre_x", "anti_diagonal")]


def page_form(value: Any) -> Any:
    """A tensor as the page sends it: nested lists up to 1,024 numbers, else base64."""
    array = np.asarray(value, dtype=np.float32)
    if array.size <= COMPACT_MIN:
        return array.tolist()
    data = np.ascontiguousarray(array, dtype="<f4")
    return {
        "dtype": "float32",
        "shape": list(data.shape),
        "base64": base64.b64encode(data).decode(),
    }


def cases() -> list[tuple[str, str, dict[str, Any], int]]:
    """(name, path, body, target bytes for the compact answer)."""
    rng = np.random.default_rng(0)
    grey = rng.random((64, 64), dtype=np.float32)
    rgb = rng.random((3, 64, 64), dtype=np.float32)
    edge = [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]
    blur = [[1 / 9] * 3] * 3
    return [
        (
            "X glyph 9x9, lecture's 3 filters, mean",
            "/api/conv2d",
            {"input": x_glyph(), "weight": LECTURE_FILTERS, "reduce": "mean"},
            4 * KB,
        ),
        (
            "64x64 grey, 3x3, padding 1",
            "/api/conv2d",
            {"input": grey, "weight": edge, "padding": 1},
            60 * KB,
        ),
        (
            "64x64 grey, 3x3, backprop (mse to a teacher)",
            "/api/backprop",
            {"input": grey, "weight": edge, "padding": 1, "loss": "mse", "teacher_weight": blur},
            150 * KB,
        ),
        (
            "64x64 grey, 3x3, backprop, ReLU, 2x2 max",
            "/api/backprop",
            {
                "input": grey,
                "weight": edge,
                "padding": 1,
                "activation": {"function": "relu"},
                "pool": {"kind": "max", "kernel_size": 2},
                "loss": "sum",
            },
            150 * KB,
        ),
        (
            "64x64x3, 16 filters 3x3, padding 1",
            "/api/conv2d",
            {"input": rgb, "weight": rng.standard_normal((16, 3, 3, 3)), "padding": 1},
            400 * KB,
        ),
    ]


def _sent(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body as the page sends it; /api/backprop also with `repeat: false` (each
    tensor once), which the full-trace comparison keeps (it only adds the traces)."""
    tensors = {"input", "weight", "grad_output", "target", "teacher_weight"}
    sent = {k: page_form(v) if k in tensors else v for k, v in body.items()}
    return {**sent, "repeat": False} if path == "/api/backprop" else sent


def measure(client: Any, path: str, body: dict[str, Any], repeats: int) -> tuple[int, float, str]:
    """Answer bytes, median server ms (in-process), and the trace note."""
    times, size, note = [], 0, ""
    for _ in range(repeats):
        start = time.perf_counter()
        r = client.post(f"{path}?encoding=base64", json=body)
        times.append(time.perf_counter() - start)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
        size = len(r.content)
        answer = r.json()
        stage = answer.get("conv", answer)
        note = stage.get("trace_note") or ""
    return size, statistics.median(times) * 1e3, note


def _kb(n: int) -> str:
    return f"{n / KB:,.1f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from app.main import app

    with TestClient(app) as client:
        print("answers as the page gets them (?encoding=base64; inputs over 1,024 numbers")
        print("as base64); the compact form (geometry) against the full trace (trace: true)\n")
        head = f"{'case':44} {'compact':>11} {'target':>9} {'':6} {'ms':>6}"
        print(f"{head} {'trace: true':>13} {'ms':>7} {'x bigger':>9}")
        print("-" * 112)
        missed = 0
        for name, path, body, target in cases():
            sent = _sent(path, body)
            compact, compact_ms, _ = measure(client, path, sent, args.repeats)
            full, full_ms, note = measure(client, path, {**sent, "trace": True}, args.repeats)
            verdict = "met" if compact <= target else "MISSED"
            missed += compact > target
            print(
                f"{name:44} {_kb(compact):>11} {_kb(target):>9} {verdict:6} {compact_ms:6.1f}"
                f" {_kb(full):>13} {full_ms:7.1f} {full / compact:9.1f}"
            )
            if path == "/api/backprop":
                repeated, _, _ = measure(client, path, {**sent, "repeat": True}, 1)
                print(f"{'':44} (with every repeated field, repeat: true: {_kb(repeated)})")
            if note:
                print(f"{'':44} (trace: {note})")
        print()
        print("every target met" if not missed else f"{missed} target(s) MISSED")


if __name__ == "__main__":
    main()
