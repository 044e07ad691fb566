"""How fast is conv2d? The seed CNN's three convolutions, forward and forward+backward.

For each layer shape (batch 64 by default) it prints:
  * median time of minidl's conv2d forward, and forward + backward (the gradients a
    training step needs: weight, bias, and the input except for the first layer);
  * the ratio to PyTorch CPU (skipped without torch), imported first in this process
    and left in its default configuration, as its users run it;
  * achieved GFLOP/s, next to what minidl's matrix product (kernels/threads.py) reaches
    on the layer's GEMM shape (the ceiling for an im2col convolution);
  * the share of the forward+backward time spent in im2col + col2im (target < 25%)
    and in the layout changes between the GEMM's row layout and NCHW.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_conv.py \
        [--batch 64] [--repeats 50]

(The project's machines pin numpy's OpenBLAS to older kernels with those two
variables; a user's machine does not.) Whole training steps are in bench_steps.py.
When other processes keep the machine busy, parallel regions stall for whole scheduler
slices and the timings mean little.
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict

try:
    import torch  # first, in its default configuration (see the docstring)
except ImportError:
    torch = None
import numpy as np

import baseline
import minidl as md
import minidl.functional as F
from minidl.kernels import matmul, threads
from minidl.ops import conv as conv_ops

# (in_channels, out_channels, height/width of the input) of the seed CNN's convolutions
SEED_LAYERS = [("conv1", 1, 32, 28), ("conv2", 32, 64, 13), ("conv3", 64, 64, 5)]
KERNEL = 3


def median_ms(fn, repeats):
    """Median ms of fn(), after warm-up calls (Numba compiles or loads on first use)."""
    return baseline.median_ms(baseline.step_times(fn, repeats, warmup=5))


class KernelTimer:
    """Adds up the time spent in each numba kernel that ops/conv.py runs."""

    def __init__(self):
        self.ms = defaultdict(float)
        self.original = conv_ops.run_kernel

    def __enter__(self):
        def timed(kernel, size, *args):
            t0 = time.perf_counter()
            out = self.original(kernel, size, *args)
            self.ms[kernel.__name__] += 1e3 * (time.perf_counter() - t0)
            return out
        conv_ops.run_kernel = timed
        return self

    def __exit__(self, *exc):
        conv_ops.run_kernel = self.original


def minidl_steps(x, w, b, first_layer):
    wanted = (w, b) if first_layer else (x, w, b)
    y = F.conv2d(x, w, b)
    grad_y = md.randn(y.shape)

    def forward():
        with md.no_grad():
            F.conv2d(x, w, b)

    def forward_backward():
        md.autograd.grad(F.conv2d(x, w, b), wanted, grad_y)
    return forward, forward_backward


def torch_steps(x, w, b, first_layer):
    x, w, b = (torch.from_numpy(t.detach().numpy()).requires_grad_() for t in (x, w, b))
    wanted = (w, b) if first_layer else (x, w, b)
    grad_y = torch.randn(torch.nn.functional.conv2d(x, w, b).shape)

    def forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(x, w, b)

    def forward_backward():
        torch.autograd.grad(torch.nn.functional.conv2d(x, w, b), wanted, grad_y)
    return forward, forward_backward


def matmul_gflops(m, k, n, repeats):
    a = np.random.default_rng(0).standard_normal((m, k)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((k, n)).astype(np.float32)
    out = np.empty((m, n), np.float32)
    return 2 * m * k * n / median_ms(lambda: matmul(a, b, out=out), repeats) / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    md.manual_seed(args.seed)
    torch_threads = torch.get_num_threads() if torch is not None else "-"
    print(f"batch {args.batch}, float32, {threads.num_threads()} threads for minidl, "
          f"{torch_threads} for PyTorch (its default); medians of {args.repeats} runs, "
          "ms")
    print(f"float32 matmul 1024^3 on minidl's threads: "
          f"{matmul_gflops(1024, 1024, 1024, 10):.0f} GFLOP/s")
    header = (f"{'layer':<6} {'input':>16} | {'fwd':>6} {'xtorch':>6} {'GF/s':>5} | "
              f"{'fwd+bwd':>7} {'xtorch':>6} {'GF/s':>5} | {'GEMM GF/s':>15} | "
              f"{'im2col+col2im':>13} {'layout':>6}")
    print(header)
    print("-" * len(header))
    totals = defaultdict(float)
    for name, c_in, c_out, size in SEED_LAYERS:
        first = name == "conv1"
        x = md.randn(args.batch, c_in, size, size, requires_grad=not first)
        w = md.randn(c_out, c_in, KERNEL, KERNEL, requires_grad=True)
        b = md.randn(c_out, requires_grad=True)
        out = size - KERNEL + 1
        gemm = (c_out, c_in * KERNEL * KERNEL, args.batch * out * out)  # Y = W @ cols
        flops = 2 * np.prod(gemm, dtype=np.int64)
        flops_fb = flops * (2 if first else 3)  # + weight grad (+ input grad)
        fwd, fwd_bwd = minidl_steps(x, w, b, first)
        t_fwd, t_fb = median_ms(fwd, args.repeats), median_ms(fwd_bwd, args.repeats)
        with KernelTimer() as timer:
            for _ in range(args.repeats):
                fwd_bwd()
        share = {k: v / args.repeats / t_fb for k, v in timer.ms.items()}
        copies = share.get("im2col", 0) + share.get("col2im", 0)
        layout = share.get("rows_to_nchw", 0) + share.get("nchw_to_rows", 0)
        ratios = ("", "")
        if torch is not None:
            tf, tfb = torch_steps(x, w, b, first)
            tt_fwd, tt_fb = median_ms(tf, args.repeats), median_ms(tfb, args.repeats)
            ratios = (f"{t_fwd / tt_fwd:.2f}", f"{t_fb / tt_fb:.2f}")
            totals["torch fwd"] += tt_fwd
            totals["torch fwd+bwd"] += tt_fb
        totals["fwd"] += t_fwd
        totals["fwd+bwd"] += t_fb
        print(f"{name:<6} {str(tuple(x.shape)):>16} | {t_fwd:6.2f} {ratios[0]:>6} "
              f"{flops / t_fwd / 1e6:5.0f} | {t_fb:7.2f} {ratios[1]:>6} "
              f"{flops_fb / t_fb / 1e6:5.0f} | {matmul_gflops(*gemm, args.repeats):15.0f} | "
              f"{copies:13.0%} {layout:6.0%}")
    line = f"total: minidl fwd {totals['fwd']:.2f} ms, fwd+bwd {totals['fwd+bwd']:.2f} ms"
    if torch is not None:
        line += (f"; torch fwd {totals['torch fwd']:.2f} ms, fwd+bwd "
                 f"{totals['torch fwd+bwd']:.2f} ms; ratio fwd+bwd "
                 f"{totals['fwd+bwd'] / totals['torch fwd+bwd']:.2f}")
    print(line)
    pool_table(args)


def pool_table(args):
    """max_pool2d 2x2 at the seed CNN's two pooling inputs (bench_pool.py has more)."""
    print("\nmax_pool2d 2x2, forward + backward")
    for shape in [(args.batch, 32, 26, 26), (args.batch, 64, 11, 11)]:
        x = md.randn(*shape, requires_grad=True)
        t = median_ms(lambda: F.max_pool2d(x, 2).sum().backward(), args.repeats)
        line = f"  {str(shape):>18}: minidl {t:6.2f} ms"
        if torch is not None:
            tx = torch.tensor(x.detach().numpy(), requires_grad=True)
            tt = median_ms(lambda: torch.nn.functional.max_pool2d(tx, 2).sum().backward(),
                           args.repeats)
            line += f", torch {tt:6.2f} ms, ratio {t / tt:.2f}"
        print(line)


if __name__ == "__main__":
    main()
