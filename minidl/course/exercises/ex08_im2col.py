"""Exercise 8: im2col and col2im, as plain loops.

A convolution slides a (C, KH, KW) window over the image. im2col copies the window
each output pixel (n, oh, ow) sees into one column:

    cols[c, i, j, n, oh, ow] = x[n, c, oh*s - p + i, ow*s - p + j]   (0 in the padding)
    OH = (H + 2p - KH) // s + 1,  OW = (W + 2p - KW) // s + 1
returned as a matrix (C*KH*KW, N*OH*OW). col2im is its adjoint (transpose): every
column entry is ADDED back to the pixel it came from -- windows overlap, and a pixel
seen by several windows collects all their contributions:

    x[n, c, oh*s - p + i, ow*s - p + j] += cols[c, i, j, n, oh, ow]

The check: hypothesis draws small geometries (N, C, H, W, kernel, stride, padding);
im2col against minidl's Numba kernel; the adjoint identity
<im2col(x), cols> == <x, col2im(cols)> for random x and cols (this is what makes
col2im the input gradient of a convolution).

Hint: write the six loops first with a bounds check `0 <= h < H and 0 <= w < W`;
reshape the (C, KH, KW, N, OH, OW) array at the end.
"""
import numpy as np  # noqa: F401


def im2col(x, kh, kw, stride=1, padding=0):
    """x (N, C, H, W) numpy array -> cols (C*kh*kw, N*OH*OW)."""
    raise NotImplementedError


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """cols (C*kh*kw, N*OH*OW) -> x (N, C, H, W) = x_shape, contributions added."""
    raise NotImplementedError
