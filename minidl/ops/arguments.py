"""Arguments that ops and layers share, checked and normalised in one place.

    int_tuple(value, n, name, op, minimum=None)
        kernel_size, stride, padding, dilation, ...: an int, or a sequence of 1 or n
        ints (PyTorch accepts both) -> a tuple of n Python ints
    add_batch_dim(x, unbatched_ndim) / drop_batch_dim(y, was_unbatched)
        an unbatched input ((C, H, W) for an op on (N, C, H, W)) becomes a batch of
        one, and the result loses the batch dim again

Errors name the op (or layer) and the argument: a value that is not an int (a bool,
a float, a tuple of the wrong length) is a TypeError; an int below `minimum` is a
ShapeError.
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from .shape import reshape


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def int_tuple(value, n: int, name: str, op: str, minimum: int | None = None) -> tuple:
    """value as a tuple of n ints: 3 -> (3, 3) for n = 2; (3,) -> (3, 3); (3, 5) stays."""
    try:
        values = (value,) if _is_int(value) else tuple(value)
    except TypeError:  # not a sequence
        values = None
    if values is not None and len(values) == 1:
        values = values * n
    if values is None or len(values) != n or not all(_is_int(v) for v in values):
        kind = {1: "an int or a 1-tuple of ints", 2: "an int or a pair of ints"}.get(n, f"an int or {n} ints")
        raise TypeError(f"{op}: {name} must be {kind}, got {value!r}")
    if minimum is not None and min(values) < minimum:
        rule = {0: "non-negative", 1: "positive"}.get(minimum, f">= {minimum}")
        raise ShapeError(f"{op}: {name} must be {rule}, got {value!r}")
    return tuple(int(v) for v in values)


def add_batch_dim(x, unbatched_ndim: int):
    """(x with a batch dim of one, True) if x has `unbatched_ndim` dims, else (x, False)."""
    if isinstance(x, Tensor) and x.ndim == unbatched_ndim:
        return reshape(x, (1,) + x.shape), True
    return x, False


def drop_batch_dim(y, was_unbatched: bool):
    """The inverse of add_batch_dim, for the op's result."""
    return reshape(y, y.shape[1:]) if was_unbatched else y
