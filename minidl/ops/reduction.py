"""Reductions: sum, mean, max/min (amax/amin), var, std, logsumexp, norm, argmax/argmin.

A reduction's backward spreads the output gradient back over the reduced axes,
which is broadcasting again -- so sum and expand (broadcast_to) are each other's
backward, and most of the rest is built from them.

Every reduction takes PyTorch's dim=/keepdim= and numpy's axis=/keepdims= (as torch
does). Where a derivative is undefined at an edge and PyTorch defines a value -- the
std of identical values, the norm of a zero vector -- minidl gives PyTorch's value.
"""
from __future__ import annotations

import builtins
import contextlib
import math
import warnings
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..dtypes import FLOATS
from ..errors import DTypeError, IndexOutOfRange
from ..tensor import Tensor, ShapeError, dim_aliases
from .arithmetic import (Sqrt, float_input, log, exp, abs, cast, where, unary_input,
                         sign_of, floats_only, clone, dtype_argument)
from .shape import getitem

_NOTHING = contextlib.nullcontext()  # (where numpy's warnings need no silencing)


def normalize_dims(dim, ndim: int, op: str) -> tuple:
    """dim (None, int or tuple, negatives allowed) -> sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got "
                            f"{type(d).__name__}")
        n = builtins.max(ndim, 1)  # (this module defines its own max)
        if not -n <= d < n:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} "
                             f"dimensions")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: dim {dim} repeats an axis")
    return tuple(sorted(out)) if ndim else ()


def keepdim_shape(shape, dims) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


# ------------------------------------------------------------------ sum and broadcast
class Sum(Function):
    # d/dx sum(x) = 1 everywhere: broadcast the gradient back to x's shape
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape = x.shape
        ctx.kept = keepdim_shape(x.shape, dims)
        return np.sum(x, axis=dims, keepdims=keepdim, dtype=x.dtype)  # (int32 stays)

    @staticmethod
    def backward(ctx, g):
        return expand(g.reshape(ctx.kept), ctx.in_shape), None, None


class SumTo(Function):
    # sum a broadcast array back down to `shape` (undoes broadcasting); backward: expand
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
        return np.sum(x, axis=axes, keepdims=True).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return expand(g, ctx.in_shape), None


class Expand(Function):
    # broadcast x to a larger shape (no copy); backward: sum back down
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape), None


@dim_aliases
def sum(x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Sum over dim (all by default). dtype= casts x first; without it, integer and
    bool tensors sum to int64, as in PyTorch."""
    x = unary_input(x, "sum")
    if dtype is not None:
        x = dtype_argument(x, dtype, "sum")
    elif x.dtype not in FLOATS:
        x = cast(x, np.int64)
    return Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)


def sum_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else SumTo.apply(x, shape)


def expand(x, *shape):
    """Broadcast x to `shape` (-1 keeps a dimension), as torch.Tensor.expand."""
    if not shape:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    if shape == x.shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
        if len(shape) < x.ndim:
            raise ValueError
    except ValueError:
        from ..tensor import ShapeError
        raise ShapeError(f"expand: cannot expand shape {x.shape} to {shape}") from None
    return Expand.apply(x, shape)


class Mean(Function):
    # d/dx mean(x) = 1/N everywhere: spread g / N back over x's shape
    # (one op, as PyTorch's: it keeps only sizes, so a second backward works)
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape, ctx.kept = x.shape, keepdim_shape(x.shape, dims)
        ctx.count = int(np.prod([x.shape[d] for d in dims]))
        total = np.sum(x, axis=dims, keepdims=keepdim)
        with np.errstate(invalid="ignore") if ctx.count == 0 else _NOTHING:
            return total / x.dtype.type(ctx.count)  # (the mean of nothing is NaN)

    @staticmethod
    def backward(ctx, g):  # (an empty x gets an empty gradient: no 1/0 needed)
        count = builtins.max(ctx.count, 1)
        return expand(g.reshape(ctx.kept) / count, ctx.in_shape), None, None


def _count(x, dims) -> int:
    return int(np.prod([x.shape[d] for d in dims]))


@dim_aliases
def mean(x, dim=None, keepdim=False, *, dtype=None):
    x = unary_input(x, "mean")
    x = floats_only(x if dtype is None else cast(x, dtype), "mean", DTypeError)
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


# ------------------------------------------------------------------ max and min
class Amax(Function):
    # the gradient goes to the maximal element(s); ties share it equally
    @staticmethod
    def forward(ctx, x, dims, keepdim, nan_wins):
        return _extreme(ctx, np.max, x, dims, keepdim, nan_wins)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.kept) * Tensor(ctx.share), None, None, None


