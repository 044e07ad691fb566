"""How fast does minidl train? Whole training steps, minidl vs PyTorch 2.x on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_steps.py \
        [--workloads seed_cnn dcgan wgan_gp vae] [--rounds 5] [--repeats 10] \
        [--torch-threads N]

The workloads are in benchmarks/workloads.py (the SeedCNN step at batch 32 and 64, a
DCGAN iteration, a WGAN-GP critic step, a conv VAE step). PyTorch runs in its own
process, imported first in its default configuration (benchmarks/baseline.py;
`--torch-threads N` sets its thread count instead, which users do not do). The
two sides take turns, `--rounds` times, each timing `--repeats` steps; the table shows
the median step time over all rounds, and a VAE epoch is 469 steps of batch 128 (the
full 60,000 MNIST training images).

The project's machines pin numpy's OpenBLAS to older AVX2 kernels with the environment
variables OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE; a user's machine does not set them,
so benchmark commands unset them (never the tests or CI).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import workloads
from baseline import TorchBaseline, step_times, median_ms

CASES = {"seed_cnn": [32, 64], "dcgan": [64], "wgan_gp": [64], "vae": [128]}
VAE_EPOCH_STEPS = 469  # ceil(60000 / 128)
LABELS = {"seed_cnn": "SeedCNN train step", "dcgan": "DCGAN step (D on real+fake, G)",
          "wgan_gp": "WGAN-GP critic step", "vae": "conv VAE step"}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores of {cpu}; load average {load}"


def compare(torch_side, name, batch, rounds, repeats):
    """Median step times (ms) of minidl and PyTorch, taking turns `rounds` times."""
    import minidl  # noqa: F401  (here, never before the PyTorch child has started)
    step = workloads.make("minidl", name, batch)
    ours, theirs = [], []
    for _ in range(rounds):
        ours += step_times(step, repeats)
        if torch_side.available:
            time.sleep(0.05)  # let the other side's idle threads settle
            theirs += torch_side.step_times(name, batch, repeats)
            time.sleep(0.05)
    return median_ms(ours), (median_ms(theirs) if theirs else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--torch-threads", type=int, default=None)
    args = parser.parse_args()
    with TorchBaseline(args.torch_threads) as torch_side:
        import minidl.kernels
        print(f"machine: {machine()}")
        print(f"minidl: kernels {'compiled by Numba' if minidl.kernels.JIT else 'as Python'}"
              f"; PyTorch {torch_side.version or '(not installed)'} in its own process, "
              f"{'set_num_threads' if args.torch_threads else 'default configuration'} "
              f"({torch_side.threads} threads)")
        print(f"medians over {args.rounds} rounds x {args.repeats} steps, ms\n")
        print(f"| workload | batch | minidl | PyTorch | ratio |\n|---|---:|---:|---:|---:|")
        for name in args.workloads:
            for batch in CASES[name]:
                ours, theirs = compare(torch_side, name, batch, args.rounds, args.repeats)
                ratio = f"{ours / theirs:.2f}" if theirs else ""
                row = f"| {LABELS[name]} | {batch} | {ours:.1f} | "
                print(row + (f"{theirs:.1f} | {ratio} |" if theirs else " | |"),
                      flush=True)
                if name == "vae":
                    scale = VAE_EPOCH_STEPS / 1e3
                    print(f"| conv VAE epoch (469 steps), s | {batch} | {ours * scale:.1f}"
                          f" | {theirs * scale:.1f} | {ratio} |" if theirs else "")


if __name__ == "__main__":
    main()
