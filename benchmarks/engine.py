"""The engine against PyTorch (CPU), forward and backward, measured in the same run.

Not a test: a measurement to read. For each shape it times our fast path
(``app.engine``, numpy float32) and PyTorch's best CPU path for one sample (NCHW
contiguous float32, ``torch.no_grad`` forward; backward through the explicit
``aten.convolution_backward`` / ``aten.max_pool2d_with_indices_backward`` kernels,
which compute grad input, grad weight and grad bias in one call with no autograd
graph). Both run in this process with the same number of threads (printed).

The machine is shared and noisy, so the two sides are timed in alternating runs of
a few calls (``paired``: single calls alternating let PyTorch's spinning OpenMP
workers slow the call of ours after each of theirs), and the table gives each
side's median and two ratios: of the medians, and the median of the per-repeat
ratios (the i-th call of ours against the i-th of theirs: the steadier one when
the load changes during the run). Before timing, each case checks that
ours and PyTorch's results agree, so the two time the same computation.

    python benchmarks/engine.py [--seconds 3] [--threads N]

OpenBLAS reads ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` at load; where the
machine sets them (for old OpenBLAS builds) they pick a slower kernel for numpy.
To measure the kernel numpy would choose itself, unset both for this one command:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/engine.py

Thread counts come from threadpoolctl when it is installed (``pip install
threadpoolctl``; optional, not a dependency of the app), which also names the
BLAS kernel numpy runs; without it, from ``torch.get_num_threads()`` and
``numpy.show_config()``. It takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine import conv, im2col, pool  # noqa: E402

try:
    import threadpoolctl
except ImportError:  # optional: only for naming threads and the BLAS kernel
    threadpoolctl = None

TARGET = 2.0  # ours / PyTorch on the large shapes (issue 6, "Speed")


@dataclass
class Case:
    """One shape: a forward and a backward pair (ours, PyTorch's), timed alike."""

    name: str
    large: bool
    ours_forward: Callable[[], Any]
    torch_forward: Callable[[], Any]
    ours_backward: Callable[[], Any]
    torch_backward: Callable[[], Any]


def _close(ours: np.ndarray, theirs: torch.Tensor, what: str) -> None:
    reference = theirs.detach().numpy().reshape(ours.shape)
    scale = float(np.abs(reference).max()) or 1.0
    error = float(np.abs(ours - reference).max()) / scale
    if error > 1e-4:
        raise SystemExit(f"{what}: ours and PyTorch's differ (relative error {error:.2e})")


def conv_case(
    name: str, c: int, h: int, w: int, filters: int, k: int, stride: int, padding: int, large: bool
) -> Case:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((c, h, w), dtype=np.float32)
    weight = rng.standard_normal((filters, c, k, k), dtype=np.float32)
    bias = rng.standard_normal(filters, dtype=np.float32)
    out = conv.conv2d(x, weight, bias, stride=stride, padding=padding)
    grad = rng.standard_normal(out.shape, dtype=np.float32)
    tx, tw, tb = torch.from_numpy(x[None]), torch.from_numpy(weight), torch.from_numpy(bias)
    tg = torch.from_numpy(grad[None])

    def ours_forward() -> np.ndarray:
        return conv.conv2d(x, weight, bias, stride=stride, padding=padding)

    def torch_forward() -> torch.Tensor:
        with torch.no_grad():
            return F.conv2d(tx, tw, tb, stride=stride, padding=padding)

    def ours_backward() -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return conv.conv2d_backward(grad, x, weight, bias, stride=stride, padding=padding)

    def torch_backward() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return torch.ops.aten.convolution_backward(
                tg, tx, tw, [filters], [stride] * 2, [padding] * 2, [1, 1],
                False, [0, 0], 1, [True, True, True],
            )  # fmt: skip

    _close(ours_forward(), torch_forward(), f"{name} forward")
    for ours, theirs, what in zip(
        ours_backward(), torch_backward(), ("dX", "dW", "db"), strict=True
    ):
        _close(ours, theirs, f"{name} backward {what}")
    return Case(name, large, ours_forward, torch_forward, ours_backward, torch_backward)


def max_pool_case(name: str, c: int, h: int, w: int, k: int, stride: int, padding: int) -> Case:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((c, h, w), dtype=np.float32)
    out, indices = pool.max_pool2d(x, k, stride, padding)
    grad = rng.standard_normal(out.shape, dtype=np.float32)
    tx, tg = torch.from_numpy(x[None]), torch.from_numpy(grad[None])
    with torch.no_grad():
        _, t_indices = F.max_pool2d(tx, k, stride, padding, return_indices=True)

    def ours_forward() -> tuple[np.ndarray, np.ndarray]:
        return pool.max_pool2d(x, k, stride, padding)

    def torch_forward() -> tuple[torch.Tensor, torch.Tensor]:
        # With the indices, as ours always returns them (the page shows the argmax).
        with torch.no_grad():
            return F.max_pool2d(tx, k, stride, padding, return_indices=True)

    def ours_backward() -> np.ndarray:
        return pool.max_pool2d_backward(grad, indices, x.shape)

    def torch_backward() -> torch.Tensor:
        with torch.no_grad():
            return torch.ops.aten.max_pool2d_with_indices_backward(
                tg, tx, [k, k], [stride, stride], [padding, padding], [1, 1], False, t_indices
            )

    _close(ours_forward()[0], torch_forward()[0], f"{name} forward")
    _close(ours_backward(), torch_backward(), f"{name} backward")
    return Case(name, True, ours_forward, torch_forward, ours_backward, torch_backward)


def cases() -> list[Case]:
    return [
        conv_case("conv 1x9x9, 3 filters 3x3", 1, 9, 9, 3, 3, 1, 0, large=False),
        conv_case("conv 3x128x128, 8 filters 3x3 pad 1", 3, 128, 128, 8, 3, 1, 1, large=False),
        conv_case("conv 3x512x512, 16 filters 3x3 pad 1", 3, 512, 512, 16, 3, 1, 1, large=True),
        conv_case("conv 3x512x512, 16 filters 7x7 stride 2", 3, 512, 512, 16, 7, 2, 0, large=True),
        max_pool_case("max pool 16x256x256, 2x2", 16, 256, 256, 2, 2, 0),
        max_pool_case("max pool 16x256x256, 3x3 s1 p1", 16, 256, 256, 3, 1, 1),
    ]


def _timed(f: Callable[[], Any]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


BLOCK = 6
"""Calls of one side in a row; the first of each run is dropped (see ``paired``)."""


def paired(
    ours: Callable[[], Any], theirs: Callable[[], Any], seconds: float
) -> tuple[list[float], list[float]]:
    """Time both in alternating runs of ``BLOCK`` calls for about ``seconds`` (5..200 each).

    Runs, not single calls, alternate: right after a PyTorch call its OpenMP workers
    keep spinning on the cores for a while, and a call of ours straight after it ran
    2-3x slower than alone (3x3 forward at 2 threads: 1.7 ms alone or in runs, 6.6 ms
    call for call), a cost no server of ours ever pays. The first call of each run,
    the one that follows the other side, is dropped from both sides' times; runs
    still alternate (which side goes first alternates too), so a change in the
    machine's load hits both alike.
    """
    ours(), theirs()  # warm caches, allocator and lazy initialisation
    a: list[float] = []
    b: list[float] = []
    deadline = time.perf_counter() + seconds
    turn = 0
    while len(a) < 5 or (time.perf_counter() < deadline and len(a) < 200):
        for f, times in ((ours, a), (theirs, b)) if turn % 2 == 0 else ((theirs, b), (ours, a)):
            f()  # the transition call, not counted
            times.extend(_timed(f) for _ in range(BLOCK - 1))
        turn += 1
    return a, b


def thread_report() -> tuple[list[str], int | None, int]:
    """Lines describing numpy's BLAS and PyTorch's threads; numpy's and torch's counts."""
    lines = [
        f"machine: {platform.machine()}, nproc {os.cpu_count()},"
        f" Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}",
    ]
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        lines.append(f"  {var}={os.environ[var]!r}" if var in os.environ else f"  {var} unset")
    numpy_threads: int | None = None
    if threadpoolctl is not None:
        for pool_info in threadpoolctl.threadpool_info():
            api = pool_info.get("internal_api")
            lines.append(
                f"  {pool_info.get('prefix')}: {api} {pool_info.get('version') or ''}"
                f" {pool_info.get('architecture') or ''} threads={pool_info.get('num_threads')}"
                f" ({Path(pool_info.get('filepath', '')).parent.parent.name})"
            )
            if "numpy" in pool_info.get("filepath", ""):
                numpy_threads = int(pool_info["num_threads"])
    else:
        config = np.show_config(mode="dicts")  # type: ignore[func-returns-value]
        blas = config.get("Build Dependencies", {}).get("blas", {})
        lines.append(
            f"  numpy BLAS: {blas.get('name')} {blas.get('version')} (threadpoolctl absent)"
        )
    torch_threads = torch.get_num_threads()
    lines.append(
        f"  torch: {torch_threads} intra-op threads, oneDNN (mkldnn)"
        f" {'on' if torch.backends.mkldnn.is_available() else 'off'}"
    )
    return lines, numpy_threads, torch_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per case and pass (≥5 pairs)")
    parser.add_argument("--threads", type=int, help="set numpy's BLAS and torch to N threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        im2col.THREADS = args.threads
        if threadpoolctl is None:
            raise SystemExit("--threads needs threadpoolctl (pip install threadpoolctl)")
        threadpoolctl.threadpool_limits(args.threads)

    lines, numpy_threads, torch_threads = thread_report()
    print("\n".join(lines))
    # Our convolutions share their bands among im2col.THREADS threads and keep each
    # BLAS call small enough to run in the calling thread; BLAS's own pool serves
    # larger products, pooling is single-threaded numpy.
    ours = im2col.THREADS
    print(
        f"  ours: convolution bands on {ours} threads (app.engine.im2col.THREADS);"
        " pooling is single-threaded numpy"
    )
    if ours == torch_threads and numpy_threads in (None, torch_threads):
        blas = "" if numpy_threads is None else " and numpy's BLAS"
        print(f"threads: both use {torch_threads} (our band threads{blas}; torch's intra-op pool)")
    else:
        print(
            f"threads: DIFFERENT: ours {ours}, numpy's BLAS {numpy_threads}, torch {torch_threads}"
        )
    print()

    header = f"{'case':44} {'pass':8} {'ours ms':>9} {'torch ms':>9} {'ratio':>6} {'paired':>6}  n"
    print(header)
    print("-" * len(header))
    misses: list[str] = []
    for case in cases():
        for pass_name, ours, theirs in (
            ("forward", case.ours_forward, case.torch_forward),
            ("backward", case.ours_backward, case.torch_backward),
        ):
            a, b = paired(ours, theirs, args.seconds)
            mine, torch_ms = statistics.median(a) * 1e3, statistics.median(b) * 1e3
            ratio = mine / torch_ms
            pair_ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
            print(
                f"{case.name:44} {pass_name:8} {mine:9.2f} {torch_ms:9.2f}"
                f" {ratio:6.2f} {pair_ratio:6.2f}  {len(a)}",
                flush=True,
            )
            if case.large and pair_ratio > TARGET:
                misses.append(f"{case.name} {pass_name} ({pair_ratio:.2f}x)")
    print()
    print("ratio = median(ours) / median(torch); paired = median of per-repeat ratios.")
    print(f"target: within {TARGET:g}x of PyTorch on the large shapes (the 512x512 and pool rows).")
    print("missed: " + "; ".join(misses) if misses else "met on every large shape.")


if __name__ == "__main__":
    main()
