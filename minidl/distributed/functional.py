"""Ops whose computation spans the ranks, with gradients that do too: a differentiable
all_reduce, and batch normalization over every rank's batch (sync_batch_norm).

The all-reduce as an op:   y_r = x_0 + x_1 + ... + x_{p-1}    on every rank r
Its derivative. The job minimises the sum of every rank's loss, sum_r L_r, and every
y_r depends on rank s's x_s with derivative 1. So

    d(sum_r L_r) / d x_s = sum_r dL_r / dy_r

-- the all-reduce (sum) of the gradients that reach y on each rank. Backward of an
all-reduce is an all-reduce: the op is its own adjoint, and because backward applies
the op again, it can be differentiated twice. (Every rank must run the backward too,
in the same order, as every collective.)

sync_batch_norm is batch_norm in training mode with the mean and variance of each
channel taken over the batches of all ranks together: two such all-reduces, of the
per-channel sums and of the per-channel sums of squared deviations. Autograd derives
its backward -- which all-reduces the matching gradient sums -- from these ops.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..ops.arithmetic import floats_only
from ..ops.arithmetic import sqrt
from ..ops.normalization import _affine, _channel_shape, _check_stats, _update_running
from ..ops.shape import reshape
from ..tensor import Tensor
from .collectives import _group, all_reduce as all_reduce_in_place


class AllReduceSum(Function):
    """y = the sum over ranks of x (a new array); backward: the same for the gradient."""
    keep_after_backward = ("group",)  # (no tensor saved: a second backward works)

    @staticmethod
    def forward(ctx, x, group):
        ctx.group = group
        out = np.array(x, copy=True, order="C")
        all_reduce_in_place(Tensor(out), "sum", group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        # d(sum_r L_r)/dx_s = sum_r dL_r/dy_r: the all-reduce of the gradients
        return AllReduceSum.apply(grad, ctx.group), None


def all_reduce(tensor: Tensor, op: str = "sum", group=None) -> Tensor:
    """The sum (op="sum") or mean (op="mean") over all ranks of `tensor`, as a new,
    differentiable Tensor (PyTorch's torch.distributed.nn.functional.all_reduce)."""
    where = _group(group, "all_reduce")
    if op not in ("sum", "mean"):
        raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
    total = AllReduceSum.apply(floats_only(tensor, "all_reduce"), where)
    return total / where.size if op == "mean" else total


def sync_batch_norm(input, running_mean, running_var, weight=None, bias=None,
                    momentum=0.1, eps=1e-5, group=None):
    """batch_norm(training=True) whose statistics are those of all ranks' batches
    together (the running statistics, if given, move towards them, as batch_norm's)."""
    where = _group(group, "sync_batch_norm")
    x = floats_only(input, "sync_batch_norm")
    _check_stats("sync_batch_norm", x, dict(running_mean=running_mean,
                                            running_var=running_var, weight=weight,
                                            bias=bias))
    counts = Tensor(np.array([x.numel() // max(x.shape[1], 1)], np.int64))
    all_reduce_in_place(counts, group=where)
    count = int(counts.item())  # values per channel on all ranks together
    if count <= 1:
        raise ValueError(f"sync_batch_norm: Expected more than 1 value per channel "
                         f"when training, got {count} on all ranks together (input "
                         f"size {x.shape} on this one)")
    dims, shape = (0,) + tuple(range(2, x.ndim)), _channel_shape(x)
    mean = all_reduce(x.sum(dims), group=where) / count
    centered = x - reshape(mean, shape)
    var = all_reduce((centered * centered).sum(dims), group=where) / count
    _update_running(running_mean, mean.detach().numpy(), momentum)
    _update_running(running_var, var.detach().numpy() * (count / (count - 1)), momentum)
    return _affine(centered / sqrt(reshape(var, shape) + eps), weight, bias)
