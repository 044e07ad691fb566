"""Indexing with index tensors along one dimension, and with masks.

  gather(x, dim, index)[p]        = x[p with coordinate dim replaced by index[p]]
  scatter(x, dim, index, src)     : x, then out[p with dim <- index[p]] = src[p]
  scatter_add / scatter_reduce    : the same, adding (or multiplying, averaging,
                                    taking max/min) where several p hit one place
  masked_fill(x, mask, v)         : v where mask, else x
  masked_select(x, mask)          : the elements where mask, as a 1-D tensor
  nonzero(x)                      : the positions of nonzero elements (int64)

gather and scatter_add are each other's adjoints -- gather's backward scatters the
gradient back (adding where an index repeats), scatter_add's gathers it -- and both
are the indexing Functions of shape.py (GetItem, IndexAdd) with the index tuple made
here: the position p in every dim but `dim`, index[p] in dim.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, ShapeError, _FLOATS
from .arithmetic import unary_input, where, cast, scalar_in_dtype
from ..errors import ArgumentError, IndexOutOfRange
from .reduction import expand
from .shape import GetItem, IndexAdd, _dim


# ------------------------------------------------------------------ the index tuple
def index_grid(x, dim, index, op):
    """The numpy index that sends position p of `index` to x[p, with dim <- index[p]].

    index must be an integer tensor with x's number of dimensions, no larger than x
    in the other dimensions, and hold values in [0, x.shape[dim])."""
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise ArgumentError(f"{op}: index must be an integer tensor, got {got}")
    idx = index._data
    if idx.ndim != x.ndim or any(i > s for k, (i, s) in enumerate(zip(idx.shape, x.shape))
                                 if k != dim):
        raise ShapeError(f"{op}: index of shape {idx.shape} must have the same number of "
                         f"dims as input {x.shape} and be no larger outside dim {dim}")
    n = x.shape[dim] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexOutOfRange(f"{op}: index {bad} is out of bounds for dimension {dim} "
                              f"with size {n}")
    if x.ndim == 0:
        return ()
    grid = list(np.ix_(*[np.arange(s) for s in idx.shape]))
    grid[dim] = idx
    return tuple(grid)


def _src_part(src, index, op):
    """The leading index.shape block of src (src may be larger, as in PyTorch)."""
    if src.ndim != index.ndim or any(s < i for s, i in zip(src.shape, index.shape)):
        raise ShapeError(f"{op}: src of shape {src.shape} must be at least as large as "
                         f"index {index.shape} in every dim")
    if src.shape == index.shape:
        return src
    return GetItem.apply(src, tuple(slice(0, n) for n in index.shape))


def _same_dtype(x, src, op):
    if src.dtype != x.dtype:
        raise ArgumentError(f"{op}: src has dtype {src.dtype} but input has "
                            f"{x.dtype}; they must match")


# ------------------------------------------------------------------ gather, scatter_add
def gather(input, dim, index, *, sparse_grad=False):  # noqa: A002
    """out[p] = input[p with coordinate dim replaced by index[p]]; out has index's
    shape. The gradient adds up at inputs picked more than once."""
    x = unary_input(input, "gather")
    d = _dim(dim, max(x.ndim, 1), "gather")
    return GetItem.apply(x, index_grid(x, d, index, "gather"))


def scatter_add(input, dim, index, src):  # noqa: A002
    """input + (src[p] added at position p with dim <- index[p]; repeats add up)."""
    x, src = unary_input(input, "scatter_add"), unary_input(src, "scatter_add")
    d = _dim(dim, max(x.ndim, 1), "scatter_add")
    grid = index_grid(x, d, index, "scatter_add")
    _same_dtype(x, src, "scatter_add")
    return x + IndexAdd.apply(_src_part(src, index, "scatter_add"), grid, x.shape)


# ------------------------------------------------------------------ scatter
class Scatter(Function):
    # out = x, then out[index] = src; where an index repeats, the last write (in
    # the order of index's elements) wins, as on PyTorch's CPU.
    # d/dx = g except 0 where written; d/dsrc = g[index] for the src that won, 0 for
    # those overwritten. (PyTorch gives every src g[index]; its documentation calls
    # that gradient incorrect for repeated indices.)
    # With reduce ("add"/"multiply") PyTorch has no derivative: backward raises.
    @staticmethod
    def forward(ctx, x, src, index, reduce):
        ctx.index, ctx.reduce = index, reduce
        out = x.copy()
        if reduce is not None:
            (np.add if reduce == "add" else np.multiply).at(out, index, src)
            return out
        if not index:  # a 0-d x: its one element is written
            ctx.won = np.ones((), bool)
            out[()] = src
            return out
        src = np.broadcast_to(src, np.broadcast_shapes(*(i.shape for i in index)))
        ctx.won = last_writes(index, x.shape)
        out[tuple(np.broadcast_to(i, src.shape)[ctx.won] for i in index)] = src[ctx.won]
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.reduce is not None:
            raise RuntimeError(f"scatter(reduce={ctx.reduce!r}): the derivative is not "
                               "implemented, as in PyTorch; use scatter_reduce")
        gx = Scatter.apply(g, 0, ctx.index, None)
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = where(Tensor(ctx.won), GetItem.apply(g, ctx.index), 0.0)
        return gx, gsrc, None, None


def last_writes(index, shape):
    """A bool mask over the positions of index: True where no later position (in C
    order) writes to the same place of an array of `shape`."""
    places = np.ravel_multi_index(np.broadcast_arrays(*index), shape).ravel()
    _, first_from_end = np.unique(places[::-1], return_index=True)
    won = np.zeros(places.size, bool)
    won[places.size - 1 - first_from_end] = True
    return won.reshape(np.broadcast_shapes(*(i.shape for i in index)))


def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """A copy of input with out[p with dim <- index[p]] = src[p] (or = value, a
    number). reduce="add" or "multiply" combines with what is there instead."""
    x = unary_input(input, "scatter")
    if (src is None) == (value is None):
        raise ArgumentError("scatter: give exactly one of src (a tensor) and value")
    if reduce not in (None, "add", "multiply"):
        raise ArgumentError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    d = _dim(dim, max(x.ndim, 1), "scatter")
    grid = index_grid(x, d, index, "scatter")
    if isinstance(src, Tensor):
        _same_dtype(x, src, "scatter")
        src = _src_part(src, index, "scatter")
    else:  # a number: cast to the input's dtype, as PyTorch does
        src = np.asarray(value if src is None else src).astype(x.dtype)
    return Scatter.apply(x, src, grid, reduce)


# ------------------------------------------------------------------ scatter_reduce
REDUCERS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
            "amin": np.minimum}


def _identity(reduce, dtype):
    """The starting value of a reduction with no elements yet."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dtype in _FLOATS else np.iinfo(dtype).max
    return -big if reduce == "amax" else big


