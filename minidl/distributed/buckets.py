"""Averaging gradients across ranks in buckets: what DistributedDataParallel does in
every backward (PyTorch's Reducer).

Why buckets. A model has many parameter tensors, some tiny (a bias of 10 numbers),
some large. Every all-reduce pays a fixed cost -- a few microseconds between
processes on one machine, tens of microseconds over a network -- on top of moving its
bytes. One all-reduce per tensor pays it for each of SeedCNN's 10 tensors, for each
of a big network's hundreds. Copying the gradients into a few flat arrays (buckets,
each up to bucket_cap_mb) and reducing each bucket with one call pays it a few times.

Why not a single bucket? Overlap. Backward produces gradients from the last layer to
the first. Once every gradient of a bucket is there, its all-reduce can start while
backward goes on computing earlier layers: communication hides behind compute, and
only the last bucket's is left when backward ends.

    backward:   [ layer 4 ][ layer 3 ][ layer 2 ][ layer 1 ]
    bucket 0:                         └ all-reduce ┘             (layers 4 and 3)
    bucket 1:                                      └ all-reduce ┘ (layers 2 and 1)

So buckets are filled in the reverse order of model.parameters() -- the order in
which backward finishes them -- and are started strictly in bucket order: every rank
must start the same collectives in the same order, or MPI would pair the wrong
messages.

Both modes are driven by Tensor.register_post_accumulate_grad_hook, which autograd
calls when backward has added a parameter's gradient into its .grad:
  after backward (overlap=False)  when the last gradient has arrived, each bucket in
                                  turn: copy the gradients in, all-reduce (blocking),
                                  divide by the world size, copy the means back out.
  overlapped (overlap=True)       a gradient is copied into its bucket as it arrives;
                                  a full bucket starts a non-blocking all-reduce; when
                                  the last gradient is in, wait for all of them and
                                  copy the means out.
MPI moves a non-blocking all-reduce's data only while the rank is inside an MPI call,
so each hook call also asks MPI about the all-reduces in flight (which lets them
progress). On one machine the "network" is shared memory and the copying is done by
the very cores that compute, so overlap gains little there; between machines it
hides most of the communication. `minidl.trace()` shows what is left: "all_reduce"
rows (starting or doing one) and "all_reduce wait" rows (blocked until one finished),
both in the phase "communication".
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ..tools.trace import span
from .collectives import all_reduce


class Bucket:
    """Some parameters of one dtype and the flat array their gradients travel in."""

    def __init__(self, named_params: list):
        self.names = [name for name, _ in named_params]
        self.params = [p for _, p in named_params]
        self.offsets = np.cumsum([0] + [p.numel() for p in self.params])
        self.buffer = Tensor(np.zeros(self.offsets[-1], self.params[0].dtype))
        self.arrived = [False] * len(self.params)
        self.work = None  # the all-reduce in flight (overlapped mode)

    def put(self, i: int):
        """Copy parameter i's gradient into the bucket."""
        self.buffer._data[self.offsets[i]:self.offsets[i + 1]] = \
            self.params[i].grad._data.ravel()

    def take(self):
        """Copy the (averaged) gradients back into every parameter's .grad."""
        for i, p in enumerate(self.params):
            p.grad._data[...] = \
                self.buffer._data[self.offsets[i]:self.offsets[i + 1]].reshape(p.shape)

    def full(self) -> bool:
        return all(self.arrived)


def assign_buckets(named_params: list, cap_bytes: int) -> list:
    """Group parameters into buckets of at most cap_bytes (a bucket closes as soon as
    it reaches the cap; one dtype per bucket), in reverse order of named_params."""
    buckets, filling = [], {}  # dtype -> the bucket being filled
    for name, p in reversed(named_params):
        current = filling.setdefault(p.dtype, [])
        current.append((name, p))
        if sum(q.numel() * q.dtype.itemsize for _, q in current) >= cap_bytes:
            buckets.append(current)
            filling[p.dtype] = []
    buckets += [b for b in filling.values() if b]
    order = {id(p): k for k, (_, p) in enumerate(reversed(named_params))}
    buckets.sort(key=lambda b: order[id(b[0][1])])
    return [Bucket(b) for b in buckets]


class Reducer:
    """Averages the gradients of `named_params` across ranks in every backward that
    follows a call of prepare() (see the module docstring)."""

    def __init__(self, named_params: list, cap_bytes: int, overlap: bool):
        self.names = [name for name, _ in named_params]
        self.buckets = assign_buckets(named_params, cap_bytes)
        self.slot = {id(p): (b, i) for b in self.buckets for i, p in enumerate(b.params)}
        self.overlap = overlap
        self.armed = False      # a backward that must be reduced may come
        self.next_bucket = 0    # the first bucket not started yet (overlapped mode)
        self.hooks = [p.register_post_accumulate_grad_hook(self.grad_ready)
                      for b in self.buckets for p in b.params]

    def prepare(self):
        """Called by each forward whose backward must be reduced: first make sure
        the previous backward was reduced completely, then expect a new one."""
        self.check_finished()
        for bucket in self.buckets:
            bucket.arrived = [False] * len(bucket.params)
        self.next_bucket, self.armed = 0, True

    def check_finished(self):
        """Raise if the last backward gave gradients to only some parameters: every
        rank would wait forever for the missing ones."""
        arrived = {name for b in self.buckets for name, ok in zip(b.names, b.arrived)
                   if ok}
        if not self.armed or not arrived or len(arrived) == len(self.names):
            return
        missing = [name for name in self.names if name not in arrived]
        self.armed = False
        raise RuntimeError(
            f"DistributedDataParallel: the last backward gave gradients to only "
            f"{len(arrived)} of the model's {len(self.names)} parameters; no gradient "
            f"reached {', '.join(missing)}. Their averages across ranks were never "
            "computed, so the ranks' weights would drift apart. Make every parameter "
            "take part in the loss, or turn off requires_grad of the unused ones "
            "before wrapping the model.")

    def grad_ready(self, param):
        """The post-accumulate-grad hook: param.grad holds this backward's gradient."""
        if not self.armed:
            return
        bucket, i = self.slot[id(param)]
        if bucket.arrived[i]:
            raise RuntimeError(f"DistributedDataParallel: parameter {bucket.names[i]} "
                               "received its gradient twice in one backward")
        bucket.arrived[i] = True
        if self.overlap:
            bucket.put(i)
            self._start_full_buckets()
        if all(b.full() for b in self.buckets):
            self._finish()

    def _start_full_buckets(self):
        """Start the all-reduce of every full bucket whose predecessors have started,
        and let MPI progress those in flight."""
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].full():
            bucket = self.buckets[self.next_bucket]
            bucket.work = all_reduce(bucket.buffer, "mean", async_op=True)
            self.next_bucket += 1
        for bucket in self.buckets[:self.next_bucket]:
            bucket.work.is_completed()

    def _finish(self):
        """Every gradient is in: average each bucket (after backward) or wait for the
        all-reduces started during backward (overlapped), and copy the means out."""
        for bucket in self.buckets:
            if self.overlap:
                with span("all_reduce wait", "communication"):
                    bucket.work.wait()
                bucket.work = None
            else:
                for i in range(len(bucket.params)):
                    bucket.put(i)
                all_reduce(bucket.buffer, "mean")
            bucket.take()
        self.armed = False
