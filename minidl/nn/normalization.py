"""LayerNorm and GroupNorm: normalization per sample, so they behave the same in train
and eval mode and need no running statistics (unlike BatchNorm).

    LayerNorm(normalized_shape)   standardize each sample over its last dims, which
                                  must equal normalized_shape; weight and bias have
                                  that shape (one per normalized element)
    GroupNorm(num_groups, C)      standardize each sample's group of C / num_groups
                                  channels over those channels and the spatial dims;
                                  weight and bias have shape (C,)

weight starts at 1 and bias at 0, so a fresh layer only standardizes. The math is
F.layer_norm and F.group_norm in minidl/ops/normalization.py.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..tensor import float32
from .module import Module
from .parameter import Parameter


def _scale_and_shift(module, shape, affine: bool, bias: bool, dtype):
    """module.weight = ones(shape), module.bias = zeros(shape) (or None)."""
    dtype = float32 if dtype is None else dtype
    if affine:
        module.weight = Parameter(np.ones(shape, dtype=dtype))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(np.zeros(shape, dtype=dtype))
    else:
        module.register_parameter("bias", None)


def _reset(module):
    with no_grad():
        if module.weight is not None:
            module.weight.fill_(1)
        if module.bias is not None:
            module.bias.fill_(0)


class LayerNorm(Module):
    """LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _scale_and_shift(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        _reset(self)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine="
                f"{self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, *, bias=True)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible "
                             f"by num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps = eps
        self.affine = affine
        _scale_and_shift(self, (num_channels,), affine, bias, dtype)

    def reset_parameters(self) -> None:
        _reset(self)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
