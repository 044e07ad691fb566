"""How a kernel is compiled: by Numba, or not at all (plain Python you can step through).

Every kernel in this folder is an ordinary Python function of loops over numpy arrays,
marked with `@kernel` -- or `@kernel(parallel=True)` when its outer loop is a `prange`,
whose iterations are independent and may run on several threads:

    @kernel(parallel=True)
    def add_one(x, out):
        for i in prange(x.shape[0]):
            out[i] = x[i] + 1

With Numba, `kernel` compiles the function to machine code the first time it is called
(and caches that on disk, so later runs load it), and `prange` splits its loop over
Numba's threads. A parallel kernel is compiled twice: as written, and as `.serial`,
the same loops on the calling thread only (prange read as range) -- for small work,
where waking the other threads would cost more than the loop (see threads.py).

Without Numba the same function runs as it is written, with `prange` meaning `range`:
hundreds of times slower, but it is the very code you read, so you can put a
breakpoint in im2col and watch it fill the matrix. That happens when

  * the environment variable MINIDL_JIT=0 is set before minidl is imported (minidl's
    switch), or Numba's own NUMBA_DISABLE_JIT=1; or
  * numba cannot be imported at all (not installed, or broken): minidl then still
    works, slowly.

`JIT` says which of the two is in force.
"""
from __future__ import annotations

import os
import types

try:
    import numba
except Exception:  # not installed, or installed against another numpy/llvmlite
    numba = None

JIT = (numba is not None and os.environ.get("MINIDL_JIT", "1") != "0"
       and not numba.config.DISABLE_JIT)

prange = numba.prange if JIT else range  # a loop whose iterations may run in parallel


def kernel(function=None, *, parallel: bool = False, inline: bool = False):
    """Compile `function` with Numba (see the module docstring), or leave it as it is.
    Use as `@kernel`, `@kernel(parallel=True)`, or `@kernel(inline=True)` for a small
    helper that Numba should paste into the loops that call it (no call per use)."""
    if function is None:
        return lambda f: kernel(f, parallel=parallel, inline=inline)
    if not JIT:
        function.serial = function
        return function
    # error_model="numpy": a float division by zero gives inf or NaN, as numpy's
    # formula (and the plain-Python kernel, on numpy numbers) would, instead of
    # raising -- which also lets LLVM vectorise the loops that divide (Adam's update)
    compiled = numba.njit(parallel=parallel, cache=True, error_model="numpy",
                          inline="always" if inline else "never")(function)
    compiled.serial = (numba.njit(cache=True, error_model="numpy")(_twin(function))
                       if parallel else compiled)
    return compiled


def _twin(function):
    """A copy of `function` under its own name, so that Numba caches the serial build
    apart from the parallel one (its cache files are named after the function)."""
    twin = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)
    twin.__qualname__ = function.__qualname__ + "_serial"
    return twin
