"""Threads: how many a kernel runs on, and how Numba's pool and numpy's BLAS share cores.

A parallel kernel (`@kernel(parallel=True)`, see compile.py) splits its `prange` loop
over Numba's threads. Starting that costs a few microseconds -- and far more when
another process keeps a core busy, since the loop waits for its slowest thread --
which is ruinous for thousands of tiny calls such as gradient checks. So `run_kernel`
runs a kernel on one thread when it touches little data, and names it in
minidl.trace() tables.
"""
from __future__ import annotations

import contextlib

from ..trace import span
from .compile import JIT, numba

PARALLEL_MIN_ELEMENTS = 1 << 15  # below this much work one thread is faster


@contextlib.contextmanager
def threads_for(n_elements: int):
    """Run the kernels called inside this block on one thread if the work is small."""
    if n_elements >= PARALLEL_MIN_ELEMENTS or not JIT:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def run_kernel(kernel, size: int, *args):
    """kernel(*args), on one thread when `size` (elements touched) is small; shown in
    minidl.trace() as a span named after the kernel (im2col, col2im, ...)."""
    name = getattr(kernel, "__name__", "kernel")
    with threads_for(size), span(name):
        return kernel(*args)
