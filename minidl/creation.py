"""Ways to make tensors: from data, filled with a constant, random, or ranges.

dtypes follow PyTorch: floating results are float32 unless you ask otherwise;
`tensor` and `full` infer the dtype from the data (4 -> int64, 4.0 -> float32,
True -> bool); `arange` gives int64 when start, end and step are all integers.
Every function takes device= ("cpu" is the only device minidl has).
"""
from __future__ import annotations

import numbers

import numpy as np

from .device import check_device
from .dtypes import is_scalar, scalar_dtype
from .random import numpy_rng
from .errors import ArgumentError, NotImplementedForDType, ShapeError
from .tensor import Tensor, _as_array, float32, int64


def _size(size, op: str) -> tuple:
    """Accept zeros(2, 3) and zeros((2, 3)) alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise ShapeError(f"{op}: cannot create a tensor with a negative dimension, got "
                         f"size {size}")
    return size


def _make(op, data, dtype, device, requires_grad) -> Tensor:
    """The common tail of every creation function: device check, dtype, Tensor."""
    check_device(op, device)
    return Tensor(data.astype(dtype, copy=False), requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of data (floats default to float32, ints to int64)."""
    check_device("tensor", device)
    arr = np.array(_as_array(data, dtype), copy=True)
    return Tensor(arr, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array (its dtype kept)."""
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype = float32 if dtype is None else dtype
    return _make("zeros", np.zeros(_size(size, "zeros"), dtype), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype = float32 if dtype is None else dtype
    return _make("ones", np.ones(_size(size, "ones"), dtype), dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """size filled with fill_value; without dtype, the dtype fill_value implies (int64
    for an int, float32 for a float, bool for a bool), as torch.full."""
    if dtype is None:
        dtype = (scalar_dtype(fill_value) if is_scalar(fill_value) else
                 _as_array(fill_value).dtype)
    data = np.full(_size((size,), "full"), _value(fill_value), dtype=dtype)
    return _make("full", data, dtype, device, requires_grad)


def _value(v):
    """A number given as a 0-d Tensor works wherever a number does."""
    return v._data if isinstance(v, Tensor) else v


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    _size((n, n if m is None else m), "eye")  # (refuses negative sizes)
    dtype = float32 if dtype is None else dtype
    return _make("eye", np.eye(n, m, dtype=dtype), dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    data = numpy_rng(generator).standard_normal(_size(size, "randn"), dtype=np.float64)
    return _make("randn", data, float32 if dtype is None else dtype, device,
                 requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    data = numpy_rng(generator).random(_size(size, "rand"))
    return _make("rand", data, float32 if dtype is None else dtype, device,
                 requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high), as torch.randint: randint(low, high, size) or
    randint(high, size) (low = 0)."""
    if high is None or isinstance(high, (tuple, list)):
        low, high, size = 0, low, (size if high is None else high)
    if low >= high:
        raise ArgumentError(f"randint: low ({low}) must be less than high ({high})")
    data = numpy_rng(generator).integers(low, high, size=_size((size,), "randint"))
    return _make("randint", data, int64 if dtype is None else dtype, device, False)


def randperm(n, generator=None, dtype=None, device=None) -> Tensor:
    data = numpy_rng(generator).permutation(n)
    return _make("randperm", data, int64 if dtype is None else dtype, device, False)


def arange(start, end=None, step=1, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Like torch.arange: int64 for integer arguments, float32 otherwise."""
    start, end, step = (_value(v) for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if dtype is not None and np.dtype(dtype) == np.bool_:
        raise NotImplementedForDType("arange: not implemented for bool (as in PyTorch)")
    if dtype is not None and np.dtype(dtype).kind in "iu":  # (PyTorch truncates all
        start, end, step = (int(v) for v in (start, end, step))  # three first)
    if step == 0 or (end - start) * step < 0:
        raise ArgumentError(f"arange: cannot go from {start} to {end} in steps of "
                            f"{step}; the step must be non-zero and point toward end")
    if dtype is None:
        ints = all(isinstance(v, (numbers.Integral, np.integer)) or
                   (isinstance(v, np.ndarray) and v.dtype.kind in "iu")
                   for v in (start, end, step))
        dtype = int64 if ints else float32
    return _make("arange", np.arange(start, end, step), dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    if steps < 0:
        raise ArgumentError(f"linspace: the number of steps must be >= 0, got {steps}")
    return _make("linspace", np.linspace(start, end, steps),
                 float32 if dtype is None else dtype, device, requires_grad)


# The *_like functions: the shape (and, unless given, the dtype) of t.
def zeros_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=t.dtype if dtype is None else dtype, device=device,
                 requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=t.dtype if dtype is None else dtype, device=device,
                requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype,
                device=device, requires_grad=requires_grad)


def randn_like(t, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(t.shape, generator=generator, dtype=t.dtype if dtype is None else dtype,
                 device=device, requires_grad=requires_grad)


def rand_like(t, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(t.shape, generator=generator, dtype=t.dtype if dtype is None else dtype,
                device=device, requires_grad=requires_grad)
