"""Division that rounds, and the two remainders.

  div(a, b, rounding_mode="floor") = floor(a / b)    (also floor_divide, a // b)
  div(a, b, rounding_mode="trunc") = trunc(a / b)    (rounds toward zero)
  remainder(a, b) = a - floor(a / b) * b  (a % b: the sign of b, as in Python)
  fmod(a, b)      = a - trunc(a / b) * b  (the sign of a, as in C)

Integer division by zero raises, as in PyTorch; float division by zero gives inf or
NaN. The rounded quotients are flat between jumps: their gradient is 0 -- except
floor_divide, whose derivative PyTorch does not define (its backward raises).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .arithmetic import lift
from .elementwise import zeros_like
from ..errors import ArgumentError, ZeroDivision


# ------------------------------------------------------------------ numpy kernels
def rounded_quotient(a, b, mode: str):
    """floor(a / b) or trunc(a / b), in a's dtype."""
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.floor_divide(a, b)
        if mode == "floor":
            return floor
        if a.dtype.kind == "f":
            return np.trunc(a / b)
        # integers: trunc is one above floor when a / b < 0 is not whole
        return floor + ((np.fmod(a, b) != 0) & ((a < 0) != (b < 0)))


def python_remainder(a, b):
    """fmod, moved by one b where its sign differs from b's (zeros keep a's sign)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mod = np.fmod(a, b)
        return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


# ------------------------------------------------------------------ Functions
class DivRounded(Function):
    # q = floor(a / b) or trunc(a / b): dq/da = dq/db = 0
    @staticmethod
    def forward(ctx, a, b, mode, op):
        ctx.op = op
        return rounded_quotient(a, b, mode)

    @staticmethod
    def backward(ctx, g):
        if ctx.op == "floor_divide":
            raise RuntimeError(
                "floor_divide (//): its derivative is not defined, as in PyTorch; for "
                "a zero gradient use div(a, b, rounding_mode='floor')")
        return zeros_like(g), zeros_like(g), None, None


class Remainder(Function):
    # r = a - q b with q = floor(a / b) (or trunc for fmod), q flat between jumps:
    # dr/da = 1, dr/db = -q
    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.quotient = rounded_quotient(a, b, mode)
        return python_remainder(a, b) if mode == "floor" else np.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, -g * Tensor(ctx.quotient), None


# ------------------------------------------------------------------ public ops
def _operands(a, b, op):
    a, b = lift(a, b, op)
    if a.dtype == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as in "
                                  "PyTorch); convert them with .int() or .float()")
    if a.dtype.kind in "iu" and a.numel() and (b._data == 0).any():  # (empty: no division)
        raise ZeroDivision(f"{op}: integer division by zero (divisor of shape "
                           f"{b.shape}, dtype {b.dtype})")
    return a, b


def div_rounded(input, other, rounding_mode: str):  # noqa: A002
    """div(input, other, rounding_mode=...) for "floor" and "trunc" (see div)."""
    if rounding_mode not in ("floor", "trunc"):
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', "
                            f"got {rounding_mode!r}")
    a, b = _operands(input, other, "div")
    return DivRounded.apply(a, b, rounding_mode, "div")


def floor_divide(input, other):  # noqa: A002
    """floor(input / other), the `//` operator; integer tensors stay integer."""
    a, b = _operands(input, other, "floor_divide")
    return DivRounded.apply(a, b, "floor", "floor_divide")


def remainder(input, other):  # noqa: A002
    """input - floor(input / other) * other, the `%` operator: the result has the
    sign of `other` (Python's rule: -7 % 3 == 2)."""
    return Remainder.apply(*_operands(input, other, "remainder"), "floor")


def fmod(input, other):  # noqa: A002
    """input - trunc(input / other) * other: the result has the sign of `input`
    (C's rule: fmod(-7, 3) == -1)."""
    return Remainder.apply(*_operands(input, other, "fmod"), "trunc")


__all__ = ["floor_divide", "remainder", "fmod"]
