"""Shape ops: reshape (view, flatten, squeeze, unsqueeze), permute (transpose),
indexing (getitem) and its adjoint scatter-add, writing into a region (CopySlices, for
x[i] = v and in-place edits of views), cat/stack, and constant padding.

None of these change values, only where they sit, so each backward just moves the
gradient back: reshape it back, permute it back, scatter it back, slice it back.

Views: when numpy returns a view (reshape of contiguous data, permute, expand, basic
indexing), the output shares its input's memory, and autograd makes it a view of the
input's base tensor (autograd._link_view): one version counter, and the list of
steps that makes the view from the base, so replay_view can make it again.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from ..autograd import Function, no_grad
from ..dtypes import promote_types
from ..tensor import Tensor, ShapeError, _as_array, _index_arrays
from .arithmetic import cast, unary_input


# ------------------------------------------------------------------ reshape family
class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def _shape_arg(shape, op=None, what="size") -> tuple:
    """Sizes given as f(2, 3) or f((2, 3)); with op, none at all is PyTorch's TypeError
    (x.reshape() is a mistake, x.reshape(()) a 0-d tensor)."""
    if op is not None and len(shape) == 0:
        raise TypeError(f'{op}() missing 1 required positional arguments: "{what}"')
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    """x.reshape(2, 3) or x.reshape((2, 3)); one dimension may be -1 (inferred)."""
    x = unary_input(x, "reshape")
    shape = _shape_arg(shape, "reshape", "shape")
    known = int(np.prod([s for s in shape if s != -1]))
    n_free = shape.count(-1)
    if n_free > 1 or (n_free == 0 and known != x.numel()) or (
            n_free == 1 and (known == 0 or x.numel() % known)):
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.numel()} elements) into {shape}")
    if n_free:
        shape = tuple(x.numel() // known if s == -1 else s for s in shape)
    return x if shape == x.shape else Reshape.apply(x, shape)


view = reshape


def _dim(d, ndim, op):
    if not -ndim <= d < ndim:
        raise IndexError(f"{op}: dim {d} is out of range [{-ndim}, {ndim - 1}]")
    return d % ndim


def flatten(x, start_dim=0, end_dim=-1):
    x = unary_input(x, "flatten")
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[s:e + 1]))  # (not -1: ambiguous when x is empty)
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1:])


def squeeze(x, dim=None):
    """Drop dimensions of size 1 (all of them, or only `dim` if it has size 1)."""
    x = unary_input(x, "squeeze")
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    dims = {_dim(d, max(x.ndim, 1), "squeeze") for d in
            ((dim,) if isinstance(dim, int) else dim)}
    return reshape(x, tuple(s for i, s in enumerate(x.shape)
                            if not (i in dims and s == 1)))


def unsqueeze(x, dim):
    """Insert a dimension of size 1 at position dim (-1 appends)."""
    x = unary_input(x, "unsqueeze")
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


# ------------------------------------------------------------------ permute family
class Permute(Function):
    # backward: apply the inverse permutation
    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return permute(g, tuple(ctx.inverse)), None


def permute(x, *dims):
    x = unary_input(x, "permute")
    given = _shape_arg(dims, "permute", "dims")
    dims = tuple(_dim(d, x.ndim, "permute") for d in given) if x.ndim else given
    if sorted(dims) != list(range(x.ndim)):
        raise ShapeError(f"permute: dims {given} are not a permutation of the "
                         f"{x.ndim} dimensions of a tensor of shape {x.shape}")
    return x if dims == tuple(range(x.ndim)) else Permute.apply(x, dims)


def transpose(x, dim0, dim1):
    x = unary_input(x, "transpose")
    dims = list(range(x.ndim))
    a, b = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, tuple(dims))


# ------------------------------------------------------------------ indexing
class GetItem(Function):
    # y = x[index]; backward: scatter-add g into zeros shaped like x
    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.apply(g, ctx.index, ctx.in_shape), None


class IndexAdd(Function):
    # out = zeros(shape); out[index] += g  (repeated indices add up); backward: g[index]
    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            np.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return getitem(gg, ctx.index), None, None


def _is_basic(index) -> bool:
    """True when numpy's x[index] is a view (ints, slices, None, ...): no repeats."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in items)


