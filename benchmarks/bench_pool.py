"""How fast is max pooling? minidl vs PyTorch (CPU) vs a pure-numpy reshape version.

At the seed CNN's shapes (batch 64, 2x2 windows, stride 2):
    (64, 32, 26, 26) -> (64, 32, 13, 13)      (64, 64, 11, 11) -> (64, 64, 5, 5)
it times max_pool2d forward, and forward + backward, plus relu forward + backward at
the same input sizes; it prints milliseconds (best of --repeats: the least disturbed
by other processes) and each
baseline's time divided by minidl's (> 1 means minidl is faster).

PyTorch is timed in a child process of its own, imported first in its default
configuration (as its users run it): two OpenMP runtimes in one process fight over the
cores and distort both timings. Its column is left out when torch is not installed.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_pool.py \
        [--repeats 50] [--threads N]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SHAPES = [(64, 32, 26, 26), (64, 64, 11, 11)]


def best_ms(fn, repeats):
    fn()  # warm-up (and compilation)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


# ------------------------------------------------------------------ the three contenders
def minidl_cases(x, g):
    import minidl as md
    import minidl.functional as F

    t = md.tensor(x, requires_grad=True)
    gt = md.tensor(g)

    def pool_backward():
        t.grad = None
        F.max_pool2d(t, 2).backward(gt)

    def relu_backward():
        t.grad = None
        F.relu(t).backward(md.tensor(x))

    return {"pool forward": lambda: F.max_pool2d(t.detach(), 2),
            "pool fwd+bwd": pool_backward,
            "relu forward": lambda: F.relu(t.detach()),
            "relu fwd+bwd": relu_backward}


def numpy_cases(x, g):
    """Max pooling by reshaping each 2x2 window into a last axis of 4 (crop to even)."""
    n, c, h, w = x.shape
    oh, ow = h // 2, w // 2

    def windows(a):
        a = a[:, :, :2 * oh, :2 * ow].reshape(n, c, oh, 2, ow, 2)
        return a.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, 4)

    def forward():
        return windows(x).max(-1)

    def forward_backward():
        win = windows(x)
        first_max = win.argmax(-1)  # PyTorch sends the gradient to the first maximum
        out = np.take_along_axis(win, first_max[..., None], -1)[..., 0]
        dwin = (np.arange(4) == first_max[..., None]) * g[..., None]
        dx = np.zeros_like(x)
        dx[:, :, :2 * oh, :2 * ow] = dwin.reshape(n, c, oh, ow, 2, 2).transpose(
            0, 1, 2, 4, 3, 5).reshape(n, c, 2 * oh, 2 * ow)
        return out, dx

    def relu_backward():
        y = np.maximum(x, 0)
        return y, x * (x > 0)

    return {"pool forward": forward, "pool fwd+bwd": forward_backward,
            "relu forward": lambda: np.maximum(x, 0), "relu fwd+bwd": relu_backward}


def torch_cases(x, g):
    import torch
    import torch.nn.functional as F

    t = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(g)

    def pool_backward():
        t.grad = None
        F.max_pool2d(t, 2).backward(gt)

    def relu_backward():
        t.grad = None
        F.relu(t).backward(t.detach())

    with torch.no_grad():
        fwd = {"pool forward": lambda: F.max_pool2d(t, 2),
               "relu forward": lambda: F.relu(t)}
    return {**fwd, "pool fwd+bwd": pool_backward, "relu fwd+bwd": relu_backward}


def inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(
        np.float32)
    return x, g


def run(contender, repeats):
    """{shape: {case: ms}} for one contender, in this process."""
    make = {"minidl": minidl_cases, "numpy": numpy_cases, "torch": torch_cases}[contender]
    return {str(shape): {name: best_ms(fn, repeats)
                         for name, fn in make(*inputs(shape)).items()}
            for shape in SHAPES}


def torch_in_child(repeats, threads=None, module="bench_pool"):
    """`module`.run('torch', repeats) in a child process (torch's threads and memory
    stay out of this one), torch imported first and in its default configuration
    unless `threads` is given; None if torch is missing."""
    code = ("import json, torch; %s"
            "import %s; "
            "print(json.dumps(%s.run('torch', %d)))") % (
        f"torch.set_num_threads({threads}); " if threads else "", module, module, repeats)
    # run in this folder: `python -c` puts the working directory first on sys.path
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.abspath(__file__)))
    if done.returncode != 0:
        return None  # torch missing (or broken): no torch column
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_bench_args(description, repeats):
    """--repeats and --threads from the command line, Numba set to those threads;
    returns (args, threads)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for minidl (default: Numba's default)")
    args = parser.parse_args()

    from minidl.kernels import threads as minidl_threads
    if args.threads:
        import numba
        numba.set_num_threads(args.threads)
    return args, minidl_threads.num_threads()


def main():
    args, threads = parse_bench_args(__doc__.splitlines()[0], repeats=50)
    results = {"minidl": run("minidl", args.repeats), "numpy": run("numpy", args.repeats)}
    torch_results = torch_in_child(args.repeats)
    if torch_results is not None:
        results["torch"] = torch_results

    others = [c for c in ("torch", "numpy") if c in results]
    print(f"max_pool2d 2x2/2 and relu, float32, {threads} threads for minidl, PyTorch's "
          f"default for it; best of "
          f"{args.repeats} runs, ms "
          f"(ratio = other / minidl, > 1: minidl faster)")
    header = f"{'shape':<18}{'case':<14}{'minidl':>9}" + "".join(
        f"{c:>9}{'ratio':>7}" for c in others)
    print(header)
    for shape in results["minidl"]:
        for case, ms in results["minidl"][shape].items():
            row = f"{shape:<18}{case:<14}{ms:9.3f}"
            for c in others:
                theirs = results[c][shape][case]
                row += f"{theirs:9.3f}{theirs / ms:7.2f}"
            print(row)


if __name__ == "__main__":
    main()
