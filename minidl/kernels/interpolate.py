"""Bilinear resampling kernels: the forward blend and its adjoint (transpose).

Every array is a stack of planes, shape (P, H, W) with P = N * C. Along each axis the
caller gives, for every output index, the two input indices it blends (i0, i1) and
their weights (l0, l1 = 1 - l0), computed once per axis by minidl/ops/upsample.py.
So output pixel (oh, ow) is

    out = (x[h0, w0] * lw0 + x[h0, w1] * lw1) * lh0 + (x[h1, w0] * lw0 + x[h1, w1] * lw1) * lh1

(PyTorch's order of operations), with h0 = h_i0[oh], lh0 = h_l0[oh], and so on. The
map is linear in x; its adjoint adds each output gradient, times the same four
weights, back onto the four pixels it was blended from.
"""
from .compile import kernel, prange


@kernel(parallel=True)
def bilinear_forward(x, h_i0, h_i1, h_l0, h_l1, w_i0, w_i1, w_l0, w_l1, out):
    """out (P, OH, OW) = the blend of x (P, H, W) described above."""
    P, OH, OW = out.shape
    for p in prange(P):
        for oh in range(OH):
            h0, h1, lh0, lh1 = h_i0[oh], h_i1[oh], h_l0[oh], h_l1[oh]
            for ow in range(OW):
                w0, w1, lw0, lw1 = w_i0[ow], w_i1[ow], w_l0[ow], w_l1[ow]
                top = x[p, h0, w0] * lw0 + x[p, h0, w1] * lw1
                bottom = x[p, h1, w0] * lw0 + x[p, h1, w1] * lw1
                out[p, oh, ow] = top * lh0 + bottom * lh1


@kernel(parallel=True)
def bilinear_adjoint(g, h_i0, h_i1, h_l0, h_l1, w_i0, w_i1, w_l0, w_l1, out):
    """The transpose of bilinear_forward: out (P, H, W) is overwritten with the sum,
    over output pixels, of g (P, OH, OW) times each of its four weights."""
    P, OH, OW = g.shape
    for p in prange(P):
        out[p, :, :] = 0
        for oh in range(OH):
            h0, h1, lh0, lh1 = h_i0[oh], h_i1[oh], h_l0[oh], h_l1[oh]
            for ow in range(OW):
                w0, w1, lw0, lw1 = w_i0[ow], w_i1[ow], w_l0[ow], w_l1[ow]
                top, bottom = g[p, oh, ow] * lh0, g[p, oh, ow] * lh1
                out[p, h0, w0] += top * lw0
                out[p, h0, w1] += top * lw1
                out[p, h1, w0] += bottom * lw0
                out[p, h1, w1] += bottom * lw1
