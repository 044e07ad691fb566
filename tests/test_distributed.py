"""minidl.distributed and DistributedDataParallel.

In this process: the world of one (no mpiexec, or no mpi4py), argument errors, how
gradients are put into buckets. Under `mpiexec -n 2` (a subprocess, with a timeout,
when mpi4py and mpiexec are installed -- the [mpi] extra; skipped otherwise): the
collectives, DistributedDataParallel against the full-batch gradient, SyncBatchNorm,
a rank that fails, models that differ, the exactness check and the distributed CNN
example; the ops that span ranks (functional.py) in a world of one.
"""
import importlib.util
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minidl
import minidl.distributed as dist
import minidl.functional as F
from minidl import nn
from minidl.distributed import world
from minidl.distributed.buckets import assign_buckets
from minidl.nn.parallel import DistributedDataParallel

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds for one mpiexec run; a hang ends the test, not the suite


# ------------------------------------------------------------------ a world of one
@pytest.fixture
def alone(monkeypatch):
    """A fresh world of one, as without mpi4py (restored after the test)."""
    monkeypatch.setattr(world, "_world", None)
    monkeypatch.setattr(world, "is_available", lambda: False)
    dist.init()
    return dist


def test_before_init_every_call_says_to_init(monkeypatch):
    monkeypatch.setattr(world, "_world", None)
    for call in (dist.get_rank, dist.get_world_size, dist.barrier,
                 lambda: dist.all_reduce(minidl.ones(2)),
                 lambda: DistributedDataParallel(nn.Linear(2, 2))):
        with pytest.raises(ValueError, match="init"):
            call()


def test_without_mpi4py_a_process_is_a_world_of_one(alone):
    assert (dist.get_rank(), dist.get_world_size(), dist.is_initialized()) == (0, 1, True)
    dist.init()  # again: nothing happens
    t = minidl.tensor([1.0, 2.0])
    for op in ("sum", "mean", "max", "min", "product", dist.ReduceOp.AVG):
        assert dist.all_reduce(t, op) is None and t.tolist() == [1.0, 2.0]
    work = dist.all_reduce(t, async_op=True)
    assert work.is_completed() and work.wait()
    dist.broadcast(t, src=0)
    gathered = [minidl.zeros(2)]
    dist.all_gather(gathered, t)
    assert gathered[0].tolist() == [1.0, 2.0]
    into = minidl.zeros(1, 2)
    dist.all_gather_into_tensor(into, t)
    assert into.tolist() == [[1.0, 2.0]]
    objects = [None]
    dist.all_gather_object(objects, "me")
    assert objects == ["me"]
    dist.barrier()


def test_started_by_mpiexec_without_mpi4py_is_an_error(monkeypatch):
    monkeypatch.setattr(world, "_world", None)
    monkeypatch.setattr(world, "is_available", lambda: False)
    monkeypatch.setenv("PMI_SIZE", "2")
    with pytest.raises(RuntimeError, match="one of 2 .*mpi4py is not installed"):
        dist.init()
    assert not dist.is_initialized()


def test_the_example_under_mpiexec_without_distributed_refuses(monkeypatch, tmp_path):
    sys.path.insert(0, str(ROOT / "examples"))
    import train_cnn
    monkeypatch.setenv("PMI_SIZE", "2")  # as mpiexec -n 2 sets it
    with pytest.raises(SystemExit, match="one of 2 processes, but without --distributed"):
        train_cnn.main(["--limit", "64", "--out", str(tmp_path)])


