"""Linear: the fully connected layer, y = x @ W^T + b.

W has shape (out_features, in_features), as in PyTorch, so row j of W holds the
weights of output unit j. x may have any leading dimensions: (*, in) -> (*, out).
"""
from __future__ import annotations

import numpy as np

from ..ops.matmul import linear
from ..tensor import Tensor, ShapeError, float32
from . import init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """Linear(in_features, out_features, bias=True, dtype=float32)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = float32 if dtype is None else dtype
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"Linear: expected a Tensor, got {type(x).__name__}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"Linear(in_features={self.in_features}, out_features="
                             f"{self.out_features}): expected input of shape (*, "
                             f"{self.in_features}), got {x.shape}")
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
