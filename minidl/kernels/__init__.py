"""Numba kernels: plain loops over contiguous arrays, compiled once and cached.

Kernels never check their arguments; the Python layer that calls them (in
minidl/ops and minidl/functional) owns shapes, dtypes and error messages.

Threads: the parallel kernels (prange) use all of numba's threads. Starting a
parallel loop costs a few microseconds, and far more when another process keeps the
other core busy (the loop waits for its slowest thread to be scheduled) -- ruinous
for thousands of tiny calls such as gradient checks. So small calls run on one
thread: wrap them in `threads_for(work)`.

Two thread pools share the cores: numba's (OpenMP) and numpy's BLAS. By default an
OpenMP thread that finishes its share keeps spinning, hot, waiting for more work --
stealing a core from the BLAS threads of the very next matrix product, and from any
other process. Measured here (SeedCNN step, batch 32, on a busy machine): 420-640 ms
spinning vs 80-145 ms with OMP_WAIT_POLICY=PASSIVE, which makes idle threads sleep.
So minidl sets it, unless you did; it must happen before OpenMP starts, i.e. here.
"""
import contextlib
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402  (after the environment variable above)

PARALLEL_MIN_ELEMENTS = 1 << 15  # below this much work one thread is faster


@contextlib.contextmanager
def threads_for(n_elements: int):
    """Run the kernels called inside this block on one thread if the work is small."""
    if n_elements >= PARALLEL_MIN_ELEMENTS:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
