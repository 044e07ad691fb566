"""Grid-sampling kernels: read an image at arbitrary (fractional) pixel coordinates,
and the transpose of that read (scatter the gradient back to the pixels).

Shapes: images x (N, C, H, W); coordinates s (N, P, 2) holding, for each of the P
output points of image n, the source position (column sx, row sy) in pixels (pixel
(i, j) has its centre at sx = j, sy = i); outputs (N, C, P).

Bilinear reading uses the 4 pixels around s, with fx = sx - floor(sx) and
fy = sy - floor(sy):

    out = sum over a, b in {0, 1} of  wx_a(fx) * wy_b(fy) * x[floor(sy) + b, floor(sx) + a]
    wx_0 = 1 - fx,  wx_1 = fx         (and the same along y)

A pixel outside the image reads as 0. The weights are linear in fx, so their
derivatives along x are wx_0' = -1, wx_1' = +1 and every higher one is 0. The kernels
take the derivative order along each axis (order_x, order_y in {0, 1}) and use
w^(order) instead of w: order (0, 0) is the sampling itself, (1, 0) is d out / d sx,
(1, 1) the mixed second derivative. One kernel thus gives every derivative of the
interpolated image (minidl/ops/spatial.py builds the gradients out of it).

Nearest reading copies the one pixel at (rint(sy), rint(sx)) (rounding half to even,
as PyTorch); its derivatives in s are 0, so only order (0, 0) exists.

Coordinates outside (-2, size + 1) read nothing (output 0): no tap of such a point
can fall inside the image. A NaN or infinite coordinate gives NaN in bilinear
sampling (as PyTorch: its weights are NaN) and 0 in nearest sampling; the scatters
skip it. The loops run in parallel over images (prange
over n): each image writes only its own output, so the scatter needs no locks.
"""
import numpy as np
from numba import njit, prange


@njit(cache=True)
def axis_weight(frac, tap, order):
    """Weight of the lower (tap 0) or upper (tap 1) neighbour along one axis, for a
    point at fraction `frac` between them; or its first derivative (order 1)."""
    if order == 0:
        return frac if tap == 1 else 1.0 - frac
    if order == 1:
        return 1.0 if tap == 1 else -1.0
    return 0.0


@njit(cache=True)
def _outside(sx, sy, H, W):
    """True when no tap around (sx, sy) can touch the image (also for NaN)."""
    return not (-2.0 < sx < W + 1.0 and -2.0 < sy < H + 1.0)


@njit(parallel=True, cache=True)
def sample_bilinear(x, s, order_x, order_y, out):
    """out[n, c, p] = sum over the 4 taps of w^(order) * x[n, c, tap] (out zeroed here)."""
    N, C, H, W = x.shape
    P = s.shape[1]
    for n in prange(N):
        out[n] = 0
        for p in range(P):
            sx, sy = s[n, p, 0], s[n, p, 1]
            if not (np.isfinite(sx) and np.isfinite(sy)):
                out[n, :, p] = np.nan
                continue
            if _outside(sx, sy, H, W):
                continue
            x0, y0 = np.floor(sx), np.floor(sy)
            fx, fy = sx - x0, sy - y0
            for b in range(2):
                row = int(y0) + b
                if row < 0 or row >= H:
                    continue
                wy = axis_weight(fy, b, order_y)
                for a in range(2):
                    col = int(x0) + a
                    if col < 0 or col >= W:
                        continue
                    w = wy * axis_weight(fx, a, order_x)
                    for c in range(C):
                        out[n, c, p] += w * x[n, c, row, col]


@njit(parallel=True, cache=True)
def scatter_bilinear(g, s, order_x, order_y, out):
    """The transpose of sample_bilinear: out[n, c, tap] += w^(order) * g[n, c, p] for
    every point p and each of its 4 taps (out (N, C, H, W) is zeroed here)."""
    N, C, H, W = out.shape
    P = s.shape[1]
    for n in prange(N):
        out[n] = 0
        for p in range(P):
            sx, sy = s[n, p, 0], s[n, p, 1]
            if _outside(sx, sy, H, W):
                continue
            x0, y0 = np.floor(sx), np.floor(sy)
            fx, fy = sx - x0, sy - y0
            for b in range(2):
                row = int(y0) + b
                if row < 0 or row >= H:
                    continue
                wy = axis_weight(fy, b, order_y)
                for a in range(2):
                    col = int(x0) + a
                    if col < 0 or col >= W:
                        continue
                    w = wy * axis_weight(fx, a, order_x)
                    for c in range(C):
                        out[n, c, row, col] += w * g[n, c, p]


@njit(parallel=True, cache=True)
def sample_nearest(x, s, out):
    """out[n, c, p] = x[n, c, rint(sy), rint(sx)], or 0 outside the image."""
    N, C, H, W = x.shape
    P = s.shape[1]
    for n in prange(N):
        out[n] = 0
        for p in range(P):
            sx, sy = s[n, p, 0], s[n, p, 1]
            if _outside(sx, sy, H, W):
                continue
            col, row = int(np.rint(sx)), int(np.rint(sy))
            if 0 <= row < H and 0 <= col < W:
                for c in range(C):
                    out[n, c, p] = x[n, c, row, col]


@njit(parallel=True, cache=True)
def scatter_nearest(g, s, out):
    """The transpose of sample_nearest: out[n, c, rint(sy), rint(sx)] += g[n, c, p]."""
    N, C, H, W = out.shape
    P = s.shape[1]
    for n in prange(N):
        out[n] = 0
        for p in range(P):
            sx, sy = s[n, p, 0], s[n, p, 1]
            if _outside(sx, sy, H, W):
                continue
            col, row = int(np.rint(sx)), int(np.rint(sy))
            if 0 <= row < H and 0 <= col < W:
                for c in range(C):
                    out[n, c, row, col] += g[n, c, p]
