"""Exercise 9: conv2d -- forward as one matrix product, backward by two other convs.

Forward (weight W of shape (O, C, KH, KW)):
    cols = im2col(x)                        (C*KH*KW, N*OH*OW)
    Y    = W.reshape(O, -1) @ cols          (O, N*OH*OW)  -- one GEMM
    y    = Y reshaped to (O, N, OH, OW), transposed to (N, O, OH, OW)
Backward: the input gradient is a transposed convolution of g with the same weight,
the weight gradient a correlation of x with g -- both differentiable ops of minidl:
    dL/dx = minidl.functional.conv_transpose2d(g, W, stride=s, padding=p,
                                               output_padding=...)
    dL/dW = minidl.functional.conv2d_weight(x, W.shape, g, stride=s, padding=p)
output_padding puts back the rows a strided convolution dropped, so dL/dx has x's
shape: H - ((OH - 1) * s - 2p + KH) (and the same for W).

Your im2col from exercise 8 is used once that exercise passes; until then, minidl's.

The check: forward against minidl.functional.conv2d; gradcheck and gradgradcheck
over strides and paddings; properties: a 1x1 kernel of ones on one channel returns x;
conv is linear in x.

Hint: forward gets numpy arrays, backward gets Tensors (ctx.saved_tensors): compute
with im2col and numpy in forward, with the two minidl ops in backward.
"""
import numpy as np  # noqa: F401
import minidl.functional as F  # noqa: F401  conv_transpose2d, conv2d_weight
from minidl import Function

# im2col: yours from exercise 8 once it passes, minidl's until then
from minidl.course.pieces import im2col  # noqa: F401


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, stride, padding):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError  # return gx, gw, None, None


def conv2d(x, w, b=None, stride=1, padding=0):
    """The public function: your Function, plus the bias (given)."""
    y = Conv2d.apply(x, w, stride, padding)
    return y if b is None else y + b.reshape(1, -1, 1, 1)