class ScatterReduce(Function):
    # out[q] = reduce(x[q] (if include_self), src[p] for each p sent to q).
    # The gradients, as PyTorch's (torch/csrc/autograd/FunctionsManual.cpp):
    #   sum:  d/dx = 1, d/dsrc = 1          mean: both divided by the count at q
    #   prod: d/dx = out / x, d/dsrc = out / src, computed without dividing by zero
    #   amax/amin: shared equally among the x and src equal to out[q]
    # and with include_self=False, x gets 0 where something was written.
    @staticmethod
    def forward(ctx, x, src, index, reduce, include_self):
        ctx.index, ctx.reduce, ctx.include_self = index, reduce, include_self
        ctx.written = np.zeros(x.shape, bool)
        ctx.written[index] = True
        out = x.copy()
        if not include_self:
            out[ctx.written] = _identity(reduce, x.dtype)
        REDUCERS[reduce].at(out, index, src)
        if reduce == "mean":  # count the values at each place (at least 1)
            ctx.count = np.full(x.shape, int(include_self), x.dtype)
            np.add.at(ctx.count, index, 1)
            ctx.count[ctx.count == 0] = 1
            out = out / ctx.count if x.dtype in _FLOATS else out // ctx.count
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, src, out = ctx.saved_tensors
        if ctx.reduce in ("sum", "mean"):
            gx = g if ctx.reduce == "sum" else g / Tensor(ctx.count)
            gsrc = GetItem.apply(gx, ctx.index)
        elif ctx.reduce == "prod":
            gx, gsrc = _prod_grads(ctx, g, x, src, out)
        else:
            gx, gsrc = _extremum_grads(ctx, g, x, src, out)
        if not ctx.include_self:
            gx = where(Tensor(ctx.written), 0.0, gx)
        return gx, gsrc, None, None, None


