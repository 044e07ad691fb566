"""Shape layers: Identity, Flatten and Unflatten (no parameters).

Flatten() turns a batch of images (N, C, H, W) into rows (N, C*H*W) for a Linear
layer; Unflatten(1, (C, H, W)) does the reverse.
"""
from __future__ import annotations

import math

from ..ops import flatten, reshape
from ..tensor import ShapeError
from .module import Module


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension `dim` into `unflattened_size`: (N, 784) -> (N, 1, 28, 28)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, x):
        dim = self.dim + x.ndim if self.dim < 0 else self.dim
        if not 0 <= dim < x.ndim:
            raise ShapeError(f"Unflatten: dim {self.dim} is out of range for an input "
                             f"of shape {x.shape}")
        sizes = self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        size = x.shape[dim]
        fits = (known > 0 and size % known == 0) if -1 in sizes else known == size
        if not fits:
            raise ShapeError(f"Unflatten: cannot split dimension {self.dim} of size "
                             f"{x.shape[dim]} (input shape {x.shape}) into {sizes}")
        return reshape(x, x.shape[:dim] + sizes + x.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
