"""Threads: how minidl's two kinds of parallel work share the cores, without touching
how anything else in the process runs.

minidl computes in two places: its Numba kernels, whose `prange` loops run on Numba's
thread pool (OpenMP), and matrix products, which numpy hands to its BLAS (OpenBLAS,
with a thread pool of its own). A thread pool whose work is done does not go to sleep
at once: OpenBLAS's idle threads spin for about 0.1 s, OpenMP's for a few ms, each
holding a core -- the very core the other pool's threads need next. On 2 cores the
two pools spend much of a training step taking turns to spin, and on a machine busy
with other processes a spinning thread is descheduled just when work arrives for it.
(benchmarks/bench_policies.py measures the combinations.) So minidl applies a policy,
to its own calls only:

  * Numba's threads sleep when idle. OpenMP reads its wait policy once, when it
    starts; minidl starts Numba's pool itself, the first time it needs it, with
    OMP_WAIT_POLICY=PASSIVE in the environment for that moment only (unless you set
    OMP_WAIT_POLICY or GOMP_SPINCOUNT yourself; if Numba's pool already runs, it stays
    as it is).
  * minidl's matrix products run on minidl's own threads (gemm.py), with numpy's
    OpenBLAS held to one thread for those calls (`blas_single_thread`) and then set
    back, so no OpenBLAS thread is left spinning.

Small work runs on one thread: waking sleeping threads costs microseconds, far more
when other processes keep the cores busy -- ruinous for thousands of tiny calls such
as gradient checks. `run_kernel` runs a kernel's serial build when it touches fewer
than PARALLEL_MIN_ELEMENTS elements.
"""
from __future__ import annotations

import contextlib
import ctypes
import os

import numpy as np

from ..tools.trace import span
from .compile import JIT, numba

PARALLEL_MIN_ELEMENTS = 1 << 16  # below this much work one thread is faster


# ------------------------------------------------------------------ Numba's pool
_started = False


def _start_numba_pool():
    """Start Numba's threads once, asleep when idle (see the module docstring)."""
    global _started
    if _started or not JIT:
        _started = True
        return
    chosen = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
    if not chosen:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        numba.get_num_threads()  # (launches the pool)
    finally:
        if not chosen:
            del os.environ["OMP_WAIT_POLICY"]
        _started = True


def num_threads() -> int:
    """How many threads minidl's parallel work uses: Numba's thread count (set it with
    NUMBA_NUM_THREADS or numba.set_num_threads), or the cores without Numba."""
    _start_numba_pool()
    return numba.get_num_threads() if JIT else (os.cpu_count() or 1)


@contextlib.contextmanager
def threads_for(n_elements: int):
    """Run the kernels called inside this block on one thread if the work is small
    (for callers that cannot use run_kernel)."""
    _start_numba_pool()
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
    """kernel(*args) -- its serial build (compile.py) when `size`, the number of
    elements it touches, is small; shown in minidl.trace() as a span named after the
    kernel (im2col, col2im, ...)."""
    if size < PARALLEL_MIN_ELEMENTS:
        kernel = kernel.serial
    elif not _started:
        _start_numba_pool()
    with span(kernel.__name__):
        return kernel(*args)


# ------------------------------------------------------------------ numpy's BLAS
def _openblas_functions():
    """(get, set) thread-count functions of every OpenBLAS mapped into this process."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    except OSError:  # not Linux: leave the BLAS alone
        return []
    found = []
    for path in sorted(p for p in paths if "openblas" in os.path.basename(p).lower()):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", ""):  # numpy's scipy-openblas builds, then a plain one
            for prefix in ("scipy_openblas", "openblas"):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    found.append((get, put))
                    break
            else:
                continue
            break
    return found


class blas_single_thread:
    """`with blas_single_thread() as held:` numpy's OpenBLAS on one thread inside the
    block, as it was after it. `held` is False when no OpenBLAS could be found (another
    BLAS: then nothing is changed)."""
    functions = None  # [(get, set)] for each OpenBLAS in the process, found once

    def __enter__(self):
        if blas_single_thread.functions is None:
            np.ones((2, 2)) @ np.ones((2, 2))  # (make sure numpy's BLAS is loaded)
            blas_single_thread.functions = _openblas_functions()
        self.before = [get() for get, _ in self.functions]
        for (_, put), n in zip(self.functions, self.before):
            if n != 1:
                put(1)
        return bool(self.functions)

    def __exit__(self, *exc):
        for (_, put), n in zip(self.functions, self.before):
            if n != 1:
                put(n)
        return False