def normalize_index(index):
    """An index for numpy: Tensors and lists inside it become arrays (of ints/bools)."""
    index = _index_arrays(index)
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_index_item(i) for i in items)
    return items if isinstance(index, tuple) else items[0]


def _index_item(i):
    if isinstance(i, list):
        i = np.asarray(i)
    if isinstance(i, np.ndarray):
        if i.dtype.kind not in "iub":
            raise IndexError(f"getitem: index arrays must hold integers or bools, got "
                             f"dtype {i.dtype}")
        if i.dtype == np.uint8:  # PyTorch's old byte masks: still masks, with a warning
            warnings.warn("getitem: indexing with a uint8 tensor is deprecated (it is a "
                          "mask, as in PyTorch); use a bool tensor", stacklevel=4)
            i = i.astype(bool)
        if i.ndim == 0 and i.dtype.kind in "iu":  # a 0-d integer tensor is an integer
            return int(i)
    if isinstance(i, slice) and i.step is not None and i.step <= 0:
        raise ValueError(f"getitem: slice step must be greater than zero, got {i.step} "
                         "(as in PyTorch; to reverse, use flip)")
    return i


def _is_int(i) -> bool:
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def split_integer_indices(index):
    """PyTorch's indexing order: integers first, then the rest.

    PyTorch applies each integer index first (removing its dim), then indexes what is
    left as numpy does. numpy instead treats an integer standing next to index arrays
    as one more index array, which changes where the result's dims go: for x of shape
    (5, 6, 7), x[1, :, [0, 1]] has shape (6, 2) in PyTorch but (2, 6) in numpy.
    Returns (integers, rest) -- two indexes to apply one after the other -- or None
    when there is nothing to split (numpy's answer is PyTorch's).
    """
    items = index if isinstance(index, tuple) else (index,)
    arrays = [i for i in items if isinstance(i, (np.ndarray, bool, np.bool_))]
    if not arrays or not any(_is_int(i) for i in items):
        return None
    integers = []
    for i in items:  # keep each integer at its dim; every other dim stays whole
        if _is_int(i) or i is Ellipsis:
            integers.append(i)
        elif isinstance(i, slice):
            integers.append(slice(None))
        elif isinstance(i, np.ndarray):  # an index array covers 1 dim, a mask ndim
            integers.extend([slice(None)] * (i.ndim if i.dtype == np.bool_ else 1))
        # (None and Python bools cover no dim of x)
    return tuple(integers), tuple(i for i in items if not _is_int(i))


def getitem(x, index):
    """x[index] with ints, slices, None, ..., integer arrays and boolean masks, with
    PyTorch's rules (integers applied first; no negative steps)."""
    x = unary_input(x, "getitem")
    index = normalize_index(index)
    split = split_integer_indices(index)
    if split is not None:
        return getitem(getitem(x, split[0]), split[1])
    try:
        x._data[index]  # validate first, so the error names the op and shapes
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                         f"{x.shape}: {e}") from None
    return GetItem.apply(x, index)


# ------------------------------------------------------------------ writing into a region
def replay_view(t, steps):
    """Make again, from tensor t (a view's base), the view that `steps` describes:
    each step is (Function, its arguments with None where the tensor goes, position)."""
    for function, args, i in steps:
        t = function.apply(*args[:i], t, *args[i + 1:])
    return t


def _write_region(array, steps, value):
    """array's region `steps` = value, in place. (A last getitem step is assigned
    through, as numpy's a[index] = v, so that it may be advanced indexing.)"""
    with no_grad():
        if steps and steps[-1][0] is GetItem:
            assign(replay_view(Tensor(array), steps[:-1])._data, steps[-1][1][1], value)
        else:
            replay_view(Tensor(array), steps)._data[...] = value


