"""Normalization: batch_norm, layer_norm, group_norm and instance_norm, built from
Tensor ops.

All standardize x over some dims and then scale and shift it per feature:
    x_hat = (x - mean) / sqrt(var + eps)        (var is the biased variance, / n)
    y     = x_hat * weight + bias
They differ in which values share one mean and variance:
    batch_norm     per channel, over the batch and spatial dims (in eval mode:
                   running averages of them instead)
    instance_norm  per sample and channel, over the spatial dims (optionally keeping
                   running averages too)
    group_norm     per sample and group of channels, over the group and spatial dims
    layer_norm     per sample, over the last dims
Because they are written with Tensor ops, autograd derives their backward -- and the
backward's backward -- by itself. An empty input gives an empty output (and leaves
running statistics alone).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..kernels import norm as kernels, output, run_kernel, scratch
from ..tensor import Tensor, ShapeError
from .arithmetic import floats_only, sqrt
from .elementwise import rsqrt
from .reduction import mean, sum
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


def _channel_shape(x):
    """(1, C, 1, ..., 1): how one value per channel broadcasts along dim 1 of x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _affine(x_hat, weight, bias):
    """x_hat * weight + bias, with one weight and bias per channel (dim 1)."""
    if weight is not None:
        x_hat = x_hat * reshape(weight, _channel_shape(x_hat))
    if bias is not None:
        x_hat = x_hat + reshape(bias, _channel_shape(x_hat))
    return x_hat


def _with_running_stats(x, running_mean, running_var, eps):
    """(x - running_mean) / sqrt(running_var + eps), per channel (eval mode)."""
    shape = _channel_shape(x)
    return (x - reshape(running_mean, shape)) / sqrt(reshape(running_var, shape) + eps)


