"""Kernels: the loops numpy has no fast primitive for, plus the memory and threads they use.

    compile.py      `@kernel`: compile a plain Python loop with Numba -- or not
                    (MINIDL_JIT=0), to step through it in a debugger
    im2col.py       convolution as one matrix product: im2col, col2im, layouts
    pool.py         max and average pooling, their window arithmetic and scatters
    interpolate.py  bilinear resampling and its adjoint
    grid_sample.py  reading an image at fractional positions, and its transpose
    select.py       sorting and selection with PyTorch's order among ties
    special.py      erf
    optim.py        the optimizers' fused one-pass updates
    threads.py      how the kernels and the matrix products share the cores;
                    `run_kernel`
    gemm.py         matrix products (GEMMs) split over minidl's threads
    memory.py       scratch buffers and recycled output arrays

Kernels never check their arguments: the Python layer that calls them (minidl/ops,
minidl/optim) owns shapes, dtypes and error messages. Each takes contiguous arrays
and writes into an output array it is given.
"""
from .compile import JIT, kernel, prange
from .threads import threads_for, run_kernel
from .gemm import matmul
from .memory import scratch, output

__all__ = ["JIT", "kernel", "prange", "threads_for", "run_kernel", "matmul", "scratch", "output"]
