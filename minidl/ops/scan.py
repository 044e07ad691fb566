"""Scans (running reductions) along one dimension: cumsum, cumprod, cummax/cummin
(with the index of each running extremum) and logcumsumexp.

  cumsum(x)[j] = x[0] + ... + x[j]          backward: the reversed running sum of g
  cumprod(x)[j] = x[0] * ... * x[j]         backward: see CumProd (zeros need care)
  cummax(x)[j] = max(x[0], ..., x[j])       backward: g goes to the index picked
  logcumsumexp(x)[j] = log(e^x[0] + ... + e^x[j])
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, _FLOATS, int64, dim_aliases
from .arithmetic import (unary_input, where, cast, clone, exp, log, abs, floats_only,
                         dtype_argument)
from .movement import flip
from .reduction import sum
from .shape import GetItem, permute, unsqueeze, _dim
from .indexing import index_grid

CummaxResult = namedtuple("cummax", ["values", "indices"])
CumminResult = namedtuple("cummin", ["values", "indices"])


def reversed_cumsum(g, d):
    """sum_{k >= j} g[k] along d: the running sum taken from the end."""
    return flip(cumsum(flip(g, d), d), d)


# ------------------------------------------------------------------ cumsum
class CumSum(Function):
    # d cumsum(x)[j] / d x[i] = 1 for i <= j:  dx[i] = sum_{j >= i} g[j]
    @staticmethod
    def forward(ctx, x, d):
        ctx.dim = d
        return np.cumsum(x, axis=d)

    @staticmethod
    def backward(ctx, g):
        return reversed_cumsum(g, ctx.dim), None


def _scan_input(input, dim, dtype, op):
    """(x, d): x cast to dtype (integers and bools to int64 when none is given, as
    PyTorch accumulates them) and d the dimension, or None for a 0-d tensor."""
    x = unary_input(input, op)
    d = _dim(dim, max(x.ndim, 1), op)
    if dtype is not None:
        x = dtype_argument(x, dtype, op)
    elif x.dtype not in _FLOATS:
        x = cast(x, int64)
    return x, (d if x.ndim else None)


@dim_aliases
def cumsum(input, dim, *, dtype=None):  # noqa: A002
    """Running sum along dim."""
    x, d = _scan_input(input, dim, dtype, "cumsum")
    return clone(x) if d is None else CumSum.apply(x, d)


# ------------------------------------------------------------------ cumprod
class CumProd(Function):
    # y[j] = x[0] ... x[j];  d y[j] / d x[i] = prod_{k <= j, k != i} x[k]  (i <= j).
    # Without zeros: dx[i] = sum_{j >= i} g[j] y[j] / x[i].
    # With zeros, per slice along dim: before the first zero the same formula holds;
    # at the first zero z, dx[z] = sum_{j >= z} g[j] * cumprod(x with x[z] = 1)[j];
    # after it every y[j] keeps the factor x[z] = 0 beside x[i], so dx[i] = 0.
    # That 0 is right, but its own derivative (with respect to x[z]) is not 0: for
    # second derivatives (grad mode on, as PyTorch) the direct O(n^2) formula is used.
    @staticmethod
    def forward(ctx, x, d):
        ctx.dim = d
        y = np.cumprod(x, axis=d)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d = ctx.dim
        zero = x._data == 0
        if not zero.any():
            return reversed_cumsum(g * y, d) / x, None
        if is_grad_enabled():
            return cumprod_grad_direct(g, x, d), None
        seen = np.cumsum(zero, axis=d)  # zeros up to and including each position
        before, first = Tensor(seen == 0), Tensor(zero & (seen == 1))
        at_first = reversed_cumsum(g * cumprod(where(first, 1.0, x), d), d)
        before_first = reversed_cumsum(g * y, d) / where(before, x, 1.0)
        return where(before, before_first, where(first, at_first, 0.0)), None


def cumprod_grad_direct(g, x, d):
    """dx[k] = sum_{j >= k} g[j] * prod_{i <= j, i != k} x[i], all k at once: row k of
    an (n, n) matrix is x with x[k] set to 1, so its running product holds the
    prod_{i <= j, i != k} x[i] (kept for j >= k)."""
    n = x.shape[d]
    order = [i for i in range(x.ndim) if i != d] + [d]
    xl, gl = permute(x, tuple(order)), permute(g, tuple(order))  # dim d last
    rows = where(Tensor(np.eye(n, dtype=bool)), 1.0, unsqueeze(xl, -2))
    dy_dx = where(Tensor(np.tri(n, dtype=bool).T), cumprod(rows, -1), 0.0)  # [k, j]
    grad = sum(unsqueeze(gl, -2) * dy_dx, -1)
    return permute(grad, tuple(np.argsort(order)))


@dim_aliases
def cumprod(input, dim, *, dtype=None):  # noqa: A002
    """Running product along dim (its gradient is right with zeros too)."""
    x, d = _scan_input(input, dim, dtype, "cumprod")
    if d is None or x.shape[d] == 1:  # (one element: itself, with gradient g even at
        return clone(x)               # inf or NaN, as PyTorch)
    return CumProd.apply(x, d)


# ------------------------------------------------------------------ cummax, cummin
def _running_extremum(input, dim, accumulate, op, result):
    """(values, indices): the running max (min) and, as PyTorch, the index of the last
    element equal to it so far (a NaN, once seen, is the extremum)."""
    x = unary_input(input, op)
    d = _dim(dim, max(x.ndim, 1), op)
    if x.ndim == 0:
        return result(GetItem.apply(x, ()), Tensor(np.int64(0)))
    a = x._data
    running = accumulate(a, axis=d)
    hit = a == running
    if a.dtype in _FLOATS:
        hit |= np.isnan(a)
    where_hit = np.where(hit, np.arange(a.shape[d]).reshape(
        [-1 if i == d else 1 for i in range(a.ndim)]), 0)
    indices = Tensor(np.maximum.accumulate(where_hit, axis=d).astype(np.int64))
    values = GetItem.apply(x, index_grid(x, d, indices, op))  # backward: g to indices
    return result(values, indices)


@dim_aliases
def cummax(input, dim):  # noqa: A002
    """(values, indices): the running maximum along dim and where it was found."""
    return _running_extremum(input, dim, np.maximum.accumulate, "cummax", CummaxResult)


@dim_aliases
def cummin(input, dim):  # noqa: A002
    """(values, indices): the running minimum along dim and where it was found."""
    return _running_extremum(input, dim, np.minimum.accumulate, "cummin", CumminResult)


# ------------------------------------------------------------------ logcumsumexp
class LogCumSumExp(Function):
    # y[j] = log sum_{k <= j} e^x[k];  d y[j] / d x[i] = e^(x[i] - y[j])  (i <= j), so
    # dx[i] = e^x[i] sum_{j >= i} g[j] e^-y[j]. Computed in log space as PyTorch does,
    # with the positive and negative parts of g apart:
    # dx = exp(x + rlcse(log g+ - y)) - exp(x + rlcse(log g- - y)), rlcse the reversed
    # logcumsumexp (log 0 taken as a quarter of the lowest float: as good as -inf
    # inside exp, without inf - inf = NaN, nor overflow when y is subtracted).
    @staticmethod
    def forward(ctx, x, d):
        ctx.dim = d
        y = np.logaddexp.accumulate(x, axis=d)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d, lowest = ctx.dim, float(np.finfo(g.dtype).min) / 4
        log_abs = log(where(g == 0, 1.0, abs(g)))

        def part(log_g):  # exp(x[i] + log sum_{j >= i} e^(log_g[j] - y[j]))
            return exp(flip(logcumsumexp(flip(log_g - y, d), d), d) + x)

        positive, negative = where(g > 0, log_abs, lowest), where(g < 0, log_abs, lowest)
        return part(positive) - part(negative), None


@dim_aliases
def logcumsumexp(input, dim):  # noqa: A002
    """log(cumsum(exp(input))) along dim, without overflow."""
    x = unary_input(input, "logcumsumexp")
    floats_only(x, "logcumsumexp")
    d = _dim(dim, max(x.ndim, 1), "logcumsumexp")
    return clone(x) if x.ndim == 0 else LogCumSumExp.apply(x, d)


__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]
