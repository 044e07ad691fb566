"""DistributedDataParallel: train one model on several processes, each on its share
of every batch (PyTorch's torch.nn.parallel.DistributedDataParallel).

    dist.init()                                     # mpiexec -n p python train.py
    model = DistributedDataParallel(SeedCNN())      # every rank: rank 0's weights
    sampler = DistributedSampler(train_set, seed=0) # every rank: its own examples
    loader = DataLoader(train_set, 32 // dist.get_world_size(), sampler=sampler)
    for x, y in loader:                             # the loop does not change
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()     # gradients averaged across ranks
        optimizer.step()                            # the same step on every rank

Why the ranks stay identical. They start from the same weights (rank 0's, broadcast
when the wrapper is built), and every step they apply the same optimizer update to
the same averaged gradient. Nothing else has to be sent: not the weights, not the
optimizer state. The average of the p ranks' mean losses on p equal shares of a
batch is the mean loss on the whole batch, so the averaged gradient is the gradient
one process would compute on the whole batch: p processes train the same model as
one process with the same global batch -- up to float32 rounding, because sums are
added in another order (examples/check_ddp.py measures it).

What the wrapper does:
  * at construction: checks that every rank holds the same parameters and buffers
    (names, shapes, dtypes) -- else every rank raises, naming the first difference --
    then copies rank 0's values to all ranks (broadcast);
  * at each forward that records a graph: copies rank 0's buffers to all ranks
    (broadcast_buffers=True, as PyTorch), then arms the gradient averaging;
  * during backward: averages the gradients in buckets (minidl/distributed/buckets.py),
    after backward (overlap=False) or overlapped with it (overlap=True, the default,
    what PyTorch does).
`with model.no_sync():` skips the averaging (gradient accumulation): the gradients add
up locally and are averaged at the first backward after the block.

BatchNorm: each rank normalises with the statistics of its own share of the batch
(PyTorch's default too), which is not what one process would compute on the whole
batch; its running statistics are rank 0's (broadcast_buffers). For batch statistics
over the global batch, convert the model with nn.SyncBatchNorm.convert_sync_batchnorm.
SeedCNN has no batch norm, so distributed training reproduces single-process training.
"""
from __future__ import annotations

import contextlib

from ..autograd import is_grad_enabled, no_grad
from ..distributed import all_gather_object, broadcast
from ..distributed.buckets import Reducer
from ..distributed.world import world
from .module import Module

DEFAULT_BUCKET_CAP_MB = 25  # PyTorch's default


class DistributedDataParallel(Module):
    """DistributedDataParallel(module, broadcast_buffers=True, bucket_cap_mb=25,
    find_unused_parameters=False, *, overlap=True): see the module docstring.

    module: the model (the same architecture on every rank); `.module` gives it back.
    bucket_cap_mb: the size of the gradient buckets, in MiB.
    overlap: start each bucket's all-reduce during backward (True) or run them all
             after backward (False); the averages are the same.
    """

    def __init__(self, module: Module, broadcast_buffers: bool = True,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 *, overlap: bool = True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if find_unused_parameters:
            raise NotImplementedError(
                "DistributedDataParallel: find_unused_parameters=True is not supported; "
                "turn off requires_grad of the parameters the loss does not use")
        cap_mb = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        if not cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, "
                             f"got {bucket_cap_mb!r}")
        self.world = world("DistributedDataParallel")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True  # False inside no_sync()
        _check_same_model(module, self.world)
        _broadcast_state(module)
        trained = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self.reducer = Reducer(trained, int(cap_mb * 2**20), overlap)

    def forward(self, *args, **kwargs):
        will_backward = is_grad_enabled() and self.require_backward_grad_sync
        if will_backward and self.broadcast_buffers:
            _broadcast_state(self.module, parameters=False)
        if will_backward:
            self.reducer.prepare()
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this block, backward leaves the gradients local (not averaged)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        sizes = ", ".join(f"{b.buffer.numel() * b.buffer.dtype.itemsize / 2**20:.2f}"
                          for b in self.reducer.buckets)
        mode = "overlapped with backward" if self.reducer.overlap else "after backward"
        return (f"world_size={self.world.size}, buckets (MiB): [{sizes}], "
                f"all-reduce {mode}")


def _check_same_model(module: Module, where):
    """Every rank must hold parameters and buffers of the same names, shapes and dtypes;
    compare each rank's list with rank 0's and raise, on every rank, if one differs."""
    mine = [(kind, name, tuple(t.shape), str(t.dtype))
            for kind, named in (("parameter", module.named_parameters()),
                                ("buffer", module.named_buffers()))
            for name, t in named]
    everyone = [None] * where.size
    all_gather_object(everyone, mine)
    for rank, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            raise RuntimeError("DistributedDataParallel: the ranks hold different "
                               "models, " + _first_difference(everyone[0], theirs, rank))


def _first_difference(first: list, other: list, rank: int) -> str:
    def count(entries, kind):
        return sum(e[0] == kind for e in entries)
    for kind in ("parameter", "buffer"):
        if count(first, kind) != count(other, kind):
            return (f"rank 0 has {count(first, kind)} {kind}s, rank {rank} has "
                    f"{count(other, kind)}")
    for a, b in zip(first, other):
        if a != b:
            return (f"rank 0 has {a[0]} {a[1]} {a[2]} {a[3]}, rank {rank} has {b[0]} "
                    f"{b[1]} {b[2]} {b[3]}")
    return f"rank {rank} differs from rank 0"


def _broadcast_state(module: Module, parameters: bool = True):
    """Copy rank 0's buffers (and parameters) into every rank's module, in place."""
    tensors = list(module.buffers())
    if parameters:
        tensors = list(module.parameters()) + tensors
    with no_grad():
        for t in tensors:
            broadcast(t, src=0)
