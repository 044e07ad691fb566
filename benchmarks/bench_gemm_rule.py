"""When should minidl split a matrix product over its threads, and how should it wake
the helper thread? (minidl/kernels/gemm.py.) Measured in a tight loop and in steps.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gemm_rule.py \
        [--census] [--loop] [--steps seed_cnn:32 seed_cnn:64 vae:128 dcgan:64]
        [--rounds 15] [--repeats 10]

--census   every matrix product one step makes (shape, MFLOP, split or not today)
--loop     the convolutions' GEMM shapes in a tight loop: one thread; split over
           minidl's helper woken by threading.Event (before) / by a bare lock pair
           (after); then OpenBLAS's own two threads (which spin when idle), last
--steps    whole training steps under each rule, taking turns in this process
           (benchmarks/alternate.py): the split threshold PARALLEL_MIN_FLOPS at 4, 16,
           32 and 64 MFLOP, and never splitting

Both helper classes sit side by side (the Event one as it was before the change); the
variants swap which one serves the products.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import threading

import numpy as np

import workloads
from alternate import alternate, patched, report
from minidl.kernels import gemm, threads


class EventHelper:
    """The helper as it was: sleeps on a threading.Event between jobs."""

    def __init__(self):
        self.job, self.error = None, None
        self.start_work, self.finished = threading.Event(), threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            self.start_work.wait()
            self.start_work.clear()
            try:
                np.matmul(*self.job[:2], out=self.job[2])
            except BaseException as error:
                self.error = error
            self.finished.set()

    def submit(self, a, b, out):
        self.job, self.error = (a, b, out), None
        self.finished.clear()
        self.start_work.set()

    def wait(self):
        self.finished.wait()
        if self.error is not None:
            raise self.error


def helpers(kind):
    """A list of helpers of one kind for gemm._helpers (made once per kind)."""
    if kind not in helpers.made:
        helpers.made[kind] = [{"event": EventHelper, "lock": gemm._Helper}[kind]()
                              for _ in range(threads.num_threads() - 1)]
    return helpers.made[kind]


helpers.made = {}


def rule(kind="lock", min_flops=gemm.PARALLEL_MIN_FLOPS):
    return lambda: patched(gemm, _helpers=helpers(kind), PARALLEL_MIN_FLOPS=min_flops)


# ------------------------------------------------------------------ census
def census(name, batch):
    step = workloads.make("minidl", name, batch)
    step()
    seen = []
    original = gemm.matmul

    def counting(a, b, out=None):
        if a.ndim == 2 and b.ndim == 2:
            flops = 2 * a.size * b.shape[1]
            seen.append((a.shape, b.shape, flops))
        return original(a, b, out=out)
    conv_ops = sys.modules["minidl.ops.conv"]
    matmul_ops = sys.modules["minidl.ops.matmul"]  # (minidl.ops.matmul is the function)
    with patched(conv_ops, matmul=counting), \
            patched(matmul_ops, _matmul_on_threads=counting):
        step()
    print(f"{name} batch {batch}: {len(seen)} products, "
          f"{sum(f for *_, f in seen) / 1e6:.0f} MFLOP")
    for a, b, flops in sorted(seen, key=lambda s: -s[2]):
        split = flops >= gemm.PARALLEL_MIN_FLOPS and a[0] * b[1] >= gemm.PARALLEL_MIN_OUTPUT
        print(f"  {str(a):>14} @ {str(b):<14} {flops / 1e6:7.1f} MFLOP"
              f"{'  split today' if split else ''}")


# ------------------------------------------------------------------ tight loop
LOOP_SHAPES = [("conv2 fwd", (64, 288), (288, 3872)), ("conv3 fwd", (64, 576), (576, 288)),
               ("conv1 fwd", (32, 9), (9, 21632)), ("conv2 dx", (288, 64), (64, 3872)),
               ("conv2 dw", (64, 3872), (3872, 288)), ("conv3 dw", (64, 288), (288, 576)),
               ("linear 576x64", (32, 576), (576, 64)),
               ("VAE conv2 fwd", (64, 288), (288, 6272)),
               ("VAE conv1 fwd", (32, 9), (9, 25088)),
               ("VAE conv1 dw", (32, 25088), (25088, 9)),
               ("VAE linear", (128, 3136), (3136, 256))]


def openblas_threads():
    """OpenBLAS with its own 2 threads for the block (what numpy does by default)."""
    @contextlib.contextmanager
    def switch():
        functions = threads.blas_single_thread.functions
        before = [get() for get, _ in functions]
        for _, put in functions:
            put(2)
        with patched(gemm, matmul=lambda a, b, out=None: np.matmul(a, b, out=out)):
            try:
                yield
            finally:
                for (_, put), n in zip(functions, before):
                    put(n)
    return switch


def loop(rounds, repeats):
    """Each shape: one thread / event split / lock split, taking turns; then, for all
    shapes after all of that, OpenBLAS's own threads: once its thread pool has run,
    minidl's two threads' products no longer ran side by side here (measured: the
    split took as long as one thread), so it must not run between the others."""
    with threads.blas_single_thread():
        pass  # (finds numpy's OpenBLAS)
    rng = np.random.default_rng(0)
    calls = []
    for label, sa, sb in LOOP_SHAPES:
        a = rng.standard_normal(sa, dtype=np.float32)
        b = rng.standard_normal(sb, dtype=np.float32)
        out = np.empty((sa[0], sb[1]), np.float32)
        call = lambda a=a, b=b, out=out: gemm.matmul(a, b, out=out)  # noqa: E731
        calls.append((label, sa, sb, call))
        times = alternate({"one thread": (call, rule("lock", float("inf"))),
                           "event split": (call, rule("event", 0)),
                           "lock split": (call, rule("lock", 0))}, rounds, repeats)
        mflop = 2 * sa[0] * sa[1] * sb[1] / 1e6
        print(report(f"{label} {sa}@{sb} {mflop:.0f} MFLOP", times), flush=True)
    for label, sa, sb, call in calls:
        times = alternate({"OpenBLAS 2 threads": (call, openblas_threads())}, 1,
                          rounds * repeats)
        print(report(f"{label} {sa}@{sb}", times), flush=True)


# ------------------------------------------------------------------ steps
def steps(cases, rounds, repeats):
    for case in cases:
        name, batch = case.split(":")
        step = workloads.make("minidl", name, int(batch))
        variants = {"event 4M (before)": (step, rule("event", 1 << 22)),
                    "lock 4M": (step, rule("lock", 1 << 22)),
                    "lock 16M": (step, rule("lock", 1 << 24)),
                    "lock 32M": (step, rule("lock", 1 << 25)),
                    "lock 64M": (step, rule("lock", 1 << 26)),
                    "never split": (step, rule("lock", float("inf")))}
        print(report(f"{name} batch {batch}", alternate(variants, rounds, repeats)),
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--census", action="store_true")
    parser.add_argument("--loop", action="store_true")
    parser.add_argument("--steps", nargs="*", default=None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.census:
        for name, batch in [("seed_cnn", 32), ("seed_cnn", 64), ("vae", 128),
                            ("dcgan", 64)]:
            census(name, batch)
    if args.loop:
        loop(args.rounds, args.repeats)
    if args.steps is not None:
        steps(args.steps or ["seed_cnn:32", "seed_cnn:64", "vae:128"], args.rounds,
              args.repeats)


if __name__ == "__main__":
    main()
