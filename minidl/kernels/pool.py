"""Pooling kernels: max pooling (value and argmax in one pass), its gradient scatter,
unpooling's scatter, and window means (window sums divided by a divisor) with their
adjoint.

Every array is a stack of planes, shape (P, H, W) with P = N * C; each plane is
independent, so the loops run in parallel over planes (prange). The windows are the
same in every plane and are described per axis by the caller: along H, window oh
covers the rows h_first[oh] + a * dh for a in range(h_count[oh]), i.e. only its taps
that fall inside the input (padding is skipped, which is the same as padding max
pooling with -inf and sums with 0); likewise along W. So the loops need no bounds
checks.
"""
import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def max_pool2d_forward(x, h_first, h_count, dh, w_first, w_count, dw, out, argmax,
                       lowest):
    """out[p, oh, ow] = max of the window; argmax[p, oh, ow] = its flat index h * W + w.

    The first maximum in scan order wins a tie. As in PyTorch a NaN beats anything
    (the last NaN of the window wins; a second scan, run only for windows holding a
    NaN, keeps the main loop lean), and a window with no tap inside the input (only
    possible with dilation) gives `lowest` (-inf, or the integer dtype's minimum) at
    the index of its first tap."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for p in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                h0, w0 = h_first[oh], w_first[ow]
                best, best_index = lowest, h0 * W + w0
                if h_count[oh] > 0 and w_count[ow] > 0:
                    best = x[p, h0, w0]
                has_nan = False
                for a in range(h_count[oh]):
                    h = h0 + a * dh
                    for b in range(w_count[ow]):
                        w = w0 + b * dw
                        v = x[p, h, w]
                        has_nan |= v != v
                        if v > best:
                            best, best_index = v, h * W + w
                if has_nan:
                    for a in range(h_count[oh]):
                        h = h0 + a * dh
                        for b in range(w_count[ow]):
                            w = w0 + b * dw
                            if x[p, h, w] != x[p, h, w]:
                                best, best_index = x[p, h, w], h * W + w
                out[p, oh, ow] = best
                argmax[p, oh, ow] = best_index


@njit(parallel=True, cache=True)
def scatter_add_planes(g, index, out):
    """out[p, index[p, k]] += g[p, k] for every k (out is overwritten, not added to).
    An index outside the plane is skipped (see max_pool2d_forward's -inf windows)."""
    P, K = g.shape
    size = out.shape[1]
    for p in prange(P):
        out[p, :] = 0
        for k in range(K):
            if 0 <= index[p, k] < size:
                out[p, index[p, k]] += g[p, k]


@njit(parallel=True, cache=True)
def scatter_planes(values, index, out):
    """out[p, :] = 0, then out[p, index[p, k]] = values[p, k] for every k in order (a
    later write to the same position wins). The caller checks that indices fit."""
    P, K = values.shape
    for p in prange(P):
        out[p, :] = 0
        for k in range(K):
            out[p, index[p, k]] = values[p, k]


@njit(parallel=True, cache=True)
def box_mean_forward(x, h_first, h_count, w_first, w_count, divisor, out):
    """out[p, oh, ow] = (sum of the window) / divisor[oh, ow]  (windows of step 1)."""
    P = x.shape[0]
    OH, OW = out.shape[1], out.shape[2]
    for p in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                total = 0.0
                for h in range(h_first[oh], h_first[oh] + h_count[oh]):
                    for w in range(w_first[ow], w_first[ow] + w_count[ow]):
                        total += x[p, h, w]
                out[p, oh, ow] = total / divisor[oh, ow]


@njit(parallel=True, cache=True)
def box_mean_adjoint(g, h_first, h_count, w_first, w_count, divisor, out):
    """The transpose of box_mean_forward: each g[p, oh, ow] / divisor[oh, ow] is added
    to every position of its window (out is overwritten, not added to)."""
    P = g.shape[0]
    OH, OW = g.shape[1], g.shape[2]
    for p in prange(P):
        out[p, :, :] = 0
        for oh in range(OH):
            for ow in range(OW):
                share = g[p, oh, ow] / divisor[oh, ow]
                for h in range(h_first[oh], h_first[oh] + h_count[oh]):
                    for w in range(w_first[ow], w_first[ow] + w_count[ow]):
                        out[p, h, w] += share
