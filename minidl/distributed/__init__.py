"""minidl.distributed: data-parallel training on several processes, over MPI
(PyTorch's torch.distributed, with MPI as the only backend).

    mpiexec -n 2 python examples/train_cnn.py --distributed

Data parallelism in one picture -- every rank (process) holds the whole model:

    batch of 32 ──split──> rank 0: 16 examples           rank 1: 16 examples
                           forward, backward              forward, backward
                           gradients g0                   gradients g1
                                  └──── all-reduce (mean) ─────┘
                           (g0 + g1) / 2                  (g0 + g1) / 2
                           optimizer step                 optimizer step
                           = the same new weights on every rank

The mean of the two half-batch gradients is the gradient of the whole batch, so the
ranks take exactly the step one process would take on all 32 examples -- in about
half the compute time each, plus the time to exchange the gradients.

  world.py        init(), get_rank(), get_world_size(), abort(): the job, its ranks, a
                  world of one without mpiexec, and how a failing rank stops the job
  collectives.py  all_reduce, broadcast, all_gather, barrier (+ object versions): what
                  an all-reduce is, the ring algorithm and its cost
  buckets.py      how DistributedDataParallel averages gradients: in buckets, after
                  backward or overlapped with it -- why buckets, why overlap
  functional.py   ops that span the ranks, with gradients: a differentiable all_reduce,
                  sync_batch_norm (nn.SyncBatchNorm)
Elsewhere: nn/parallel.py (DistributedDataParallel), data/sampler.py
(DistributedSampler: each rank's share of the data). mpi4py is the optional extra
`pip install -e ".[mpi]"`; without it everything here works as a world of one.
"""
from .world import (init, is_available, is_initialized, get_rank, get_world_size,
                    abort, launched_world_size)
from .collectives import (ReduceOp, Work, all_reduce, broadcast, all_gather,
                          all_gather_into_tensor, barrier, all_gather_object,
                          broadcast_object_list)
