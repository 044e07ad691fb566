"""prod: the product of the elements, over one dimension or all of them.

d prod(x) / d x[i] is the product of all the *other* elements. Without zeros that is
prod(x) / x[i]; with zeros the division fails, so (as PyTorch) the product of the
others is built from two running products that skip x[i]:

    x:                        [a,      b,     c    ]
    products before i:        [1,      a,     a b  ]   cumprod of [1, a, b]
    products after i:         [b c,    c,     1    ]   the same from the other end
    their product:            [b c,    a c,   a b  ]   = d prod / d x, zeros or not
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _FLOATS, int64, dim_aliases
from .arithmetic import unary_input, cast, dtype_argument
from .movement import flip
from .scan import cumprod
from .shape import GetItem, cat, reshape, _dim


class Prod(Function):
    # d prod(x) / d x[i] = prod_{k != i} x[k]  (along dim d, or over all elements)
    @staticmethod
    def forward(ctx, x, d, keepdim):
        ctx.dim, ctx.kept = d, tuple(1 if d in (None, i) else s
                                     for i, s in enumerate(x.shape))
        y = np.prod(x, axis=d, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g, y = g.reshape(ctx.kept), y.reshape(ctx.kept)
        if x.ndim == 0:
            return g, None, None
        if not (x._data == 0).any():
            return g * (y / x), None, None
        if ctx.dim is not None:
            return g * products_of_others(x, ctx.dim), None, None
        others = products_of_others(reshape(x, -1), 0)
        return g * reshape(others, x.shape), None, None


def products_of_others(x, d):
    """out[i] = the product of x[k] for k != i along d (no division: safe with zeros)."""
    n = x.shape[d]
    ones = Tensor(np.ones(tuple(1 if i == d else s for i, s in enumerate(x.shape)),
                          dtype=x.dtype))

    def along(lo, hi):
        return GetItem.apply(x, (slice(None),) * d + (slice(lo, hi),))

    before = cumprod(cat([ones, along(0, n - 1)], d), d)
    after = flip(cumprod(cat([ones, flip(along(1, n), d)], d), d), d)
    return before * after


@dim_aliases
def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The product of all elements, or along one dimension `dim` (an int). Integer and
    bool tensors give int64, as in PyTorch; dtype= casts the input first."""
    x = unary_input(input, "prod")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be an int (one dimension), got {dim!r}")
    if dtype is not None:
        x = dtype_argument(x, dtype, "prod")
    elif x.dtype not in _FLOATS:
        x = cast(x, int64)
    d = None if dim is None else _dim(dim, max(x.ndim, 1), "prod")
    return Prod.apply(x, d if x.ndim else None, bool(keepdim) and d is not None)


__all__ = ["prod"]
