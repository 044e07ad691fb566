"""TensorDataset, Subset, random_split and DataLoader: batches, order, dtypes, errors."""
import numpy as np
import pytest

import minidl
from minidl.data import (DataLoader, Dataset, Subset, TensorDataset, default_collate,
                         random_split)


def make_dataset(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y)


class ItemsOnly(Dataset):
    """A dataset without get_batch: the loader must fetch example by example."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float64), i


def epoch_labels(loader):
    return np.concatenate([y.numpy() for _, y in loader])


# ----------------------------------------------------------------------- datasets
def test_tensor_dataset_items_and_sharing():
    x = minidl.randn(5, 2)
    y = np.array([3, 1, 4, 1, 5])
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[2]
    assert isinstance(xi, minidl.Tensor) and xi.shape == (2,) and yi.item() == 4
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[2])
    assert np.shares_memory(ds.tensors[0].numpy(), x.numpy())  # no copy


def test_tensor_dataset_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same size in the first dimension.*\(4, 2\).*\(3,\)"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.float32(1.0))


def test_subset_and_its_fast_path():
    ds = make_dataset(10)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 7
    batch = sub.get_batch(np.array([2, 0]))
    np.testing.assert_array_equal(batch[1], [5, 7])
    assert not hasattr(Subset(ItemsOnly(4), [1]), "get_batch")
    assert sub[-1][1].item() == 5  # (negative positions count from the end, as in PyTorch)


def test_subset_indices_out_of_range_name_the_index_and_the_length():
    sub = Subset(make_dataset(10), [7, 12, 5])
    with pytest.raises(IndexError, match="index 3 is out of range for a subset of length 3"):
        sub[3]
    with pytest.raises(IndexError, match="index 12 is out of range for the dataset of "
                                         "length 10"):
        sub[1]
    with pytest.raises(IndexError, match="index 12 is out of range for the dataset"):
        sub.get_batch(np.array([0, 1]))
    with pytest.raises(IndexError, match="index -4 is out of range for a subset"):
        sub.get_batch(np.array([-4]))
    with pytest.raises(IndexError, match="index 9 is out of range for the dataset of length 4"):
        Subset(ItemsOnly(4), [9])[0]


def test_random_split_counts_and_fractions():
    ds = make_dataset(10)
    parts = random_split(ds, [3, 7], generator=minidl.Generator(0))
    assert [len(p) for p in parts] == [3, 7]
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen) == list(range(10))          # disjoint and complete
    again = random_split(ds, [3, 7], generator=minidl.Generator(0))
    np.testing.assert_array_equal(again[0].indices, parts[0].indices)
    # floor(5, 2.5, 2.5) = (5, 2, 2); the one left over goes to the first, as in PyTorch
    assert [len(p) for p in random_split(ds, [0.5, 0.25, 0.25])] == [6, 2, 2]
    with pytest.raises(ValueError, match="summing to the dataset's length 10"):
        random_split(ds, [3, 3])


# -------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("n,batch_size,drop_last,sizes", [
    (10, 4, False, [4, 4, 2]),
    (10, 4, True, [4, 4]),
    (8, 4, False, [4, 4]),
    (3, 5, False, [3]),
    (3, 5, True, []),
    (0, 2, False, []),
])
def test_batch_sizes_and_len(n, batch_size, drop_last, sizes):
    loader = DataLoader(make_dataset(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(sizes)
    batches = list(loader)
    assert [len(y) for _, y in batches] == sizes
    for x, y in batches:
        assert x.shape == (len(y), 3)


def test_no_shuffle_keeps_order_and_values():
    ds = make_dataset(7)
    x, y = next(iter(DataLoader(ds, batch_size=7)))
    np.testing.assert_array_equal(x.numpy(), ds.tensors[0].numpy())
    np.testing.assert_array_equal(y.numpy(), np.arange(7))


def test_shuffle_each_index_once_and_epochs_differ():
    loader = DataLoader(make_dataset(50), batch_size=8, shuffle=True, seed=3)
    first, second = epoch_labels(loader), epoch_labels(loader)
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))


def test_shuffle_same_seed_same_order_and_independent_of_model_randomness():
    a = DataLoader(make_dataset(30), batch_size=4, shuffle=True, seed=11)
    b = DataLoader(make_dataset(30), batch_size=4, shuffle=True, seed=11)
    c = DataLoader(make_dataset(30), batch_size=4, shuffle=True, seed=12)
    orders_a = [epoch_labels(a) for _ in range(3)]
    orders_b = []
    for _ in range(3):
        minidl.randn(100)                      # the "model" draws random numbers...
        minidl.manual_seed(123)                # ...and even reseeds the library
        orders_b.append(epoch_labels(b))
    for oa, ob in zip(orders_a, orders_b):
        np.testing.assert_array_equal(oa, ob)
    assert not np.array_equal(orders_a[0], epoch_labels(c))


def test_default_generator_is_taken_at_construction():
    minidl.manual_seed(5)
    a = DataLoader(make_dataset(20), batch_size=5, shuffle=True)
    minidl.manual_seed(5)
    b = DataLoader(make_dataset(20), batch_size=5, shuffle=True)
    minidl.randn(10)  # draws after construction do not matter
    np.testing.assert_array_equal(epoch_labels(a), epoch_labels(b))
    g1, g2 = minidl.Generator(9), minidl.Generator(9)
    np.testing.assert_array_equal(
        epoch_labels(DataLoader(make_dataset(20), 5, shuffle=True, generator=g1)),
        epoch_labels(DataLoader(make_dataset(20), 5, shuffle=True, generator=g2)))


def test_fast_path_uses_get_batch_once_per_batch():
    calls = []

    class Counting(TensorDataset):
        def __getitem__(self, i):
            calls.append(("item", i))
            return super().__getitem__(i)

        def get_batch(self, indices):
            calls.append(("batch", len(indices)))
            return super().get_batch(indices)

    ds = Counting(np.zeros((10, 2), np.float32), np.arange(10))
    assert len(list(DataLoader(ds, batch_size=4))) == 3
    assert calls == [("batch", 4), ("batch", 4), ("batch", 2)]


def test_fast_and_item_paths_agree():
    ds = TensorDataset(np.random.default_rng(0).random((9, 2, 2)).astype(np.float64),
                       np.arange(9, dtype=np.int32), np.arange(9) % 2 == 0)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True, seed=1))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, seed=1,
                           collate_fn=default_collate))
    for fb, sb in zip(fast, slow):
        for f, s in zip(fb, sb):
            assert f.dtype == s.dtype and f.shape == s.shape
            np.testing.assert_array_equal(f.numpy(), s.numpy())
    x, y, m = fast[0]
    assert (x.dtype, y.dtype, m.dtype) == (np.float64, np.int64, np.bool_)


def test_collate_dtypes_from_items():
    x, y = next(iter(DataLoader(ItemsOnly(5), batch_size=5)))
    assert x.dtype == np.float64 and x.shape == (5, 2)
    assert y.dtype == np.int64 and y.numpy().tolist() == [0, 1, 2, 3, 4]
    floats = default_collate([0.5, 1.5])
    assert floats.dtype == np.float64                       # Python floats, as PyTorch
    images = default_collate([np.zeros((2, 2), np.float32)] * 3)
    assert images.dtype == np.float32 and images.shape == (3, 2, 2)
    assert default_collate([np.uint8(1), np.uint8(2)]).dtype == np.int64
    assert default_collate(["a", "b"]) == ["a", "b"]       # strings stay a list, as PyTorch
    with pytest.raises(TypeError, match="complex128 for item 1"):
        default_collate([1.0, 1j])


def test_custom_collate_fn_gets_the_examples():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return default_collate(samples)

    list(DataLoader(make_dataset(5), batch_size=2, collate_fn=collate))
    assert seen == [2, 2, 1]


def test_transform_hook_applied_to_every_batch():
    def add_ten(x, y):
        return x + 10, y * 2

    loader = DataLoader(make_dataset(6), batch_size=4, transform=add_ten)
    batches = list(loader)
    assert len(batches) == 2
    x, y = batches[1]
    np.testing.assert_array_equal(x.numpy(), np.arange(12, 18).reshape(2, 3) + 10)
    np.testing.assert_array_equal(y.numpy(), [8, 10])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(make_dataset(4), batch_size=bad)


def test_generator_and_seed_together_is_an_error():
    with pytest.raises(ValueError, match="generator or a seed"):
        DataLoader(make_dataset(4), generator=minidl.Generator(0), seed=1)


# ------------------------------------------------- what user code hands the loader
def test_a_batch_transform_that_raises_or_returns_none_is_named():
    def noisy(x, y):
        raise ValueError("sigma must be positive")
    loader = DataLoader(make_dataset(6), batch_size=4, transform=noisy)
    with pytest.raises(ValueError, match="DataLoader transform .*noisy.* raised on "
                                         "batch 0 .items 0, 1, 2, ... .4 items.."):
        next(iter(loader))
    loader = DataLoader(make_dataset(6), batch_size=4, transform=lambda x, y: None)
    with pytest.raises(TypeError, match=r"<lambda> \(test_data.py, line \d+\) returned "
                                        "None for batch 0"):
        next(iter(loader))


@pytest.mark.parametrize("transform, error, match", [
    (lambda x, y: x, TypeError, r"returned Tensor \(4, 3\) for batch 0 .*expected a "
                                r"tuple of 2 parts"),
    (lambda x, y: (x, y, y), TypeError, "expected a tuple of 2 parts"),
    (lambda x, y: (x[:3], y), ValueError, "different numbers of examples"),
])
def test_a_batch_transform_must_return_the_batch_it_was_given(transform, error, match):
    with pytest.raises(error, match=match):
        next(iter(DataLoader(make_dataset(6), batch_size=4, transform=transform)))


class Ragged(Dataset):
    """Items that do not batch together: item 3 is off in the way `kind` says."""

    def __init__(self, kind):
        self.kind = kind

    def __len__(self):
        return 6

    def __getitem__(self, i):
        x, y = np.zeros((2, 2), np.float32), i
        if i == 3:
            return {"shape": (np.zeros((2, 3), np.float32), y), "fields": (x, y, y),
                    "none": None, "keys": {"x": x}}[self.kind]
        return {"x": x, "y": y} if self.kind == "keys" else (x, y)


@pytest.mark.parametrize("kind, error, match", [
    ("shape", ValueError, r"item 3 has shape \(2, 3\) but item 0 has \(2, 2\)"),
    ("fields", ValueError, r"item 3 has fields 3, but item 0 has 2"),
    ("none", TypeError, "dataset item 3 is None"),
    ("keys", ValueError, r"item 3 has keys \['x'\], but item 0 has \['x', 'y'\]"),
])
def test_collate_names_the_item_that_does_not_fit(kind, error, match):
    with pytest.raises(error, match=match):
        next(iter(DataLoader(Ragged(kind), batch_size=6)))


def test_collate_batches_dicts_key_by_key_as_pytorch():
    batch = next(iter(DataLoader(Ragged("keys"), batch_size=3)))
    assert set(batch) == {"x", "y"} and batch["x"].shape == (3, 2, 2)
    assert batch["y"].numpy().tolist() == [0, 1, 2]


def test_what_the_loader_is_given_is_checked_up_front():
    with pytest.raises(TypeError, match="dataset must have __len__ and __getitem__"):
        DataLoader(None)
    with pytest.raises(TypeError, match="transform must be callable"):
        DataLoader(make_dataset(4), transform="flip")
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(make_dataset(4), collate_fn=[])