class Amin(Amax):
    # the same for the minimal element(s) (backward is Amax's)
    @staticmethod
    def forward(ctx, x, dims, keepdim, nan_wins):
        return _extreme(ctx, np.min, x, dims, keepdim, nan_wins)


def _extreme(ctx, reduce, x, dims, keepdim, nan_wins):
    """max or min over dims, computed directly in x's dtype (so no integer overflows),
    remembering each element's share of the gradient (floats only)."""
    out = reduce(x, axis=dims, keepdims=True)
    if x.dtype.kind == "f":
        hit = x == out
        if nan_wins:  # x.max() of data with NaNs: the NaNs share the gradient (PyTorch)
            hit |= np.isnan(x) & np.isnan(out)
        with np.errstate(invalid="ignore"):  # amax(dim) of NaNs: NaN gradient (PyTorch)
            ctx.share = hit / np.sum(hit, axis=dims, keepdims=True).astype(x.dtype)
        ctx.kept = out.shape
    return out if keepdim else out.reshape(
        [s for i, s in enumerate(x.shape) if i not in dims])


MaxResult = namedtuple("MaxResult", ["values", "indices"])


@dim_aliases
def amax(x, dim=None, keepdim=False):
    return _reduce_extreme(Amax, x, dim, keepdim, "amax")


@dim_aliases
def amin(x, dim=None, keepdim=False):
    return _reduce_extreme(Amin, x, dim, keepdim, "amin")


def _reduce_extreme(function, x, dim, keepdim, op, nan_wins=False):
    x = unary_input(x, op)
    dims = normalize_dims(dim, x.ndim, op)
    _check_not_empty(x, dim, dims, op)
    return function.apply(x, dims, keepdim, nan_wins)


def _check_not_empty(x, dim, dims, op, error=ShapeError):
    """max and min of nothing have no value (PyTorch's errors, with its classes)."""
    if dim is None and x.numel() == 0:
        raise error(f"{op}: cannot reduce an empty tensor of shape {x.shape}; give the "
                    "dim to reduce")
    for d in dims:
        if x.shape[d] == 0:
            raise IndexOutOfRange(f"{op}: cannot reduce dim {d} of size 0 (shape "
                                  f"{x.shape})")  # (IndexError; RuntimeError for norms)


@dim_aliases
def max(x, dim=None, keepdim=False):  # noqa: A001
    """x.max() -> the largest value (tied maxima share its gradient equally, as amax);
    x.max(dim) -> (values, indices), where the gradient of `values` goes only to the
    element at `indices` (the first maximum), exactly as in PyTorch."""
    if dim is None:
        return _reduce_extreme(Amax, x, None, False, "max", nan_wins=True)
    return _extreme_along(np.argmax, x, dim, keepdim, "max")


@dim_aliases
def min(x, dim=None, keepdim=False):  # noqa: A001
    if dim is None:
        return _reduce_extreme(Amin, x, None, False, "min", nan_wins=True)
    return _extreme_along(np.argmin, x, dim, keepdim, "min")


def _extreme_along(np_arg, x, dim, keepdim, op):
    indices = _arg_reduce(np_arg, x, dim, keepdim, op)
    if x.ndim == 0:  # (dim 0 or -1 of a 0-d tensor: the element itself, at index 0)
        return MaxResult(clone(x), indices)
    return MaxResult(_take_along_dim(x, indices, dim, keepdim), indices)


def _take_along_dim(x, indices, dim, keepdim):
    """out[..., j, ...] = x[..., indices[..., j, ...], ...] along dim, written as an
    indexing op so that its backward scatters the gradient to exactly those elements."""
    d, = normalize_dims(dim, x.ndim, "max")
    idx = indices._data if keepdim else np.expand_dims(indices._data, d)
    grid = list(np.ix_(*[np.arange(n) for n in idx.shape]))  # open mesh over all axes
    grid[d] = idx
    values = getitem(x, tuple(grid))
    return values if keepdim else values.reshape(indices.shape)


@dim_aliases
def argmax(x, dim=None, keepdim=False):
    """Index of the largest value (over the flattened tensor when dim is None)."""
    return _arg_reduce(np.argmax, _not_bool(x, "argmax"), dim, keepdim, "argmax")


@dim_aliases
def argmin(x, dim=None, keepdim=False):
    return _arg_reduce(np.argmin, _not_bool(x, "argmin"), dim, keepdim, "argmin")


