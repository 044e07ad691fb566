"""Dropout: during training, zero values at random with probability p (a regulariser).

Inverted dropout: the values kept are scaled by 1/(1-p), so the expected output
equals the input and nothing needs rescaling at test time (eval mode is the identity).
  dropout                drops single values.
  dropout1d/2d/3d        "feature dropout": drop whole channels of (N, C, ...) input,
                         one draw per (sample, channel): neighbouring pixels are
                         strongly correlated, so dropping single pixels does little.
  alpha_dropout,         for SELU networks: a dropped value becomes SELU's negative
  feature_alpha_dropout  saturation, and an affine map a x + b keeps the mean and
                         variance (values, or whole channels).
Each multiplies by a random mask (drawn from minidl's default generator, so
minidl.manual_seed makes it repeatable); the mask is the derivative too.

The rules are PyTorch's (its _dropout_impl): the input itself comes back when not
training, when p == 0 and when it is empty; p == 1 gives zeros; integer tensors are
refused in training; inplace=True writes into the input. dropout2d takes (N, C, H, W)
and -- with PyTorch's warning -- reads 3-D input as (N, C, L); dropout1d and dropout3d
take unbatched input too ((C, L), (C, D, H, W)).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import Function
from ..errors import ArgumentError, DTypeError, ShapeError
from ..random import numpy_rng
from ..tensor import Tensor, _FLOATS
from .arithmetic import unary_input
from .shape import squeeze, unsqueeze

ALPHA = 1.7580993408473766  # SELU's scale * alpha: -ALPHA is where SELU saturates


class Dropout(Function):
    # y = x * mask, mask = keep / (1 - p);   dy/dx = mask
    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.mask), None


def _checked(input, p, op: str) -> Tensor:  # noqa: A002
    x = unary_input(input, op)
    if not 0 <= p <= 1:
        raise ArgumentError(f"{op}: dropout probability has to be between 0 and 1, "
                            f"but got {p}")
    return x


def _dropout(x, p, training, inplace, op, feature=False, alpha=False):
    """PyTorch's dropout rules (module docstring); feature: one draw per (sample,
    channel) of (N, C, ...) input; alpha: alpha dropout."""
    if not training or p == 0 or x.numel() == 0:
        return x
    if x.dtype not in _FLOATS:
        raise DTypeError(f"{op}: needs a float tensor in training, got {x.dtype} (as in "
                         "PyTorch: result type Float can't be cast to it)")
    shape = x.shape
    if feature and p < 1:  # (p == 1 needs no noise: zeros, as PyTorch's)
        if x.ndim < 2:
            raise ShapeError(f"{op}: Feature dropout requires at least 2 dimensions in "
                             f"the input, got shape {x.shape}")
        shape = x.shape[:2] + (1,) * (x.ndim - 2)
    if inplace:
        return x._inplace(_noisy, p, shape, alpha, name=op + "_")
    return _noisy(x, p, shape, alpha)


def _noisy(x, p, shape, alpha):
    """x with dropout noise of `shape` (broadcast over x). Dropout: x * keep / (1 - p).
    Alpha dropout: a (x * keep + b'), with a = 1 / sqrt((ALPHA^2 p + 1)(1 - p)) and
    b' = -ALPHA (1 - p) where dropped, ALPHA p where kept (PyTorch's formula)."""
    if p == 1:
        return Dropout.apply(x, np.zeros(shape, x.dtype))
    keep = numpy_rng().random(shape) >= p
    if not alpha:
        return Dropout.apply(x, (keep / (1 - p)).astype(x.dtype))
    a = 1 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    shift = (keep - 1.0) * (ALPHA * a) + ALPHA * a * p
    return Dropout.apply(x, (keep * a).astype(x.dtype)) + Tensor(shift.astype(x.dtype))


def _unbatched(x, p, training, inplace, op, batched):
    """Feature dropout, reading x as one sample (batch of 1) unless batched."""
    if batched:
        return _dropout(x, p, training, inplace, op, feature=True)
    y = _dropout(unsqueeze(x, 0), p, training, inplace, op, feature=True)
    return x if inplace else squeeze(y, 0)


def _warn_rank(op, x, ranks, spatial):
    if x.ndim not in ranks:
        warnings.warn(
            f"{op}: Received a {x.ndim}-D input to {op}, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that "
            f"{op} exists to provide channel-wise dropout on inputs with {spatial} "
            "spatial dimensions, a channel dimension, and an optional batch dimension "
            f"(i.e. {ranks[0]}D or {ranks[1]}D inputs).", UserWarning, stacklevel=3)


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each value with probability p and scale the rest by 1/(1-p) (training)."""
    x = _checked(input, p, "dropout")
    return _dropout(x, p, training, inplace, "dropout")


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) input, or of one (C, L) sample."""
    x = _checked(input, p, "dropout1d")
    if x.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D "
                         f"input (shape {x.shape}): (N, C, L) or unbatched (C, L)")
    return _unbatched(x, p, training, inplace, "dropout1d", x.ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels (each H x W plane) of (N, C, H, W) input. As in PyTorch,
    3-D input is read as (N, C, L) -- dropping each row of each sample -- with a
    warning (use dropout1d for that); other ranks warn and drop per dim 1."""
    x = _checked(input, p, "dropout2d")
    _warn_rank("dropout2d", x, (3, 4), 2)
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
            "where C is the channel dim. This behavior will change in a future release "
            "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
            "W). To maintain the 1D channel-wise dropout behavior, please switch to "
            "using dropout1d instead.", UserWarning, stacklevel=2)
    return _dropout(x, p, training, inplace, "dropout2d", feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) input, or of one (C, D, H, W) sample."""
    x = _checked(input, p, "dropout3d")
    _warn_rank("dropout3d", x, (4, 5), 3)
    return _unbatched(x, p, training, inplace, "dropout3d", x.ndim == 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Dropout for SELU networks: keeps the mean and variance of its input."""
    x = _checked(input, p, "alpha_dropout")
    return _dropout(x, p, training, inplace, "alpha_dropout", alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Alpha dropout of whole channels of (N, C, ...) input."""
    x = _checked(input, p, "feature_alpha_dropout")
    return _dropout(x, p, training, inplace, "feature_alpha_dropout", feature=True,
                    alpha=True)
