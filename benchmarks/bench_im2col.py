"""im2col and col2im as they are against an earlier version of minidl/kernels/im2col.py,
taking turns in one process: the kernels alone at the SeedCNN's and the conv VAE's
shapes, then whole training steps.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_im2col.py \
        [--before REV] [--rounds 15] [--repeats 10]

The earlier version is read from git (`git show REV:minidl/kernels/im2col.py`, by
default the commit before the kernels skipped the zero padding with a range per kernel
column instead of a test per element) and compiled beside today's.
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import subprocess
import tempfile

import numpy as np

from minidl.kernels import im2col as today
from minidl.kernels import run_kernel
from minidl.ops import conv as conv_ops

import workloads
from alternate import alternate, patched, report

BEFORE = "fc275b7"  # the commit before the change
REPO = pathlib.Path(__file__).resolve().parents[1]

# (name, x shape, kernel, stride, padding)
SHAPES = [("SeedCNN conv1", (32, 1, 28, 28), 3, 1, 0),
          ("SeedCNN conv2", (32, 32, 13, 13), 3, 1, 0),
          ("SeedCNN conv3", (32, 64, 5, 5), 3, 1, 0),
          ("VAE enc conv1 / dec convT2", (128, 1, 28, 28), 3, 2, 1),
          ("VAE enc conv2 / dec convT1", (128, 32, 14, 14), 3, 2, 1)]


def load_before(rev):
    source = subprocess.run(["git", "show", f"{rev}:minidl/kernels/im2col.py"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from .compile import", "from minidl.kernels.compile import")
    path = pathlib.Path(tempfile.mkdtemp()) / "im2col_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("im2col_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kernel_times(before, rounds, repeats):
    rng = np.random.default_rng(0)
    for name, shape, k, s, p in SHAPES:
        N, C, H, W = shape
        OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        x = rng.standard_normal(shape, dtype=np.float32)
        cols = np.empty((C, k, k, N, OH, OW), np.float32)
        back = np.empty(shape, np.float32)
        for label, module in (("before", before), ("today", today)):
            module.im2col(x, (s, s), (p, p), (1, 1), cols)  # compile / load
            module.col2im(cols, (s, s), (p, p), (1, 1), back)
        runs = {}
        for label, module in (("before", before), ("today", today)):
            runs[f"im2col {label}"] = (lambda m=module: run_kernel(
                m.im2col, cols.size, x, (s, s), (p, p), (1, 1), cols), None)
        for label, module in (("before", before), ("today", today)):
            runs[f"col2im {label}"] = (lambda m=module: run_kernel(
                m.col2im, cols.size, cols, (s, s), (p, p), (1, 1), back), None)
        times = alternate(runs, rounds, repeats)
        print(f"{name} {shape}, {k}x{k}/{s}, padding {p}: "
              + ", ".join(f"{label} {ms:.3f}" for label, ms in times.items()) + " ms",
              flush=True)


def step_times(before, rounds, repeats):
    for title, name, batch in [("SeedCNN step, batch 32", "seed_cnn", 32),
                               ("SeedCNN step, batch 64", "seed_cnn", 64),
                               ("VAE step, batch 128", "vae", 128)]:
        step = workloads.make("minidl", name, batch)
        times = alternate({"before": (step, lambda: patched(conv_ops, kernels=before)),
                           "today": (step, None)}, rounds, repeats)
        print(report(title, times), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    before = load_before(args.before)
    print(f"medians, ms; minidl/kernels/im2col.py at {args.before} ('before') and as it "
          "is ('today'), taking turns in this process")
    kernel_times(before, args.rounds, args.repeats)
    step_times(before, args.rounds, args.repeats)


if __name__ == "__main__":
    main()
