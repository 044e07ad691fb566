"""Dropout: during training, zero each value with probability p (a regulariser).

Inverted dropout: the values kept are scaled by 1/(1-p), so the expected output
equals the input and nothing needs rescaling at test time (eval mode is the identity).
  dropout    drops single values.
  dropout2d  drops whole channels of (N, C, H, W) or (C, H, W) inputs: neighbouring
             pixels are strongly correlated, so dropping single pixels does little.
Both multiply by a random mask (drawn from minidl's default generator, so
minidl.manual_seed makes it repeatable); the mask is the derivative too.
`inplace` is accepted for PyTorch compatibility; a new tensor is always returned.
"""
from __future__ import annotations

from ..autograd import Function
from ..random import numpy_rng
from ..tensor import Tensor, ShapeError
from .arithmetic import float_input


class Dropout(Function):
    # y = x * mask, mask = keep / (1 - p);   dy/dx = mask
    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.mask), None


def _check_p(p, op: str) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, "
                         f"but got {p}")


def _apply_mask(x: Tensor, p: float, mask_shape: tuple) -> Tensor:
    """x * (keep / (1 - p)), keep ~ Bernoulli(1 - p) of mask_shape (broadcast to x)."""
    keep = numpy_rng().random(mask_shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return Dropout.apply(x, (keep * scale).astype(x.dtype))


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each value with probability p and scale the rest by 1/(1-p) (training);
    return the input unchanged when training=False or p == 0."""
    _check_p(p, "dropout")
    x = float_input(input, "dropout")
    if not training or p == 0:
        return x
    return _apply_mask(x, p, x.shape)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels (each H x W plane) with probability p; scale the rest by
    1/(1-p). Input (N, C, H, W), or (C, H, W) for one unbatched image."""
    _check_p(p, "dropout2d")
    x = float_input(input, "dropout2d")
    if x.ndim not in (3, 4):
        raise ShapeError(f"dropout2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) "
                         f"input, got shape {x.shape}")
    if not training or p == 0:
        return x
    return _apply_mask(x, p, x.shape[:-2] + (1, 1))
