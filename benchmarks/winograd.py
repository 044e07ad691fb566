"""A Winograd F(2x2, 3x3) convolution: a prototype, measured against im2col + GEMM
(benchmarks/bench_winograd.py). Not part of minidl: it did not pay (README,
"Performance").

Winograd's minimal filtering (Lavin & Gray, 2016) computes a 2x2 block of outputs of
a 3x3 convolution from the 4x4 input tile d that covers it with 16 multiplications
instead of 36:

    Y = A^T [ (G w G^T) * (B^T d B) ] A          (* elementwise, 4x4)

        B^T = [1  0 -1  0]     G = [1    0    0 ]     A^T = [1  1  1  0]
              [0  1  1  0]         [1/2  1/2  1/2]           [0  1 -1 -1]
              [0 -1  1  0]         [1/2 -1/2  1/2]
              [0  1  0 -1]         [0    0    1 ]

Summed over input channels c, the elementwise product becomes, for each of the 16
positions k of the 4x4 tile, one matrix product over c:

    M[k] (O, T) = U[k] (O, C) @ V[k] (C, T)      U = G w G^T,  V = B^T d B

with one column per tile t = (n, tile row, tile column). So a convolution is: an input
transform (a kernel), 16 matrix products (numpy, batched), an output transform (a
kernel, which also adds the bias and writes NCHW directly).

Only for 3x3 kernels, stride 1, dilation 1, no groups. The input gradient of such a
convolution is another one: conv_transpose2d(g, w) = conv2d(g, w', padding 2 - p) with
w'[c, o, i, j] = w[o, c, 2 - i, 2 - j] (the kernel flipped, in and out swapped).
"""
from __future__ import annotations

import numpy as np

from minidl.kernels import gemm, kernel, output, prange, scratch, threads

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])


def tiles(size):
    """Number of 2-wide output tiles along an axis of `size` outputs."""
    return (size + 1) // 2


@kernel(parallel=True)
def input_transform(x, padding, TH, TW, V):
    """x (N, C, H, W) -> V (16, C, N*TH*TW): V[:, c, t] = B^T d B for each 4x4 tile d
    (zero outside the image), tile t = (n, th, tw) starting at input row 2*th - p."""
    N, C, H, W = x.shape
    p = padding
    zero = x.dtype.type(0)
    for c in prange(C):
        d = np.empty((4, 4), x.dtype)
        for n in range(N):
            for th in range(TH):
                for tw in range(TW):
                    for i in range(4):
                        h = 2 * th - p + i
                        for j in range(4):
                            w = 2 * tw - p + j
                            d[i, j] = x[n, c, h, w] if 0 <= h < H and 0 <= w < W else zero
                    t = (n * TH + th) * TW + tw
                    for j in range(4):            # rows: B^T d, column j
                        r0 = d[0, j] - d[2, j]
                        r1 = d[1, j] + d[2, j]
                        r2 = d[2, j] - d[1, j]
                        r3 = d[1, j] - d[3, j]
                        d[0, j], d[1, j], d[2, j], d[3, j] = r0, r1, r2, r3
                    for i in range(4):            # columns: (B^T d) B, row i
                        V[4 * i + 0, c, t] = d[i, 0] - d[i, 2]
                        V[4 * i + 1, c, t] = d[i, 1] + d[i, 2]
                        V[4 * i + 2, c, t] = d[i, 2] - d[i, 1]
                        V[4 * i + 3, c, t] = d[i, 1] - d[i, 3]


@kernel(parallel=True)
def output_transform(M, bias, TH, TW, y):
    """M (16, O, N*TH*TW) -> y (N, O, OH, OW): each tile's 2x2 outputs A^T m A, plus
    the bias (the tiles at the bottom/right edge may hang over: those outputs drop)."""
    N, O, OH, OW = y.shape
    for o in prange(O):
        for n in range(N):
            for th in range(TH):
                for tw in range(TW):
                    t = (n * TH + th) * TW + tw
                    s00 = s01 = s10 = s11 = bias[o]
                    for j in range(4):            # A^T m: two rows, then A: two columns
                        a = M[j, o, t] + M[4 + j, o, t] + M[8 + j, o, t]
                        b = M[4 + j, o, t] - M[8 + j, o, t] - M[12 + j, o, t]
                        if j < 3:
                            s00 += a
                            s10 += b
                        if j > 0:
                            sign = 1 if j == 1 else -1
                            s01 += sign * a
                            s11 += sign * b
                    h, w = 2 * th, 2 * tw
                    y[n, o, h, w] = s00
                    if w + 1 < OW:
                        y[n, o, h, w + 1] = s01
                    if h + 1 < OH:
                        y[n, o, h + 1, w] = s10
                        if w + 1 < OW:
                            y[n, o, h + 1, w + 1] = s11


def weight_transform(w):
    """w (O, C, 3, 3) -> U (16, O, C), U[:, o, c] = G w[o, c] G^T (flattened 4x4)."""
    U = G @ w.astype(np.float64) @ G.T                  # (O, C, 4, 4)
    return np.ascontiguousarray(U.reshape(*w.shape[:2], 16).transpose(2, 0, 1),
                                dtype=w.dtype)


def batched_matmul(U, V, M):
    """M[k] = U[k] @ V[k] for the 16 k, half of them on minidl's helper thread."""
    with threads.blas_single_thread():
        if threads.num_threads() > 1:
            gemm._on_helpers([(U[:8], V[:8], M[:8]), (U[8:], V[8:], M[8:])])
        else:
            np.matmul(U, V, out=M)
    return M


def conv2d(x, w, bias, padding, U=None):
    """conv2d(x, w, bias, padding) for a 3x3 kernel, stride 1 (see the docstring)."""
    N, C, H, W = x.shape
    O = w.shape[0]
    OH, OW = H + 2 * padding - 2, W + 2 * padding - 2
    TH, TW = tiles(OH), tiles(OW)
    V = scratch("winograd V", (16, C, N * TH * TW), x.dtype)
    threads.run_kernel(input_transform, V.size, np.ascontiguousarray(x), padding, TH, TW,
                       V)
    M = batched_matmul(weight_transform(w) if U is None else U, V,
                       scratch("winograd M", (16, O, N * TH * TW), x.dtype))
    y = output((N, O, OH, OW), x.dtype)
    b = bias if bias is not None else np.zeros(O, x.dtype)
    threads.run_kernel(output_transform, y.size, M, b, TH, TW, y)
    return y


def conv_transpose2d(g, w, padding):
    """The input gradient of conv2d(x, w, padding=p): conv2d(g, w', padding 2 - p)."""
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    return conv2d(g, flipped, None, 2 - padding)
