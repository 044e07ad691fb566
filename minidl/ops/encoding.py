"""one_hot: class indices to one-hot rows (not differentiable: it reads integers)."""
from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ShapeError, ArgumentError
from ..tensor import Tensor


def one_hot(tensor, num_classes=-1):
    """Indices of shape (*) -> int64 tensor (*, num_classes) with a 1 at each index, as
    torch.nn.functional.one_hot (num_classes=-1: the largest index + 1). Use .float()
    to mix it with floating-point values."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype != np.int64:
        raise DTypeError(f"one_hot: needs an int64 tensor of class indices, got dtype "
                         f"{tensor.dtype}; convert with .long()")
    idx = tensor._data
    if num_classes == -1:
        if idx.size == 0:
            raise ShapeError("one_hot: cannot infer the number of classes from an "
                             "empty tensor; pass num_classes")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise ArgumentError(f"one_hot: class values must be non-negative, got "
                              f"{idx.min()}")
    if idx.size and idx.max() >= num_classes:
        raise ArgumentError(f"one_hot: class values must be smaller than num_classes="
                              f"{num_classes}, got {idx.max()}")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return Tensor(out)
