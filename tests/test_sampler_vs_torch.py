"""DistributedSampler gives PyTorch's index lists, rank for rank and epoch for epoch."""
import pytest
from hypothesis import given, strategies as st

from minidl.data import DistributedSampler
from minidl.data.sampler import torch_randperm

torch = pytest.importorskip("torch")
from torch.utils.data import DistributedSampler as TorchSampler  # noqa: E402


class Items:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def both(n, replicas, rank, epoch=0, **kwargs):
    ours = DistributedSampler(Items(n), replicas, rank, **kwargs)
    theirs = TorchSampler(Items(n), replicas, rank, **kwargs)
    ours.set_epoch(epoch)
    theirs.set_epoch(epoch)
    return ours, theirs


@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 60000])
@pytest.mark.parametrize("replicas", [1, 2, 3, 8, 13])
@pytest.mark.parametrize("drop_last", [False, True])
def test_index_lists_match_pytorch(n, replicas, drop_last):
    for rank in sorted({0, replicas // 2, replicas - 1}):
        for kwargs in ({}, {"shuffle": False}, {"seed": 12345}):
            ours, theirs = both(n, replicas, rank, epoch=2, drop_last=drop_last, **kwargs)
            assert list(ours) == list(theirs), (rank, kwargs)
            assert len(ours) == len(theirs)
            assert (ours.num_samples, ours.total_size) == (theirs.num_samples,
                                                           theirs.total_size)


@given(n=st.integers(0, 300), replicas=st.integers(1, 9), data=st.data(),
       seed=st.integers(0, 2**63 - 10), epoch=st.integers(0, 9),
       shuffle=st.booleans(), drop_last=st.booleans())
def test_index_lists_match_pytorch_anywhere(n, replicas, data, seed, epoch, shuffle,
                                             drop_last):
    rank = data.draw(st.integers(0, replicas - 1))
    ours, theirs = both(n, replicas, rank, epoch, shuffle=shuffle, seed=seed,
                        drop_last=drop_last)
    assert list(ours) == list(theirs)


@pytest.mark.parametrize("seed", [0, 1, 2**32 + 5, 2**40 + 3])
def test_randperm_matches_torch(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    assert torch_randperm(5000, seed).tolist() == torch.randperm(5000, generator=g).tolist()


def test_the_same_errors_as_pytorch():
    for cls in (DistributedSampler, TorchSampler):
        with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the "
                                             r"interval \[0, 2\]"):
            cls(Items(5), num_replicas=3, rank=3)
