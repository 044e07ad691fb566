"""DistributedSampler: which examples each rank of a data-parallel job trains on
(PyTorch's torch.utils.data.DistributedSampler, with the very same index lists).

    sampler = DistributedSampler(train_set, seed=0)     # rank, world size from dist
    loader = DataLoader(train_set, batch_size=16, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                         # a new order every epoch
        for x, y in loader: ...

Every rank draws the same random permutation of the dataset (from seed + epoch),
pads it by repeating its first indices until its length divides by the number of
ranks (or, with drop_last=True, cuts off the tail instead), and takes every
num_replicas-th index starting at its rank:

    permutation (10 examples, 4 ranks, padded to 12):  7 2 9 0 5 1 8 3 6 4 | 7 2
    rank 0: 7 5 6      rank 1: 2 1 4      rank 2: 9 8 7      rank 3: 0 3 2

So the ranks see disjoint shares of equal length (equal lengths keep them in step:
each batch ends in one all-reduce that all must attend). With a per-rank DataLoader
batch of b, batch k of all ranks together is exactly positions k*p*b ... (k+1)*p*b-1
of the permutation: the global batch one process would take with batch size p*b.

The permutation is PyTorch's torch.randperm(n, generator=torch.Generator()
.manual_seed(seed + epoch)), reproduced here without torch: that generator is the
Mersenne Twister MT19937 (numpy has it), and randperm shuffles with
    for i in 0 .. n-2:  swap r[i] and r[i + (next 32-bit number) % (n - i)]
(a Fisher-Yates shuffle). tests/test_sampler.py compares the index lists with
PyTorch's.
"""
from __future__ import annotations

import math

import numpy as np

# torch.randperm shuffles this way only below this length (above it, another way)
_RANDPERM_MAX = (2**32 - 1) // 20


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """torch.randperm(n, generator=torch.Generator().manual_seed(seed)), as int64."""
    if n >= _RANDPERM_MAX:
        raise NotImplementedError(f"DistributedSampler: shuffling {n} examples the way "
                                  f"PyTorch does is implemented up to {_RANDPERM_MAX - 1}")
    state = np.random.RandomState(seed & 0xFFFFFFFF).get_state()  # MT19937's seeding
    twister = np.random.MT19937()
    twister.state = {"bit_generator": "MT19937", "state": {"key": state[1],
                                                           "pos": state[2]}}
    draws = twister.random_raw(max(n - 1, 0)).tolist()  # 32-bit outputs
    order = list(range(n))
    for i, draw in enumerate(draws):
        j = i + draw % (n - i)
        order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)


class DistributedSampler:
    """DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
    drop_last=False): the indices of rank's share of dataset (module docstring).

    num_replicas and rank default to the world size and this process's rank
    (minidl.distributed, which must be initialized then). Pass it to
    DataLoader(..., sampler=...) and call set_epoch(epoch) before each epoch.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        from .. import distributed
        if num_replicas is None:
            num_replicas = distributed.get_world_size()
        if rank is None:
            rank = distributed.get_rank()
        if not _is_int(num_replicas) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive "
                             f"integer, got {num_replicas!r}")
        if not _is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:  # drop the tail: equal shares, no repeats
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:                                    # pad with repeats up to equal shares
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        order = (torch_randperm(n, self.seed + self.epoch) if self.shuffle
                 else np.arange(n, dtype=np.int64))
        # pad by repeating the order from its start (as often as needed), or cut the tail
        order = np.resize(order, self.total_size) if self.total_size > n \
            else order[:self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch, so the next pass uses another permutation (seed + epoch);
        all ranks must call it with the same number."""
        self.epoch = epoch


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
