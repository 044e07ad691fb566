"""Datasets: anything with a length and an i-th example (PyTorch's torch.utils.data).

A Dataset answers two questions: len(dataset) -- how many examples -- and dataset[i]
-- example i, usually a tuple such as (image, label). A DataLoader asks them to build
batches. Datasets whose examples are rows of arrays (TensorDataset, MNIST) also answer
get_batch(indices): many rows at once with one numpy fancy-index, the DataLoader's
fast path, instead of a Python loop over examples at every training step.
"""
from __future__ import annotations

import math

import numpy as np

from ..random import Generator, numpy_rng
from ..tensor import Tensor


class Dataset:
    """The interface: subclasses define __len__ and __getitem__ (and may define
    get_batch(indices) -> tuple of numpy arrays, one per field, rows in order)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Example i is (t[i] for t in tensors): TensorDataset(x, y)[i] == (x[i], y[i]).

    Accepts Tensors or numpy arrays, all with the same first dimension; the data is
    shared, not copied.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t.detach() if isinstance(t, Tensor) else Tensor(t)
                             for t in tensors)
        shapes = [t.shape for t in self.tensors]
        if any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) != 1:
            raise ValueError(f"TensorDataset: all tensors must have the same size in the "
                             f"first dimension (the examples), got shapes {shapes}")
        self._arrays = tuple(t.detach().numpy() for t in self.tensors)

    def __len__(self):
        return len(self._arrays[0])

    def __getitem__(self, index):
        return tuple(Tensor(a[index]) for a in self._arrays)

    def get_batch(self, indices):
        return tuple(a[indices] for a in self._arrays)


class Subset(Dataset):
    """The examples of `dataset` at `indices`, in that order: Subset(d, idx)[i] == d[idx[i]].

    As in PyTorch, the indices are checked when they are used: an index outside the
    subset, or one of `indices` outside the dataset, raises an IndexError naming both."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        # Keep the DataLoader's fast path when the dataset underneath has one.
        if callable(getattr(dataset, "get_batch", None)):
            self.get_batch = lambda indices: dataset.get_batch(
                self._dataset_indices(np.asarray(indices)))

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self._dataset_indices(np.asarray(index)))]

    def _dataset_indices(self, index: np.ndarray) -> np.ndarray:
        """indices[index], checked against the subset's and the dataset's lengths."""
        n = len(self)
        if index.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be integers, got {index.dtype}")
        bad = (index < -n) | (index >= n)
        if bad.any():
            raise IndexError(f"Subset: index {index[bad].flat[0]} is out of range for a "
                             f"subset of length {n}")
        chosen = self.indices[index]
        try:
            size = len(self.dataset)
        except (TypeError, NotImplementedError):  # (a dataset without a length)
            return chosen
        bad = (chosen < -size) | (chosen >= size)
        if bad.any():
            raise IndexError(f"Subset: its index {chosen[bad].flat[0]} is out of range for "
                             f"the dataset of length {size}")
        return chosen


def random_split(dataset, lengths, generator: Generator | None = None) -> list[Subset]:
    """Split a dataset into non-overlapping random Subsets of the given lengths.

    lengths: counts that sum to len(dataset), or fractions that sum to 1 (leftover
    examples from rounding down go one each to the first subsets, as in PyTorch).
    generator: a minidl.Generator for the shuffle (default: minidl's default one).
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= f <= 1 for f in lengths) and math.isclose(sum(lengths), 1) \
            and sum(lengths) != n:
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(k) != k or k < 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative counts "
                         f"summing to the dataset's length {n}, or fractions summing to 1")
    order = numpy_rng(generator).permutation(n)
    ends = np.cumsum([int(k) for k in lengths])
    return [Subset(dataset, order[end - k:end]) for k, end in zip(lengths, ends)]