def _prod_grads(ctx, g, x, src, out):
    """d out / d x = product of the others at its place: out / x where x != 0, else
    the product taken with that x set to 1; the same for src (a src that is the only
    zero sent to its place; with two zeros there, every derivative is 0)."""
    index, include_self = ctx.index, ctx.include_self
    self_zero = Tensor(x._data == 0)
    x_or_one = where(self_zero, 1.0, x)
    gx = g * ScatterReduce.apply(x_or_one, src, index, "prod", include_self) / x_or_one
    src_zero = src._data == 0
    zeros_here = np.zeros(x.shape)
    np.add.at(zeros_here, index, src_zero)
    zeros_here = zeros_here[index]
    single = Tensor(src_zero & (zeros_here == 1))
    out_without = ScatterReduce.apply(x, where(single, 1.0, src), index, "prod",
                                      include_self)
    gsrc = where(single, GetItem.apply(g * out_without, index),
                 GetItem.apply(g * out, index) / where(Tensor(src_zero), 1.0, src))
    if (zeros_here > 1).any():
        gsrc = FirstOrderOnly.apply(gsrc, "scatter_reduce(prod) with two or more zeros "
                                    "sent to one place has no second derivative here "
                                    "(nor in PyTorch)")
    return gx, gsrc


def _extremum_grads(ctx, g, x, src, out):
    """Each value equal to the max (min) at its place gets an equal share of g.

    (With include_self=False, an x that was replaced but happens to equal the result
    takes no share here; PyTorch 2.13 counts it, giving src half its gradient.)"""
    self_is = x._data == out._data
    if not ctx.include_self:
        self_is &= ~ctx.written
    src_is = src._data == out._data[ctx.index]
    sharers = self_is.astype(g.dtype)
    np.add.at(sharers, ctx.index, src_is)
    share = g / Tensor(sharers)
    return Tensor(self_is) * share, Tensor(src_is) * GetItem.apply(share, ctx.index)


class FirstOrderOnly(Function):
    # passes x through; differentiating the result again raises (for gradients that
    # are right but whose own derivative is not computed)
    @staticmethod
    def forward(ctx, x, reason):
        ctx.reason = reason
        return x

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.reason)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    """Send src[p] to position (p with dim <- index[p]) and combine all values sent to
    one place with reduce: "sum", "prod", "mean", "amax" or "amin" -- together with
    input's own value there if include_self, else replacing it."""
    x, src = unary_input(input, "scatter_reduce"), unary_input(src, "scatter_reduce")
    if reduce not in REDUCERS:
        raise ArgumentError(f"scatter_reduce: reduce must be one of {list(REDUCERS)}, "
                            f"got {reduce!r}")
    d = _dim(dim, max(x.ndim, 1), "scatter_reduce")
    grid = index_grid(x, d, index, "scatter_reduce")
    _same_dtype(x, src, "scatter_reduce")
    src = _src_part(src, index, "scatter_reduce")
    return ScatterReduce.apply(x, src, grid, reduce, bool(include_self))


# ------------------------------------------------------------------ masks
def _bool_mask(mask, op):
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise ArgumentError(f"{op}: mask must be a bool tensor, got {got}")
    return mask


def masked_fill(input, mask, value):  # noqa: A002
    """value where mask is True, input elsewhere (mask broadcasts with input). value is
    a number or a 0-d tensor, converted to input's dtype."""
    x = unary_input(input, "masked_fill")
    mask = _bool_mask(mask, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                             f"shape {value.shape}")
        value = cast(value, x.dtype)
    else:
        value = Tensor(scalar_in_dtype(value, x.dtype, "masked_fill"))
    return where(mask, value, x)


def masked_select(input, mask):  # noqa: A002
    """The elements of input where mask is True (the two broadcast), as a 1-D tensor."""
    x = unary_input(input, "masked_select")
    mask = _bool_mask(mask, "masked_select")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ShapeError(f"masked_select: cannot broadcast input {x.shape} with mask "
                         f"{mask.shape}") from None
    return GetItem.apply(expand(x, shape), np.broadcast_to(mask._data, shape))


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """Positions of the nonzero elements: an int64 tensor of shape (count, ndim), or
    with as_tuple=True one 1-D tensor of coordinates per dimension."""
    x = unary_input(input, "nonzero")._data
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(x)))
    return Tensor(np.argwhere(x).astype(np.int64))


__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "masked_fill",
           "masked_select", "nonzero"]
