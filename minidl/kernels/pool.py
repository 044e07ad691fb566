"""Pooling kernels: max pooling (value and arg-max in one pass) and its gradient scatter,
unpooling's scatter, window means and their adjoint -- with the window arithmetic they
consume.

Every array is a stack of planes, shape (P, H, W) with P = N * C; each plane is
independent, so the loops run in parallel over planes (prange). The windows are the
same in every plane and are described per axis by `window_taps` below: along H,
window oh covers the rows h_first[oh] + a * dh for a in range(h_count[oh]), i.e. only
its taps that fall inside the input (padding is skipped, which is the same as padding
max pooling with -inf and sums with 0); likewise along W. So the loops need no bounds
checks. The plain, bounds-checked loop they replace, for one output of max pooling:

    best, index = -inf, (oh*sH - pH) * W + (ow*sW - pW)
    for i in range(KH):
        for j in range(KW):
            h, w = oh*sH - pH + i*dH, ow*sW - pW + j*dW
            if 0 <= h < H and 0 <= w < W and takes_over(x[h, w], best):
                best, index = x[h, w], h * W + w

(tests/test_pooling.py runs that loop as the reference every kernel is checked against.)
"""
import functools

import numpy as np

from .compile import kernel, prange


# ------------------------------------------------------------------ window arithmetic
@functools.lru_cache(maxsize=256)  # (the same few geometries come back every step)
def window_taps(size, kernel_size, stride, padding, dilation, n_out):
    """Along one axis: window o has taps start + i * dilation (i < kernel_size) with
    start = o * stride - padding. Returns each window's first tap inside the input and
    how many of its taps are inside (int64 arrays of length n_out)."""
    start = np.arange(n_out) * stride - padding
    lo = (np.maximum(-start, 0) + dilation - 1) // dilation    # taps before index 0
    hi = np.minimum(kernel_size, (size - start + dilation - 1) // dilation)
    return start + lo * dilation, np.maximum(hi - lo, 0)


def padded_length(size, kernel_size, stride, padding, n_out):
    """Window lengths counting zero padding, but cut where the padding ends (a
    ceil_mode window can reach past it), as PyTorch's count_include_pad divisor."""
    start = np.arange(n_out) * stride - padding
    return np.minimum(start + kernel_size, size + padding) - start


def adaptive_taps(size, n_out):
    """Windows that give exactly n_out outputs along an axis of length `size`: window i
    covers [floor(i size / n_out), ceil((i + 1) size / n_out)), as PyTorch. Returns
    (first, count) as window_taps does."""
    i = np.arange(n_out)
    start, end = i * size // n_out, -((-(i + 1) * size) // n_out)  # floor, ceil
    return start, end - start


# ------------------------------------------------------------------ max pooling
@kernel
def takes_over(v, best):
    """PyTorch's rule for the running maximum of a window: v replaces the best so far
    if it is larger -- so of equal values the first one scanned wins -- or if it is
    NaN -- so a NaN wins over any number, and of several NaNs the last one does."""
    return v > best or v != v


@kernel(parallel=True)
def max_pool2d_forward(x, h_first, h_count, dh, w_first, w_count, dw, out, argmax,
                       lowest):
    """out[p, oh, ow] = max of the window; argmax[p, oh, ow] = its flat index h * W + w.

    A window with no tap inside the input (possible only with dilation) gives
    `lowest` (-inf, or the integer dtype's minimum) at the index of its first tap."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for p in prange(P):
        for oh in range(OH):
            for ow in range(OW):
                h0, w0 = h_first[oh], w_first[ow]
                best, best_index = lowest, h0 * W + w0
                for a in range(h_count[oh]):
                    h = h0 + a * dh
                    for b in range(w_count[ow]):
                        w = w0 + b * dw
                        if takes_over(x[p, h, w], best):
                            best, best_index = x[p, h, w], h * W + w
                out[p, oh, ow] = best
                argmax[p, oh, ow] = best_index


@kernel(parallel=True)
def max_pool2x2_forward(x, out, argmax):
    """max_pool2d_forward for the most common windows, 2x2 with stride 2 and every tap
    inside the input (out[p, oh, ow] from the rows 2oh, 2oh+1 and columns 2ow, 2ow+1):
    the same scan order and rule, with the window arithmetic spelled out."""
    P, W = x.shape[0], x.shape[2]
    OH, OW = out.shape[1], out.shape[2]
    for p in prange(P):
        for oh in range(OH):
            h = 2 * oh
            for ow in range(OW):
                w = 2 * ow
                best, best_index = x[p, h, w], h * W + w
                if takes_over(x[p, h, w + 1], best):
                    best, best_index = x[p, h, w + 1], h * W + w + 1
                if takes_over(x[p, h + 1, w], best):
                    best, best_index = x[p, h + 1, w], (h + 1) * W + w
                if takes_over(x[p, h + 1, w + 1], best):
                    best, best_index = x[p, h + 1, w + 1], (h + 1) * W + w + 1
                out[p, oh, ow] = best
                argmax[p, oh, ow] = best_index


@kernel(parallel=True)
def scatter_add_planes(g, index, out):
    """out[p, index[p, k]] += g[p, k] for every k (out is overwritten, not added to).
    An index outside the plane is skipped (see max_pool2d_forward's empty windows)."""
    P, K = g.shape
    size = out.shape[1]
    for p in prange(P):
        out[p, :] = 0
        for k in range(K):
            if 0 <= index[p, k] < size:
                out[p, index[p, k]] += g[p, k]


@kernel(parallel=True)
def scatter_planes(values, index, out):
    """out[p, :] = 0, then out[p, index[p, k]] = values[p, k] for every k in order (a
    later write to the same position wins). The caller checks that indices fit."""
    P, K = values.shape
    for p in prange(P):
        out[p, :] = 0
        for k in range(K):
            out[p, index[p, k]] = values[p, k]


# ------------------------------------------------------------------ average pooling
@kernel(parallel=True)
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


@kernel(parallel=True)
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
