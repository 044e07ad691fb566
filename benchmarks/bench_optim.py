"""Is the fused optimizer update worth its kernel? fused=True against the numpy formula.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_optim.py \
        [--rounds 7] [--repeats 5]

minidl/optim writes each update as readable numpy (adam_formula, sgd_formula, ...) and
runs the same arithmetic as one compiled loop when it can (minidl/kernels/optim.py);
tests/test_optim.py checks that both give the same bits. This times one `step()` of
each optimizer both ways on the DCGAN discriminator's parameter sizes (a 6272 x 1024
dense layer holds most of its 6.5 million weights), taking turns `--rounds` times, and
prints the medians. The baseline here is minidl's own numpy formula, not PyTorch:
bench_steps.py compares whole training steps with PyTorch.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import minidl
from minidl import optim
from bench_steps import machine

SHAPES = [(6272, 1024), (1024,), (1, 1024), (64, 1, 4, 4), (128, 64, 4, 4)]
CASES = {"SGD (momentum 0.9)": (optim.SGD, dict(lr=0.01, momentum=0.9)),
         "SGD": (optim.SGD, dict(lr=0.01)),
         "RMSprop": (optim.RMSprop, dict(lr=0.01)),
         "Adam": (optim.Adam, dict(lr=2e-4, betas=(0.5, 0.999))),
         "AdamW": (optim.AdamW, dict(lr=2e-4))}


def optimizer(cls, options, fused):
    rng = np.random.default_rng(0)
    params = [minidl.nn.Parameter(minidl.tensor(rng.standard_normal(s, np.float32)))
              for s in SHAPES]
    for p in params:
        p.grad = minidl.tensor(rng.standard_normal(p.shape, np.float32))
    opt = cls(params, fused=fused, **options)
    opt.step()  # the state exists, and the kernel is compiled
    return opt


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    size = sum(int(np.prod(s)) for s in SHAPES)
    print(f"machine: {machine()}\none step() over {size:,} float32 parameters; medians "
          f"over {args.rounds} rounds x {args.repeats} steps, ms\n")
    print("| optimizer | numpy formula | fused kernel | ratio |\n|---|---:|---:|---:|")
    for name, (cls, options) in CASES.items():
        opts = {fused: optimizer(cls, options, fused) for fused in (False, True)}
        times = {False: [], True: []}
        for _ in range(args.rounds):
            for fused, opt in opts.items():
                t0 = time.perf_counter()
                for _ in range(args.repeats):
                    opt.step()
                times[fused].append((time.perf_counter() - t0) / args.repeats * 1e3)
        numpy_ms, fused_ms = np.median(times[False]), np.median(times[True])
        print(f"| {name} | {numpy_ms:.1f} | {fused_ms:.1f} | {numpy_ms / fused_ms:.1f}x |",
              flush=True)


if __name__ == "__main__":
    main()
