"""What tests/test_distributed.py runs under `mpiexec -n 2`: one scenario per run.

    mpiexec -n 2 python tests/distributed_worker.py collectives|ddp|syncbn|mismatch|fails

Each scenario checks with plain asserts on every rank (an assertion that fails aborts
the job with that rank's traceback) and rank 0 prints "ok" at the end.
"""
import sys

import numpy as np

import minidl
import minidl.distributed as dist
import minidl.functional as F
from minidl import nn
from minidl.nn.parallel import DistributedDataParallel


def collectives(rank, size):
    t = minidl.tensor([1.0, 2.0]) * (rank + 1)                    # rank r: (r+1) * [1, 2]
    dist.all_reduce(t)
    assert t.tolist() == [3.0, 6.0], t
    for op, want in (("mean", [1.5, 3.0]), ("max", [2.0, 4.0]), ("min", [1.0, 2.0]),
                     ("product", [2.0, 8.0]), (dist.ReduceOp.AVG, [1.5, 3.0])):
        t = minidl.tensor([1.0, 2.0]) * (rank + 1)
        dist.all_reduce(t, op)
        assert t.tolist() == want, (op, t)
    counts = minidl.tensor([rank, 10], dtype=minidl.int64)
    dist.all_reduce(counts)
    assert counts.tolist() == [1, 20] and counts.dtype == np.int64
    grid = np.arange(6.0).reshape(2, 3) + 10 * rank
    transposed = minidl.Tensor(grid.T)                             # not contiguous
    work = dist.all_reduce(transposed, async_op=True)
    assert work.wait() and work.is_completed()
    assert np.array_equal(grid, 2 * np.arange(6.0).reshape(2, 3) + 10), grid
    strided = minidl.tensor(np.arange(8.0) + rank)[::2]
    dist.all_reduce(strided)
    assert strided.tolist() == [1.0, 5.0, 9.0, 13.0], strided

    b = minidl.tensor([float(rank)] * 3)
    dist.broadcast(b, src=1)
    assert b.tolist() == [1.0, 1.0, 1.0]
    gathered = [minidl.zeros(2, dtype=minidl.int64) for _ in range(size)]
    dist.all_gather(gathered, minidl.tensor([rank, rank * 10]))
    assert [g.tolist() for g in gathered] == [[0, 0], [1, 10]]
    into = minidl.zeros(4)
    dist.all_gather_into_tensor(into, minidl.tensor([rank, rank + 0.5]))
    assert into.tolist() == [0.0, 0.5, 1.0, 1.5]
    objects = [None] * size
    dist.all_gather_object(objects, {"rank": rank})
    assert objects == [{"rank": 0}, {"rank": 1}]
    sent = ["from rank", rank]
    dist.broadcast_object_list(sent, src=0)
    assert sent == ["from rank", 0]
    dist.barrier()


def tiny_model(extra_layer=False):
    layers = [nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)]
    return nn.Sequential(*(layers + [nn.Linear(2, 2)] * extra_layer))


def full_batch_gradients(model, x, y):
    """The gradient one process computes on the whole batch (rank 0's weights)."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def ddp(rank, size):
    minidl.manual_seed(0)
    x, y = minidl.randn(8, 3), minidl.randint(0, 2, (8,))
    mine = slice(rank * 4, rank * 4 + 4)
    for overlap in (True, False):
        minidl.manual_seed(100 + rank)              # every rank starts elsewhere ...
        model = DistributedDataParallel(tiny_model(), bucket_cap_mb=1e-4, overlap=overlap)
        weights = [None] * size                      # ... and gets rank 0's weights
        dist.all_gather_object(weights, [p.detach().numpy().copy()
                                         for p in model.parameters()])
        assert all(np.array_equal(a, b) for a, b in zip(*weights))
        assert len(model.reducer.buckets) > 1
        model.module.eval()                          # batch statistics of all 8 examples
        want = full_batch_gradients(model.module, x, y)
        model.train()
        model.module[1].eval()  # BatchNorm: local batch statistics would differ (doc)
        with minidl.trace() as t:
            model.zero_grad()
            F.cross_entropy(model(x[mine]), y[mine]).backward()
        for got, expected in zip(model.parameters(), want):
            np.testing.assert_allclose(got.grad.numpy(), expected, rtol=1e-5, atol=1e-7)
        talks = {r.name for r in t.rows if r.phase == "communication"}
        assert {"all_reduce", "broadcast"} <= talks, talks
        assert ("all_reduce wait" in talks) == overlap

        model.zero_grad()                           # no_sync: local gradients add up,
        with model.no_sync():                       # averaged at the next backward
            F.cross_entropy(model(x[mine]), y[mine]).backward()
        F.cross_entropy(model(x[mine]), y[mine]).backward()
        for got, expected in zip(model.parameters(), want):
            np.testing.assert_allclose(got.grad.numpy(), 2 * expected, rtol=1e-5,
                                       atol=1e-7)
    buffers_follow_rank_0(rank)
    unused_parameters_are_an_error()


def buffers_follow_rank_0(rank):
    minidl.manual_seed(0)
    model = DistributedDataParallel(tiny_model())
    norm = model.module[1]
    norm.running_mean.numpy()[...] = rank  # rank 1's buffers drift; forward resets them
    model(minidl.randn(4, 3))  # the same batch on both ranks: the same update
    means = [None, None]
    dist.all_gather_object(means, norm.running_mean.numpy().copy())
    assert np.array_equal(means[0], means[1])


def unused_parameters_are_an_error():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head, self.spare = nn.Linear(3, 4), nn.Linear(4, 2), nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.body(x))

    model = DistributedDataParallel(TwoHeads())
    x = minidl.randn(4, 3)
    model(x).sum().backward()
    try:
        model(x)
    except RuntimeError as error:
        assert "only 4 of the model's 6 parameters" in str(error), error
        assert "spare.weight" in str(error) and "spare.bias" in str(error), error
    else:
        raise AssertionError("an unused parameter was not reported")


def syncbn(rank, size):
    """SyncBatchNorm inside DistributedDataParallel, each rank on half of a batch of 8:
    the outputs, gradients and running statistics of one BatchNorm on all 8."""
    minidl.manual_seed(0)
    one = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                        nn.Linear(12, 2))
    x, y = minidl.randn(8, 1, 4, 4), minidl.randint(0, 2, (8,))
    model = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(
        tiny_copy(one)))
    mine = slice(rank * 4, rank * 4 + 4)
    out = model(x[mine])
    F.cross_entropy(out, y[mine]).backward()
    want = one(x)
    F.cross_entropy(want, y).backward()
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy()[mine],
                               rtol=1e-5, atol=1e-6)
    for got, expected in zip(model.parameters(), one.parameters()):
        np.testing.assert_allclose(got.grad.numpy(), expected.grad.numpy(), rtol=1e-4,
                                   atol=1e-6)
    for got, expected in zip(model.buffers(), one.buffers()):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-7)


def tiny_copy(model):
    """A new model of the same layers with the same weights and buffers."""
    copy = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(12, 2))
    copy.load_state_dict(model.state_dict())
    return copy


def mismatch(rank, size):
    DistributedDataParallel(tiny_model(extra_layer=rank == 1))


def fails(rank, size):
    t = minidl.ones(3)
    dist.all_reduce(t)
    if rank == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.all_reduce(t)  # rank 0 would wait here forever


if __name__ == "__main__":
    dist.init()
    scenario = globals()[sys.argv[1]]
    scenario(dist.get_rank(), dist.get_world_size())
    if dist.get_rank() == 0:
        print("ok")
