"""Dropout layers: random zeroing in training mode, the identity in eval mode.

model.train() / model.eval() flip `self.training`, which is all these layers read.
The math is in minidl/ops/dropout.py.
"""
from __future__ import annotations

from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be "
                             f"between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each value with probability p, scale the rest by 1/(1-p)."""

    def forward(self, x):
        return F.dropout(x, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability p, scale the rest."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)
