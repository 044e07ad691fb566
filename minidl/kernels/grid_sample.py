"""Grid-sampling kernels: read an image at arbitrary (fractional) pixel coordinates,
and the transpose of that read (scatter values back to the pixels).

Shapes: images (N, C, H, W); coordinates s (N, P, 2) holding, for each of the P
points of image n, the source position (column sx, row sy) in pixels (pixel (i, j)
has its centre at sx = j, sy = i); values at the points (N, C, P).

Bilinear reading uses the 4 pixels around s, with fx = sx - floor(sx) and
fy = sy - floor(sy):

    value = sum over a, b in {0, 1} of  wx_a(fx) * wy_b(fy) * image[floor(sy) + b, floor(sx) + a]
    wx_0 = 1 - fx,  wx_1 = fx         (and the same along y)

A pixel outside the image reads as 0. The weights are linear in fx, so their
derivatives along x are wx_0' = -1, wx_1' = +1 and every higher one is 0. The kernels
take the derivative order along each axis (order_x, order_y in {0, 1}) and use
w^(order) instead of w: order (0, 0) is the sampling itself, (1, 0) is d value / d sx,
(1, 1) the mixed second derivative. One kernel thus gives every derivative of the
interpolated image (minidl/ops/spatial.py builds the gradients out of it).

Nearest reading copies the one pixel at (rint(sy), rint(sx)) (rounding half to even,
as PyTorch); its derivatives in s are 0, so only order (0, 0) exists.

Bicubic reading uses the 4x4 pixels around s (offsets -1, 0, 1, 2 from the floor)
with Keys' cubic convolution weights (A = -0.75, as PyTorch): along x, with fx as
above, tap a in 0..3 sits at distance d = |fx - (a - 1)| and weighs
    k(d) = (A + 2) d^3 - (A + 3) d^2 + 1          for d <= 1
    k(d) = A d^3 - 5 A d^2 + 8 A d - 4 A          for 1 < d < 2
Its derivatives in fx are nonzero up to order 3. Unlike bilinear, bicubic applies the
padding to each tap's pixel index (PyTorch's rule): zeros -> outside reads 0,
border -> the index is clipped, reflection -> mirrored, then clipped.

Reading is linear in the image, so its transpose (what backward needs) visits the
same taps with the same weights and writes instead of reads:
    transpose=False  values[n, c, p]     += w * image[n, c, tap]    (image -> values)
    transpose=True   image[n, c, tap]    += w * values[n, c, p]     (values -> image)
Each kernel does both: the loop is one, only the direction of the copy flips. The
array written is zeroed first.

Coordinates outside (-2, size + 1) touch nothing: no tap of such a point can fall
inside the image. A NaN or infinite coordinate reads NaN in bilinear sampling (as
PyTorch: its weights are NaN) and 0 in nearest sampling; the transposes skip it.
The loops run in parallel over images (prange over n): each image writes only its
own output, so the scatter needs no locks.
"""
import numpy as np
from .compile import kernel, prange


@kernel
def axis_weight(frac, tap, order):
    """Weight of the lower (tap 0) or upper (tap 1) neighbour along one axis, for a
    point at fraction `frac` between them; or its first derivative (order 1)."""
    if order == 0:
        return frac if tap == 1 else 1.0 - frac
    if order == 1:
        return 1.0 if tap == 1 else -1.0
    return 0.0


@kernel
def _outside(sx, sy, H, W):
    """True when no tap around (sx, sy) can touch the image (also for NaN)."""
    return not (-2.0 < sx < W + 1.0 and -2.0 < sy < H + 1.0)


@kernel
def _clear(image, values, n, transpose):
    """Zero image n of the array this pass writes."""
    if transpose:
        image[n] = 0
    else:
        values[n] = 0


@kernel(inline=True)
def _nan_point(values, n, p, sx, sy, transpose):
    """True for a NaN or infinite coordinate: a reading gives NaN there, a transpose
    skips it."""
    if np.isfinite(sx) and np.isfinite(sy):
        return False
    if not transpose:
        values[n, :, p] = np.nan
    return True


@kernel(inline=True)  # inlined into the loops: no call per tap
def _tap(image, values, n, p, row, col, w, transpose):
    """One tap, every channel: values[n, :, p] += w * image[n, :, row, col], or the
    transpose image[n, :, row, col] += w * values[n, :, p]."""
    for c in range(image.shape[1]):
        if transpose:
            image[n, c, row, col] += w * values[n, c, p]
        else:
            values[n, c, p] += w * image[n, c, row, col]


