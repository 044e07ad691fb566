"""ReLU and LeakyReLU, and their gradients, as one-pass loops; and sigmoid's last pass.

numpy would compute ReLU's backward as g * (y > 0): one pass to build the mask, a
second for the product (and its temporaries). These loops make one pass each and
allocate nothing (ReLU's forward writes its gradient's mask as it goes: one byte per
value for backward to read instead of the four of y); they also keep PyTorch's rules at the edges: relu(NaN) = NaN, and
ReLU's gradient is exactly 0 where it is off, even when g is infinite.
Arrays are flat and contiguous, of one floating dtype; `slope` is in that dtype.
"""
from .compile import kernel, prange


@kernel(parallel=True)
def relu(x, out, on):
    """out = max(x, 0), with NaN kept; and on = where ReLU's gradient flows: x > 0,
    or x NaN (not x <= 0 holds for both), as a boolean mask."""
    for i in prange(x.shape[0]):
        on[i] = not x[i] <= 0
        out[i] = x[i] if on[i] else 0


@kernel(parallel=True)
def leaky_relu(x, slope, out):
    """out = x where x > 0, else slope * x."""
    for i in prange(x.shape[0]):
        out[i] = x[i] if x[i] > 0 else x[i] * slope


@kernel(parallel=True)
def relu_grad(g, y, out):
    """ReLU's gradient, PyTorch's test: out = 0 where y <= 0, else g -- so exactly 0
    where ReLU is off (even for an infinite g), and g where y is NaN. y may also be
    relu's boolean mask (False <= 0)."""
    for i in prange(g.shape[0]):
        out[i] = 0 if y[i] <= 0 else g[i]


@kernel(parallel=True)
def leaky_relu_grad(g, x, slope, out):
    """LeakyReLU's gradient: out = g where x > 0, else slope * g (NaN x: slope * g)."""
    for i in prange(g.shape[0]):
        out[i] = g[i] if x[i] > 0 else g[i] * slope


@kernel(parallel=True)
def sigmoid_from_exp(x, e, out):
    """out = sigmoid(x) given e = e^-|x| (numpy's vectorised exp computes that):
    1 / (1 + e) where x >= 0, e / (1 + e) elsewhere -- neither overflows."""
    one = e.dtype.type(1)
    for i in prange(x.shape[0]):
        out[i] = one / (one + e[i]) if x[i] >= 0 else e[i] / (one + e[i])
