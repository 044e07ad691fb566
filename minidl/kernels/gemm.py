"""Matrix products on minidl's threads: numpy's matmul, split in blocks over the cores.

A big product out = a @ b splits into independent blocks of rows (or columns) of
`out`: rows i:j of out are rows i:j of a times b. `matmul` gives the calling thread
one block and a helper thread the other (one helper per extra thread Numba uses);
numpy releases Python's lock inside matmul, so the blocks run at the same time, each
on one OpenBLAS thread (threads.py says why OpenBLAS's own threads are not used).
The helpers sleep on a lock between products, so nothing spins while the Numba
kernels run.

Small products are left to numpy as they are: below OPENBLAS_ONE_THREAD_FLOPS
OpenBLAS starts no thread of its own, and below PARALLEL_MIN_FLOPS waking a helper
costs more than it saves. So is a product with a small output and a long inner
dimension, such as the weight gradient of a convolution with one input channel,
(32, N*H*W) @ (N*H*W, 9): each output element is a long dot product, and two blocks
of a (32, 9) output took longer on two threads than the whole on one (0.9 against
0.5 ms at N*H*W = 25,088); from about 1,000 output elements on, the split pays.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from .memory import output
from .threads import blas_single_thread, num_threads

PARALLEL_MIN_FLOPS = 1 << 22     # a smaller product runs on the calling thread only
PARALLEL_MIN_OUTPUT = 1024       # and so does one with fewer output elements
OPENBLAS_ONE_THREAD_FLOPS = 2 * 65536 * 4  # OpenBLAS threads a product only above this


class _Helper:
    """A thread that computes blocks of matrix products while the caller computes its
    own block. Two locks say whose turn it is: the helper sleeps trying to take `go`
    (the caller releases it to hand over a job), the caller sleeps trying to take
    `done` (the helper releases it when the job is finished). In whole training steps
    this measured 0-3% faster than threading.Event, which is a lock, a condition and a
    flag (benchmarks/bench_gemm_rule.py)."""

    def __init__(self):
        self.job, self.error = None, None
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()    # held: no job yet
        self.done.acquire()  # held: no job finished yet
        threading.Thread(target=self._serve, daemon=True, name="minidl-matmul").start()

    def _serve(self):
        while True:
            self.go.acquire()  # sleeps until submit() releases it
            try:
                np.matmul(*self.job[:2], out=self.job[2])
            except BaseException as error:  # handed to the caller in wait()
                self.error = error
            self.done.release()

    def submit(self, a, b, out):
        self.job, self.error = (a, b, out), None
        self.go.release()

    def wait(self):
        self.done.acquire()  # sleeps until the helper releases it
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
                and out.size >= PARALLEL_MIN_OUTPUT \
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
    try:
        np.matmul(*blocks[0][:2], out=blocks[0][2])
    finally:  # (never leave a helper working on an array the caller may free)
        for helper, _ in zip(_helpers, blocks[1:]):
            helper.wait()
