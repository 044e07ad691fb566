"""Memory the kernels reuse: scratch buffers for temporaries, recycled arrays for
outputs.

Training allocates the same big temporary arrays every step (im2col's column matrix,
the GEMM output in row layout). A fresh multi-megabyte array is not free: the
operating system hands out its pages one page fault at a time on first touch, and on a
virtual machine a fault costs more than filling the page. So an op that needs a
temporary only for the length of one call takes it from `scratch(role, shape, dtype)`:
each thread keeps one buffer per role (and dtype), grown when a bigger one is asked
for, and hands out views of it. The caller must be done with the view before asking
for the same role again -- which is why only temporaries that never leave one
function call live here (never an op's output).

An op's output outlives the call, so it cannot live in a scratch buffer; but it dies
a step later, and the next step asks for an array of the very same size. So the
kernels' outputs come from `output(shape, dtype)`: it keeps each big array it hands
out in a bin, and hands it out again once nobody else holds it -- Python's reference
count says when that is (every array made from it, such as a reshaped view, holds a
reference to it). Steady training then runs on the same few dozen arrays, step after
step, and the operating system is asked for no new pages.
The bin holds at most BIN_LIMIT bytes; when a new size does not fit, arrays nobody
holds are dropped first, so the sizes of a new workload replace those of an old one.

(The process-wide alternative, telling glibc's malloc to keep freed blocks, would
change how every library in the process allocates; minidl never does that.
benchmarks/bench_policies.py measures it: it buys nothing on top of the bin.)
"""
from __future__ import annotations

import math
import sys
import threading
from collections import defaultdict

import numpy as np

_scratch = threading.local()
SCRATCH_LIMIT = 64 * 2**20  # bytes; bigger temporaries (huge eval batches) are not kept


def scratch(role: str, shape, dtype) -> np.ndarray:
    """An uninitialised array of `shape`, a view of this thread's buffer for `role`."""
    dtype = np.dtype(dtype)
    size = math.prod(shape)
    if size * dtype.itemsize > SCRATCH_LIMIT:
        return np.empty(shape, dtype)
    if not hasattr(_scratch, "buffers"):
        _scratch.buffers = {}
    buf = _scratch.buffers.get((role, dtype))
    if buf is None or buf.size < size:
        buf = _scratch.buffers[(role, dtype)] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


OUTPUT_MIN_BYTES = 128 * 2**10   # smaller arrays come cheaply from malloc's own pools
BIN_LIMIT = 512 * 2**20          # bytes the bin may hold; past that, fresh arrays
_bin = defaultdict(list)         # size in bytes -> arrays of that size (uint8)
_bin_bytes = 0
_bin_lock = threading.Lock()


def output(shape, dtype) -> np.ndarray:
    """An uninitialised array for an op's output, recycled from the bin if it can be."""
    global _bin_bytes
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < OUTPUT_MIN_BYTES:
        return np.empty(shape, dtype)
    with _bin_lock:
        same_size = _bin[nbytes]
        for block in same_size:
            # references: the bin's list, `block`, and getrefcount's own argument
            if sys.getrefcount(block) == 3:
                return block.view(dtype).reshape(shape)
        if _bin_bytes + nbytes > BIN_LIMIT:
            _drop_unused(nbytes)  # sizes of an earlier workload make room
        if _bin_bytes + nbytes > BIN_LIMIT:
            return np.empty(shape, dtype)
        block = np.empty(nbytes, np.uint8)
        same_size.append(block)
        _bin_bytes += nbytes
        return block.view(dtype).reshape(shape)


def _drop_unused(nbytes):
    """Free bin arrays nobody holds until `nbytes` more fit (call with _bin_lock held)."""
    global _bin_bytes
    for size, blocks in _bin.items():
        i = 0
        while i < len(blocks) and _bin_bytes + nbytes > BIN_LIMIT:
            if sys.getrefcount(blocks[i]) == 2:  # the list's, and getrefcount's argument
                del blocks[i]
                _bin_bytes -= size
            else:
                i += 1


def unshared(a: np.ndarray) -> bool:
    """Is `a` held by its caller alone (one reference), with no other array using its
    memory? It must own its memory, or be the only view of an array nobody else holds
    (a block of the bin counts as held by no one). Reference counts say so."""
    if sys.getrefcount(a) != 3:  # the caller's reference, this call's, getrefcount's
        return False
    base = a.base
    if base is None:
        return True
    if not isinstance(base, np.ndarray) or base.base is not None:
        return False
    with _bin_lock:
        binned = any(block is base for block in _bin.get(base.nbytes, ()))
    # references to base: a.base, `base` here, getrefcount's argument (and the bin's)
    return sys.getrefcount(base) == 3 + binned
