"""Sorting and order statistics: sort, argsort, topk, kthvalue, median.

Each finds *positions* (int64 indices) with numpy or the loops of kernels/select.py,
then takes the values with gather -- so the gradient of a value flows back to the
element it came from, exactly where PyTorch sends it, ties included. NaN sorts as
the largest value.

Which of several equal values comes first decides which one gets the gradient; it
follows PyTorch's CPU kernels: stable=True keeps tied elements in input order;
topk and kthvalue use the same selection algorithms as PyTorch (kernels/select.py);
sort(stable=False) uses the introsort PyTorch's CPU runs (stable on 16 elements or
fewer).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..kernels import select
from ..tensor import Tensor, _FLOATS, dim_aliases
from .arithmetic import unary_input
from ..errors import ArgumentError, DTypeError, NotImplementedForDType, IndexOutOfRange
from .indexing import gather
from .shape import _dim

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])
MedianResult = namedtuple("median", ["values", "indices"])


def _rows(x, d):
    """A copy of x's values with dim d moved last, as a (rows, n) array for the
    kernels to permute (bool as uint8), and a function that puts (rows, m) results
    back in place of dim d."""
    a = np.moveaxis(x._data, d, -1)
    lead = a.shape[:-1]
    keys = np.array(a.reshape(int(np.prod(lead)), a.shape[-1]), order="C")  # a copy
    if keys.dtype == np.bool_:
        keys = keys.view(np.uint8)

    def back(rows):
        return np.moveaxis(rows.reshape(lead + rows.shape[-1:]), -1, d)
    return keys, back


def _stable_argsort(x, d, descending):
    """Positions in sorted order, ties in input order (NaN last ascending, first
    descending): descending is the ascending sort of the reversed array, reversed."""
    a = x._data
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    order = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return n - 1 - np.flip(order, d)


def _argsort(x, d, descending, stable):
    if x.ndim == 0:
        return np.int64(0)
    if stable or x.shape[d] <= 16:  # (std::sort is an insertion sort up to 16)
        return _stable_argsort(x, d, descending).astype(np.int64)
    keys, back = _rows(x, d)
    idx = np.empty(keys.shape, np.int64)
    select.sort_rows(keys, bool(descending), idx)
    return back(idx)


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """(values, indices) sorted along dim, ascending unless descending=True."""
    x = unary_input(input, "sort")
    d = _dim(dim, max(x.ndim, 1), "sort")
    indices = Tensor(_argsort(x, d, descending, stable))
    return SortResult(gather(x, d, indices), indices)


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """The indices that sort input along dim (sort(...).indices)."""
    x = unary_input(input, "argsort")
    return Tensor(_argsort(x, _dim(dim, max(x.ndim, 1), "argsort"), descending, stable))


def _refuse_bool(x, op, error=NotImplementedForDType):
    """topk, kthvalue and median have no bool kernel in PyTorch (sort has one)."""
    if x.dtype == np.bool_:
        raise error(f"{op}: not implemented for bool tensors (as in PyTorch); convert "
                    "with .to(minidl.uint8) or .long() first")


def _select_input(input, k, dim, op, k_min):  # noqa: A002
    """(x, d) after checking k_min <= k <= the size of dim."""
    x = unary_input(input, op)
    d = _dim(dim, max(x.ndim, 1), op)
    n = x.shape[d] if x.ndim else 1
    if n == 0 and k_min:  # (kthvalue: there is no k-th of nothing)
        _empty_dim(x, d, op)
    if not k_min <= int(k) <= n:
        raise ArgumentError(f"{op}: k ({k}) is out of range for dimension {dim} of size "
                            f"{n}")
    return x, d


def _empty_dim(x, d, op):
    raise IndexOutOfRange(f"{op}(): Expected reduction dim {d} to have non-zero size "
                          f"(input of shape {x.shape})")


def _element_itself(x):
    """(values, indices) of a 0-d tensor: the element, at index 0 (as PyTorch)."""
    return gather(x, 0, Tensor(np.int64(0))), Tensor(np.int64(0))


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """(values, indices) of the k largest (largest=False: smallest) elements along
    dim, in order when sorted=True."""
    x, d = _select_input(input, k, dim, "topk", 0)
    _refuse_bool(x, "topk", DTypeError)
    if x.ndim == 0:  # (PyTorch gives the element itself, even for k = 0)
        return TopkResult(*_element_itself(x))
    keys, back = _rows(x, d)
    idx = np.empty((keys.shape[0], int(k)), np.int64)
    if k:
        select.topk_rows(keys, int(k), bool(largest), bool(sorted), idx)
    indices = Tensor(back(idx))
    return TopkResult(gather(x, d, indices), indices)


@dim_aliases
def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002
    """(values, indices) of the k-th smallest element along dim (k counts from 1)."""
    x, d = _select_input(input, k, dim, "kthvalue", 1)
    if x.ndim == 0:  # (PyTorch takes a 0-d bool here)
        return KthvalueResult(*_element_itself(x))
    _refuse_bool(x, "kthvalue")
    keys, back = _rows(x, d)
    idx = np.empty((keys.shape[0], 1), np.int64)
    select.kthvalue_rows(keys, int(k) - 1, idx)
    return KthvalueResult(*_picked(x, d, back(idx), keepdim))


def _picked(x, d, idx, keepdim):
    """(values, indices) for one index per slice (idx has size 1 along d)."""
    values = gather(x, d, Tensor(idx))
    if keepdim:
        return values, Tensor(idx)
    return values.squeeze(d), Tensor(idx.squeeze(d))


class MedianAll(Function):
    # the lower median m of all elements; its gradient is shared equally by every
    # element equal to m (by the NaNs if m is NaN), as PyTorch does
    @staticmethod
    def forward(ctx, x):
        if x.size == 0:  # (PyTorch's median of nothing: NaN, or the dtype's lowest)
            ctx.share = np.zeros(x.shape, bool)
            return np.asarray(np.nan if x.dtype.kind == "f" else np.iinfo(x.dtype).min,
                              x.dtype)
        flat = np.sort(x.ravel())  # (NaN last)
        m = flat[-1] if flat.dtype in _FLOATS and np.isnan(flat[-1]) else \
            flat[(flat.size - 1) // 2]
        hit = np.isnan(x) if m != m else x == m
        ctx.share = hit / hit.sum()
        return np.asarray(m)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.share.astype(g.dtype))


@dim_aliases
def median(input, dim=None, keepdim=False):  # noqa: A002
    """median(x): the lower median of all elements (NaN if there is one).
    median(x, dim): (values, indices) per slice; of tied values the one first in
    input order, and the first NaN if the slice holds one (as PyTorch)."""
    x = unary_input(input, "median")
    _refuse_bool(x, "median")
    d = None if dim is None else _dim(dim, max(x.ndim, 1), "median")
    if d is not None and x.ndim and x.shape[d] == 0:
        _empty_dim(x, d, "median")
    if dim is None:
        return MedianAll.apply(x)
    if x.ndim == 0:
        return MedianResult(*_element_itself(x))
    a = x._data
    n = a.shape[d]
    idx = np.take(np.argsort(a, axis=d, kind="stable"), [(n - 1) // 2], axis=d)
    if a.dtype in _FLOATS:
        nan = np.isnan(a)
        idx = np.where(nan.any(axis=d, keepdims=True),
                       np.argmax(nan, axis=d, keepdims=True), idx)
    return MedianResult(*_picked(x, d, idx.astype(np.int64), keepdim))


__all__ = ["sort", "argsort", "topk", "kthvalue", "median"]
