"""BatchNorm1d and BatchNorm2d: batch normalization layers with running statistics
(and _NormBase, their parameters and buffers, which the InstanceNorm layers share).

Learned (affine=True): weight (gamma, starts at 1) and bias (beta, starts at 0; left
out with bias=False), one per channel.
Buffers (saved in the state_dict, not learned): running_mean, running_var and
num_batches_tracked (int64), exactly as PyTorch names them.
In training mode each batch is normalized with its own statistics, and the running
ones move towards them (momentum; momentum=None averages all batches seen so far);
in eval mode the running statistics are used. The math is in
minidl/ops/normalization.py.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..tensor import Tensor, ShapeError, float32
from .module import Module
from .parameter import Parameter


class _NormBase(Module):
    """num_features, eps, momentum, affine (+ bias), track_running_stats: the weight,
    bias and running statistics of the batch and instance normalization layers."""
    _input_dims = ()  # the input ranks a subclass accepts

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = float32 if dtype is None else dtype
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1)
                if self.bias is not None:
                    self.bias.fill_(0)

    def _check_input(self, x):
        if not isinstance(x, Tensor) or x.ndim not in self._input_dims:
            shape = x.shape if isinstance(x, Tensor) else type(x).__name__
            wanted = " or ".join(f"{d}D" for d in self._input_dims)
            raise ShapeError(f"{self._get_name()}: expected {wanted} input, got {shape}")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def _count_batch(self) -> float:
        """In training mode, count this batch; returns how far the running statistics
        move towards its statistics (momentum, or 1/batches for momentum=None)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:  # a plain average of every batch so far
                factor = 1.0 / float(self.num_batches_tracked.item())
        return factor

    def forward(self, x):
        self._check_input(x)
        factor = self._count_batch()
        use_batch_stats = self.training or self.running_mean is None
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if keep_stats else None,
                            self.running_var if keep_stats else None, self.weight,
                            self.bias, use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True), for (N, C) or (N, C, L) input."""
    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True), for (N, C, H, W) input."""
    _input_dims = (4,)
