"""Ops with true/false answers: isnan, isinf, isfinite, isclose; logical_not, _and,
_or, _xor (any nonzero value counts as true); and the reductions any and all.

They give bool tensors (any/all of a uint8 tensor give uint8, as in PyTorch) and
are not differentiable: no gradient flows through a comparison.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, ShapeError, _as_array, _FLOATS, dim_aliases
from .arithmetic import unary_input
from ..errors import ArgumentError
from .reduction import normalize_dims


def isnan(input):  # noqa: A002
    x = unary_input(input, "isnan")._data
    return Tensor(np.isnan(x) if x.dtype in _FLOATS else np.zeros(x.shape, bool))


def isinf(input):  # noqa: A002
    """True at +inf and -inf."""
    x = unary_input(input, "isinf")._data
    return Tensor(np.isinf(x) if x.dtype in _FLOATS else np.zeros(x.shape, bool))


def isfinite(input):  # noqa: A002
    """True where the value is neither inf nor NaN."""
    x = unary_input(input, "isfinite")._data
    return Tensor(np.isfinite(x) if x.dtype in _FLOATS else np.ones(x.shape, bool))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| <= atol + rtol * |other|, elementwise (equal infinities are
    close; NaN is close to NaN only with equal_nan=True). Both need the same dtype."""
    a, b = unary_input(input, "isclose"), unary_input(other, "isclose")
    if a.dtype != b.dtype:
        raise ArgumentError(f"isclose: input is {a.dtype} but other is {b.dtype}; "
                            "both need the same dtype")
    _broadcast("isclose", a, b)
    return Tensor(np.isclose(a._data, b._data, rtol=rtol, atol=atol,
                             equal_nan=equal_nan))


def _broadcast(op, *tensors):
    try:
        np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes "
                         f"{' and '.join(str(t.shape) for t in tensors)}") from None


def _logical(np_fn, op):
    def logical(input, other):  # noqa: A002
        a = _as_array(unary_input(input, op))
        b = _as_array(other)
        _broadcast(op, Tensor(a), Tensor(b))
        return Tensor(np_fn(a, b))
    logical.__name__ = logical.__qualname__ = op
    logical.__doc__ = f"Elementwise {op.split('_')[1]} of the truth values (nonzero is " \
                      "true); a bool tensor."
    return logical


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def logical_not(input):  # noqa: A002
    """True where the value is zero (or False); a bool tensor."""
    return Tensor(np.logical_not(unary_input(input, "logical_not")._data))


def _truth_reduction(np_fn, op):
    def reduce(input, dim=None, keepdim=False):  # noqa: A002
        x = unary_input(input, op)
        out = np_fn(x._data, axis=normalize_dims(dim, x.ndim, op), keepdims=keepdim)
        return Tensor(np.asarray(out, dtype=np.uint8 if x.dtype == np.uint8 else bool))
    reduce.__name__ = reduce.__qualname__ = op
    return dim_aliases(reduce)


any = _truth_reduction(np.any, "any")  # noqa: A001
any.__doc__ = """True if some element (over `dim`, an int or tuple; all when None) is
nonzero. Bool out (uint8 for a uint8 tensor, as in PyTorch)."""
all = _truth_reduction(np.all, "all")  # noqa: A001
all.__doc__ = """True if every element (over `dim`, an int or tuple; all when None) is
nonzero. Bool out (uint8 for a uint8 tensor, as in PyTorch)."""

__all__ = ["isnan", "isinf", "isfinite", "isclose", "logical_not", "logical_and",
           "logical_or", "logical_xor", "any", "all"]
