"""Train the digit network (app/engine/digits.py) and write app/models/digits_lenet.npz.

    pip install -e '.[train]'        # scikit-learn, for its bundled digits
    python scripts/train_digits.py   # about a minute on one core

Data: scikit-learn's ``load_digits`` (1,797 8x8 pictures shipped inside the package,
BSD-3-Clause), a copy of the test set of UCI's "Optical Recognition of Handwritten
Digits" (Alpaydin and Kaynak, 1998). A seeded permutation keeps 20% aside (360
pictures) as held-out data, never trained on.

Training uses this project's own engine for every forward and backward pass
(app.engine.sequential: conv2d, relu, max_pool2d, linear and their backwards) and
its own Adam (app.engine.optim); no other library computes anything. The training
pictures are also shifted by up to one cell at random (the held-out ones never
are), so a drawing need not be centred to the cell to be read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.engine import digits, sequential  # noqa: E402
from app.engine.optim import Adam  # noqa: E402

HELD_OUT = 0.2


def load(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train pictures, train labels, held-out pictures, held-out labels)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = data.images.astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(round(len(y) * (1 - HELD_OUT)))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def split(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The held-out pictures and labels alone (what the tests measure on)."""
    return load(seed)[2:]


def shift(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each picture moved by -1, 0 or 1 cells along each axis, zeros coming in."""
    out = np.zeros_like(batch)
    for i, pic in enumerate(batch):
        dy, dx = rng.integers(-1, 2, size=2)
        src = pic[max(0, -dy) : 8 - max(0, dy), max(0, -dx) : 8 - max(0, dx)]
        out[i, max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def distort(batch: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Each picture turned, sheared, scaled and moved a little at random (bilinear, zeros
    outside): hand-drawn digits on the page lean and stretch more than the dataset's."""
    if amount == 0:
        return shift(batch, rng)
    n = len(batch)
    angle = rng.uniform(-0.2, 0.2, n) * amount
    shear = rng.uniform(-0.25, 0.25, n) * amount
    scale = 1 + rng.uniform(-0.12, 0.12, (n, 2)) * amount
    move = rng.uniform(-1, 1, (n, 2))
    ys, xs = np.mgrid[0:8, 0:8].astype(np.float64) - 3.5
    out = np.empty_like(batch)
    for i in range(n):
        c, s = np.cos(angle[i]), np.sin(angle[i])
        # Where each output cell reads the input (the inverse map).
        u = (c * xs + s * ys + shear[i] * ys) / scale[i, 1] + 3.5 - move[i, 1]
        v = (-s * xs + c * ys) / scale[i, 0] + 3.5 - move[i, 0]
        x0, y0 = np.floor(u).astype(int), np.floor(v).astype(int)
        fx, fy = u - x0, v - y0
        pic = np.pad(batch[i], 1)

        def at(yy: np.ndarray, xx: np.ndarray, pic: np.ndarray = pic) -> np.ndarray:
            ok = (yy >= -1) & (yy <= 8) & (xx >= -1) & (xx <= 8)
            return np.where(ok, pic[np.clip(yy + 1, 0, 9), np.clip(xx + 1, 0, 9)], 0)

        out[i] = (
            at(y0, x0) * (1 - fx) * (1 - fy)
            + at(y0, x0 + 1) * fx * (1 - fy)
            + at(y0 + 1, x0) * (1 - fx) * fy
            + at(y0 + 1, x0 + 1) * fx * fy
        )
    return np.clip(out, 0, 16).astype(np.float32)


def accuracy(layers: list[sequential.Layer], x: np.ndarray, y: np.ndarray) -> float:
    return float((digits.forward(layers, x).predictions == y).mean())


def train(seed: int, epochs: int, batch: int, lr: float, amount: float = 0.0) -> tuple[dict, dict]:
    x_train, y_train, x_test, y_test = load(seed)
    rng = np.random.default_rng(seed + 1)
    params = digits.init_params(seed)
    layers = digits.architecture(params)
    opt = Adam(lr=lr)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(y_train))
        total = 0.0
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            fwd = digits.forward(layers, distort(x_train[idx], rng, amount))
            loss, grads = digits.loss_and_grads(layers, fwd, y_train[idx])
            total += loss * len(idx)
            flat = [
                a
                for p in sequential.parameters(layers)
                if p is not None
                for a in (p.weight, p.bias)
            ]
            gflat = [a for g in grads if g is not None for a in (g.weight, g.bias)]
            new = iter(opt.step(flat, gflat))  # type: ignore[arg-type]
            layers = sequential.with_params(
                layers,
                [
                    None if p is None else sequential.Grads(next(new), next(new))
                    for p in sequential.parameters(layers)
                ],
            )
        acc = accuracy(layers, x_test, y_test)
        print(f"epoch {epoch:3d}  loss {total / len(y_train):.4f}  held-out {acc:.4f}")
    meta = {
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch,
        "lr": lr,
        "distortion": amount,
        "train_samples": len(y_train),
        "held_out_samples": len(y_test),
        "train_accuracy": accuracy(layers, x_train, y_train),
        "held_out_accuracy": accuracy(layers, x_test, y_test),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return digits.layer_params(layers), meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument(
        "--distort", type=float, default=0.0, help="random turns, shears, scales (0: shifts only)"
    )
    parser.add_argument("--out", type=Path, default=digits.WEIGHTS_FILE)
    args = parser.parse_args()
    params, meta = train(args.seed, args.epochs, args.batch, args.lr, args.distort)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: v.astype(np.float32) for k, v in params.items()}
    arrays |= {f"meta.{k}": np.asarray(v) for k, v in meta.items()}
    np.savez_compressed(args.out, **arrays)
    print(meta)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
