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
  * minidl's matrix products run on minidl's own threads: `matmul` splits a big
    product into blocks of rows (or columns), the calling thread computes one block
    and helper threads -- one per extra thread Numba uses, asleep when idle -- the
    others, at the same time (numpy releases Python's lock inside matmul). For those
    calls numpy's OpenBLAS is held to one thread and then set back, so no OpenBLAS
    thread is left spinning.

Small work runs on one thread: waking sleeping threads costs microseconds, far more
when other processes keep the cores busy -- ruinous for thousands of tiny calls such
as gradient checks. `run_kernel` runs a kernel's serial build when it touches fewer
than PARALLEL_MIN_ELEMENTS elements, and `matmul` leaves products alone that OpenBLAS
computes on one thread anyway.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import threading

import numpy as np

from ..trace import span
from .compile import JIT, numba
from .memory import output

PARALLEL_MIN_ELEMENTS = 1 << 15  # below this much work one thread is faster
PARALLEL_MIN_FLOPS = 1 << 22     # a smaller matrix product runs on one thread
OPENBLAS_ONE_THREAD_FLOPS = 2 * 65536 * 4  # OpenBLAS threads a GEMM only above this


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


# ------------------------------------------------------------------ matrix products
class _Helper:
    """A thread that computes blocks of matrix products while the caller computes its
    own block; it sleeps on an Event between jobs."""

    def __init__(self):
        self.job, self.error = None, None
        self.start_work, self.finished = threading.Event(), threading.Event()
        threading.Thread(target=self._serve, daemon=True, name="minidl-matmul").start()

    def _serve(self):
        while True:
            self.start_work.wait()
            self.start_work.clear()
            try:
                np.matmul(*self.job[:2], out=self.job[2])
            except BaseException as error:  # handed to the caller in wait()
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


_helpers: list = []
_helpers_lock = threading.Lock()


def _forget_helpers():
    """In a child made by fork() only the forking thread exists: start afresh."""
    global _helpers_lock
    _helpers.clear()
    _helpers_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_helpers)


def _blocks(a, b, out, n):
    """Split out = a @ b (2-D) into n products along out's longer side."""
    rows = out.shape[0] >= out.shape[1]
    edges = np.linspace(0, out.shape[0 if rows else 1], n + 1).astype(int)
    if rows:
        return [(a[i:j], b, out[i:j]) for i, j in zip(edges, edges[1:])]
    return [(a, b[:, i:j], out[:, i:j]) for i, j in zip(edges, edges[1:])]


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """np.matmul(a, b, out=out) on minidl's threads (see the module docstring): a 2-D
    product big enough to pay for it is split into blocks; others run as they are.
    Without `out`, a 2-D product's result comes from memory.output (recycled)."""
    if a.ndim != 2 or b.ndim != 2:
        with blas_single_thread():
            return np.matmul(a, b, out=out)
    if out is None:
        out = output((a.shape[0], b.shape[1]), np.promote_types(a.dtype, b.dtype))
    flops = 2 * a.size * b.shape[1]
    if flops <= OPENBLAS_ONE_THREAD_FLOPS:  # OpenBLAS starts no thread for these
        return np.matmul(a, b, out=out)
    with blas_single_thread() as held:
        n = num_threads()
        if held and n > 1 and flops >= PARALLEL_MIN_FLOPS \
                and _helpers_lock.acquire(blocking=False):  # (else busy: one thread)
            try:
                _on_helpers(_blocks(a, b, out, n))
                return out
            finally:
                _helpers_lock.release()
        return np.matmul(a, b, out=out)


def _on_helpers(blocks):
    """Compute the first block here and the others on helper threads, all at once."""
    while len(_helpers) < len(blocks) - 1:
        _helpers.append(_Helper())
    for helper, block in zip(_helpers, blocks[1:]):
        helper.submit(*block)
    np.matmul(*blocks[0][:2], out=blocks[0][2])
    for helper, _ in zip(_helpers, blocks[1:]):
        helper.wait()