@kernel(parallel=True)
def bilinear(image, values, s, order_x, order_y, transpose):
    """Bilinear reading with weights w^(order): image -> values, or (transpose)
    values -> image (module docstring)."""
    N, _, H, W = image.shape
    P = s.shape[1]
    for n in prange(N):
        _clear(image, values, n, transpose)
        for p in range(P):
            sx, sy = s[n, p, 0], s[n, p, 1]
            if _nan_point(values, n, p, sx, sy, transpose):
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
                    _tap(image, values, n, p, row, col, wy * axis_weight(fx, a, order_x),
                         transpose)


@kernel(parallel=True)
def nearest(image, values, s, transpose):
    """Nearest reading, values[n, c, p] = image[n, c, rint(sy), rint(sx)] (0 outside
    the image), or (transpose) the values added back to those pixels."""
    N, _, H, W = image.shape
    P = s.shape[1]
    for n in prange(N):
        _clear(image, values, n, transpose)
        for p in range(P):
            sx, sy = s[n, p, 0], s[n, p, 1]
            if _outside(sx, sy, H, W):
                continue
            col, row = int(np.rint(sx)), int(np.rint(sy))
            if 0 <= row < H and 0 <= col < W:
                _tap(image, values, n, p, row, col, 1.0, transpose)


@kernel
def cubic_weight(frac, tap, order):
    """Weight of tap 0..3 (offset tap - 1 from the floor) for a point at fraction
    `frac`, or its derivative of order 1..3 in frac (Keys' kernel, A = -0.75)."""
    A = -0.75
    d = frac + 1.0 - tap if tap < 2 else tap - 1.0 - frac    # distance, >= 0
    sign = 1.0 if tap < 2 else -1.0                          # d(d)/d(frac)
    if tap == 1 or tap == 2:  # d <= 1: (A + 2) d^3 - (A + 3) d^2 + 1
        c3, c2, c1, c0 = A + 2.0, -(A + 3.0), 0.0, 1.0
    else:                     # 1 < d < 2: A d^3 - 5A d^2 + 8A d - 4A
        c3, c2, c1, c0 = A, -5.0 * A, 8.0 * A, -4.0 * A
    if order == 0:
        return ((c3 * d + c2) * d + c1) * d + c0
    if order == 1:
        return sign * ((3.0 * c3 * d + 2.0 * c2) * d + c1)
    if order == 2:
        return 6.0 * c3 * d + 2.0 * c2
    if order == 3:
        return sign * 6.0 * c3
    return 0.0


@kernel
def padded_index(x, size, padding, align_corners):
    """The pixel a tap at whole-number position x (a float: it may be huge) reads:
    padding 0 (zeros: -1 when outside, meaning "reads 0"), 1 (border: clipped), 2
    (reflection: mirrored at the edges -- at -0.5 and size - 0.5, or 0 and size - 1
    with align_corners -- then clipped)."""
    if padding == 0:
        return int(x) if 0 <= x < size else -1
    if padding == 2:
        low, span = (0.0, size - 1.0) if align_corners else (-0.5, float(size))
        if span <= 0:
            return 0
        x = abs(x - low)
        extra = x - np.trunc(x / (2 * span)) * 2 * span
        x = min(extra, 2 * span - extra) + low
    return int(min(max(x, 0.0), size - 1.0))


@kernel(parallel=True)
def bicubic(image, values, s, order_x, order_y, transpose, padding, align_corners):
    """Bicubic reading with weights k^(order) and per-tap padding: image -> values,
    or (transpose) values -> image (module docstring)."""
    N, _, H, W = image.shape
    P = s.shape[1]
    for n in prange(N):
        _clear(image, values, n, transpose)
        for p in range(P):
            sx, sy = s[n, p, 0], s[n, p, 1]
            if _nan_point(values, n, p, sx, sy, transpose):
                continue
            if padding == 0 and not (-3.0 < sx < W + 2.0 and -3.0 < sy < H + 2.0):
                continue  # every tap outside: reads 0
            x0, y0 = np.floor(sx), np.floor(sy)
            fx, fy = sx - x0, sy - y0
            for b in range(4):
                row = padded_index(y0 + (b - 1), H, padding, align_corners)
                if row < 0:
                    continue
                wy = cubic_weight(fy, b, order_y)
                for a in range(4):
                    col = padded_index(x0 + (a - 1), W, padding, align_corners)
                    if col < 0:
                        continue
                    _tap(image, values, n, p, row, col, wy * cubic_weight(fx, a, order_x),
                         transpose)
