"""Elementwise math beyond + - * /: trigonometric and hyperbolic functions and their
inverses, log2/log10/log1p, exp2/expm1, rsqrt; the piecewise-constant sign, floor,
ceil, round, trunc; and the binary copysign, atan2, logaddexp and lerp.

A smooth unary op is a subclass of `Elementwise`: its numpy function `f` and its
derivative `grad(x, y)` (x the input, y the output), written with Tensor ops so that
backward (g * dy/dx) can itself be differentiated. The derivatives follow PyTorch's
formulas, so that they give the same inf and NaN at the edges of each domain.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..errors import NotImplementedForDType
from ..tensor import Tensor, _FLOATS
from .arithmetic import lift, float_input, unary_input, cast, where, exp, floats_only


# ------------------------------------------------------------------ smooth unary ops
class Elementwise:
    """y = f(x) for each element; backward: g * grad(x, y). (Mixed into Function:
    `class Sin(Elementwise, Function)`.)"""

    @classmethod
    def forward(cls, ctx, x):
        y = cls.f(x)
        ctx.save_for_backward(x, y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        return g * cls.grad(x, y)


class Sin(Elementwise, Function):  # d/dx sin x = cos x
    f, grad = np.sin, lambda x, y: cos(x)


class Cos(Elementwise, Function):  # d/dx cos x = -sin x
    f, grad = np.cos, lambda x, y: -sin(x)


class Tan(Elementwise, Function):  # d/dx tan x = 1 + tan^2 x
    f, grad = np.tan, lambda x, y: 1 + y * y


class Asin(Elementwise, Function):  # d/dx asin x = 1 / sqrt(1 - x^2)
    f, grad = np.arcsin, lambda x, y: rsqrt(1 - x * x)


class Acos(Elementwise, Function):  # d/dx acos x = -1 / sqrt(1 - x^2)
    f, grad = np.arccos, lambda x, y: -rsqrt(1 - x * x)


class Atan(Elementwise, Function):  # d/dx atan x = 1 / (1 + x^2)
    f, grad = np.arctan, lambda x, y: 1 / (x * x + 1)


class Sinh(Elementwise, Function):  # d/dx sinh x = cosh x
    f, grad = np.sinh, lambda x, y: cosh(x)


class Cosh(Elementwise, Function):  # d/dx cosh x = sinh x
    f, grad = np.cosh, lambda x, y: sinh(x)


class Asinh(Elementwise, Function):  # d/dx asinh x = 1 / sqrt(x^2 + 1)
    f, grad = np.arcsinh, lambda x, y: rsqrt(x * x + 1)


class Acosh(Elementwise, Function):  # d/dx acosh x = 1 / sqrt(x^2 - 1)
    f, grad = np.arccosh, lambda x, y: rsqrt(x * x - 1)


class Atanh(Elementwise, Function):  # d/dx atanh x = 1 / (1 - x^2)
    f, grad = np.arctanh, lambda x, y: 1 / (1 - x * x)


class Log2(Elementwise, Function):  # d/dx log2 x = 1 / (x ln 2)
    f, grad = np.log2, lambda x, y: 1 / (x * math.log(2))


class Log10(Elementwise, Function):  # d/dx log10 x = 1 / (x ln 10)
    f, grad = np.log10, lambda x, y: 1 / (x * math.log(10))


class Log1p(Elementwise, Function):  # d/dx log(1 + x) = 1 / (1 + x)
    f, grad = np.log1p, lambda x, y: 1 / (x + 1)


class Exp2(Elementwise, Function):  # d/dx 2^x = 2^x ln 2
    f, grad = np.exp2, lambda x, y: y * math.log(2)


class Expm1(Elementwise, Function):  # d/dx (e^x - 1) = e^x = y + 1
    f, grad = np.expm1, lambda x, y: y + 1


class Rsqrt(Elementwise, Function):  # d/dx x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2
    f, grad = (lambda x: 1 / np.sqrt(x)), (lambda x, y: y * y * y * -0.5)


def _unary(cls, name):
    def op(x):
        return cls.apply(float_input(x, name))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (integer inputs become float32, as in PyTorch)."
    return op


sin, cos, tan = _unary(Sin, "sin"), _unary(Cos, "cos"), _unary(Tan, "tan")
asin, acos, atan = _unary(Asin, "asin"), _unary(Acos, "acos"), _unary(Atan, "atan")
sinh, cosh = _unary(Sinh, "sinh"), _unary(Cosh, "cosh")
asinh, acosh, atanh = _unary(Asinh, "asinh"), _unary(Acosh, "acosh"), _unary(Atanh, "atanh")
log2, log10, log1p = _unary(Log2, "log2"), _unary(Log10, "log10"), _unary(Log1p, "log1p")
exp2, expm1, rsqrt = _unary(Exp2, "exp2"), _unary(Expm1, "expm1"), _unary(Rsqrt, "rsqrt")


# ------------------------------------------------------------------ piecewise constant
def zeros_like(g: Tensor) -> Tensor:
    return Tensor(np.zeros(g.shape, dtype=g.dtype))


class Step:
    """Ops whose value jumps between flat pieces: the derivative is 0 where it
    exists, and PyTorch takes 0 at the jumps as well. (Mixed into Function.)"""

    @classmethod
    def forward(cls, ctx, x):
        return cls.f(x)

    @staticmethod
    def backward(ctx, g):
        return zeros_like(g)


class Floor(Step, Function):
    f = np.floor


class Ceil(Step, Function):
    f = np.ceil


class Trunc(Step, Function):
    f = np.trunc


class Sign(Step, Function):
    # (x > 0) - (x < 0): -1, 0 or 1, and 0 for NaN and -0.0, as in PyTorch
    f = staticmethod(lambda x: (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))


class Round(Function):
    # round half to even, at `decimals` digits: rint(x * 10^d) / 10^d (or, for d < 0,
    # rint(x / 10^-d) * 10^-d), as PyTorch computes it
    @staticmethod
    def forward(ctx, x, decimals):
        return np.round(x, decimals)

    @staticmethod
    def backward(ctx, g):
        return zeros_like(g), None


def _step(cls, name):
    def op(x):
        x = unary_input(x, name)
        if x.dtype == np.bool_:
            raise NotImplementedForDType(f"{name}: not implemented for bool tensors (as "
                                         "in PyTorch)")
        if x.dtype not in _FLOATS:  # integers are already whole: an exact copy
            return Tensor(x._data.copy())
        return cls.apply(x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}; its gradient is 0 (as in PyTorch)."
    return op


floor, ceil, trunc = _step(Floor, "floor"), _step(Ceil, "ceil"), _step(Trunc, "trunc")


def sign(x):
    """-1, 0 or +1 for each element (0 for NaN); integer and bool tensors keep their
    dtype. Its gradient is 0."""
    x = unary_input(x, "sign")
    if x.dtype == np.bool_:
        return Tensor(x._data.copy())
    if x.dtype not in _FLOATS:
        return Tensor(Sign.f(x._data))
    return Sign.apply(x)


def round(x, decimals=None):  # noqa: A001  (PyTorch's name)
    """Round half to even (0.5 -> 0, 1.5 -> 2), keeping `decimals` digits after the
    point (negative: before it). Its gradient is 0. As in PyTorch, integer tensors are
    returned as they are by round(x), and refused when decimals is given (even 0);
    bool tensors are refused."""
    x = unary_input(x, "round")
    if x.dtype not in _FLOATS:
        if decimals is not None or x.dtype == np.bool_:
            how = "" if decimals is None else f" with decimals={decimals}"
            raise NotImplementedForDType(f"round{how}: not implemented for {x.dtype} "
                                         "tensors (as in PyTorch); convert with .float()")
        return Tensor(x._data.copy())
    return Round.apply(x, int(decimals or 0))


# ------------------------------------------------------------------ binary ops
def float_pair(a, b, op: str):
    """Both operands as tensors of one float dtype (integers become float32)."""
    return lift(a, b, op, to_float=True)


class Copysign(Function):
    # |a| with the sign of b.  d/da = sign(a) sign(b) = y / a (0 where a == 0);
    # d/db = 0 (the sign flips in a jump)
    @staticmethod
    def forward(ctx, a, b):
        y = np.copysign(a, b)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        zero = a == 0
        return g * where(zero, 0.0, y / where(zero, 1.0, a)), zeros_like(g)


class Binary:
    """y = f(a, b) for each pair; backward: grads(g, a, b) -> (d/da, d/db). (Mixed
    into Function, as Elementwise.)"""

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return cls.f(a, b)

    @classmethod
    def backward(cls, ctx, g):
        return cls.grads(g, *ctx.saved_tensors)


class Atan2(Binary, Function):
    # the angle of the point (b, a):  d/da = b / (a^2 + b^2),  d/db = -a / (a^2 + b^2)
    # (taken as 0 where a^2 + b^2 is 0, as PyTorch does)
    f = np.arctan2

    @staticmethod
    def grads(g, a, b):
        r2 = a * a + b * b
        at_origin = r2 == 0
        scale = g * where(at_origin, 0.0, 1 / where(at_origin, 1.0, r2))
        return scale * b, scale * -a


class Logaddexp(Binary, Function):
    # log(e^a + e^b):  d/da = e^a / (e^a + e^b) = 1 / (1 + e^(b - a)), d/db likewise
    f = np.logaddexp

    @staticmethod
    def grads(g, a, b):
        return g / (1 + exp(b - a)), g / (1 + exp(a - b))


class Lerp(Function):
    # start + w (end - start):  d/dstart = 1 - w, d/dend = w, d/dw = end - start.
    # (Computed from the nearer end, end - (end - start)(1 - w) when |w| >= 0.5, as
    # PyTorch does, so that w = 1 gives `end` exactly.)
    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        diff = end - start
        return np.where(np.abs(weight) < 0.5, start + weight * diff,
                        end - diff * (1 - weight))

    @staticmethod
    def backward(ctx, g):
        start, end, weight = ctx.saved_tensors
        gw = g * (end - start) if ctx.needs_input_grad[2] else None
        return g * (1 - weight), g * weight, gw


def copysign(input, other):  # noqa: A002
    """|input| with the sign of other (-0.0 counts as negative); floats out."""
    return Copysign.apply(*float_pair(input, other, "copysign"))


def atan2(input, other):  # noqa: A002
    """The angle of the point (x=other, y=input) in (-pi, pi]."""
    return Atan2.apply(*float_pair(input, other, "atan2"))


def logaddexp(input, other):  # noqa: A002
    """log(exp(input) + exp(other)), without overflow."""
    a, b = lift(input, other, "logaddexp")
    floats_only(a, "logaddexp")  # (b has a's dtype)
    return Logaddexp.apply(a, b)


def lerp(input, end, weight):  # noqa: A002
    """input + weight * (end - input); weight is a number or a tensor, and all three
    broadcast together. input and end must have the same float dtype, as in PyTorch."""
    start, end = unary_input(input, "lerp"), unary_input(end, "lerp")
    floats_only(start, "lerp"), floats_only(end, "lerp")
    if start.dtype != end.dtype:
        raise RuntimeError(f"lerp: expected dtype {start.dtype} for `end` but got "
                           f"dtype {end.dtype}")
    _, end = lift(start, end, "lerp")
    weight = cast(weight, start.dtype) if isinstance(weight, Tensor) else Tensor(
        np.asarray(weight, dtype=start.dtype))
    lift(end, weight, "lerp")  # (checks that the weight broadcasts too)
    return Lerp.apply(start, end, weight)


__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
           "atanh", "log2", "log10", "log1p", "exp2", "expm1", "rsqrt", "floor", "ceil",
           "round", "trunc", "sign", "copysign", "atan2", "logaddexp", "lerp"]