def _check_stats(op, x, tensors):
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected input of shape (N, C, ...) with at least 2 "
                         f"dims, got shape {x.shape}")
    for name, t in tensors.items():
        _check_per_channel(op, name, t, x.shape[1], x.shape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over dim 1 (channels) of (N, C), (N, C, L) or (N, C, H, W).

    training=True: normalize with this batch's mean and biased variance per channel,
    and (if given) update the running statistics in place, as PyTorch:
        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var_unbiased
    training=False: normalize with running_mean and running_var."""
    x = floats_only(input, "batch_norm")
    _check_stats("batch_norm", x, dict(running_mean=running_mean, running_var=running_var,
                                       weight=weight, bias=bias))
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given "
                             "when training=False")
        return _affine(_with_running_stats(x, running_mean, running_var, eps), weight, bias)
    count = x.numel() // max(x.shape[1], 1)
    if count == 1:
        raise ValueError(f"batch_norm: Expected more than 1 value per channel when "
                         f"training, got input size {x.shape}")
    if count == 0:  # an empty batch: nothing to normalize, nothing to learn from
        return _affine(x, weight, bias)
    stats = np.empty((2, x.shape[1]), x.dtype)  # BatchNorm writes mean and var here
    y = BatchNorm.apply(x, weight, bias, eps, stats)
    _update_running(running_mean, stats[0], momentum)
    _update_running(running_var, stats[1] * (count / (count - 1)), momentum)
    return y


class BatchNorm(Function):
    # batch_norm in training mode as one op: the same math as _standardize + _affine,
    # without a graph node per step. Per channel c, over its m values (all batch and
    # spatial positions), mu = mean(x), var = mean((x - mu)^2), r = 1 / sqrt(var + eps):
    #   x_hat = (x - mu) * r,   y = w * x_hat + b
    # and with g = dL/dy and sums over the channel's m values:
    #   dL/db = sum(g),   dL/dw = sum(g * x_hat),
    #   dL/dx = w * r * (g - sum(g) / m - x_hat * sum(g * x_hat) / m)
    # backward writes that in Tensor ops, recomputing x_hat from x, so it can be
    # differentiated again (gradient penalties, gradgradcheck). A plain backward
    # (no graph recorded) runs the same formula as one kernel, kernels/norm.py.
    @staticmethod
    def forward(ctx, x, w, b, eps, stats):
        # (the temporaries in scratch buffers, y in a recycled array: kernels/memory.py)
        dims = _channel_dims(x)
        mu = x.mean(dims, keepdims=True)
        centered = np.subtract(x, mu, out=scratch("batch_norm", x.shape, x.dtype))
        square = np.multiply(centered, centered,
                             out=scratch("batch_norm_square", x.shape, x.dtype))
        var = np.mean(square, dims, keepdims=True)
        rstd = 1 / np.sqrt(var + eps)
        scale = rstd if w is None else rstd * w.reshape(rstd.shape)
        y = np.multiply(centered, scale, out=output(x.shape, scale.dtype))
        if b is not None:
            y += b.reshape(rstd.shape)
        stats[0], stats[1] = mu.reshape(-1), var.reshape(-1)
        ctx.save_for_backward(x, w)
        ctx.eps, ctx.mean, ctx.rstd = eps, mu.reshape(-1), rstd.reshape(-1)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        if not is_grad_enabled():  # no second derivative wanted: one kernel instead
            return _batch_norm_grads(ctx, g._data, x._data, w)
        dims, shape = _channel_dims(x), _channel_shape(x)
        centered = x - mean(x, dims, keepdim=True)
        r = rsqrt(mean(centered * centered, dims, keepdim=True) + ctx.eps)
        x_hat = centered * r
        sum_g, sum_g_x_hat = sum(g, dims, keepdim=True), sum(g * x_hat, dims, keepdim=True)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            m = x.numel() // x.shape[1]
            scale = r if w is None else reshape(w, shape) * r
            gx = scale * (g - sum_g / m - x_hat * (sum_g_x_hat / m))
        if ctx.needs_input_grad[1]:
            gw = reshape(sum_g_x_hat, w.shape)
        if ctx.needs_input_grad[2]:
            gb = reshape(sum_g, (x.shape[1],))
        return gx, gw, gb, None, None


def _batch_norm_grads(ctx, g, x, w):
    """BatchNorm.backward's formula as one kernel (kernels/norm.py), on the arrays g
    and x, with the mean and 1 / sqrt(var + eps) that forward computed."""
    n, c = x.shape[:2]
    planes = (n, c, x.size // (n * c))  # (N, C, spatial positions)
    gx = output(x.shape, x.dtype)
    sums = np.empty((2, c), x.dtype)    # sum(g), sum(g * x_hat) per channel
    scale = ctx.rstd if w is None else ctx.rstd * w._data.reshape(-1)
    run_kernel(kernels.batch_norm_backward, x.size,
               np.ascontiguousarray(g).reshape(planes),
               np.ascontiguousarray(x).reshape(planes), ctx.mean, ctx.rstd, scale,
               gx.reshape(planes), sums[0], sums[1], ctx.needs_input_grad[0])
    needs = ctx.needs_input_grad
    return (Tensor(gx) if needs[0] else None,
            Tensor(sums[1].reshape(w.shape)) if needs[1] else None,
            Tensor(sums[0]) if needs[2] else None, None, None)


def _channel_dims(x) -> tuple:
    """All dims but the channel dim 1: the ones batch_norm averages over."""
    return (0,) + tuple(range(2, x.ndim))


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
    x = floats_only(input, "layer_norm")
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


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization (torch.nn.functional.group_norm): split the C channels of
    (N, C, ...) input into num_groups groups and standardize each sample's group over
    its channels and spatial dims; weight and bias (C,) scale and shift per channel."""
    x = floats_only(input, "group_norm")
    _check_stats("group_norm", x, dict(weight=weight, bias=bias))
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 \
            or x.shape[1] % num_groups:
        raise ShapeError(f"group_norm: the number of channels must be divisible by "
                         f"num_groups, got input of shape {x.shape} and "
                         f"num_groups={num_groups!r}")
    if x.numel() == 0:
        return _affine(x, weight, bias)
    if x.shape[0] * x.shape[1] // num_groups * int(np.prod(x.shape[2:])) == 1:
        # (PyTorch's check, which counts the values of one channel of a group)
        raise ValueError(f"group_norm: Expected more than 1 value per channel when "
                         f"training, got input size {x.shape} with {num_groups} groups")
    groups = reshape(x, (x.shape[0], num_groups, -1))  # (N, G, C/G * spatial)
    x_hat, _, _ = _standardize(groups, (2,), eps)
    return _affine(reshape(x_hat, x.shape), weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization (torch.nn.functional.instance_norm): standardize each
    sample's channel of (N, C, ...) input over its spatial dims.

    With running_mean/running_var (C,) and use_input_stats=True they move towards the
    batch average of the per-instance statistics (as PyTorch):
        running_mean = (1 - momentum) * running_mean + momentum * mean_n(mean_nc)
        running_var  = (1 - momentum) * running_var  + momentum * mean_n(var_nc unbiased)
    use_input_stats=False normalizes with the running statistics instead."""
    op = "instance_norm"
    x = floats_only(input, op)
    _check_stats(op, x, dict(running_mean=running_mean, running_var=running_var,
                             weight=weight, bias=bias))
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must either both be None "
                         "or neither be None")
    if not use_input_stats:
        if running_mean is None:
            raise ShapeError(f"{op}: expected running_mean and running_var to be given "
                             "when use_input_stats is False")
        return _affine(_with_running_stats(x, running_mean, running_var, eps), weight, bias)
    count = int(np.prod(x.shape[2:]))
    if count <= 1:
        raise ValueError(f"{op}: Expected more than 1 spatial element when training, "
                         f"got input size {x.shape}")
    if x.numel() == 0:
        return _affine(x, weight, bias)
    x_hat, mu, var = _standardize(x, tuple(range(2, x.ndim)), eps)
    _update_running(running_mean, mu._data.mean(axis=0), momentum)
    _update_running(running_var, var._data.mean(axis=0) * (count / (count - 1)),
                    momentum)
    return _affine(x_hat, weight, bias)


__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]
