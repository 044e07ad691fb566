"""Ways to make tensors: from data, filled with a constant, random, or ranges."""
from __future__ import annotations

import numpy as np

from .random import numpy_rng
from .tensor import Tensor, _as_array, float32, int64


def _size(size) -> tuple:
    """Accept zeros(2, 3) and zeros((2, 3)) alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def tensor(data, dtype=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of data (floats default to float32, ints to int64)."""
    arr = np.array(_as_array(data, dtype), copy=True)
    return Tensor(arr, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array (its dtype kept)."""
    return Tensor(array)


def zeros(*size, dtype=float32, requires_grad=False) -> Tensor:
    return Tensor(np.zeros(_size(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size, dtype=float32, requires_grad=False) -> Tensor:
    return Tensor(np.ones(_size(size), dtype=dtype), requires_grad=requires_grad)


def full(size, fill_value, dtype=float32, requires_grad=False) -> Tensor:
    return Tensor(np.full(_size((size,)), fill_value, dtype=dtype),
                  requires_grad=requires_grad)


def empty(*size, dtype=float32, requires_grad=False) -> Tensor:
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def eye(n, m=None, dtype=float32, requires_grad=False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def randn(*size, generator=None, dtype=float32, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    data = numpy_rng(generator).standard_normal(_size(size), dtype=np.float64)
    return Tensor(data.astype(dtype), requires_grad=requires_grad)


def rand(*size, generator=None, dtype=float32, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    data = numpy_rng(generator).random(_size(size))
    return Tensor(data.astype(dtype), requires_grad=requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=int64) -> Tensor:
    """Integers in [low, high), as torch.randint: randint(low, high, size) or
    randint(high, size) (low = 0)."""
    if high is None or isinstance(high, (tuple, list)):
        low, high, size = 0, low, (size if high is None else high)
    return Tensor(numpy_rng(generator).integers(low, high, size=_size((size,)))
                  .astype(dtype))


def randperm(n, generator=None) -> Tensor:
    return Tensor(numpy_rng(generator).permutation(n).astype(int64))


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Like torch.arange: int64 for integer arguments, float32 otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if ints else float32
    return Tensor(np.arange(start, end, step).astype(dtype), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=float32, requires_grad=False) -> Tensor:
    return Tensor(np.linspace(start, end, steps).astype(dtype),
                  requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t, generator=None, dtype=None, requires_grad=False) -> Tensor:
    return randn(t.shape, generator=generator, dtype=dtype or t.dtype,
                 requires_grad=requires_grad)


def rand_like(t, generator=None, dtype=None, requires_grad=False) -> Tensor:
    return rand(t.shape, generator=generator, dtype=dtype or t.dtype,
                requires_grad=requires_grad)
