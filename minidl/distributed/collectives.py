"""Collectives: the few operations through which the ranks of a job talk.

Every rank calls the same collective at the same point of its program -- a meeting
everyone must attend -- and MPI moves the bytes between them:

    all_reduce(t, op="sum")  every rank ends with the elementwise sum of every rank's t
                               before:  rank 0 t = [1, 2]     rank 1 t = [3, 4]
                               after:   rank 0 t = [4, 6]     rank 1 t = [4, 6]
                             (op="mean" divides by the world size: [2, 3]; also "max",
                             "min", "product")
    broadcast(t, src=0)      every rank ends with rank src's t
    all_gather(ts, t)        every rank ends with every rank's t: ts[r] = rank r's t
    barrier()                nobody leaves until everybody has arrived

The all-reduce is the heart of data-parallel training. Each rank has the gradient of
the loss on its share of the batch; the gradient on the whole batch is their mean;
every rank needs it, to take the same optimizer step and keep the same weights.

How an all-reduce of N bytes on p ranks is done -- the ring algorithm. Cut the buffer
into p chunks and put the ranks on a ring. Reduce-scatter: in p - 1 steps each rank
sends one chunk to its right neighbour and adds the chunk arriving from its left one
into its own; afterwards rank r holds the full sum of one chunk. All-gather: p - 1
more steps pass the finished chunks around the ring. Each rank sends (and receives)
2 (p - 1) chunks of N / p bytes, i.e. 2 (p - 1) / p * N bytes -- never more than 2N
however many ranks -- so

    time ~ 2 (p - 1) / p * N / bandwidth  +  2 (p - 1) * latency.

MPI libraries pick the algorithm (ring, recursive doubling, ...) from N and p.

No copies: the Tensor's numpy array itself is handed to MPI (mpi4py's upper-case
methods, Allreduce, Bcast, Allgather, take any buffer), and the result is written
into it in place. Only a non-contiguous tensor -- a transposed view, a slice with a
step -- goes through a contiguous copy and back.

async_op=True starts the collective and returns a Work at once; work.wait() finishes
it. MPI moves the data only while this rank is inside some MPI call (MPICH has no
background progress thread unless MPIR_CVAR_ASYNC_PROGRESS=1), so whoever wants the
transfer to advance while computing calls work.is_completed() now and then.

group: PyTorch's collectives take a process group (a subset of the ranks); minidl has
one, the whole world, so group=None (or the World that init() made) is all there is.

With `minidl.trace()` recording, each collective is a row in the phase
"communication", so a profile shows what the ranks spent talking, apart from compute.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ..tools.trace import span
from .world import world

__all__ = ["ReduceOp", "Work", "all_reduce", "broadcast", "all_gather",
           "all_gather_into_tensor", "barrier", "all_gather_object",
           "broadcast_object_list"]


class ReduceOp:
    """The reductions all_reduce knows (PyTorch's dist.ReduceOp); strings work too."""
    SUM = "sum"
    AVG = "mean"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


_MPI_OPS = {"sum": "SUM", "mean": "SUM", "avg": "SUM", "product": "PROD", "min": "MIN",
            "max": "MAX"}


class Work:
    """A collective that was started with async_op=True (PyTorch's Work).

    request is the MPI request, finish() what is left to do once the data has
    arrived (divide for a mean, copy back into a non-contiguous tensor)."""

    def __init__(self, request=None, finish=None):
        self._request, self._finish = request, finish

    def is_completed(self) -> bool:
        """True once the collective has finished; each call lets MPI progress it."""
        if self._request is not None and self._request.Test():
            self._request = None
        return self._request is None

    def wait(self) -> bool:
        """Block until the collective has finished; then the tensor holds the result."""
        if self._request is not None:
            self._request.Wait()
            self._request = None
        if self._finish is not None:
            self._finish()
            self._finish = None
        return True


def _buffer(tensor, op: str) -> np.ndarray:
    """The contiguous array MPI reads and writes: the tensor's own when possible."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a minidl Tensor, got {type(tensor).__name__}")
    data = tensor._data
    return data if data.flags.c_contiguous else np.ascontiguousarray(data)


def _written(tensor, buffer):
    """The collective wrote `buffer`: copy it into the tensor if it was a copy, and
    bump the version so autograd notices a saved tensor changed in place."""
    if buffer is not tensor._data:
        tensor._data[...] = buffer
    tensor._bump_version()


def _run(name: str, where, blocking, nonblocking, finish, async_op: bool, alone=None):
    """Run one collective: blocking() now, or nonblocking() -> an MPI request kept in
    a Work (async_op=True). finish() runs once the data is there. In a world of one
    there is nobody to talk to: only alone() (if given) and finish() run."""
    request = None
    if where.size == 1:
        if alone is not None:
            alone()
    else:
        with span(name, "communication"):
            if async_op:
                request = nonblocking()
            else:
                blocking()
    work = Work(request, finish)
    if async_op:
        return work
    work.wait()
    return None


def _group(group, op: str):
    """The World a collective runs in: the job's, unless one is given."""
    return world(op) if group is None else group


def all_reduce(tensor: Tensor, op: str = ReduceOp.SUM, group=None,
               async_op: bool = False):
    """Replace `tensor`, on every rank, by the reduction over all ranks of it:
    op "sum" (default), "mean", "max", "min" or "product". In place; returns None,
    or a Work with async_op=True (call .wait() before reading the tensor)."""
    where = _group(group, "all_reduce")
    buffer = _buffer(tensor, "all_reduce")
    kind = str(op).lower()
    if kind not in _MPI_OPS:
        raise ValueError(f"all_reduce: op must be one of {sorted(set(_MPI_OPS))}, "
                         f"got {op!r}")
    mean = kind in ("mean", "avg")
    if mean and buffer.dtype.kind != "f":
        raise TypeError(f"all_reduce: op 'mean' needs a floating-point tensor, got "
                        f"{buffer.dtype} (reduce with 'sum' and divide yourself)")

    def finish():
        if mean and where.size > 1:
            buffer[...] /= where.size
        _written(tensor, buffer)

    def mpi_op():
        from mpi4py import MPI
        return MPI.IN_PLACE, buffer, getattr(MPI, _MPI_OPS[kind])

    return _run("all_reduce", where, lambda: where.comm.Allreduce(*mpi_op()),
                lambda: where.comm.Iallreduce(*mpi_op()), finish, async_op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False):
    """Overwrite `tensor` on every rank with rank src's `tensor` (same shape and
    dtype on every rank). In place; returns None, or a Work with async_op=True."""
    where = _group(group, "broadcast")
    buffer = _buffer(tensor, "broadcast")
    _check_rank(src, where.size, "broadcast", "src")
    finish = (lambda: _written(tensor, buffer)) if where.rank != src else None
    return _run("broadcast", where, lambda: where.comm.Bcast(buffer, root=src),
                lambda: where.comm.Ibcast(buffer, root=src), finish, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Write every rank's input_tensor into output_tensor, rank by rank along the first
    dimension: output (p * n, ...) from inputs (n, ...) -- or output (p, n, ...).
    The output's own array receives the data (no copy when it is contiguous)."""
    where = _group(group, "all_gather_into_tensor")
    send = _buffer(input_tensor, "all_gather_into_tensor")
    receive = _buffer(output_tensor, "all_gather_into_tensor")
    if receive.size != where.size * send.size or receive.dtype != send.dtype:
        raise ValueError(f"all_gather_into_tensor: output {output_tensor.shape} "
                         f"{receive.dtype} cannot hold {where.size} inputs of "
                         f"{input_tensor.shape} {send.dtype}")
    return _gather(where, send, receive, lambda: _written(output_tensor, receive),
                   async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill tensor_list (one tensor per rank, each shaped like `tensor`) with every
    rank's `tensor`: tensor_list[r] receives rank r's. The data arrives in one array
    (p, *shape) and is then copied into the list's tensors."""
    where = _group(group, "all_gather")
    size = where.size
    if not isinstance(tensor_list, list) or len(tensor_list) != size:
        raise ValueError(f"all_gather: tensor_list must be a list of {size} tensors "
                         f"(one per rank), got {_describe(tensor_list)}")
    send = _buffer(tensor, "all_gather")
    for i, t in enumerate(tensor_list):
        if not isinstance(t, Tensor) or t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {_describe(t)}; every "
                             f"entry must be a Tensor {tensor.shape} {tensor.dtype}, "
                             "like the tensor sent")
    receive = np.empty((size,) + send.shape, send.dtype)

    def finish():
        for t, part in zip(tensor_list, receive):
            _written(t, part)

    return _gather(where, send, receive, finish, async_op)


def _gather(where, send, receive, finish, async_op):
    def alone():
        receive.reshape(send.shape)[...] = send
    return _run("all_gather", where, lambda: where.comm.Allgather(send, receive),
                lambda: where.comm.Iallgather(send, receive), finish, async_op, alone)


def barrier(group=None) -> None:
    """Wait until every rank has called barrier()."""
    where = _group(group, "barrier")
    if where.size > 1:
        with span("barrier", "communication"):
            where.comm.Barrier()


# ------------------------------------------------------------------ Python objects
def all_gather_object(object_list: list, obj, group=None) -> None:
    """object_list[r] = rank r's obj, on every rank (objects travel pickled: use this
    for small things such as a model's parameter shapes, never inside a training step)."""
    where = _group(group, "all_gather_object")
    if not isinstance(object_list, list) or len(object_list) != where.size:
        raise ValueError(f"all_gather_object: object_list must be a list of "
                         f"{where.size} entries, got {_describe(object_list)}")
    object_list[:] = [obj] if where.size == 1 else where.comm.allgather(obj)


def broadcast_object_list(object_list: list, src: int = 0, group=None) -> None:
    """Replace object_list's entries on every rank by rank src's (in place)."""
    where = _group(group, "broadcast_object_list")
    _check_rank(src, where.size, "broadcast_object_list", "src")
    if not isinstance(object_list, list):
        raise TypeError(f"broadcast_object_list: expected a list, got "
                        f"{type(object_list).__name__}")
    if where.size > 1:
        object_list[:] = where.comm.bcast(object_list if where.rank == src else None,
                                          root=src)


def _check_rank(rank, size: int, op: str, name: str):
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) \
            or not 0 <= rank < size:
        raise ValueError(f"{op}: {name} must be a rank in 0..{size - 1}, got {rank!r}")


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f"a Tensor {value.shape} {value.dtype}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return type(value).__name__