def _not_bool(x, op):
    x = unary_input(x, op)
    if x.dtype == np.bool_:
        raise DTypeError(f"{op}: does not support bool tensors (as PyTorch); use "
                         f"x.int().{op}()")
    return x


def _arg_reduce(np_fn, x, dim, keepdim, op):
    x = unary_input(x, op)
    _check_not_empty(x, dim, normalize_dims(dim, x.ndim, op), op, IndexError)
    if dim is None or x.ndim == 0:  # (all of x; or dim 0 or -1 of a 0-d tensor)
        return Tensor(np.int64(np_fn(x._data)))
    d, = normalize_dims(dim, x.ndim, op)
    return Tensor(np_fn(x._data, axis=d, keepdims=keepdim).astype(np.int64))


# ------------------------------------------------------------------ statistics
class Var(Function):
    # var = sum((x - mean)^2) / (N - correction);  d var/dx = 2 (x - mean) / (N - correction)
    # (the path through the mean is left out: its gradient sums to 0 -- so, as in
    # PyTorch, one inf among the values does not make every gradient NaN)
    # No degrees of freedom left (dof = N - correction <= 0): the values are divided by
    # 0 (inf or NaN), and the gradient is PyTorch's: over all of x (dim=None), inf, or
    # NaN where x equals the mean; over given dims, the formula with dof as it is.
    @staticmethod
    def forward(ctx, x, dims, dof, keepdim, whole):
        ctx.dims, ctx.dof, ctx.kept = dims, dof, keepdim_shape(x.shape, dims)
        ctx.whole = whole
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):  # divisor 0: NaN or inf
            centered = x - np.sum(x, axis=dims, keepdims=True) / x.dtype.type(
                _count(x, dims))  # (np.mean, minus its warning for an empty x)
            return np.sum(centered * centered, axis=dims, keepdims=keepdim) / builtins.max(
                dof, 0)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        g = g.reshape(ctx.kept)
        if ctx.dof > 0:
            return g * (x - mean(x, ctx.dims, keepdim=True)) * (2.0 / ctx.dof), *_NONE4
        with np.errstate(invalid="ignore", divide="ignore"):
            centered = x - mean(x, ctx.dims, keepdim=True)
            if ctx.whole:
                return g * where(centered == 0, math.nan, math.inf), *_NONE4
            return g * centered * (2.0 / ctx.dof if ctx.dof else math.inf), *_NONE4


_NONE4 = (None,) * 4


def _var(x, dim, unbiased, keepdim, correction, op):
    """var(), for var/std/var_mean/std_mean (op names the one called, for the warning)."""
    x = floats_only(x, op, DTypeError)
    if correction is None:
        correction = 0 if unbiased is False else 1
    dims = normalize_dims(dim, x.ndim, op)
    dof = _count(x, dims) - correction
    if dof <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output "
                      "numel).", UserWarning, stacklevel=4)
    return Var.apply(x, dims, dof, keepdim, dim is None)


def _unbiased_overload(dim, unbiased):
    """x.var(False): PyTorch's var(unbiased) overload takes a bool as the first argument."""
    return (None, dim) if isinstance(dim, bool) else (dim, unbiased)


@dim_aliases
def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance: sum((x - mean)^2) / (N - correction); correction=1 (unbiased) default."""
    dim, unbiased = _unbiased_overload(dim, unbiased)
    return _var(x, dim, unbiased, keepdim, correction, "var")


class Std(Sqrt):
    # std = sqrt(var) (forward is Sqrt's);  d std / d var = 1 / (2 std), taken as 0
    # where std == 0 (all values equal), as PyTorch does -- instead of 0 * inf = NaN
    @staticmethod
    def backward(ctx, g):
        std, = ctx.saved_tensors
        zero = std == 0
        return where(zero, 0.0, g / (2 * where(zero, 1.0, std)))


@dim_aliases
def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, unbiased = _unbiased_overload(dim, unbiased)
    return Std.apply(_var(x, dim, unbiased, keepdim, correction, "std"))


@dim_aliases
def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) computed stably: m + log(sum(exp(x - m))) with m = max(x)."""
    x = float_input(x, "logsumexp")
    dims = normalize_dims(dim, x.ndim, "logsumexp")
    m = np.max(x._data, axis=dims, keepdims=True, initial=-np.inf)  # (nothing: -inf)
    m = Tensor(np.where(np.isfinite(m), m, 0).astype(x.dtype))  # a constant shift
    with np.errstate(divide="ignore"):  # (a sum of nothing: log 0 = -inf, as PyTorch)
        out = log(sum(exp(x - m), dims, keepdim=True)) + m
    return out if keepdim else out.reshape(
        [s for i, s in enumerate(out.shape) if i not in dims])


