"""Exercise 10: max-pooling forward and its scatter backward.

max_pool2d with a k x k window and stride k (no padding; trailing rows/columns that
do not fill a window are dropped): out[n, c, i, j] = max of x[n, c, ik:ik+k, jk:jk+k].
Forward also records, for each output, the flat position h*W + w of its maximum in
its (n, c) plane: argmax.

Backward sends each output's gradient to the position it was read from -- a scatter:
    dL/dx = zeros(x.shape);  dL/dx[n, c].flat[argmax[n, c, i, j]] += g[n, c, i, j]
A scatter is linear in g, so its own backward is a gather: read gg at argmax. Making
the scatter a Function of its own (with that backward) is what lets gradgradcheck --
and WGAN-GP -- go through pooling.

The check: forward (values and argmax) against minidl's max_pool2d; gradcheck and
gradgradcheck; properties: pooling a constant image gives the constant, the scatter
keeps the gradient's total (sum dL/dx == sum g).

Hint: x[:, :, :OH*k, :OW*k].reshape(N, C, OH, k, OW, k) puts each window on two axes;
np.add.at(plane, index, values) adds (repeated indices add up).
"""
import numpy as np  # noqa: F401
from minidl import Function


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, k):
        raise NotImplementedError  # keep argmax on ctx; return the maxima

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError  # return Scatter.apply(g, ...), None


class Scatter(Function):
    @staticmethod
    def forward(ctx, g, argmax, in_shape):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, gg):
        raise NotImplementedError  # return (gg read at argmax), None, None


def max_pool2d(x, k):
    """The public function (given)."""
    return MaxPool2d.apply(x, k)
