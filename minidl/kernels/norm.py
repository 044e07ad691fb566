"""Batch normalization's backward as one kernel: two passes over x and g per channel.

ops/normalization.py writes the backward of batch_norm (training mode) in Tensor ops,
so autograd can differentiate it again. That takes a dozen whole-array steps (center
x, scale it, two products, two sums, three more steps for dL/dx), each writing a fresh
array as big as x. When no second derivative is wanted, this loop computes the same
formula reading x and g twice and writing dL/dx once.

x, g and gx are (N, C, S): batch, channel, and every spatial position flattened (S = 1
for (N, C) inputs); mean, rstd and scale are per channel. Sums are accumulated in
float64.
"""
from .compile import kernel, prange


@kernel(parallel=True)
def batch_norm_backward(g, x, mean, rstd, scale, gx, sum_g, sum_g_xhat, want_gx):
    """Per channel c, over its m = N * S values, with x_hat = (x - mean[c]) * rstd[c]:

        sum_g[c] = sum(g)             (dL/dbias)
        sum_g_xhat[c] = sum(g x_hat)  (dL/dweight)
        gx = scale[c] * (g - sum_g / m - x_hat * sum_g_xhat / m)   if want_gx
    with scale = weight * rstd (rstd alone without a weight)."""
    N, C, S = x.shape
    m = N * S
    for c in prange(C):
        total, total_xhat = 0.0, 0.0
        for n in range(N):
            for s in range(S):
                total += g[n, c, s]
                total_xhat += g[n, c, s] * ((x[n, c, s] - mean[c]) * rstd[c])
        sum_g[c], sum_g_xhat[c] = total, total_xhat
        if want_gx:
            shift, slope = total / m, total_xhat / m
            for n in range(N):
                for s in range(S):
                    x_hat = (x[n, c, s] - mean[c]) * rstd[c]
                    gx[n, c, s] = scale[c] * (g[n, c, s] - shift - x_hat * slope)
