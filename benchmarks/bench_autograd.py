"""How much does autograd cost? minidl vs the same math hand-written in plain numpy.

1. An MLP step (784-256-10, batch 64): forward + backward of the cross-entropy loss,
   once through minidl's graph, once as hand-derived numpy -- reported as a ratio.
2. Per-op overhead: a chain of small elementwise ops (forward + backward), time per
   op in microseconds for minidl and numpy, and the ratio.

    python benchmarks/bench_autograd.py [--repeats 200] [--seed 0]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import minidl as md


def median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def mlp_step_minidl(x, y, w1, b1, w2, b2):
    def step():
        for p in (w1, b1, w2, b2):
            p.grad = None
        h = md.relu(x @ w1.T + b1)
        logits = h @ w2.T + b2
        loss = -md.log_softmax(logits, 1)[np.arange(len(y)), y].mean()
        loss.backward()
    return step


def mlp_step_numpy(x, y, w1, b1, w2, b2):
    n = len(y)

    def step():
        a = x @ w1.T + b1
        h = np.maximum(a, 0)
        z = h @ w2.T + b2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        # d loss / d logits = (softmax - onehot) / n
        dz = p
        dz[np.arange(n), y] -= 1
        dz /= n
        dw2, db2 = dz.T @ h, dz.sum(0)
        dh = dz @ w2
        da = dh * (a > 0)
        dw1, db1 = da.T @ x, da.sum(0)
        return dw1, db1, dw2, db2
    return step


def chain_minidl(x, length):
    def step():
        y = x
        for _ in range(length):
            y = y * 1.01 + 0.1
        y.sum().backward()
        x.grad = None
    return step


def chain_numpy(x, length):
    def step():
        y = x
        for _ in range(length):
            y = y * np.float32(1.01) + np.float32(0.1)
        g = np.ones_like(x)
        for _ in range(length):  # backward of y*1.01+0.1 is g*1.01
            g = g * np.float32(1.01)
        return g
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    x = rng.standard_normal((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    w1 = (rng.standard_normal((256, 784)) * 0.05).astype(np.float32)
    b1 = np.zeros(256, np.float32)
    w2 = (rng.standard_normal((10, 256)) * 0.05).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [md.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
    t_md = median_time(mlp_step_minidl(md.tensor(x), y, *params), args.repeats)
    t_np = median_time(mlp_step_numpy(x, y, w1, b1, w2, b2), args.repeats)

    print("MLP 784-256-10, batch 64, forward + backward")
    print(f"  {'minidl':>10}: {t_md * 1e3:8.3f} ms")
    print(f"  {'numpy':>10}: {t_np * 1e3:8.3f} ms")
    print(f"  {'ratio':>10}: {t_md / t_np:8.2f}x  (minidl / numpy)")

    length = 50
    print(f"\nPer-op overhead: chain of {2 * length} elementwise ops, forward + backward")
    for shape in [(1,), (64, 64), (64, 784)]:
        xs = rng.standard_normal(shape).astype(np.float32)
        t_md = median_time(chain_minidl(md.tensor(xs, requires_grad=True), length),
                           max(args.repeats // 4, 10))
        t_np = median_time(chain_numpy(xs, length), max(args.repeats // 4, 10))
        n_ops = 2 * length
        print(f"  shape {str(shape):>10}: minidl {t_md / n_ops * 1e6:7.2f} us/op, "
              f"numpy {t_np / n_ops * 1e6:7.2f} us/op, ratio {t_md / t_np:6.2f}x")


if __name__ == "__main__":
    main()
