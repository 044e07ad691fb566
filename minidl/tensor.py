"""Tensor: a numpy array plus what autograd needs (requires_grad, grad, grad_fn).

The array lives in `_data` (a numpy ndarray); `.numpy()` hands it to you without a
copy. Every math method below is a thin wrapper that calls an op from `minidl.ops`,
so the real work -- and its derivative -- is always in one place: the op's Function.

dtypes: float32 is the default for floating data (as in PyTorch); float64 is fully
supported (gradient checks use it); integer and bool tensors hold labels and masks.
A Python number mixed with a tensor takes the tensor's dtype, so float32 models stay
float32 (numpy alone would silently promote some of these to float64).
"""
from __future__ import annotations

import numpy as np

from . import autograd

float32, float64 = np.float32, np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
bool_ = np.bool_
_SUPPORTED = {np.dtype(t) for t in (float32, float64, int8, int16, int32, int64, uint8,
                                    bool_)}
_FLOATS = {np.dtype(float32), np.dtype(float64)}


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit the op (a ValueError, and a RuntimeError as in PyTorch)."""


def _as_array(data, dtype=None) -> np.ndarray:
    """Turn data (Tensor, array, list, number) into a numpy array of a supported dtype."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _SUPPORTED:
            raise TypeError(f"tensor: unsupported dtype {dtype}; expected one of "
                            f"{sorted(str(d) for d in _SUPPORTED)}")
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):  # numpy data keeps its dtype
        arr = np.asarray(data)
    else:
        arr = np.asarray(data)
        if arr.dtype == np.float64:  # Python floats -> float32, as torch.tensor does
            arr = arr.astype(np.float32)
    if arr.dtype not in _SUPPORTED:
        if arr.dtype.kind == "f":  # float16 and friends: compute in float32
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        else:
            raise TypeError(
                f"tensor: cannot make a tensor from data of dtype {arr.dtype}; expected "
                "numbers (float32/float64 for values, integers or bool for labels/masks)")
    return arr


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    Tensor(data, requires_grad=False, dtype=None)
    """

    __array_priority__ = 1000  # make `ndarray * Tensor` call Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self._data = _as_array(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Context | None = None
        self._requires_grad = False
        self._retains_grad = False
        self._version = 0  # bumped by in-place edits; checked by backward
        self.requires_grad = requires_grad

    # ------------------------------------------------------------------ basic facts
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim=None):
        """The shape (as torch's .size()), or the length of one dimension."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return self._data.size

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):  # rows, each a differentiable x[i]
        return (self[i] for i in range(len(self)))

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if value and self.dtype not in _FLOATS:
            raise TypeError(f"only float32/float64 tensors can require gradients, got "
                            f"dtype {self.dtype}")
        if not value and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; "
                               "use .detach() for a non-leaf")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: tensor does not require grad")
        self._retains_grad = True

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory but detached from the graph (as torch)."""
        return Tensor(self._data)

    @data.setter
    def data(self, value):
        self._data = _as_array(value)
        self._version += 1

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> np.ndarray:
        """The underlying array (no copy). Call .detach().numpy() style code freely."""
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a "
                             f"Python number, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """The same values (shared memory), cut off from the graph."""
        return Tensor(self._data)

    def clone(self) -> "Tensor":
        from .ops.arithmetic import clone
        return clone(self)

    def to(self, *args, dtype=None, device=None) -> "Tensor":
        """t.to(minidl.float64) casts (differentiably); t.to("cpu") is t itself."""
        from .ops.arithmetic import cast
        dtype = parse_to_args("to", args, dtype, device)
        return self if dtype is None else cast(self, dtype)

    def cpu(self) -> "Tensor":
        return self

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def bool(self):
        return self.to(bool_)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is "
                               "ambiguous; use .any() or .all()")
        return bool(self._data.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self._data.item())

    __hash__ = object.__hash__  # tensors are dict keys by identity (== is elementwise)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", precision=4,
                               prefix="tensor(")
        extra = ""
        if self.dtype not in (np.dtype(float32), np.dtype(int64), np.dtype(bool_)):
            extra += f", dtype={self.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad; add it to leaf.grad."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def _accumulate_grad(self, g: "Tensor", create_graph: bool):
        if create_graph:  # keep the gradient's graph; clone, so no two .grad alias
            self.grad = g.clone() if self.grad is None else self.grad + g
        elif self.grad is None:  # own a private copy, so later += cannot alias
            self.grad = Tensor(np.array(g._data, dtype=self.dtype, copy=True))
        else:
            self.grad._data += g._data

    # ------------------------------------------------------------------ in-place edits
    def _bump_version(self):
        self._version += 1

    def _check_inplace(self, op):
        if autograd.is_grad_enabled() and self.requires_grad and self.is_leaf:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad cannot be modified in place "
                "while grad mode is on; wrap the edit in `with minidl.no_grad():`")

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        if self.grad_fn is not None and autograd.is_grad_enabled():
            raise RuntimeError("__setitem__: in-place assignment into a tensor that is "
                               "part of a graph is not supported; build a new tensor "
                               "(e.g. with minidl.where) instead")
        self._data[_index_arrays(index)] = _as_array(value)
        self._bump_version()

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_inplace("fill_")
        self._data[...] = value
        self._bump_version()
        return self

    def copy_(self, src):
        self._check_inplace("copy_")
        self._data[...] = _as_array(src)
        self._bump_version()
        return self

    # ------------------------------------------------------------------ operators
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # Comparisons give bool tensors and are not differentiable.
    def _compare(self, other, fn):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor(fn(self._data, other))

    def __eq__(self, other): return self._compare(other, np.equal)
    def __ne__(self, other): return self._compare(other, np.not_equal)
    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)

    def __invert__(self):
        if self.dtype != np.bool_:
            raise TypeError(f"~ needs a bool tensor, got {self.dtype}")
        return Tensor(~self._data)

    def __and__(self, other): return self._compare(other, np.logical_and)
    def __or__(self, other): return self._compare(other, np.logical_or)

    # ------------------------------------------------------------------ math methods
    def add(self, other): return ops.add(self, other)
    def sub(self, other): return ops.sub(self, other)
    def mul(self, other): return ops.mul(self, other)
    def neg(self): return ops.neg(self)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def pow(self, exponent): return ops.pow(self, exponent)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    clip = clamp
    def maximum(self, other): return ops.maximum(self, other)
    def minimum(self, other): return ops.minimum(self, other)
    def matmul(self, other): return ops.matmul(self, other)
    def relu(self): return ops.relu(self)
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def erf(self): return ops.erf(self)
    def softmax(self, dim=-1): return ops.softmax(self, dim)
    def log_softmax(self, dim=-1): return ops.log_softmax(self, dim)

    # reductions (PyTorch names: dim, keepdim)
    def max(self, dim=None, keepdim=False): return ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return ops.min(self, dim, keepdim)
    def amax(self, dim=None, keepdim=False): return ops.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim=False): return ops.amin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False): return ops.logsumexp(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)

    # shapes
    def reshape(self, *shape): return ops.reshape(self, *shape)
    view = reshape
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def transpose(self, dim0, dim1): return ops.transpose(self, dim0, dim1)
    def permute(self, *dims): return ops.permute(self, *dims)
    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def expand(self, *shape): return ops.expand(self, *shape)

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    # ---- more ops: the PyTorch methods of minidl/ops/ elementwise.py, division.py,
    # logical.py, scan.py, product.py, movement.py, indexing.py, sorting.py (each
    # method is the function of the same name with this tensor first)
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return ops.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return ops.prod(self, dim, keepdim, dtype=dtype)

    def div(self, other, *, rounding_mode=None):
        return ops.div(self, other, rounding_mode=rounding_mode)

    def any(self, dim=None, keepdim=False): return ops.any(self, dim, keepdim)
    def all(self, dim=None, keepdim=False): return ops.all(self, dim, keepdim)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def tan(self): return ops.tan(self)
    def asin(self): return ops.asin(self)
    def acos(self): return ops.acos(self)
    def atan(self): return ops.atan(self)
    def sinh(self): return ops.sinh(self)
    def cosh(self): return ops.cosh(self)
    def asinh(self): return ops.asinh(self)
    def acosh(self): return ops.acosh(self)
    def atanh(self): return ops.atanh(self)
    def log2(self): return ops.log2(self)
    def log10(self): return ops.log10(self)
    def log1p(self): return ops.log1p(self)
    def exp2(self): return ops.exp2(self)
    def expm1(self): return ops.expm1(self)
    def rsqrt(self): return ops.rsqrt(self)
    def sign(self): return ops.sign(self)
    def floor(self): return ops.floor(self)
    def ceil(self): return ops.ceil(self)
    def round(self, decimals=0): return ops.round(self, decimals)
    def trunc(self): return ops.trunc(self)
    def copysign(self, other): return ops.copysign(self, other)
    def atan2(self, other): return ops.atan2(self, other)
    def logaddexp(self, other): return ops.logaddexp(self, other)
    def lerp(self, end, weight): return ops.lerp(self, end, weight)
    def floor_divide(self, other): return ops.floor_divide(self, other)
    def remainder(self, other): return ops.remainder(self, other)
    def fmod(self, other): return ops.fmod(self, other)
    def __floordiv__(self, other): return ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return ops.floor_divide(other, self)
    def __mod__(self, other): return ops.remainder(self, other)
    def __rmod__(self, other): return ops.remainder(other, self)
    def isnan(self): return ops.isnan(self)
    def isinf(self): return ops.isinf(self)
    def isfinite(self): return ops.isfinite(self)
    def logical_not(self): return ops.logical_not(self)
    def logical_and(self, other): return ops.logical_and(self, other)
    def logical_or(self, other): return ops.logical_or(self, other)
    def logical_xor(self, other): return ops.logical_xor(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.isclose(self, other, rtol, atol, equal_nan)

    def cumsum(self, dim, *, dtype=None): return ops.cumsum(self, dim, dtype=dtype)
    def cumprod(self, dim, *, dtype=None): return ops.cumprod(self, dim, dtype=dtype)
    def cummax(self, dim): return ops.cummax(self, dim)
    def cummin(self, dim): return ops.cummin(self, dim)
    def logcumsumexp(self, dim): return ops.logcumsumexp(self, dim)
    def flip(self, *dims): return ops.flip(self, ops.shape._shape_arg(dims))  # (0, 1) or 0, 1
    def roll(self, shifts, dims=None): return ops.roll(self, shifts, dims)
    def split(self, split_size, dim=0): return ops.split(self, split_size, dim)
    def chunk(self, chunks, dim=0): return ops.chunk(self, chunks, dim)
    def tril(self, diagonal=0): return ops.tril(self, diagonal)
    def triu(self, diagonal=0): return ops.triu(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return ops.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal=0): return ops.diag(self, diagonal)

    def repeat(self, *sizes):
        from .ops.movement import repeat  # (Tensor-only in PyTorch: no torch.repeat)
        return repeat(self, *sizes)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def unfold(self, dimension, size, step):
        from .ops.movement import unfold  # (not F.unfold, which is im2col)
        return unfold(self, dimension, size, step)

    def unflatten(self, dim, sizes): return ops.unflatten(self, dim, sizes)
    def gather(self, dim, index): return ops.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return ops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src): return ops.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def masked_select(self, mask): return ops.masked_select(self, mask)
    def nonzero(self, *, as_tuple=False): return ops.nonzero(self, as_tuple=as_tuple)

    def sort(self, dim=-1, descending=False, stable=False):
        return ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return ops.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False): return ops.kthvalue(self, k, dim, keepdim)
    def median(self, dim=None, keepdim=False): return ops.median(self, dim, keepdim)


def parse_to_args(op, args, dtype=None, device=None):
    """The dtype asked for by .to(...) arguments (None if only a device was given).

    PyTorch code moves things between devices; minidl runs on the CPU only, so the
    device "cpu" is accepted and ignored, and any other device is an error."""
    for arg in args:
        if isinstance(arg, str) or arg is None:
            device = arg
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        else:
            dtype = arg
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{op}: minidl runs on the CPU only, got device {device!r}")
    return dtype


def _index_arrays(index):
    """Replace Tensors inside an index by their arrays (for numpy indexing)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


from . import ops  # noqa: E402  (ops need Tensor defined first)