class CopySlices(Function):
    # out = base with its region `steps` replaced by value (broadcast to the region)
    # d/dbase = g with that region zeroed;  d/dvalue = g read at the region
    @staticmethod
    def forward(ctx, base, value, steps):
        ctx.steps = steps  # (released after backward unless it is the whole tensor)
        out = np.copy(base, order="K")  # (same memory layout: the steps stay views)
        _write_region(out, steps, value)
        return out

    @staticmethod
    def backward(ctx, g):
        gb = gv = None
        if ctx.needs_input_grad[0]:
            gb = CopySlices.apply(g, Tensor(np.zeros((), g.dtype)), ctx.steps)
        if ctx.needs_input_grad[1]:
            gv = replay_view(g, ctx.steps)
        return gb, gv, None


def index_parts(index) -> tuple:
    """The numpy indexes that, applied one after the other, index as PyTorch does
    (integers first: see split_integer_indices); () for the whole tensor (...)."""
    if index is Ellipsis:
        return ()
    split = split_integer_indices(index)
    return (index,) if split is None else split


def assign(array, index, values):
    """array[index] = values in place, with PyTorch's indexing order."""
    parts = index_parts(index) or (Ellipsis,)
    for part in parts[:-1]:
        array = array[part]  # (integers: a view)
    array[parts[-1]] = values


def copy_slices(base, value, steps):
    """base with its region `steps` (a view's steps, see replay_view) replaced by value."""
    return CopySlices.apply(base, value, steps)


def set_region(x, index, value):
    """x with x[index] replaced by value (broadcast), as a new tensor: what x[index] =
    value computes when it is recorded in the graph (`index` from normalize_index)."""
    value = value if isinstance(value, Tensor) else Tensor(_as_array(value))
    if value.dtype != x.dtype:
        value = cast(value, x.dtype)
    parts = index_parts(index)
    steps = tuple((GetItem, (None, part), 0) for part in parts)
    region = x._data
    for part in parts:
        region = region[part]
    try:
        np.broadcast_to(value._data, region.shape)
    except ValueError:
        raise ShapeError(f"setitem: a value of shape {value.shape} cannot be broadcast "
                         f"to the region {index!r} of shape {region.shape} of a tensor "
                         f"of shape {x.shape}") from None
    return copy_slices(x, value, steps)


# ------------------------------------------------------------------ cat and stack
class Cat(Function):
    # backward: slice the gradient back into the pieces
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.bounds = tuple(int(b) for b in np.cumsum([0] + [x.shape[dim] for x in xs]))
        ctx.dim = dim
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads = []
        for lo, hi in zip(ctx.bounds[:-1], ctx.bounds[1:]):
            index = (slice(None),) * ctx.dim + (slice(lo, hi),)
            grads.append(getitem(g, index))
        return (None, *grads)


def cat(tensors, dim=0):
    """Join tensors along an existing dimension (torch.cat)."""
    tensors = [unary_input(t, "cat") for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    if ref.ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use "
                         "stack")
    d = _dim(dim, ref.ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in
                                     enumerate(zip(t.shape, ref.shape)) if i != d):
            raise ShapeError(f"cat: shapes {ref.shape} and {t.shape} differ outside "
                             f"dimension {dim}")
    dtype = functools.reduce(promote_types, [t.dtype for t in tensors])  # as for +
    return Cat.apply(d, *[cast(t, dtype) for t in tensors])


