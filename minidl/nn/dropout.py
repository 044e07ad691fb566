"""Dropout layers: random zeroing in training mode, the identity in eval mode.

model.train() / model.eval() flip `self.training`, which is all these layers read.
The math (and PyTorch's rules for each input rank) is in minidl/ops/dropout.py.
"""
from __future__ import annotations

from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    _function = None  # the function of minidl.functional each layer applies

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be "
                             f"between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x):
        return type(self)._function(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each value with probability p, scale the rest by 1/(1-p)."""
    _function = F.dropout


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    _function = F.dropout1d


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input (3-D input: see F.dropout2d)."""
    _function = F.dropout2d


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    _function = F.dropout3d


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks (keeps the mean and variance)."""
    _function = F.alpha_dropout


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels."""
    _function = F.feature_alpha_dropout
