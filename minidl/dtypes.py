"""dtypes: the element types a Tensor can hold, and PyTorch's type-promotion rules.

Which dtype does `a + b` have? numpy and PyTorch answer differently, and minidl
follows PyTorch so that a float32 model stays float32:

1. Categories rank bool < integer < floating. Two *tensors* of one category give the
   wider type (int32 + int64 -> int64, float32 + float64 -> float64); across
   categories the higher category wins (int64 + float32 -> float32, not float64).
2. Operands come in three priority groups: tensors with dimensions, 0-d tensors, and
   Python numbers. A lower group only matters when its *category* is higher:
   float32[3] + float64 0-d -> float32, int32[3] + 7 -> int32, but
   int32[3] + 2.5 -> float32 and bool[3] + 1 -> int64.
3. A Python float counts as the default float dtype (float32), a Python int as int64,
   a Python bool as bool.

`result_type(*operands)` applies these rules; it matches torch.result_type (see
tests/test_dtypes.py, which checks a table of pairs against PyTorch).
"""
from __future__ import annotations

import numbers

import numpy as np

from .errors import DTypeError

float32, float64 = np.float32, np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
bool_ = np.bool_
SUPPORTED = {np.dtype(t) for t in (float32, float64, int8, int16, int32, int64, uint8,
                                   bool_)}
FLOATS = {np.dtype(float32), np.dtype(float64)}
DEFAULT_FLOAT = np.dtype(float32)
BOOL, INT64 = np.dtype(bool_), np.dtype(int64)


def is_float(dtype) -> bool:
    return np.dtype(dtype) in FLOATS


def category(dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    dtype = np.dtype(dtype)
    return 0 if dtype == BOOL else 2 if dtype in FLOATS else 1


def promote_types(a, b) -> np.dtype:
    """The smallest dtype both a and b fit in, by PyTorch's table (torch.promote_types)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:  # the higher category wins, keeping its own width
        return a if ca > cb else b
    return np.promote_types(a, b)  # same category: numpy agrees with PyTorch here


def is_scalar(x) -> bool:
    """A Python or numpy number (not an array): it counts as a "wrapped number"."""
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def scalar_dtype(x) -> np.dtype:
    """The dtype a Python number takes part in promotion with (rule 3 above)."""
    if isinstance(x, (bool, np.bool_)):
        return BOOL
    if isinstance(x, (numbers.Integral, np.integer)):
        return INT64
    if isinstance(x, (numbers.Real, np.floating)):
        return DEFAULT_FLOAT
    raise DTypeError(f"minidl has no complex dtype; got the number {x!r}")


def _combine(higher, lower):
    """Let a lower-priority group's dtype in only if its category is higher."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if category(lower) > category(higher):
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype of an elementwise op over operands (Tensors/arrays and numbers)."""
    dims = zero_dim = scalars = None
    for x in operands:
        if is_scalar(x):
            d = scalar_dtype(x)
            scalars = d if scalars is None else promote_types(scalars, d)
        elif x.ndim == 0:
            zero_dim = x.dtype if zero_dim is None else promote_types(zero_dim, x.dtype)
        else:
            dims = x.dtype if dims is None else promote_types(dims, x.dtype)
    return np.dtype(_combine(dims, _combine(zero_dim, scalars)))
