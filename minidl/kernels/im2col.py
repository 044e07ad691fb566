"""im2col and col2im: turn a convolution into one matrix multiplication, and back.

A 2-D convolution slides a (C, KH, KW) window over the image. im2col copies, for
every output pixel (n, oh, ow), the window it sees into one column of a matrix:

    cols[c, i, j, n, oh, ow] = x[n, c, oh*sH - pH + i*dH, ow*sW - pW + j*dW]
                               (0 where that index falls in the zero padding)

Viewed as a 2-D matrix of shape (C*KH*KW, N*OH*OW), the convolution with a weight
W of shape (O, C*KH*KW) is then one GEMM:  Y = W @ cols,  Y of shape (O, N*OH*OW).

col2im is im2col's adjoint (its transpose): every column entry is *added* back to
the input pixel it was copied from (windows overlap, so a pixel receives several
contributions). That is exactly the input gradient of the convolution.

Why this layout, (C*KH*KW, N*OH*OW) with the batch inside the columns? It makes each
convolution one big GEMM instead of N small ones, and the two backward GEMMs
(W^T @ dY and dY @ cols^T) big too: a GEMM runs faster the larger its smallest side,
and per image the seed CNN's last convolution has only 3x3 = 9 output pixels.
(benchmarks/bench_conv.py prints the GFLOP/s numpy reaches on each layer's shape.)
The price is one cheap transpose of Y (O, N, OH*OW) -> NCHW (N, O, OH, OW), which
`rows_to_nchw` does while adding the bias.

Kernels take C-contiguous float32/float64 arrays and write into `out`; they never
check their arguments (minidl/ops/conv.py does).
"""
from .compile import kernel, prange


@kernel(parallel=True)
def im2col(x, stride, padding, dilation, out):
    """x (N, C, H, W) -> out (C, KH, KW, N, OH, OW); sizes are read from out's shape."""
    N, C, H, W = x.shape
    KH, KW, OH, OW = out.shape[1], out.shape[2], out.shape[4], out.shape[5]
    sH, sW = stride
    pH, pW = padding
    dH, dW = dilation
    zero = x.dtype.type(0)
    for row in prange(C * KH * KW):       # one row of the matrix = one (c, i, j)
        c, ij = row // (KH * KW), row % (KH * KW)
        i, j = ij // KW, ij % KW
        for n in range(N):
            for oh in range(OH):
                h = oh * sH - pH + i * dH   # input row this output row sees
                for ow in range(OW):
                    w = ow * sW - pW + j * dW
                    if 0 <= h < H and 0 <= w < W:
                        out[c, i, j, n, oh, ow] = x[n, c, h, w]
                    else:                  # inside the zero padding
                        out[c, i, j, n, oh, ow] = zero


@kernel(parallel=True)
def col2im(cols, stride, padding, dilation, out):
    """cols (C, KH, KW, N, OH, OW) -> out (N, C, H, W), *adding* into out (the adjoint
    of im2col: x[n, c, h, w] += cols[c, i, j, n, oh, ow] for the same index map)."""
    N, C, H, W = out.shape
    KH, KW, OH, OW = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    sH, sW = stride
    pH, pW = padding
    dH, dW = dilation
    for plane in prange(C * N):           # each thread owns whole (c, n) planes of
        c, n = plane // N, plane % N      # out: no races; cols is read in its order
        for i in range(KH):
            for j in range(KW):
                for oh in range(OH):
                    h = oh * sH - pH + i * dH
                    if 0 <= h < H:
                        for ow in range(OW):
                            w = ow * sW - pW + j * dW
                            if 0 <= w < W:
                                out[n, c, h, w] += cols[c, i, j, n, oh, ow]


@kernel(parallel=True)
def rows_to_nchw(rows, bias, out):
    """rows (O, N, P) -> out (N, O, P) with out[n, o, p] = rows[o, n, p] + bias[o].

    The GEMM result has one row per output channel; the layout of a batch is NCHW."""
    O, N, P = rows.shape
    for n in prange(N):
        for o in range(O):
            for p in range(P):
                out[n, o, p] = rows[o, n, p] + bias[o]


@kernel(parallel=True)
def nchw_to_rows(x, out):
    """x (N, O, P) -> out (O, N, P): the inverse layout change (for output gradients)."""
    N, O, P = x.shape
    for o in prange(O):
        for n in range(N):
            for p in range(P):
                out[o, n, p] = x[n, o, p]
