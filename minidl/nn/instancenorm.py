"""InstanceNorm1d, InstanceNorm2d, InstanceNorm3d: instance normalization layers.

Each sample's channel is standardized over its own spatial dims (style transfer's
normalization: it removes each image's contrast). PyTorch's defaults differ from
BatchNorm's: affine=False and track_running_stats=False, so by default the layer has
no parameters and always uses the statistics of its input. With
track_running_stats=True it also keeps running averages (in train mode) and uses
them in eval mode. The parameters and buffers are BatchNorm's (_NormBase); the math
is F.instance_norm in minidl/ops/normalization.py.
"""
from __future__ import annotations

import warnings

from .. import functional as F
from ..ops.arguments import add_batch_dim, drop_batch_dim
from .batchnorm import _NormBase


class _InstanceNorm(_NormBase):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         dtype=dtype, bias=bias)

    def forward(self, x):
        self._check_input(x)
        x, unbatched = add_batch_dim(x, self._input_dims[0])
        channels = x.shape[1]
        if channels != self.num_features:
            where = f"input's size at dim={0 if unbatched else 1}"
            if self.affine:
                raise ValueError(f"{self._get_name()}: expected {where} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{channels}.")
            warnings.warn(f"{self._get_name()}: {where} does not match num_features; it "
                          "is not used because affine=False", UserWarning, stacklevel=2)
        # (PyTorch: momentum=None gives momentum 0 here, not a cumulative average)
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight,
                            self.bias, self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return drop_batch_dim(y, unbatched)


class InstanceNorm1d(_InstanceNorm):
    """InstanceNorm1d(num_features, eps=1e-5, momentum=0.1, affine=False,
    track_running_stats=False, *, bias=True), for (N, C, L) or unbatched (C, L)."""
    _input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """InstanceNorm2d(num_features, eps=1e-5, momentum=0.1, affine=False,
    track_running_stats=False, *, bias=True), for (N, C, H, W) or unbatched (C, H, W)."""
    _input_dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """InstanceNorm3d(num_features, eps=1e-5, momentum=0.1, affine=False,
    track_running_stats=False, *, bias=True), for (N, C, D, H, W) or (C, D, H, W)."""
    _input_dims = (4, 5)
