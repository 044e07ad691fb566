"""DataLoader: walk a Dataset in (shuffled) mini-batches of Tensors, epoch after epoch.

    loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=0)
    for epoch in range(3):
        for x, y in loader:          # a new order every epoch
            ...

Each pass (epoch) takes a random permutation of 0..N-1 from the loader's own
Generator and cuts it into slices of batch_size indices. Because the loader owns its
generator, the order depends only on its seed -- not on how many random numbers the
model drew for initialisation or dropout in between.

A batch is built either with one fancy-index, dataset.get_batch(indices) (the fast
path of TensorDataset and MNIST), or by fetching dataset[i] for each index and
stacking them with collate_fn (default_collate). Both give the same Tensors.
"""
from __future__ import annotations

import numpy as np

from ..random import Generator, numpy_rng
from ..tensor import Tensor


def default_collate(samples: list):
    """Stack a list of examples into a batch: [(x0, y0), (x1, y1)] -> (X, Y).

    Each field becomes one Tensor with a new first dimension: floating data keeps its
    dtype (Python floats become float64, as in PyTorch), integers become int64 (the
    dtype losses expect for class labels), bools stay bool.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate(list(field)) for field in zip(*samples))
    return _batch_tensor(np.stack([np.asarray(s) for s in samples]))


def _batch_tensor(array: np.ndarray) -> Tensor:
    """A batch array as a Tensor, with default_collate's dtype rules."""
    if array.dtype.kind in "iu":
        return Tensor(array.astype(np.int64, copy=False))
    if array.dtype.kind not in "fb":
        raise TypeError(f"DataLoader: cannot batch examples of dtype {array.dtype}; "
                        "expected numbers, arrays or Tensors (or pass a collate_fn)")
    return Tensor(array)


class DataLoader:
    """Iterate over `dataset` in batches (PyTorch's torch.utils.data.DataLoader).

    batch_size:  examples per batch; the last batch may be smaller...
    drop_last:   ...unless this is True, which drops the incomplete last batch.
    shuffle:     a new random order every epoch (else the dataset's order).
    generator:   the minidl.Generator that shuffles; or give `seed` to make one;
                 default: a generator seeded from minidl's default generator when the
                 loader is created (so minidl.manual_seed(s) beforehand fixes it).
    collate_fn:  turns a list of examples into a batch (default: default_collate).
                 Giving one makes the loader fetch examples one by one.
    transform:   a hook applied to every finished batch, called with the batch's parts
                 and returning the new batch: transform(x, y) -> (x, y). E.g. add noise
                 or augment images: transform=lambda x, y: (x + 0.1 * randn_like(x), y).
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: Generator | None = None,
                 collate_fn=None, transform=None, seed: int | None = None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give a generator or a seed, not both")
        if generator is None:
            if seed is None:
                seed = int(numpy_rng().integers(2**63))
            generator = Generator(seed)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.collate_fn = collate_fn
        self.transform = transform

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)  # floor or ceil of n / b

    def __iter__(self):
        n = len(self.dataset)
        order = self.generator.np.permutation(n) if self.shuffle else np.arange(n)
        get_batch = getattr(self.dataset, "get_batch", None)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.collate_fn is None and callable(get_batch):   # fast path
                batch = tuple(_batch_tensor(a) for a in get_batch(indices))
            else:
                collate = self.collate_fn or default_collate
                batch = collate([self.dataset[int(i)] for i in indices])
            if self.transform is not None:
                batch = (self.transform(*batch) if isinstance(batch, tuple)
                         else self.transform(batch))
            yield batch
