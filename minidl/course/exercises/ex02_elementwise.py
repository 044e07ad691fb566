"""Exercise 2: elementwise Functions -- forward on numpy arrays, backward in Tensor ops.

A minidl op is a Function with two static methods side by side:
    forward(ctx, *arrays)  computes on numpy arrays; ctx.save_for_backward(...) keeps
                           the inputs or the output backward will need;
    backward(ctx, g)       gets g = dL/d(output), returns one dL/d(input) per input,
                           written with Tensor ops on ctx.saved_tensors.
Use one with `Mul.apply(a, b)`.

    mul   y = a * b      dL/da = g * b,        dL/db = g * a
    div   y = a / b      dL/da = g / b,        dL/db = -g * a / b^2
    exp   y = e^x        dL/dx = g * y
    log   y = log x      dL/dx = g / x
    tanh  y = tanh x     dL/dx = g * (1 - y^2)

Here a and b have the same shape (exercise 3 undoes broadcasting).

The check: forward against numpy; minidl.gradcheck (every derivative against finite
differences, float64) and gradgradcheck (the derivatives of your backward); and
properties drawn by hypothesis: a*b == b*a, log(exp(x)) == x, a/a == 1.

Hint: backward receives and returns Tensors -- write `g * b`, not `g * b.numpy()`;
saving the output (exp, tanh) is cheaper than recomputing it.
"""
from minidl import Function


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError
