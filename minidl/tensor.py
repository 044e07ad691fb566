"""Tensor: a numpy array plus what autograd needs (requires_grad, grad, grad_fn).

The array lives in `_data` (a numpy ndarray); `.numpy()` hands it to you without a
copy (for a tensor that requires grad, take `.detach().numpy()`, as in PyTorch: an
edit made through the array would be invisible to autograd). Every math method below
is a thin wrapper that calls an op from `minidl.ops`, so the real work -- and its
derivative -- is always in one place: the op's Function.

dtypes: float32 is the default for floating data (as in PyTorch); float64 is fully
supported (gradient checks use it); integer and bool tensors hold labels and masks.
Which dtype an op returns follows PyTorch's promotion rules (minidl/dtypes.py), so a
float32 model stays float32 (numpy alone would silently promote some of it to float64).
"""
from __future__ import annotations

import difflib
import functools
import numbers

import numpy as np

from . import autograd
from .device import device as Device, check_device
from .dtypes import (float32, float64, int8, int16, int32, int64, uint8, bool_,  # noqa: F401
                     SUPPORTED as _SUPPORTED, FLOATS as _FLOATS, is_scalar)
from .errors import ShapeError, DTypeError, DataError  # noqa: F401  (importable here too)
from .handle import RemovableHandle
from .kernels.memory import output, unshared


def _as_array(data, dtype=None) -> np.ndarray:
    """Turn data (Tensor, array, list, number) into a numpy array of a supported dtype.

    Without a dtype, PyTorch's inference: numpy arrays and numpy numbers keep their
    dtype; Python floats give float32, ints int64, bools bool; in a list the widest
    wins ([1, 2.0] is float32, [np.float64(1), 2.0] float64)."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _SUPPORTED:
            raise DTypeError(f"tensor: unsupported dtype {dtype}; expected one of "
                             f"{sorted(str(d) for d in _SUPPORTED)}")
        return _numpy_array(data, dtype)
    arr = _numpy_array(data)
    if arr.dtype == np.float64 and not _holds_float64(data):
        arr = arr.astype(np.float32)  # Python floats -> float32, as torch.tensor does
    if arr.dtype not in _SUPPORTED:
        if arr.dtype.kind == "f":  # float16 and friends: compute in float32
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        else:
            raise DataError(
                f"tensor: cannot make a tensor from data of dtype {arr.dtype}; expected "
                "numbers (float32/float64 for values, integers or bool for labels/masks)")
    return arr


class VersionCounter:
    """How many in-place edits a tensor's memory has seen. A tensor and its views share
    one counter, so backward notices an edit made through any of them."""
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0
def _numpy_array(data, dtype=None) -> np.ndarray:
    try:
        return np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as e:  # ragged lists, strings, objects
        raise DataError(f"tensor: cannot make a tensor from {type(data).__name__} data "
                        "(nested lists must be rectangular and hold numbers): "
                        f"{e}") from None


def _holds_float64(data) -> bool:
    """Does data hold float64 *numpy* values (arrays, np.float64, float64 Tensors)?"""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype == np.float64
    if isinstance(data, (list, tuple)):
        return any(_holds_float64(item) for item in data)
    return False


_UNSET = object()


def dim_aliases(fn):
    """Let fn take numpy's names axis= and keepdims= for dim= and keepdim=, as PyTorch
    does (x.sum(axis=0, keepdims=True) is x.sum(dim=0, keepdim=True))."""
    @functools.wraps(fn)
    def with_aliases(*args, axis=_UNSET, keepdims=_UNSET, **kwargs):
        for alias, name in ((axis, "dim"), (keepdims, "keepdim")):
            if alias is not _UNSET:
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}() got both {name}= and its alias "
                                    f"{'axis' if name == 'dim' else 'keepdims'}=")
                kwargs[name] = alias
        return fn(*args, **kwargs)
    return with_aliases


def missing_name_message(owner: str, name: str, known) -> str:
    """The AttributeError text for a name minidl does not have: near matches, and
    where to look (docs/ops.md) or how to add it yourself."""
    if name.startswith("_"):  # private and special names (numpy probes for some)
        return f"{owner} has no attribute {name!r}"
    close = difflib.get_close_matches(name, [k for k in known if not k.startswith("_")],
                                      n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (f"{owner} has no attribute {name!r}.{hint} minidl has the ops listed in "
            "docs/ops.md; to add one, write a Function (README: \"Write your own op\").")


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    Tensor(data, requires_grad=False, dtype=None)
    """

    __array_priority__ = 1000  # make `ndarray * Tensor` call Tensor.__rmul__
    # Views (x[0:2], x.view(...), x.T, x.expand(...), ...: see autograd._link_view):
    _base = None        # the tensor that owns the memory
    _view_steps = ()    # the ops that make the view from _base (None: made in no_grad)
    _view_of = None     # _base's grad_fn when this view's history was recorded
    # Hooks (register_hook / register_post_accumulate_grad_hook on a leaf): {id: hook}
    _grad_hooks = None
    _post_accumulate_hooks = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self._data = _as_array(data, dtype)
        self.grad: Tensor | None = None
        self._grad_fn: autograd.Context | None = None
        self._requires_grad = False
        self._retains_grad = False
        self._version_counter = VersionCounter()  # bumped by in-place edits
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
    def grad_fn(self) -> "autograd.Context | None":
        """The graph node that made this tensor (None for a leaf)."""
        if self._base is not None and self._view_of is not self._base._grad_fn \
                and self._view_steps:
            self._refresh_view_history()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._grad_fn = node

    @property
    def _version(self) -> int:
        return self._version_counter.value

    @property
    def requires_grad(self) -> bool:
        if self._base is not None:
            self.grad_fn  # (a view whose base changed history catches up first)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if value and self.dtype not in _FLOATS:
            raise DTypeError(f"only floating-point (float32/float64) tensors can require "
                             f"gradients, got dtype {self.dtype}")
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
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        self._retains_grad = True

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory but not its graph or its version counter
        (as torch): edits through it are not checked by autograd."""
        return Tensor(self._data.view())

    @data.setter
    def data(self, value):
        self._data = _as_array(value)
        self._bump_version()

    # ------------------------------------------------------------------ conversions
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying array (no copy: editing it edits the tensor). A tensor that
        requires grad refuses, as in PyTorch: use .detach().numpy() (or force=True)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise ShapeError(f"item: only one-element tensors can be converted to a "
                             f"Python number, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """The same values (shared memory and version counter, as in PyTorch), cut off
        from the graph."""
        t = Tensor(self._data.view())
        t._version_counter = self._version_counter
        return t

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

    @property
    def device(self) -> Device:
        """Where the data lives: always device(type='cpu') in minidl."""
        return Device("cpu")

    def contiguous(self) -> "Tensor":
        """self if its memory is one C-ordered block, else a (differentiable) copy."""
        return self if self._data.flags.c_contiguous else self.clone()

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

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

    def __getattr__(self, name):  # called only for names Tensor does not have
        raise AttributeError(missing_name_message("'Tensor' object", name, dir(Tensor)))

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
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute d(self)/d(leaf) for every leaf that requires grad; add it to leaf.grad
        (with inputs=[...]: only to those tensors' .grad)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def _accumulate_grad(self, g: "Tensor", create_graph: bool, engine_only=False):
        """Add g to .grad. engine_only: nothing but the autograd engine holds g."""
        if create_graph:  # keep the gradient's graph; clone, so no two .grad alias
            self.grad = g.clone() if self.grad is None else self.grad + g
        elif self.grad is None:  # .grad must be private, so a later += cannot alias:
            # g's own array if nothing else uses it (PyTorch takes it too), else a copy
            if engine_only and g.dtype == self.dtype and g._data.flags.c_contiguous \
                    and unshared(g._data):
                self.grad = Tensor(g._data)
            else:
                self.grad = Tensor(output(self.shape, self.dtype))
                np.copyto(self.grad._data, g._data, casting="unsafe")
        else:
            self.grad._data += g._data

    def register_hook(self, hook):
        """Call hook(grad) whenever backward computes this tensor's gradient; a
        returned Tensor replaces the gradient. Returns a handle: handle.remove()."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        node = self.grad_fn  # a non-leaf's hooks belong to the node that made it
        if node is None:
            self._grad_hooks = hooks = self._grad_hooks or {}
        else:
            node._tensor_hooks = hooks = node._tensor_hooks or {}
        return RemovableHandle.add(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(tensor) after backward has added to this leaf's .grad."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if not self.is_leaf:
            raise RuntimeError("post accumulate grad hooks cannot be registered on "
                               "non-leaf tensors")
        self._post_accumulate_hooks = hooks = self._post_accumulate_hooks or {}
        return RemovableHandle.add(hooks, hook)

    def _refresh_view_history(self):
        """This view's base has a new history (an in-place op on it, or through another
        view): make the view again from the base, and take that history."""
        from .ops.shape import replay_view
        with autograd.enable_grad():
            fresh = replay_view(self._base, self._view_steps)
        self._take_history(fresh)
        self._view_of = self._base._grad_fn

    def _take_history(self, t: "Tensor"):
        """Become the output of t's graph node (t holds this tensor's new value)."""
        self._grad_fn, self._requires_grad = t._grad_fn, t._requires_grad
        if t._grad_fn is not None:
            t._grad_fn._set_output(self)

    # ------------------------------------------------------------------ in-place edits
    # x.add_(y), x += y, x[i] = y, x.fill_(v), ... write into x's memory: the same
    # object, and its version counter (shared with its views) goes up, so that backward
    # notices when a tensor it saved was changed. PyTorch's rules:
    #   * in grad mode, a leaf that requires grad (or a view of one) refuses;
    #   * when grad must flow through the edit (grad mode on, and x or an operand
    #     requires grad) it is recorded: the out-of-place op computes the new value from
    #     a copy of the old one, and its graph node becomes x's grad_fn. For a view, the
    #     base gets the node instead ("the old base with this region replaced",
    #     CopySlices) and the view takes its history from the base again.
    def __iadd__(self, other): return self._inplace(ops.add, other)
    def __isub__(self, other): return self._inplace(ops.sub, other)
    def __imul__(self, other): return self._inplace(ops.mul, other)
    def __itruediv__(self, other): return self._inplace(ops.div, other)
    def __ipow__(self, other): return self._inplace(ops.pow, other)
    def __ifloordiv__(self, other): return self._inplace(ops.floor_divide, other)
    def __imod__(self, other): return self._inplace(ops.remainder, other)
    mul_, pow_, floor_divide_, remainder_ = __imul__, __ipow__, __ifloordiv__, __imod__

    def div_(self, other, *, rounding_mode=None):
        return self._inplace(ops.div, other, rounding_mode=rounding_mode)

    def add_(self, other, *, alpha=1):
        return self._inplace(ops.add, other, alpha=alpha)

    def sub_(self, other, *, alpha=1):
        return self._inplace(ops.sub, other, alpha=alpha)

    def clamp_(self, min=None, max=None):  # noqa: A002  (PyTorch's names)
        return self._inplace(ops.clamp, min, max)

    clip_ = clamp_

    def __setitem__(self, index, value):
        self._assign("__setitem__", index, value)

    def fill_(self, value):
        return self._assign("fill_", ..., value)

    def zero_(self):
        return self._assign("zero_", ..., 0)

    def copy_(self, src):
        return self._assign("copy_", ..., src)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples of N(mean, std^2) from minidl's generator (or `generator`)."""
        return self._assign("normal_", ..., _random(generator).normal(
            mean, std, self.shape).astype(self.dtype))

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        """Fill with samples of U(from_, to) from minidl's generator (or `generator`)."""
        return self._assign("uniform_", ..., _random(generator).uniform(
            from_, to, self.shape).astype(self.dtype))

    def _bump_version(self):
        """Record an edit made directly to the array (e.g. by an optimizer's numpy code)."""
        self._version_counter.value += 1

    def _inplace(self, op, *args, name=None, **kwargs):
        """self = op(self, *args, **kwargs), in place (op: the out-of-place op, e.g.
        ops.add; the in-place op is named after it, add_, unless name= says)."""
        name = name or op.__name__ + "_"
        if self._must_record(name, args):
            return self._record_inplace(name, op, args, kwargs)
        with autograd.no_grad():
            new = self._fitted(name, op(self, *args, **kwargs))
        self._write(name, ..., new._data)
        return self

    def _assign(self, name, index, value):
        """self[index] = value (numpy's assignment; recorded when grad must flow)."""
        from .ops.shape import set_region, normalize_index
        index = normalize_index(index)
        if is_scalar(value):  # (converted as PyTorch does: -1 wraps in uint8, ...)
            value = ops.arithmetic.scalar_in_dtype(value, self.dtype, name)
        if self._must_record(name, (value,)):
            return self._record_inplace(name, set_region, (index, value), {})
        self._write(name, index, value._data if isinstance(value, Tensor) else value)
        return self

    def _must_record(self, name, args) -> bool:
        """PyTorch's refusals for an in-place op; True if it must enter the graph."""
        if not autograd.is_grad_enabled():
            return False
        base = self._base
        if self.requires_grad and self.is_leaf:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used "
                               "in an in-place operation. (Edit parameters inside `with "
                               "minidl.no_grad():`.)")
        if base is not None and base.requires_grad and base.is_leaf:
            raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is "
                               "being used in an in-place operation.")
        record = self.requires_grad or (base is not None and base.requires_grad) or any(
            isinstance(a, Tensor) and a.requires_grad for a in args)
        if record and base is not None and self._view_steps is None:
            raise RuntimeError(
                f"{name}: A view was created in no_grad mode and is being modified "
                "inplace with grad mode enabled. Given that this use case is ambiguous "
                "and error-prone, it is forbidden. Make the view and the in-place edit "
                "both inside the no_grad block or both outside it.")
        return record

    def _record_inplace(self, name, op, args, kwargs):
        from .ops.shape import copy_slices
        old = Tensor(self._data.copy())  # the op may save its input: keep the old value
        old._grad_fn, old._requires_grad = self.grad_fn, self.requires_grad
        new = self._fitted(name, op(old, *args, **kwargs))
        if self._base is None:
            self._write(name, ..., new._data)
            self._take_history(new)
        else:  # the base now holds "old base with this region replaced by new"
            new_base = copy_slices(self._base, new, self._view_steps)
            self._write(name, ..., new._data)
            self._base._take_history(new_base)
        return self

    def _fitted(self, name, new: "Tensor") -> "Tensor":
        """An in-place op's result, checked to fit this tensor (PyTorch's rules: same
        shape; a dtype of the same or a lower kind, bool < int < float) and cast."""
        if new.shape != self.shape:
            raise ShapeError(f"{name}: output with shape {self.shape} doesn't match the "
                             f"broadcast shape {new.shape}")
        if _KIND_RANK[new.dtype.kind] > _KIND_RANK[self.dtype.kind]:
            raise RuntimeError(f"{name}: result type {new.dtype} can't be cast to the "
                               f"desired output type {self.dtype}")
        return new if new.dtype == self.dtype else new.to(self.dtype)

    def _write(self, name, index, values):
        """self._data[index] = values, with clear errors; bumps the version."""
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"{name}: unsupported operation: more than one element of the "
                "written-to tensor refers to a single memory location (or its memory is "
                "read-only). Please clone() the tensor before performing the operation.")
        from .ops.shape import assign
        try:
            assign(self._data, index, values)
        except ValueError as e:
            raise ShapeError(f"{name}: cannot write a value of shape {np.shape(values)} "
                             f"into a tensor of shape {self.shape} at index {index!r}: "
                             f"{e}") from None
        self._bump_version()

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

    # Comparisons give bool tensors and are not differentiable. Both sides are first
    # promoted to one dtype (as for +), so int == 1.5 and float32 == 0.1 compare right.
    def _compare(self, other, op):
        if not _is_operand(other):
            return NotImplemented  # x == None is False, as in PyTorch
        return getattr(ops, op)(self, other)

    def __eq__(self, other): return self._compare(other, "eq")
    def __ne__(self, other): return self._compare(other, "ne")
    def __lt__(self, other): return self._compare(other, "lt")
    def __le__(self, other): return self._compare(other, "le")
    def __gt__(self, other): return self._compare(other, "gt")
    def __ge__(self, other): return self._compare(other, "ge")
    def eq(self, other): return ops.eq(self, other)
    def ne(self, other): return ops.ne(self, other)
    def lt(self, other): return ops.lt(self, other)
    def le(self, other): return ops.le(self, other)
    def gt(self, other): return ops.gt(self, other)
    def ge(self, other): return ops.ge(self, other)

    # Bitwise ops: on integers bit by bit, on bools the logical and/or/xor/not.
    def __and__(self, other): return ops.bitwise_and(self, other)
    def __rand__(self, other): return ops.bitwise_and(other, self)
    def __or__(self, other): return ops.bitwise_or(self, other)
    def __ror__(self, other): return ops.bitwise_or(other, self)
    def __xor__(self, other): return ops.bitwise_xor(self, other)
    def __rxor__(self, other): return ops.bitwise_xor(other, self)
    def __invert__(self): return ops.bitwise_not(self)
    def __lshift__(self, other): return ops.bitwise_left_shift(self, other)
    def __rlshift__(self, other): return ops.bitwise_left_shift(other, self)
    def __rshift__(self, other): return ops.bitwise_right_shift(self, other)
    def __rrshift__(self, other): return ops.bitwise_right_shift(other, self)
    bitwise_and, bitwise_or, bitwise_xor = __and__, __or__, __xor__
    bitwise_not, bitwise_left_shift, bitwise_right_shift = __invert__, __lshift__, __rshift__

    # ------------------------------------------------------------------ math methods
    def add(self, other, *, alpha=1): return ops.add(self, other, alpha=alpha)
    def sub(self, other, *, alpha=1): return ops.sub(self, other, alpha=alpha)
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
    @dim_aliases
    def softmax(self, dim, dtype=None): return ops.softmax(self, dim, dtype=dtype)

    @dim_aliases
    def log_softmax(self, dim, dtype=None): return ops.log_softmax(self, dim, dtype=dtype)

    # reductions (PyTorch names: dim, keepdim; numpy's axis, keepdims also work;
    # sum, mean and prod are with the other ops below)
    @dim_aliases
    def max(self, dim=None, keepdim=False): return ops.max(self, dim, keepdim)

    @dim_aliases
    def min(self, dim=None, keepdim=False): return ops.min(self, dim, keepdim)

    @dim_aliases
    def amax(self, dim=None, keepdim=False): return ops.amax(self, dim, keepdim)

    @dim_aliases
    def amin(self, dim=None, keepdim=False): return ops.amin(self, dim, keepdim)

    @dim_aliases
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.var(self, dim, unbiased, keepdim, correction=correction)

    @dim_aliases
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.std(self, dim, unbiased, keepdim, correction=correction)

    @dim_aliases
    def logsumexp(self, dim, keepdim=False): return ops.logsumexp(self, dim, keepdim)

    @dim_aliases
    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)

    @dim_aliases
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)

    @dim_aliases
    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The p-norm over dim (all elements by default), as torch.Tensor.norm."""
        return ops.norm(self, p, dim, keepdim, dtype=dtype)

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
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    def t(self):
        """Swap the two dimensions of a matrix; 0-d and 1-d tensors come back as is."""
        if self.ndim > 2:
            raise ShapeError(f"t: expects a tensor with <= 2 dimensions, got shape "
                             f"{self.shape}; use transpose(dim0, dim1) or permute")
        return self if self.ndim < 2 else ops.transpose(self, 0, 1)

    # ---- more ops: the PyTorch methods of minidl/ops/ elementwise.py, division.py,
    # logical.py, scan.py, product.py, movement.py, indexing.py, sorting.py (each
    # method is the function of the same name with this tensor first)
    @dim_aliases
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return ops.sum(self, dim, keepdim, dtype=dtype)

    @dim_aliases
    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return ops.mean(self, dim, keepdim, dtype=dtype)

    @dim_aliases
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return ops.prod(self, dim, keepdim, dtype=dtype)

    def div(self, other, *, rounding_mode=None):
        return ops.div(self, other, rounding_mode=rounding_mode)

    @dim_aliases
    def any(self, dim=None, keepdim=False): return ops.any(self, dim, keepdim)

    @dim_aliases
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
    def round(self, decimals=None): return ops.round(self, decimals)
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

    @dim_aliases
    def cumsum(self, dim, *, dtype=None): return ops.cumsum(self, dim, dtype=dtype)

    @dim_aliases
    def cumprod(self, dim, *, dtype=None): return ops.cumprod(self, dim, dtype=dtype)

    @dim_aliases
    def cummax(self, dim): return ops.cummax(self, dim)

    @dim_aliases
    def cummin(self, dim): return ops.cummin(self, dim)

    @dim_aliases
    def logcumsumexp(self, dim): return ops.logcumsumexp(self, dim)

    def flip(self, *dims):  # x.flip(0, 1) or x.flip((0, 1))
        return ops.flip(self, ops.shape._shape_arg(dims, "flip", "dims"))
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

    @dim_aliases
    def kthvalue(self, k, dim=-1, keepdim=False): return ops.kthvalue(self, k, dim, keepdim)

    @dim_aliases
    def median(self, dim=None, keepdim=False): return ops.median(self, dim, keepdim)


def parse_to_args(op, args, dtype=None, device=None):
    """The dtype asked for by .to(...) arguments (None if only a device was given).

    PyTorch code moves things between devices; minidl runs on the CPU only, so the
    device "cpu" is accepted and ignored, and any other device is an error."""
    for arg in args:
        if arg is None or isinstance(arg, (str, Device)):
            device = arg
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        else:
            dtype = arg
    check_device(op, device)
    return dtype


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}  # in-place results may not go up a kind


def _random(generator):
    from .random import numpy_rng
    return numpy_rng(generator)
def _is_operand(x) -> bool:
    """Can x meet a tensor in arithmetic (a Tensor, array, list or number)?"""
    return x.__class__ in (int, float, bool) or isinstance(
        x, (Tensor, np.ndarray, np.generic, numbers.Number, list, tuple))


def _index_arrays(index):
    """Replace Tensors inside an index by their arrays (for numpy indexing)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


from . import ops  # noqa: E402  (ops need Tensor defined first)
