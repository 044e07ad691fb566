"""Elementwise arithmetic: + - * / ** neg, exp log sqrt abs, clamp, maximum/minimum, where.

Every binary op broadcasts like numpy. Its backward returns gradients of the
*broadcast* shape; the engine (autograd.py) sums them back to each input's shape.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, ShapeError, _as_array, _FLOATS, float32


# ------------------------------------------------------------------ operand handling
def lift(a, b, op: str):
    """Make Tensors of both operands; a Python number takes the other's dtype, and an
    integer/bool tensor meeting a float tensor takes the float's dtype (as PyTorch).

    Also checks that the shapes broadcast, so errors name the op and both shapes.
    """
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} "
                        f"and {type(b).__name__}")
    a, b = _constant_like(a, b), _constant_like(b, a)
    if (a.dtype in _FLOATS) != (b.dtype in _FLOATS):  # float op int: the float's dtype
        a, b = (a, cast(b, a.dtype)) if a.dtype in _FLOATS else (cast(a, b.dtype), b)
    if a.shape == b.shape:
        return a, b
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes {a.shape} and {b.shape}; "
                         "trailing dimensions must be equal or 1") from None
    return a, b


def _constant_like(x, other: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.number, np.bool_)) and not isinstance(x, bool):
        is_float = isinstance(x, (float, np.floating))
        if other.dtype in _FLOATS or not is_float:
            return Tensor(np.asarray(x, dtype=other.dtype))
        return Tensor(np.asarray(x, dtype=float32))
    if isinstance(x, (np.ndarray, list, tuple, bool)):
        return Tensor(_as_array(x))
    raise TypeError(f"expected a Tensor, array or number, got {type(x).__name__}")


def unary_input(x, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def float_input(x, op: str) -> Tensor:
    """Ops like exp/log need floats: integer tensors are converted to float32."""
    x = unary_input(x, op)
    return x if x.dtype in _FLOATS else cast(x, float32)


# ------------------------------------------------------------------ + - * /
class Add(Function):
    # d(a+b)/da = 1, d(a+b)/db = 1
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    # d(a-b)/da = 1, d(a-b)/db = -1
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, -g


class Mul(Function):
    # d(a*b)/da = b, d(a*b)/db = a
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    # d(a^b)/da = b * a^(b-1)  (0 where b == 0, as a^0 = 1 even at a = 0);
    # d(a^b)/db = a^b * log(a)  (taken as 0 where a == 0)
    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g * b * a ** where(b == 0, 1.0, b - 1)  # (b == 0: no 0^-1 = inf)
        if ctx.needs_input_grad[1]:
            zero = a == 0
            safe_a = where(zero, 1.0, a)
            gb = g * out * where(zero, 0.0, log(safe_a))
        return ga, gb


def add(a, b):
    return Add.apply(*lift(a, b, "add"))


def sub(a, b):
    return Sub.apply(*lift(a, b, "sub"))


def mul(a, b):
    return Mul.apply(*lift(a, b, "mul"))


def div(a, b, *, rounding_mode=None):
    """a / b; rounding_mode="floor" or "trunc" rounds the quotient (ops/division.py)."""
    if rounding_mode is not None:
        from .division import div_rounded  # (division.py builds on this file)
        return div_rounded(a, b, rounding_mode)
    a, b = lift(a, b, "div")
    if a.dtype not in _FLOATS and b.dtype not in _FLOATS:  # true division of ints
        a, b = cast(a, float32), cast(b, float32)
    return Div.apply(a, b)


def neg(a):
    return Neg.apply(unary_input(a, "neg"))


def pow(a, exponent):
    return Pow.apply(*lift(a, exponent, "pow"))


# ------------------------------------------------------------------ unary math
class Exp(Function):
    # d/dx e^x = e^x  (the output itself)
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g * out


class Log(Function):
    # d/dx log x = 1/x
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    # d/dx sqrt(x) = 1 / (2 sqrt(x))
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    # d/dx |x| = sign(x)   (0 at x == 0, as PyTorch)
    @staticmethod
    def forward(ctx, x):
        ctx.sign = np.sign(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.sign)


class Clamp(Function):
    # gradient passes where min <= x <= max, and is 0 where x was clipped
    @staticmethod
    def forward(ctx, x, lo, hi):
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.inside = inside
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.inside), None, None


def exp(x):
    return Exp.apply(float_input(x, "exp"))


def log(x):
    return Log.apply(float_input(x, "log"))


def sqrt(x):
    return Sqrt.apply(float_input(x, "sqrt"))


def abs(x):  # noqa: A001  (PyTorch's name)
    return Abs.apply(unary_input(x, "abs"))


def clamp(x, min=None, max=None):  # noqa: A002
    """Limit values to [min, max] (either may be None), as torch.clamp."""
    x = unary_input(x, "clamp")
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, min, max)


clip = clamp


# ------------------------------------------------------------------ maximum/minimum/where
class Maximum(Function):
    # the gradient goes to the larger input; on a tie each gets half (as PyTorch)
    @staticmethod
    def forward(ctx, a, b):
        ctx.shares = _shares(a < b, a > b, a == b, np.result_type(a, b))
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        share_a, share_b = ctx.shares
        return g * Tensor(share_a), g * Tensor(share_b)


class Minimum(Maximum):
    # the same, for the smaller input (backward is Maximum's)
    @staticmethod
    def forward(ctx, a, b):
        ctx.shares = _shares(a > b, a < b, a == b, np.result_type(a, b))
        return np.minimum(a, b)


def _shares(a_lost, b_lost, tie, dtype):
    """Each input's share of the gradient: 0 where it lost, 1/2 on a tie, else 1 --
    so where a NaN leaves the comparison undecided both get all of it, as PyTorch."""
    half = np.where(tie, 0.5, 1.0)
    return (np.where(a_lost, 0.0, half).astype(dtype),
            np.where(b_lost, 0.0, half).astype(dtype))


class Where(Function):
    # out = x where cond else y:  dx = g where cond, dy = g where not cond
    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = cond
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        cond = Tensor(ctx.cond)
        zero = Tensor(np.zeros((), dtype=g.dtype))
        return None, where(cond, g, zero), where(cond, zero, g)


def maximum(a, b):
    return Maximum.apply(*lift(a, b, "maximum"))


def minimum(a, b):
    return Minimum.apply(*lift(a, b, "minimum"))


def where(condition, x=None, y=None):
    """Pick x where condition is True, else y (all three broadcast together).
    where(condition) alone is nonzero(condition, as_tuple=True)."""
    if x is None and y is None:
        from .indexing import nonzero  # (indexing.py builds on this file)
        return nonzero(condition, as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor(_as_array(x))
    x, y = lift(x, y, "where")
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ShapeError(f"where: cannot broadcast condition {cond.shape} with "
                         f"{x.shape} and {y.shape}") from None
    return Where.apply(cond, x, y)


# ------------------------------------------------------------------ copies and casts
class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class Cast(Function):
    # a dtype change; the gradient is cast back to the input's dtype
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return cast(g, ctx.in_dtype), None


def clone(x):
    return Clone.apply(unary_input(x, "clone"))


def cast(x, dtype):
    dtype = np.dtype(dtype)
    x = unary_input(x, "to")
    if x.dtype == dtype:
        return x
    _as_array(np.zeros(0, dtype), dtype)  # validates the dtype with a clear error
    return Cast.apply(x, dtype)
