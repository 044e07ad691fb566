"""Exercise 7: higher-order gradients -- why backward is written in Tensor ops.

With create_graph=True, minidl runs every backward with graph recording ON: the
gradient it returns is itself a Tensor with a history, and can be differentiated
again (a Hessian-vector product, a gradient penalty). That works only if backward
computes with Tensor ops on ctx.saved_tensors. A backward that steps down to numpy
(np.cos(x.numpy())) returns the right first derivative -- gradcheck passes -- but a
constant as far as the graph is concerned: the second derivative comes out zero.

    sin:  y = sin x     dL/dx = g * cos x      d2y/dx2 = -sin x
    cos:  y = cos x     dL/dx = -g * sin x     d2y/dx2 = -cos x
Each backward calls the other Function (Cos.apply inside Sin's backward, ...).

The check: forward against numpy; gradcheck; gradgradcheck (second derivatives);
the third derivative through gradgradcheck of the gradient; property: sin^2 + cos^2 == 1.

Hint: save the input (ctx.save_for_backward(x)); in backward, `x, = ctx.saved_tensors`
is a Tensor in the graph -- apply Cos/Sin to it.
"""
from minidl import Function


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError
