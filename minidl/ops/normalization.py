"""Normalization: batch_norm and layer_norm, built from Tensor ops.

Both standardize x over some dims and then scale and shift it per feature:
    x_hat = (x - mean) / sqrt(var + eps)        (var is the biased variance, / n)
    y     = x_hat * weight + bias
batch_norm takes the statistics per channel over the batch and spatial dims (and in
eval mode uses running averages of them instead); layer_norm takes them per sample
over the last dims. Because they are written with Tensor ops, autograd derives their
backward -- and the backward's backward -- by itself.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, ShapeError
from .arithmetic import float_input, sqrt
from .reduction import mean
from .shape import reshape


def _standardize(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over dims; also returns mean and (biased) var."""
    mu = mean(x, dims, keepdim=True)
    centered = x - mu
    var = mean(centered * centered, dims, keepdim=True)
    return centered / sqrt(var + eps), mu, var


def _check_per_channel(op, name, t, channels, x_shape):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(t).__name__}")
    if t.numel() != channels:
        raise ShapeError(f"{op}: {name} should contain {channels} elements (one per "
                         f"channel, input dim 1 of shape {tuple(x_shape)}), not "
                         f"{t.numel()} (shape {t.shape})")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over dim 1 (channels) of (N, C), (N, C, L) or (N, C, H, W).

    training=True: normalize with this batch's mean and biased variance per channel,
    and (if given) update the running statistics in place, as PyTorch:
        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var_unbiased
    training=False: normalize with running_mean and running_var."""
    x = float_input(input, "batch_norm")
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected input of shape (N, C), (N, C, L) or "
                         f"(N, C, H, W), got shape {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_per_channel("batch_norm", name, t, channels, x.shape)
    stat_shape = (1, channels) + (1,) * (x.ndim - 2)  # broadcasts along dim 1
    if training:
        count = x.numel() // channels
        if count <= 1:
            raise ValueError(f"batch_norm: Expected more than 1 value per channel when "
                             f"training, got input size {x.shape}")
        dims = (0,) + tuple(range(2, x.ndim))
        x_hat, mu, var = _standardize(x, dims, eps)
        _update_running(running_mean, mu._data, momentum)
        _update_running(running_var, var._data * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given "
                             "when training=False")
        mu = reshape(running_mean, stat_shape)
        x_hat = (x - mu) / sqrt(reshape(running_var, stat_shape) + eps)
    if weight is not None:
        x_hat = x_hat * reshape(weight, stat_shape)
    if bias is not None:
        x_hat = x_hat + reshape(bias, stat_shape)
    return x_hat


def _update_running(running, batch_stat: np.ndarray, momentum):
    """running <- (1 - momentum) * running + momentum * batch_stat, in place (a plain
    array update: running statistics are buffers, not part of any graph)."""
    if running is None:
        return
    stat = batch_stat.reshape(running.shape)
    running._data[...] = (1 - momentum) * running._data + momentum * stat
    running._bump_version()


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize each sample over its last len(normalized_shape) dims, which must equal
    normalized_shape; weight and bias (shape normalized_shape) scale and shift."""
    x = float_input(input, "layer_norm")
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(s) for s in normalized_shape)
    if not shape or len(shape) > x.ndim or x.shape[x.ndim - len(shape):] != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} must equal the last "
                         f"dims of the input, got input of shape {x.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} must have shape normalized_shape "
                             f"{shape}, got {t.shape}")
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    x_hat, _, _ = _standardize(x, dims, eps)
    if weight is not None:
        x_hat = x_hat * weight
    if bias is not None:
        x_hat = x_hat + bias
    return x_hat


__all__ = ["batch_norm", "layer_norm"]
