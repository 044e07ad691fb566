"""Ops that move elements without changing them: flip, roll, split/chunk, tril/triu,
diagonal/diag, repeat (Tensor.repeat), repeat_interleave, unfold (Tensor.unfold),
unflatten and meshgrid.

Only flip and roll are Functions of their own (each one's backward is itself, run
backwards). The rest are compositions of indexing, reshape, expand and where, whose
backward passes autograd already knows: a repeated element sums the gradients of its
copies, an element left out (above the diagonal of tril, say) gets 0.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, ShapeError
from .arithmetic import unary_input, where
from ..errors import ArgumentError
from .reduction import expand
from .shape import GetItem, IndexAdd, reshape, permute, _dim, _shape_arg


def _dims(dims) -> tuple:
    return tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)


# ------------------------------------------------------------------ flip and roll
class Flip(Function):
    # reverse the order along dims; backward: reverse the gradient back
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims), None


class Roll(Function):
    # shift elements along dims, wrapping around; backward: shift back
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if ctx.dims is not None else -ctx.shifts
        return Roll.apply(g, back, ctx.dims), None, None


def flip(input, dims):  # noqa: A002
    """Reverse the order of elements along each of `dims` (a copy, as in PyTorch)."""
    x = unary_input(input, "flip")
    dims = _dims(dims)
    axes = tuple(_dim(d, max(x.ndim, 1), "flip") for d in dims)
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"flip: dims {dims} name a dimension more than once")
    return Flip.apply(x, axes if x.ndim else ())


def roll(input, shifts, dims=None):  # noqa: A002
    """Shift elements by `shifts` along `dims`, wrapping around the end; without dims
    the tensor is rolled as if flattened, then given its shape back."""
    x = unary_input(input, "roll")
    shifts = _dims(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll: without dims, shifts must be one number, got "
                                f"{shifts}")
        return Roll.apply(x, int(shifts[0]), None)
    dims = _dims(dims)
    if len(shifts) != len(dims):
        raise ArgumentError(f"roll: shifts {shifts} and dims {dims} must have the "
                            "same length")
    axes = tuple(_dim(d, x.ndim, "roll") for d in dims)
    return Roll.apply(x, tuple(int(s) for s in shifts), axes)


# ------------------------------------------------------------------ split and chunk
def _pieces(x, sizes, d):
    """Slices of x along dim d with the given sizes (views, as in PyTorch)."""
    bounds = np.cumsum([0] + list(sizes))
    lead = (slice(None),) * d
    return tuple(GetItem.apply(x, lead + (slice(int(lo), int(hi)),))
                 for lo, hi in zip(bounds[:-1], bounds[1:]))


def split(tensor, split_size_or_sections, dim=0):
    """Cut a tensor along dim into pieces of split_size (the last may be smaller), or
    of the sizes in a list (they must add up to the dimension's size)."""
    x = unary_input(tensor, "split")
    if x.ndim == 0:
        raise ShapeError("split: expects a tensor with at least one dimension")
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} must be non-negative and add up to "
                             f"{n}, the size of dimension {dim} of shape {x.shape}")
        return _pieces(x, sizes, d)
    size = int(split_size_or_sections)
    if size < 0 or (size == 0 and n > 0):
        raise ArgumentError(f"split: split_size must be positive (0 only for an "
                            f"empty dimension), got {size} for a dimension of size {n}")
    count = max(-(-n // size), 1) if size else 1
    return _pieces(x, [size] * (count - 1) + [n - size * (count - 1)], d)


def chunk(input, chunks, dim=0):  # noqa: A002
    """Split into `chunks` pieces of ceil(size / chunks) elements (fewer pieces when
    the size does not allow that many, as in PyTorch)."""
    x = unary_input(input, "chunk")
    if int(chunks) <= 0:
        raise ArgumentError(f"chunk: chunks must be positive, got {chunks}")
    if x.ndim == 0:
        raise ShapeError("chunk: expects a tensor with at least one dimension")
    d = _dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    if n == 0:  # every piece is empty: keep the number of chunks asked for
        return _pieces(x, [0] * int(chunks), d)
    return split(x, -(-n // int(chunks)), d)


# ------------------------------------------------------------------ triangles, diagonals
def _triangle(input, diagonal, op, lower):
    x = unary_input(input, op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expects a tensor with at least 2 dimensions, got shape "
                         f"{x.shape}")
    rows, cols = x.shape[-2:]
    below = np.tri(rows, cols, int(diagonal) - (0 if lower else 1), dtype=bool)
    return where(Tensor(below if lower else ~below), x, Tensor(np.zeros((), x.dtype)))


def tril(input, diagonal=0):  # noqa: A002
    """Keep the lower triangle of the last two dims (j <= i + diagonal); zero the rest."""
    return _triangle(input, diagonal, "tril", lower=True)


def triu(input, diagonal=0):  # noqa: A002
    """Keep the upper triangle of the last two dims (j >= i + diagonal); zero the rest."""
    return _triangle(input, diagonal, "triu", lower=False)


def _diagonal_positions(rows, cols, offset):
    """Row and column indices of the diagonal `offset` of a rows x cols matrix."""
    n = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    k = np.arange(n)
    return (k, k + offset) if offset >= 0 else (k - offset, k)


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    """The diagonal of the matrices spanned by dim1 and dim2 (offset > 0: above it),
    as a new last dimension; the other dims stay in order."""
    x = unary_input(input, "diagonal")
    a, b = _dim(dim1, x.ndim, "diagonal"), _dim(dim2, x.ndim, "diagonal")
    if a == b:
        raise ArgumentError(f"diagonal: dim1 and dim2 are both dimension {a}")
    return _take_diagonal(x, int(offset), a, b)


def _take_diagonal(x, offset, a, b):
    rest = [i for i in range(x.ndim) if i not in (a, b)]
    moved = permute(x, *rest, a, b)
    index = (Ellipsis,) + _diagonal_positions(x.shape[a], x.shape[b], offset)
    return GetItem.apply(moved, index)


def diag(input, diagonal=0):  # noqa: A002
    """1-D input: a square matrix with input on its diagonal `diagonal`.
    2-D input: that diagonal of the matrix, as a 1-D tensor."""
    x = unary_input(input, "diag")
    if x.ndim == 2:
        return _take_diagonal(x, int(diagonal), 0, 1)
    if x.ndim != 1:
        raise ShapeError(f"diag: expects a 1-D or 2-D tensor, got shape {x.shape}")
    size = x.shape[0] + abs(int(diagonal))
    index = _diagonal_positions(size, size, int(diagonal))
    return IndexAdd.apply(x, index, (size, size))


# ------------------------------------------------------------------ repeating
def repeat(input, *sizes):  # noqa: A002
    """Tensor.repeat: tile the tensor sizes[i] times along dim i (extra leading sizes
    add dimensions). Built as reshape -> expand -> reshape, so the gradient of each
    element is the sum over its copies."""
    x = unary_input(input, "repeat")
    sizes = _shape_arg(sizes, "repeat", "repeats")
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: needs at least {x.ndim} sizes for a tensor of shape "
                         f"{x.shape}, got {sizes}")
    if any(s < 0 for s in sizes):
        raise ArgumentError(f"repeat: sizes must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    interleaved = [n for s in shape for n in (1, s)]   # (1, s0, 1, s1, ...)
    tiled = [n for r, s in zip(sizes, shape) for n in (r, s)]  # (r0, s0, r1, s1, ...)
    out = expand(reshape(x, interleaved), tiled)
    return reshape(out, tuple(r * s for r, s in zip(sizes, shape)))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Repeat each element `repeats` times (a number, or one count per element along
    dim) next to itself: [a, b] -> [a, a, b, b]. Without dim the tensor is flattened
    first. repeat_interleave(counts) alone gives arange(len(counts)) repeated."""
    if repeats is None:  # the one-argument form
        counts = _counts(input, None, "repeat_interleave")
        return Tensor(np.repeat(np.arange(len(counts), dtype=np.int64), counts))
    x = unary_input(input, "repeat_interleave")
    if dim is None:
        x, d = reshape(x, -1), 0
    else:
        d = _dim(dim, max(x.ndim, 1), "repeat_interleave")
        x = reshape(x, 1) if x.ndim == 0 else x
    counts = _counts(repeats, x.shape[d], "repeat_interleave")
    index = np.repeat(np.arange(x.shape[d]), counts)
    if output_size is not None and int(output_size) != len(index):
        raise ArgumentError(f"repeat_interleave: output_size {output_size} does not "
                            f"match the {len(index)} elements the repeats give")
    return GetItem.apply(x, (slice(None),) * d + (index,))


def _counts(repeats, n, op):
    """repeats (int, or a tensor/list of ints) as an int64 array, one per element."""
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu":
        raise ArgumentError(f"{op}: repeats must be integers, got dtype {counts.dtype}")
    if counts.ndim > 1 or (counts.ndim == 1 and n is not None and
                           counts.size not in (1, n)):
        raise ShapeError(f"{op}: repeats must be a number or hold one count per "
                         f"element ({n}), got shape {counts.shape}")
    if (counts < 0).any():
        raise ArgumentError(f"{op}: repeats must be non-negative, got {counts}")
    return counts.astype(np.int64) if n is None else np.broadcast_to(counts.ravel(), n)


def unfold(input, dimension, size, step):  # noqa: A002
    """Tensor.unfold: every window of `size` elements along `dimension`, `step` apart,
    as a new last dimension; `dimension` becomes the number of windows. Overlapping
    windows share elements, and their gradients add up."""
    x = unary_input(input, "unfold")
    if x.ndim == 0:
        x = reshape(x, 1)
    d = _dim(dimension, x.ndim, "unfold")
    n = x.shape[d]
    if int(step) <= 0 or int(size) < 0 or int(size) > n:
        raise ArgumentError(f"unfold: needs 0 <= size <= {n} (the size of dimension "
                            f"{dimension}) and step > 0, got size {size}, step {step}")
    starts = np.arange((n - int(size)) // int(step) + 1) * int(step)
    windows = starts[:, None] + np.arange(int(size))  # (count, size)
    out = GetItem.apply(x, (slice(None),) * d + (windows,))
    order = [i for i in range(out.ndim) if i != d + 1] + [d + 1]
    return permute(out, tuple(order)) if input.ndim else reshape(out, -1)


def unflatten(input, dim, sizes):  # noqa: A002
    """Split dimension dim into several with the given sizes (one may be -1)."""
    x = unary_input(input, "unflatten")
    d = _dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[d]) or (
            -1 in sizes and (known == 0 or x.shape[d] % known)):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply up to the size "
                         f"{x.shape[d]} of dimension {dim} of shape {x.shape}")
    sizes = tuple(x.shape[d] // known if s == -1 else s for s in sizes)  # (also for 0)
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: with indexing="ij" output i varies along
    dim i; with "xy" the first two dims are swapped (as numpy's default). Without
    indexing PyTorch warns and uses "ij"; so does minidl."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [unary_input(t, "meshgrid") for t in tensors]
    if indexing is None:
        warnings.warn("meshgrid: pass indexing='ij' (PyTorch's default, used here) or "
                      "'xy'; PyTorch will require it", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in ts:
        if t.ndim > 1 or t.dtype != ts[0].dtype:
            raise ArgumentError(f"meshgrid: expects 0-D or 1-D tensors of one dtype, "
                                f"got {[(tuple(t.shape), str(t.dtype)) for t in ts]}")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(max(t.numel(), 1) if t.ndim == 0 else t.shape[0] for t in ts)
    grids = [expand(reshape(t, [-1 if j == i else 1 for j in range(len(ts))]), shape)
             for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


__all__ = ["flip", "roll", "split", "chunk", "tril", "triu", "diagonal", "diag",
           "repeat_interleave", "unflatten", "meshgrid"]
