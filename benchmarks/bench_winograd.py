"""Would a Winograd F(2x2, 3x3) convolution beat im2col + GEMM? The prototype of
benchmarks/winograd.py against minidl's convolution, per op and in whole steps.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_winograd.py \
        [--rounds 15] [--repeats 10]

1. Per op, at the 3x3 stride-1 shapes of the SeedCNN (conv2, conv3; batch 32 and 64)
   and of the conv VAE with --depth 1 (32 channels at 14x14, padding 1; batch 128):
   the forward, and the input gradient (conv_transpose2d), each the im2col way and the
   Winograd way, taking turns; medians in ms, and the largest difference between the
   two results.
2. In whole training steps (the SeedCNN at batch 32 and 64, the conv VAE with depth 1
   at batch 128): the same steps with Conv2d's forward and ConvTranspose2d's forward
   sent to the prototype wherever it applies, taking turns with minidl as it is
   (benchmarks/alternate.py). The weight gradient stays im2col + GEMM either way.
"""
from __future__ import annotations

import argparse
import contextlib

import numpy as np

import minidl as md
import minidl.functional as F
from minidl.ops import conv as conv_ops

import winograd
import workloads
from alternate import alternate, patched, report

# name, (N, C, H, W), out channels, padding
SHAPES = [("SeedCNN conv2", (32, 32, 13, 13), 64, 0), ("SeedCNN conv2", (64, 32, 13, 13), 64, 0),
          ("SeedCNN conv3", (32, 64, 5, 5), 64, 0), ("SeedCNN conv3", (64, 64, 5, 5), 64, 0),
          ("VAE depth-1 conv", (128, 32, 14, 14), 32, 1)]


def op_times(rounds, repeats):
    rng = np.random.default_rng(0)
    for name, shape, out_channels, p in SHAPES:
        x = rng.standard_normal(shape, dtype=np.float32)
        w = rng.standard_normal((out_channels, shape[1], 3, 3), dtype=np.float32)
        b = rng.standard_normal(out_channels, dtype=np.float32)
        xt, wt, bt = md.tensor(x), md.tensor(w), md.tensor(b)
        with md.no_grad():
            y = F.conv2d(xt, wt, bt, padding=p)
            g = md.randn(*y.shape)
            gx = F.conv_transpose2d(g, wt, padding=p)
        error = max(np.abs(winograd.conv2d(x, w, b, p) - y.numpy()).max(),
                    np.abs(winograd.conv_transpose2d(g.numpy(), w, p) - gx.numpy()).max())
        runs = {"im2col fwd": (lambda: F.conv2d(xt, wt, bt, padding=p), None),
                "winograd fwd": (lambda: winograd.conv2d(x, w, b, p), None),
                "im2col dx": (lambda: F.conv_transpose2d(g, wt, padding=p), None),
                "winograd dx": (lambda: winograd.conv_transpose2d(g.numpy(), w, p), None)}
        with md.no_grad():
            times = alternate(runs, rounds, repeats)
        print(f"{name} {shape} -> {out_channels}, padding {p}: " +
              ", ".join(f"{k} {v:.3f}" for k, v in times.items()) +
              f" ms; max |difference| {error:.1e}", flush=True)


def _eligible(w, geom):
    return (w.shape[2:] == (3, 3) and geom.stride == (1, 1) and geom.dilation == (1, 1)
            and geom.groups == 1 and geom.padding[0] == geom.padding[1] <= 2)


def winograd_convolutions():
    """Conv2d's and ConvTranspose2d's forwards through the prototype where it applies."""
    conv_forward = conv_ops.Conv2d.forward
    transpose_forward = conv_ops.ConvTranspose2d.forward

    def forward(ctx, x, w, b, geom, out_hw, cols):
        if cols is not None or not _eligible(w, geom):
            return conv_forward(ctx, x, w, b, geom, out_hw, cols)
        ctx.geom, ctx.cols = geom, None  # the weight gradient makes im2col(x) itself
        ctx.save_for_backward(x, w)
        return winograd.conv2d(x, w, b, geom.padding[0])

    def transpose(ctx, y, w, b, geom, out_hw, rows):
        p = geom.padding[0]
        if b is not None or not _eligible(w, geom) or \
                tuple(out_hw) != (y.shape[2] + 2 - 2 * p, y.shape[3] + 2 - 2 * p):
            return transpose_forward(ctx, y, w, b, geom, out_hw, rows)
        ctx.geom = geom
        ctx.save_for_backward(y, w)
        return winograd.conv_transpose2d(y, w, p)

    stack = contextlib.ExitStack()
    stack.enter_context(patched(conv_ops.Conv2d, forward=staticmethod(forward)))
    stack.enter_context(patched(conv_ops.ConvTranspose2d, forward=staticmethod(transpose)))
    return stack


def step_times(rounds, repeats):
    steps = [("SeedCNN step, batch 32", workloads.make("minidl", "seed_cnn", 32)),
             ("SeedCNN step, batch 64", workloads.make("minidl", "seed_cnn", 64)),
             ("VAE depth-1 step, batch 128", workloads.make("minidl", "vae_depth1", 128))]
    for title, step in steps:
        times = alternate({"im2col": (step, None),
                           "winograd": (step, winograd_convolutions)}, rounds, repeats)
        print(report(title, times), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--skip-ops", action="store_true")
    args = parser.parse_args()
    print("medians, ms, float32; each pair taking turns in this process")
    if not args.skip_ops:
        op_times(args.rounds, args.repeats)
    step_times(args.rounds, args.repeats)


if __name__ == "__main__":
    main()
