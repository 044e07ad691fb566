"""What did the convolution backward's shared row layout buy? minidl/ops/conv.py as it
is, against its backward as it was, taking turns in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_conv_backward.py \
        [--rounds 15] [--repeats 10]

Before: Conv2d's backward converted the output gradient g to row layout (O, N*OH*OW)
twice (once for the input gradient, once for the weight gradient) and summed g over
axes (0, 2, 3) with numpy for the bias; ConvTranspose2d's backward converted its input
to row layout again for the weight gradient. After: g in row layout once, shared by
the three gradients, the bias gradient a contiguous sum per row (BiasGrad), and
ConvTranspose2d keeps its input's row layout from the forward. The "before" variant
is that old code, rebuilt here from the same pieces (it gives the same numbers); the
three changes are added one at a time:  before, + shared rows (Conv2d's backward), +
BiasGrad, + kept rows (ConvTranspose2d's forward) = after.

Printed: median ms of SeedCNN conv2's forward + backward at batch 32 (the lead's
measurement: input 32x32x13x13, weight 64x32x3x3), and of whole training steps.
"""
from __future__ import annotations

import argparse
import contextlib

import minidl as md
import minidl.functional as F
from minidl.ops import conv as conv_ops
from minidl.ops.reduction import sum as reduce_sum

import workloads
from alternate import alternate, patched, report

Conv2d, ConvTranspose2d, Conv2dWeight = (conv_ops.Conv2d, conv_ops.ConvTranspose2d,
                                         conv_ops.Conv2dWeight)


def conv_backward_before(ctx, g):
    """Conv2d's backward before: g converted to row layout inside each of the two ops."""
    x, w = ctx.saved_tensors
    gx = gw = gb = None
    if ctx.needs_input_grad[0]:
        gx = ConvTranspose2d.apply(g, w, None, ctx.geom, x.shape[2:], None)
    if ctx.needs_input_grad[1]:
        gw = Conv2dWeight.apply(x, g, w.shape, ctx.geom, ctx.cols, None)
    if ctx.needs_input_grad[2]:
        gb = conv_ops.BiasGrad.apply(g, None)
    return gx, gw, gb, None, None, None


def transpose_forward_before(ctx, y, w, b, geom, out_hw, rows):
    """ConvTranspose2d's forward before: nothing kept for the weight gradient."""
    ctx.geom, ctx.rows = geom, None
    ctx.save_for_backward(y, w)
    return conv_ops._conv_transpose2d(y, w, b, geom, out_hw, rows)


class NumpyBiasGrad:
    """The bias gradient before: numpy's sum over axes (0, 2, 3) of NCHW."""
    @staticmethod
    def apply(g, rows):
        return reduce_sum(g, (0, 2, 3))


def undo(*changes):
    """A switch that puts back the code as it was before the given changes."""
    patches = {"shared rows": lambda: patched(
                   Conv2d, backward=staticmethod(conv_backward_before)),
               "BiasGrad": lambda: patched(conv_ops, BiasGrad=NumpyBiasGrad),
               "kept rows": lambda: patched(
                   ConvTranspose2d, forward=staticmethod(transpose_forward_before))}

    def switch():
        stack = contextlib.ExitStack()
        for change in changes:
            stack.enter_context(patches[change]())
        return stack
    return switch


def conv2_step(batch=32):
    md.manual_seed(0)
    x = md.randn(batch, 32, 13, 13, requires_grad=True)
    w = md.randn(64, 32, 3, 3, requires_grad=True)
    b = md.randn(64, requires_grad=True)
    g = md.randn(batch, 64, 11, 11)
    return lambda: md.autograd.grad(F.conv2d(x, w, b), (x, w, b), g)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    cases = [("SeedCNN conv2 fwd+bwd, batch 32", conv2_step(32)),
             ("SeedCNN step, batch 32", workloads.make("minidl", "seed_cnn", 32)),
             ("SeedCNN step, batch 64", workloads.make("minidl", "seed_cnn", 64)),
             ("VAE step, batch 128", workloads.make("minidl", "vae", 128)),
             ("VAE depth-1 step, batch 128", workloads.make("minidl", "vae_depth1", 128))]
    print("medians, ms; before and after taking turns in this process")
    for title, step in cases:
        times = alternate({
            "before": (step, undo("shared rows", "BiasGrad", "kept rows")),
            "+shared rows": (step, undo("BiasGrad", "kept rows")),
            "+BiasGrad": (step, undo("kept rows")),
            "+kept rows (after)": (step, None)}, args.rounds, args.repeats)
        print(report(title, times), flush=True)


if __name__ == "__main__":
    main()
