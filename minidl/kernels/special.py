"""Special functions numpy lacks, as elementwise kernels."""
import math

import numpy as np

from .compile import kernel, prange
from .memory import output
from .threads import run_kernel


@kernel(parallel=True)
def erf_loop(x, out):
    """out[i] = erf(x[i]) for flat arrays, erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt."""
    for i in prange(x.shape[0]):
        out[i] = math.erf(x[i])


def erf(x: np.ndarray) -> np.ndarray:
    """The error function of every element of a float32 or float64 array."""
    x = np.asarray(x, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    out = output(x.shape, x.dtype)
    run_kernel(erf_loop, x.size, x.reshape(-1), out.reshape(-1))
    return out
