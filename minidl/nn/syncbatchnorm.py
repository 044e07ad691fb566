"""SyncBatchNorm: batch normalization whose statistics come from the whole global
batch of a data-parallel job (PyTorch's torch.nn.SyncBatchNorm).

With DistributedDataParallel, a BatchNorm layer on each rank sees only that rank's
share of the batch: with 2 ranks and a batch of 32, it normalises by the mean and
variance of 16 examples, not 32 -- other numbers than one process would compute, and
noisier ones when the shares are small. SyncBatchNorm all-reduces the per-channel
sums (minidl.distributed.functional.sync_batch_norm), so every rank normalises with
the statistics of all 32, and its backward all-reduces the matching gradient sums.
It costs two small all-reduces per layer in forward and two in backward.

    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)   # every BatchNorm*d
    model = DistributedDataParallel(model)

In eval mode, or before minidl.distributed.init(), it is a BatchNorm (as PyTorch's);
in a world of one its numbers are BatchNorm's, up to round-off.
"""
from __future__ import annotations

from ..autograd import no_grad
from .. import distributed
from ..distributed import functional as dist_functional
from .batchnorm import _BatchNorm
from .module import Module


class SyncBatchNorm(_BatchNorm):
    """SyncBatchNorm(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, process_group=None), for input (N, C, ...)."""
    _input_dims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device, dtype)
        self.process_group = process_group

    def forward(self, x):
        alone = self.process_group is None and not distributed.is_initialized()
        if not self.training or alone:  # (as PyTorch: then it is a BatchNorm)
            return super().forward(x)
        self._check_input(x)
        return dist_functional.sync_batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self._count_batch(), self.eps, self.process_group)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """module with every BatchNorm1d/2d (itself, or any descendant) replaced by a
        SyncBatchNorm that takes over its parameters, buffers and training mode."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats, process_group)
            with no_grad():
                for name in ("weight", "bias"):
                    if name in module._parameters:
                        sync.register_parameter(name, module._parameters[name])
                for name in ("running_mean", "running_var", "num_batches_tracked"):
                    sync.register_buffer(name, module._buffers[name])
            sync.training = module.training
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
