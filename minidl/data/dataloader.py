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

from collections.abc import Mapping

import numpy as np

from ..random import Generator, numpy_rng
from ..tensor import Tensor
from . import checks


def default_collate(samples: list):
    """Stack a list of examples into a batch: [(x0, y0), (x1, y1)] -> (X, Y).

    Each field becomes one Tensor with a new first dimension: floating data keeps its
    dtype (Python floats become float64, as in PyTorch), integers become int64 (the
    dtype losses expect for class labels), bools stay bool. Dicts are batched key by
    key, strings stay a list. Examples that do not fit together (other shapes, other
    fields, None) raise an error naming the first one that differs.
    """
    return _collate(list(samples), list(range(len(samples))))


def _collate(samples: list, indices: list):
    """default_collate, with the dataset index of each example for the messages."""
    for sample, index in zip(samples, indices):
        if sample is None:
            raise TypeError(f"DataLoader: dataset item {index} is None; a Dataset's "
                            "__getitem__ must return an example")
    first = samples[0]
    if isinstance(first, Mapping):
        _same_structure(samples, indices, Mapping, lambda s: sorted(s), "keys")
        return {key: _collate([s[key] for s in samples], indices) for key in first}
    if isinstance(first, (tuple, list)):
        _same_structure(samples, indices, (tuple, list), len, "fields")
        return tuple(_collate(list(field), indices) for field in zip(*samples))
    if isinstance(first, str):
        return list(samples)   # as PyTorch: a batch of strings is a list of them
    arrays = [checks.as_array(s, "DataLoader: the dataset", f"item {i}")
              for s, i in zip(samples, indices)]
    checks.same_shapes(arrays, indices, "DataLoader")
    return _batch_tensor(np.stack(arrays))


def _same_structure(samples, indices, kind, measure, what):
    """Raise unless every example is a `kind` with the first one's keys/fields."""
    for sample, index in zip(samples, indices):
        if not isinstance(sample, kind) or measure(sample) != measure(samples[0]):
            got = measure(sample) if isinstance(sample, kind) else type(sample).__name__
            raise ValueError(f"DataLoader: dataset item {index} has {what} {got}, but "
                             f"item {indices[0]} has {measure(samples[0])}; the examples "
                             "of a batch must have the same structure")


def _batch_tensor(array: np.ndarray) -> Tensor:
    """A batch array as a Tensor, with default_collate's dtype rules."""
    if array.dtype.kind in "iu":
        return Tensor(array.astype(np.int64, copy=False))
    if array.dtype.kind not in "fb":
        raise TypeError(f"DataLoader: cannot batch examples of dtype {array.dtype}; "
                        "expected numbers, arrays or Tensors (or pass a collate_fn)")
    return Tensor(array)


def _items(indices) -> str:
    """'items 3, 17, 42, ... (32 items)': which examples a batch holds."""
    shown = ", ".join(str(int(i)) for i in indices[:3])
    return f"items {shown}{', ...' if len(indices) > 3 else ''} ({len(indices)} items)"


def _what(value) -> str:
    """A short description of a batch or a part of one, for error messages."""
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {', '.join(_what(v) for v in value)}"
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__}{'' if shape is None else ' ' + str(tuple(shape))}"


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
    sampler:     where the indices come from instead (anything with __iter__ and
                 __len__, e.g. a DistributedSampler); not together with shuffle.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: Generator | None = None,
                 collate_fn=None, transform=None, seed: int | None = None,
                 sampler=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__ "
                            f"(a Dataset), got {type(dataset).__name__}")
        for name, fn in (("collate_fn", collate_fn), ("transform", transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader: {name} must be callable, got {fn!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with "
                             "shuffle")
        if sampler is not None and not (hasattr(sampler, "__iter__")
                                        and hasattr(sampler, "__len__")):
            raise TypeError(f"DataLoader: sampler must have __iter__ and __len__, got "
                            f"{type(sampler).__name__}")
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
        self.sampler = sampler

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        n = len(self.dataset if self.sampler is None else self.sampler)
        b = self.batch_size
        return n // b if self.drop_last else -(-n // b)  # floor or ceil of n / b

    def __iter__(self):
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.int64)
        else:
            order = self.generator.np.permutation(n) if self.shuffle else np.arange(n)
        for k, start in enumerate(range(0, len(self) * self.batch_size, self.batch_size)):
            indices = order[start:start + self.batch_size]
            batch = self._fetch(indices)
            if self.transform is not None:
                batch = self._transform(batch, f"batch {k} ({_items(indices)})")
            yield batch

    def _fetch(self, indices):
        """The batch of dataset items `indices`: one get_batch (the fast path), or
        one dataset[i] per item, collated."""
        get_batch = getattr(self.dataset, "get_batch", None)
        if self.collate_fn is None and callable(get_batch):
            fields = get_batch(indices)
            for field in fields:
                if len(field) != len(indices):
                    raise ValueError(f"DataLoader: {type(self.dataset).__name__}."
                                     f"get_batch returned {_what(fields)} for "
                                     f"{_items(indices)}")
            return tuple(_batch_tensor(np.asarray(a)) for a in fields)
        samples = [self.dataset[int(i)] for i in indices]
        if self.collate_fn is None:
            return _collate(samples, [int(i) for i in indices])
        return self.collate_fn(samples)

    def _transform(self, batch, where: str):
        """self.transform on a batch, and its result checked: a tuple batch must come
        back as a tuple of as many parts, all with one number of examples."""
        parts = batch if isinstance(batch, tuple) else (batch,)
        result = checks.call(self.transform, parts, "DataLoader transform", where)
        if not isinstance(batch, tuple):
            return result
        if not isinstance(result, (tuple, list)) or len(result) != len(batch):
            raise TypeError(f"DataLoader transform {checks.describe(self.transform)} "
                            f"returned {_what(result)} for {where}; expected a tuple "
                            f"of {len(batch)} parts, like its input {_what(batch)}")
        sizes = {len(part) for part in result if getattr(part, "shape", ())}
        if len(sizes) > 1:
            raise ValueError(f"DataLoader transform {checks.describe(self.transform)} "
                             f"returned {_what(result)} for {where}: its parts hold "
                             "different numbers of examples")
        return tuple(result)
