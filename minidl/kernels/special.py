"""Special functions numpy lacks, as compiled elementwise kernels (numba ufuncs)."""
import math

from numba import vectorize


@vectorize(["float32(float32)", "float64(float64)"], cache=True)
def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt."""
    return math.erf(x)
