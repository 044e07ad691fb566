"""Which way of sharing the cores is fastest? minidl's thread policy against the others.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_policies.py \
        [--workloads seed_cnn dcgan] [--rounds 3] [--repeats 10]

minidl/kernels/threads.py and gemm.py explain the policy: Numba's threads sleep when
idle, and minidl's matrix products run on minidl's own threads with numpy's OpenBLAS
held to one thread. Each alternative below changes one part of that; each runs in a fresh process
(an OpenMP wait policy is fixed when the pool starts), and the rounds take turns so
that the machine's noise falls on all of them alike:

    minidl          the policy as shipped
    blas-threads    matrix products on OpenBLAS's own threads (its idle threads spin)
    omp-default     Numba's idle threads spin a while before sleeping (OpenMP's
                    default, GOMP_SPINCOUNT=300000) instead of sleeping at once
    one-thread      everything on one core (NUMBA_NUM_THREADS=1)
    numba-1         kernels on one thread, matrix products on OpenBLAS's threads
    no-bin          op outputs freshly allocated, not recycled (kernels/memory.py):
                    each step page-faults its arrays in again
    malloc          no bin, but glibc's malloc told to keep freed memory (mallopt:
                    a process-wide setting minidl never makes)

It prints the median step time of each, in ms, and the machine's load.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys

import numpy as np

POLICIES = {  # name: (environment, what to change in minidl/kernels)
    "minidl": ({}, None),
    "blas-threads": ({}, "blas"),
    "omp-default": ({"GOMP_SPINCOUNT": "300000"}, None),
    "one-thread": ({"NUMBA_NUM_THREADS": "1"}, None),
    "numba-1": ({"NUMBA_NUM_THREADS": "1"}, "blas"),
    "no-bin": ({}, "no-bin"),
    "malloc": ({}, "malloc"),
}


def keep_freed_memory():
    """glibc: serve blocks up to 32 MiB from the heap, and give memory back to the
    operating system only when 1 GiB is free at its top (mallopt, malloc.h)."""
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)
    libc.mallopt(M_TRIM_THRESHOLD, 2**30)


def child(policy: str, name: str, batch: int, repeats: int):
    """Time one workload under one policy, in this (fresh) process."""
    import workloads
    from baseline import step_times
    from minidl.kernels import gemm, memory
    change = POLICIES[policy][1]
    if change == "blas":  # leave numpy's BLAS its own threads, and don't split
        gemm.blas_single_thread = lambda: contextlib.nullcontext(False)
    elif change in ("no-bin", "malloc"):
        memory.BIN_LIMIT = 0
        if change == "malloc":
            keep_freed_memory()
    step = workloads.make("minidl", name, batch)
    print(json.dumps(step_times(step, repeats)))


def run(policy, name, batch, repeats):
    env = {**os.environ, **POLICIES[policy][0]}
    done = subprocess.run([sys.executable, __file__, "--child", policy, name, str(batch),
                           str(repeats)], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["seed_cnn", "dcgan"])
    parser.add_argument("--policies", nargs="+", default=list(POLICIES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    from bench_steps import CASES, machine
    print(f"machine: {machine()}\nmedian step time, ms ({args.rounds} rounds x "
          f"{args.repeats} steps, each policy in its own process)\n")
    cases = [(name, batch) for name in args.workloads for batch in CASES[name]]
    print("| policy | " + " | ".join(f"{n} {b}" for n, b in cases) + " |")
    print("|---|" + "---:|" * len(cases))
    times = {(p, c): [] for p in args.policies for c in cases}
    for _ in range(args.rounds):
        for case in cases:
            for policy in args.policies:
                times[policy, case] += run(policy, *case, args.repeats)
    for policy in args.policies:
        cells = [f"{1e3 * np.median(times[policy, c]):.1f}" for c in cases]
        print(f"| {policy} | " + " | ".join(cells) + " |")
    print(f"\nload average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