concatenate = cat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension (torch.stack)."""
    tensors = [unary_input(t, "stack") for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: all tensors need the same shape, got "
                             f"{tensors[0].shape} and {t.shape}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


# ------------------------------------------------------------------ padding
# pad=(left, right, top, bottom, ...) widens the last dim by left/right, the one before
# by top/bottom, and so on; a negative width crops instead. mode says what fills the
# border: 'constant' a value; 'reflect' the mirror image at the edge (without
# repeating it); 'replicate' the edge itself; 'circular' the other end (wrapping).
class Pad(Function):
    # constant padding; backward: cut the padded border off the gradient
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return getitem(g, ctx.inner), None, None


def _source_index(n, before, after, mode):
    """For each position of an axis of length n padded by (before, after): the input
    index it copies. Each entry is a plain read, so the gradient of the other modes is
    getitem's: every output position adds its gradient to the input it read."""
    if mode == "circular":  # wraps around what is left after cropping (as PyTorch)
        kept = np.arange(max(-before, 0), n - max(-after, 0))
        return kept[np.arange(-max(before, 0), len(kept) + max(after, 0)) % len(kept)]
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    i = np.abs(i)                           # reflect: -1 -> 1, ..., n -> n - 2
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def _pad_widths(x, pad):
    """PyTorch's flat pad tuple -> [(before, after)] for the last len(pad) // 2 dims."""
    if isinstance(pad, (int, np.integer)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ShapeError(f"pad: padding length must be divisible by 2, got {pad}")
    if len(pad) // 2 > x.ndim:
        raise ShapeError(f"pad: padding length should be at most two times the input "
                         f"dimension, got {len(pad)} values for input of shape {x.shape}")
    return [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]


def _check_non_constant(x, widths, mode):
    """PyTorch's rules for reflect/replicate/circular: 1-3 padded dims, with one or
    two dims in front (batch and channels, the batch may be empty); reflect widths
    below the size."""
    k = len(widths)
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of a 2-3, 3-4 or 4-5 "
            f"dimensional input, got {2 * k} padding values for input of shape "
            f"{x.shape}")
    if mode == "circular":
        non_empty = x.shape[-k:]
    else:
        non_empty = x.shape[1:] if x.ndim == k + 2 else x.shape
    if 0 in non_empty:
        raise ShapeError(f"pad: mode {mode!r} needs non-empty dims (only the batch may "
                         f"be empty), got input of shape {x.shape}")
    for n, (before, after) in zip(x.shape[-k:], widths):
        kept = n + min(before, 0) + min(after, 0)  # what is left after cropping
        if mode == "reflect" and max(before, after) >= n:
            raise ShapeError(f"pad: reflect padding ({before}, {after}) must be smaller "
                             f"than the size {n} of the dim it pads (input {x.shape})")
        if mode == "circular" and max(before, after) > kept:
            raise ShapeError(f"pad: circular padding ({before}, {after}) would wrap around "
                             f"the {kept} values it repeats more than once (input "
                             f"{x.shape})")


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: pad=(left, right) for the last dim, then (top, bottom)
    for the one before, and so on; negative widths crop. mode 'constant' (with `value`,
    default 0) pads any number of dims; 'reflect', 'replicate' and 'circular' pad the
    last 1, 2 or 3 dims of (batched) inputs, as PyTorch."""
    x = unary_input(input, "pad")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; expected "
                                  "'constant', 'reflect', 'replicate' or 'circular'")
    widths = _pad_widths(x, pad)
    k = len(widths)
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f"pad: padding mode {mode!r} doesn't take a value "
                               "argument")
        _check_non_constant(x, widths, mode)
    sizes = [n + b + a for n, (b, a) in zip(x.shape[x.ndim - k:], widths)]
    # cropping to nothing is allowed, as in PyTorch -- but reflect and replicate want
    # at least one padded dim left non-empty (PyTorch's kernels check that)
    if min(sizes, default=0) < 0 or (mode in ("reflect", "replicate") and max(sizes) < 1):
        raise ShapeError(f"pad: padding {tuple(pad)} crops input of shape {x.shape} to a "
                         f"size of {sizes}")
    if mode == "constant":
        crop = tuple(slice(max(-b, 0), n + min(a, 0))
                     for n, (b, a) in zip(x.shape[x.ndim - k:], widths))
        if any(b < 0 or a < 0 for b, a in widths):
            x = getitem(x, (Ellipsis,) + crop)
        grow = [(0, 0)] * (x.ndim - k) + [(max(b, 0), max(a, 0)) for b, a in widths]
        return Pad.apply(x, tuple(grow), 0 if value is None else value)
    sources = [_source_index(n, b, a, mode) for n, (b, a) in zip(x.shape[-k:], widths)]
    return getitem(x, (Ellipsis,) + np.ix_(*sources))
