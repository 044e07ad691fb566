"""DistributedSampler: each rank's share of the data, and DataLoader(sampler=...).
(The index lists are compared with PyTorch's in test_sampler_vs_torch.py.)"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.data import DataLoader, DistributedSampler, TensorDataset
from minidl.data.sampler import torch_randperm


class Items:
    """A dataset of n examples; only its length matters to a sampler."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


def shares(n, replicas, **kwargs):
    return [list(DistributedSampler(Items(n), replicas, r, **kwargs))
            for r in range(replicas)]


def test_the_picture_in_the_docstring():
    order = torch_randperm(10, 0).tolist()
    padded = order + order[:2]
    assert shares(10, 4) == [padded[r::4] for r in range(4)]
    assert shares(10, 4, shuffle=False) == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    assert shares(10, 4, shuffle=False, drop_last=True) == [[0, 4], [1, 5], [2, 6],
                                                            [3, 7]]


@given(n=st.integers(0, 60), replicas=st.integers(1, 7), seed=st.integers(0, 2**40),
       epoch=st.integers(0, 5), drop_last=st.booleans(), shuffle=st.booleans())
def test_shares_are_equal_disjoint_and_cover_the_data(n, replicas, seed, epoch,
                                                      drop_last, shuffle):
    samplers = [DistributedSampler(Items(n), replicas, r, shuffle, seed, drop_last)
                for r in range(replicas)]
    for s in samplers:
        s.set_epoch(epoch)
    lists = [list(s) for s in samplers]
    assert {len(x) for x in lists} == {len(samplers[0])}
    flat = [i for x in lists for i in x]
    if drop_last:   # no example twice, and fewer than `replicas` left out
        assert len(set(flat)) == len(flat) and n - len(flat) < replicas
    else:           # every example, and fewer than `replicas` repeated
        assert set(flat) == set(range(n)) and len(flat) - n < max(replicas, 1)
    interleaved = [lists[k % replicas][k // replicas] for k in range(len(flat))]
    order = torch_randperm(n, seed + epoch) if shuffle else np.arange(n)
    assert interleaved == np.resize(order, len(flat)).tolist()  # one shared order


def test_set_epoch_gives_a_new_order_and_the_same_again_for_the_same_epoch():
    s = DistributedSampler(Items(50), 2, 1, seed=7)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first and sorted(list(s) + shares(50, 2, seed=8)[0]) == \
        list(range(50))
    s.set_epoch(0)
    assert list(s) == first


def test_torch_randperm_is_a_permutation_fixed_by_its_seed():
    a = torch_randperm(1000, 3)
    assert sorted(a.tolist()) == list(range(1000)) and a.dtype == np.int64
    assert np.array_equal(a, torch_randperm(1000, 3))
    assert not np.array_equal(a, torch_randperm(1000, 4))
    assert torch_randperm(0, 0).tolist() == [] and torch_randperm(1, 0).tolist() == [0]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the "
                                         r"interval \[0, 1\]"):
        DistributedSampler(Items(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive integer"):
        DistributedSampler(Items(4), num_replicas=0, rank=0)
    with pytest.raises(NotImplementedError, match="up to"):
        torch_randperm(2**32, 0)


def test_without_a_world_the_defaults_ask_for_init(monkeypatch):
    from minidl.distributed import world
    monkeypatch.setattr(world, "_world", None)
    with pytest.raises(ValueError, match="init"):
        DistributedSampler(Items(4))
    monkeypatch.setattr(world, "_world", world.World(1, 3, None))
    s = DistributedSampler(Items(9), shuffle=False)
    assert (s.num_replicas, s.rank, list(s)) == (3, 1, [1, 4, 7])


def test_a_dataloader_takes_its_indices_from_a_sampler():
    data = TensorDataset(minidl.arange(10), minidl.arange(10) * 2)
    sampler = DistributedSampler(data, 2, 1, seed=3)
    loader = DataLoader(data, batch_size=2, sampler=sampler)
    assert len(loader) == 3
    xs = [x.tolist() for x, _ in loader]
    assert sum(xs, []) == list(sampler) and [len(x) for x in xs] == [2, 2, 1]
    assert len(DataLoader(data, batch_size=2, sampler=sampler, drop_last=True)) == 2
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=sampler, shuffle=True)
    with pytest.raises(TypeError, match="sampler must have __iter__ and __len__"):
        DataLoader(data, sampler=5)