def test_collectives_check_their_arguments(alone):
    with pytest.raises(TypeError, match="all_reduce: expected a minidl Tensor"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(ValueError, match="all_reduce: op must be one of"):
        dist.all_reduce(minidl.ones(2), "median")
    with pytest.raises(TypeError, match="'mean' needs a floating-point tensor, got int64"):
        dist.all_reduce(minidl.tensor([1, 2]), "mean")
    with pytest.raises(ValueError, match="broadcast: src must be a rank in 0..0, got 1"):
        dist.broadcast(minidl.ones(2), src=1)
    with pytest.raises(ValueError, match="tensor_list must be a list of 1"):
        dist.all_gather([], minidl.ones(2))
    with pytest.raises(ValueError, match=r"tensor_list\[0\] is a Tensor \(3,\)"):
        dist.all_gather([minidl.ones(3)], minidl.ones(2))
    with pytest.raises(ValueError, match="cannot hold 1 inputs"):
        dist.all_gather_into_tensor(minidl.zeros(3), minidl.ones(2))


def test_collectives_write_into_the_tensor_and_bump_its_version(alone):
    t = minidl.ones(3)
    data, version = t.numpy(), t._version
    dist.all_reduce(t, "mean")
    assert t.numpy() is data and t._version == version + 1


# ------------------------------------------------------------------ buckets
def named(*shapes, dtype=np.float32):
    return [(f"p{i}", nn.Parameter(np.zeros(s, dtype))) for i, s in enumerate(shapes)]


def test_buckets_fill_in_reverse_order_up_to_the_cap():
    params = named((10,), (30,), (5,), (40,))  # 40, 120, 20, 160 bytes
    buckets = assign_buckets(params, cap_bytes=100)
    assert [b.names for b in buckets] == [["p3"], ["p2", "p1"], ["p0"]]
    assert [b.buffer.numel() for b in buckets] == [40, 35, 10]
    assert [b.names for b in assign_buckets(params, 10**6)] == [["p3", "p2", "p1", "p0"]]


def test_a_bucket_holds_one_dtype():
    params = named((4,)) + named((4,), dtype=np.float64)[:1]
    params[1] = ("q", params[1][1])
    buckets = assign_buckets(params, cap_bytes=10**6)
    assert [(b.names, b.buffer.dtype) for b in buckets] == [
        (["q"], np.float64), (["p0"], np.float32)]


def test_backward_hands_over_each_gradient_as_soon_as_it_is_complete():
    """What overlap needs from autograd: the last layer's gradients are in .grad (and
    their post-accumulate-grad hooks have run) before backward reaches the first."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(),
                          nn.Linear(4, 2))
    events = []
    for name, p in model.named_parameters():
        p.register_post_accumulate_grad_hook(lambda p, name=name: events.append(name))
    hidden = model[0](minidl.randn(5, 3))
    hidden.register_hook(lambda g: events.append("first layer's output"))
    model[4](model[3](model[2](model[1](hidden)))).sum().backward()
    assert events == ["4.bias", "4.weight", "2.bias", "2.weight",
                      "first layer's output", "0.bias", "0.weight"]


def test_ddp_in_a_world_of_one_gives_the_plain_gradients(alone):
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x, y = minidl.randn(6, 3), minidl.randint(0, 2, (6,))
    F.cross_entropy(model(x), y).backward()
    want = [p.grad.numpy().copy() for p in model.parameters()]
    for overlap in (True, False):
        ddp = DistributedDataParallel(model, bucket_cap_mb=1e-5, overlap=overlap)
        ddp.zero_grad()
        F.cross_entropy(ddp(x), y).backward()
        for p, g in zip(model.parameters(), want):
            np.testing.assert_array_equal(p.grad.numpy(), g)
        assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]


def test_ddp_reports_parameters_that_got_no_gradient(alone):
    frozen = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
    frozen[1].weight.requires_grad_(False)    # frozen parameters are left out
    ddp = DistributedDataParallel(frozen)
    for _ in range(2):
        ddp(minidl.randn(2, 3)).sum().backward()

    class Spare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(3, 2), nn.Linear(3, 2)

        def forward(self, x):
            return self.used(x)

    ddp = DistributedDataParallel(Spare())
    ddp(minidl.randn(2, 3)).sum().backward()
    with pytest.raises(RuntimeError, match="only 2 of the model's 4 parameters; no "
                                           "gradient reached spare.weight, spare.bias"):
        ddp(minidl.randn(2, 3))


def test_ddp_refuses_what_it_cannot_do(alone):
    with pytest.raises(TypeError, match="expected a Module"):
        DistributedDataParallel(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb must be positive"):
        DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)
    with pytest.raises(NotImplementedError, match="find_unused_parameters"):
        DistributedDataParallel(nn.Linear(2, 2), find_unused_parameters=True)


# ------------------------------------------------------------------ under mpiexec -n 2
def _mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


@pytest.fixture(scope="module")
def mpiexec():
    if importlib.util.find_spec("mpi4py") is None or _mpiexec() is None:
        pytest.skip("mpi4py and mpiexec not installed (pip install -e \".[mpi]\")")
    hello = launch(_mpiexec(), "-c", "from mpi4py import MPI; MPI.COMM_WORLD.Barrier()")
    if hello.returncode != 0:
        pytest.skip(f"MPI does not start here: {hello.stderr[-500:]}")
    return _mpiexec()


def launch(mpiexec, *args, ranks=2, cwd=None):
    """Run `mpiexec -n ranks python args...`; kill the whole job after TIMEOUT."""
    job = subprocess.Popen([mpiexec, "-n", str(ranks), sys.executable, *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
    try:
        out, err = job.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        out, err = job.communicate()
        pytest.fail(f"mpiexec {' '.join(args)} hung for {TIMEOUT} s:\n{out}\n{err}")
    return subprocess.CompletedProcess(job.args, job.returncode, out, err)


def worker(mpiexec, scenario):
    return launch(mpiexec, str(ROOT / "tests" / "distributed_worker.py"), scenario)


def test_collectives_on_two_ranks(mpiexec):
    done = worker(mpiexec, "collectives")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_ddp_on_two_ranks_averages_like_one_full_batch(mpiexec):
    done = worker(mpiexec, "ddp")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_sync_batchnorm_on_two_ranks_is_batchnorm_on_the_whole_batch(mpiexec):
    done = worker(mpiexec, "syncbn")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_models_that_differ_are_refused_at_construction(mpiexec):
    done = worker(mpiexec, "mismatch")
    assert done.returncode != 0
    assert "the ranks hold different models, rank 0 has 6 parameters, rank 1 has 8" \
        in done.stderr, done.stderr


def test_a_rank_that_raises_stops_the_job_with_its_message(mpiexec):
    start = time.perf_counter()
    done = worker(mpiexec, "fails")
    assert done.returncode != 0
    assert "[rank 1] ValueError: rank 1 fails on purpose" in done.stderr, done.stderr
    assert "rank 1 of 2 stopped with ValueError; aborting every rank" in done.stderr
    assert time.perf_counter() - start < TIMEOUT / 2  # stopped, not timed out


@pytest.mark.parametrize("mode", [[], ["--after-backward", "--bucket-cap-mb", "25"]])
def test_two_ranks_train_bit_for_bit_like_one_process(mpiexec, mode):
    done = launch(mpiexec, str(ROOT / "examples" / "check_ddp.py"), "--steps", "12",
                  "--limit", "192", *mode)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = dict(line.strip().rsplit(None, 1) for line in done.stdout.splitlines()[1:-1])
    assert float(lines["ranks vs one process in ranks' order"]) == 0
    assert float(lines["ranks vs one process in one pass"]) < 1e-4  # round-off (float32)
    assert done.stdout.splitlines()[-1] == "check passed"


def test_distributed_cnn_example_only_rank_0_speaks_and_writes(mpiexec, tmp_path):
    flags = ["--distributed", "--limit", "192", "--epochs", "1", "--no-progress"]
    script = str(ROOT / "examples" / "train_cnn.py")
    done = launch(mpiexec, script, *flags, "--out", str(tmp_path / "two"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("data-parallel training on 2 processes: 16 examples of "
                             "every batch of 32 each") == 1
    assert done.stdout.count("epoch 1/1:") == 1 and done.stdout.count("Total params") == 1
    assert done.stderr.count("built-in subset") <= 1  # rank 0's note, if any
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "confusion.png", "curves.png", "feature_maps.png", "filters.png", "input.png",
        "metrics.json", "model.npz", "moved_test.png"]
    # the same run on one process (a world of one): the same numbers up to round-off
    one = launch(mpiexec, script, *flags, "--out", str(tmp_path / "one"), ranks=1)
    assert one.returncode == 0, one.stderr
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert two["history"]["train_loss"] == pytest.approx(one["history"]["train_loss"],
                                                         rel=1e-4)
    assert two["test_accuracy"] == pytest.approx(one["test_accuracy"], abs=0.02)


# ------------------------------------------------------------------ ops across ranks
from hypothesis import given, strategies as st  # noqa: E402
from registry import covers  # noqa: E402
from registry_distributed import ALONE  # noqa: E402
from minidl.distributed import functional as DF  # noqa: E402


@covers("distributed.all_reduce")
@given(shape=st.lists(st.integers(1, 4), max_size=3), seed=st.integers(0, 2**32 - 1))
def test_all_reduce_of_one_rank_is_the_tensor_and_its_gradient_passes_through(shape,
                                                                             seed):
    rng = np.random.default_rng(seed)
    x = minidl.tensor(rng.standard_normal(shape), requires_grad=True)
    for op in ("sum", "mean"):
        y = DF.all_reduce(x, op, group=ALONE)
        g = rng.standard_normal(shape)
        y.backward(minidl.tensor(g))
        np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
        assert y.detach().numpy() is not x.detach().numpy()  # a new tensor
        np.testing.assert_array_equal(x.grad.numpy(), g)
        x.grad = None


@covers("distributed.sync_batch_norm")
@given(shape=st.tuples(st.integers(2, 5), st.integers(1, 4)).flatmap(
           lambda nc: st.lists(st.integers(1, 3), max_size=2).map(lambda s: nc + tuple(s))),
       affine=st.booleans(), momentum=st.sampled_from([0.1, 0.5, 1.0]),
       seed=st.integers(0, 2**32 - 1))
def test_sync_batch_norm_of_one_rank_is_batch_norm(shape, affine, momentum, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3 + 1
    c = shape[1]
    w, b = ((minidl.tensor(rng.standard_normal(c)), minidl.tensor(rng.standard_normal(c)))
            if affine else (None, None))
    stats = [[minidl.tensor(rng.standard_normal(c)), minidl.tensor(rng.uniform(.5, 2, c))]
             for _ in range(2)]
    stats[1] = [s.clone() for s in stats[0]]
    ours = DF.sync_batch_norm(minidl.tensor(x), *stats[0], w, b, momentum, group=ALONE)
    theirs = F.batch_norm(minidl.tensor(x), *stats[1], w, b, True, momentum)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    for a, b_ in zip(*stats):
        np.testing.assert_allclose(a.numpy(), b_.numpy(), rtol=1e-12)


def test_sync_batch_norm_checks_its_input():
    with pytest.raises(ValueError, match="more than 1 value per channel when training, "
                                         "got 1 on all ranks together"):
        DF.sync_batch_norm(minidl.ones(1, 3), None, None, group=ALONE)
    with pytest.raises(ValueError, match="all_reduce: op must be 'sum' or 'mean'"):
        DF.all_reduce(minidl.ones(2), "max", group=ALONE)


def test_sync_batchnorm_layer_converts_and_falls_back_to_batchnorm(alone):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    reference = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    reference.load_state_dict(model.state_dict())
    weight = model[1].weight
    assert nn.SyncBatchNorm.convert_sync_batchnorm(model) is model
    assert isinstance(model[1], nn.SyncBatchNorm) and model[1].weight is weight
    x = minidl.randn(4, 1, 5, 5)
    for mode in ("train", "eval"):
        getattr(model, mode)()
        getattr(reference, mode)()
        np.testing.assert_allclose(model(x).detach().numpy(),
                                   reference(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert model[1].num_batches_tracked.item() == 1
    np.testing.assert_allclose(model[1].running_var.numpy(),
                               reference[1].running_var.numpy(), rtol=1e-6)