@dim_aliases
def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var(x, ...), mean(x, ...)) over the same dims, as torch.var_mean."""
    dim, unbiased = _unbiased_overload(dim, unbiased)
    return (_var(x, dim, unbiased, keepdim, correction, "var_mean"),
            mean(x, dim, keepdim))


@dim_aliases
def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std(x, ...), mean(x, ...)) over the same dims, as torch.std_mean."""
    dim, unbiased = _unbiased_overload(dim, unbiased)
    return (Std.apply(_var(x, dim, unbiased, keepdim, correction, "std_mean")),
            mean(x, dim, keepdim))


# ------------------------------------------------------------------ norms
class VectorNorm(Function):
    # ||x||_p = (sum |x|^p)^(1/p);  d/dx = sign(x) |x|^(p-1) / ||x||^(p-1), with PyTorch's
    # values at the edges: 0 where ||x|| = 0 (not 0/0); p = inf, -inf: the extreme |x|
    # share the gradient (as amax); p = 1: sign(x); p = 0 (count of non-zeros): 0
    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        a = np.abs(x)
        if math.isinf(p):
            kept = (np.max if p > 0 else np.min)(a, axis=dims, keepdims=True)
        elif p == 0:
            kept = np.sum(a != 0, axis=dims, keepdims=True).astype(x.dtype)
        elif p == 1:
            kept = np.sum(a, axis=dims, keepdims=True)
        elif p == 2:
            kept = np.sqrt(np.sum(a * a, axis=dims, keepdims=True))
        else:
            with np.errstate(divide="ignore"):  # 0 ** negative p = inf, as PyTorch
                kept = np.sum(a ** p, axis=dims, keepdims=True) ** (1 / p)
        ctx.p, ctx.dims, ctx.kept = p, dims, kept.shape
        out = kept if keepdim else kept.reshape(
            [s for i, s in enumerate(x.shape) if i not in dims])
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        g, norm, p = g.reshape(ctx.kept), norm.reshape(ctx.kept), ctx.p
        sign = Tensor(sign_of(x._data))
        if p == 0:
            return Tensor(np.zeros_like(x._data)), None, None, None
        if p == 1:
            return g * sign, None, None, None
        if math.isinf(p):
            hit = (np.abs(x._data) == norm._data) | np.isnan(x._data)
            share = hit / np.sum(hit, axis=ctx.dims, keepdims=True).astype(x.dtype)
            return g * sign * Tensor(share), None, None, None
        if p < 1:  # |x|^(p-1) is infinite at x = 0: that element gets 0
            zero = x == 0
            scaled = where(zero, 0.0, abs(where(zero, 1.0, x)) ** (p - 1))
            return sign * scaled * g * norm ** (1 - p), None, None, None
        flat = norm == 0
        scale = where(flat, 0.0, g / where(flat, 1.0, norm) ** (p - 1))
        if p == 2:
            return x * scale, None, None, None
        scaled = sign * abs(x) ** (p - 1) if p < 2 else x * abs(x) ** (p - 2)
        return scaled * scale, None, None, None


@dim_aliases
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The p-norm (sum |x|^ord)^(1/ord) over dim (all elements by default), as
    torch.linalg.vector_norm; ord may be any number, inf or -inf (max / min |x|)."""
    x = unary_input(x, "vector_norm")
    x = x if dtype is None else cast(x, dtype)
    x = floats_only(x, "vector_norm", DTypeError)
    if isinstance(ord, (bool, str)) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"vector_norm: ord must be a number, got {ord!r}")
    dims = normalize_dims(dim, x.ndim, "vector_norm")
    if math.isinf(ord):
        _check_not_empty(x, dim, dims, f"vector_norm (ord={ord})")
    return VectorNorm.apply(x, float(ord), dims, keepdim)


@dim_aliases
def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: a number p gives the vector p-norm over dim (all elements by
    default); 'fro' the 2-norm; 'nuc' the nuclear norm (see linalg.matrix_norm)."""
    if not isinstance(p, str):
        return vector_norm(x, 2 if p is None else p, dim, keepdim, dtype=dtype)
    if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    from .linalg import matrix_norm  # (linalg builds on this file: import it late)
    dim = tuple(range(unary_input(x, "norm").ndim)) if dim is None else dim
    return matrix_norm(x, p, dim, keepdim, dtype=dtype)
