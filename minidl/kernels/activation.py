"""ReLU and LeakyReLU as one-pass loops, with the gradient mask that both share.

numpy would compute ReLU's backward as g * (y > 0): one pass to build the mask, a
second for the product (and its temporaries). These loops make one pass each and
allocate nothing; they also keep PyTorch's rules at the edges: relu(NaN) = NaN, and
the gradient is exactly 0 where ReLU is off, even when g is infinite.
Arrays are flat and contiguous, of one floating dtype; `slope` is in that dtype.
"""
from .compile import kernel, prange


@kernel(parallel=True)
def relu(x, out):
    """out = max(x, 0), with NaN kept (not (NaN <= 0) holds)."""
    for i in prange(x.shape[0]):
        out[i] = 0 if x[i] <= 0 else x[i]


@kernel(parallel=True)
def leaky_relu(x, slope, out):
    """out = x where x > 0, else slope * x."""
    for i in prange(x.shape[0]):
        out[i] = x[i] if x[i] > 0 else x[i] * slope


@kernel(parallel=True)
def slope_mask(g, ref, slope, out):
    """out = g where ref > 0, else slope * g -- exactly 0 when slope is 0 (ReLU)."""
    for i in prange(g.shape[0]):
        if ref[i] > 0:
            out[i] = g[i]
        elif slope == 0:
            out[i] = 0
        else:
            out[i] = g[i] * slope
