"""Reductions: sum, mean, max/min (amax/amin), var, std, logsumexp, argmax/argmin.

A reduction's backward spreads the output gradient back over the reduced axes,
which is broadcasting again -- so sum and expand (broadcast_to) are each other's
backward, and everything else here is built from them.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .arithmetic import float_input, log, exp, sqrt, unary_input, cast
from .shape import getitem


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
        raise ValueError(f"{op}: dim {dim} repeats an axis")
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
        return np.sum(x, axis=dims, keepdims=keepdim)

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


def sum(x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Sum over dim (None: all); dtype= casts x first (e.g. to sum bools as int64)."""
    x = unary_input(x, "sum")
    if dtype is not None:
        x = cast(x, dtype)
    return Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)


def sum_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else SumTo.apply(x, shape)


def expand(x, *shape):
    """Broadcast x to `shape` (-1 keeps a dimension), as torch.Tensor.expand."""
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


def mean(x, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = cast(unary_input(x, "mean"), dtype)
    x = float_input(x, "mean")
    dims = normalize_dims(dim, x.ndim, "mean")
    count = int(np.prod([x.shape[d] for d in dims]))
    return sum(x, dims, keepdim) / count


# ------------------------------------------------------------------ max and min
class Amax(Function):
    # the gradient goes to the maximal element(s); ties share it equally
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        out = np.max(x, axis=dims, keepdims=True)
        hit = x == out
        ctx.share = hit / np.sum(hit, axis=dims, keepdims=True).astype(x.dtype)
        ctx.kept = out.shape
        return out if keepdim else out.reshape(
            [s for i, s in enumerate(x.shape) if i not in dims])

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.kept) * Tensor(ctx.share), None, None


MaxResult = namedtuple("MaxResult", ["values", "indices"])


def amax(x, dim=None, keepdim=False):
    x = unary_input(x, "amax")
    if x.numel() == 0:
        raise ValueError(f"amax: cannot reduce an empty tensor of shape {x.shape}")
    return Amax.apply(x, normalize_dims(dim, x.ndim, "amax"), keepdim)


def amin(x, dim=None, keepdim=False):
    return -amax(-unary_input(x, "amin"), dim, keepdim)


def max(x, dim=None, keepdim=False):  # noqa: A001
    """x.max() -> the largest value (tied maxima share its gradient equally, as amax);
    x.max(dim) -> (values, indices), where the gradient of `values` goes only to the
    element at `indices` (the first maximum), exactly as in PyTorch."""
    if dim is None:
        return amax(x)
    indices = argmax(x, dim, keepdim)
    return MaxResult(_take_along_dim(x, indices, dim, keepdim), indices)


def min(x, dim=None, keepdim=False):  # noqa: A001
    if dim is None:
        return amin(x)
    indices = argmin(x, dim, keepdim)
    return MaxResult(_take_along_dim(x, indices, dim, keepdim), indices)


def _take_along_dim(x, indices, dim, keepdim):
    """out[..., j, ...] = x[..., indices[..., j, ...], ...] along dim, written as an
    indexing op so that its backward scatters the gradient to exactly those elements."""
    d, = normalize_dims(dim, x.ndim, "max")
    idx = indices.numpy() if keepdim else np.expand_dims(indices.numpy(), d)
    grid = list(np.ix_(*[np.arange(n) for n in idx.shape]))  # open mesh over all axes
    grid[d] = idx
    values = getitem(x, tuple(grid))
    return values if keepdim else values.reshape(indices.shape)


def argmax(x, dim=None, keepdim=False):
    """Index of the largest value (over the flattened tensor when dim is None)."""
    return _arg_reduce(np.argmax, x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False):
    return _arg_reduce(np.argmin, x, dim, keepdim, "argmin")


def _arg_reduce(np_fn, x, dim, keepdim, op):
    x = unary_input(x, op)
    if dim is None:
        return Tensor(np.int64(np_fn(x._data)))
    d, = normalize_dims(dim, x.ndim, op)
    return Tensor(np_fn(x._data, axis=d, keepdims=keepdim).astype(np.int64))


# ------------------------------------------------------------------ statistics
def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance: sum((x - mean)^2) / (N - correction); correction=1 (unbiased) default."""
    x = float_input(x, "var")
    if isinstance(dim, bool):  # x.var(False): PyTorch's var(unbiased) overload
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    dims = normalize_dims(dim, x.ndim, "var")
    count = int(np.prod([x.shape[d] for d in dims]))
    centered = x - mean(x, dims, keepdim=True)
    return sum(centered * centered, dims, keepdim) / np.maximum(count - correction, 0)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) computed stably: m + log(sum(exp(x - m))) with m = max(x)."""
    x = float_input(x, "logsumexp")
    dims = normalize_dims(dim, x.ndim, "logsumexp")
    m = np.max(x._data, axis=dims, keepdims=True)
    m = Tensor(np.where(np.isfinite(m), m, 0).astype(x.dtype))  # a constant shift
    out = log(sum(exp(x - m), dims, keepdim=True)) + m
    return out if keepdim else out.reshape(
        [s for i, s in enumerate(out.shape) if i not in dims])


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var(x, ...), mean(x, ...)) over the same dims, as torch.var_mean."""
    v = var(x, dim, unbiased, keepdim, correction=correction)
    return v, mean(x, None if isinstance(dim, bool) else dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std(x, ...), mean(x, ...)) over the same dims, as torch.std_mean."""
    v, m = var_mean(x, dim, unbiased, keepdim, correction=correction)
    return sqrt(v), m
