"""AveragedModel and the EMA average (minidl.optim.swa_utils) against slow references
and, when installed, torch.optim.swa_utils."""
import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.optim.swa_utils import AveragedModel, get_ema_avg_fn


def small_model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def train_steps(model, steps, seed):
    """Some SGD steps on random data; returns the weights after each step."""
    rng = np.random.default_rng(seed)
    opt = minidl.optim.SGD(model.parameters(), lr=0.1)
    snapshots = []
    for _ in range(steps):
        x = minidl.tensor(rng.standard_normal((8, 3)).astype(np.float32))
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
        snapshots.append({k: v.numpy().copy() for k, v in model.state_dict().items()})
    return snapshots


@pytest.mark.parametrize("decay", [None, 0.9])
@pytest.mark.parametrize("use_buffers", [False, True])
def test_average_matches_a_slow_reference(decay, use_buffers):
    minidl.manual_seed(0)
    model = small_model()
    avg = AveragedModel(model, avg_fn=None if decay is None else get_ema_avg_fn(decay),
                        use_buffers=use_buffers)
    rng_steps = []
    for i in range(4):
        rng_steps += train_steps(model, 1, seed=i)
        avg.update_parameters(model)
    expected = {}
    for n, snap in enumerate(rng_steps):
        for k, v in snap.items():
            averaged = k in dict(model.named_parameters()) or (
                use_buffers and v.dtype.kind == "f")
            if n == 0 or not averaged:
                expected[k] = v.astype(np.float64)
            elif decay is None:
                expected[k] = expected[k] + (v - expected[k]) / (n + 1)
            else:
                expected[k] = decay * expected[k] + (1 - decay) * v
    state = avg.state_dict()
    assert int(state["n_averaged"].item()) == 4
    for k, v in expected.items():
        np.testing.assert_allclose(state["module." + k].numpy(), v, rtol=1e-5, atol=1e-6,
                                   err_msg=k)


def test_average_is_a_separate_copy_that_runs_like_the_model():
    model = small_model().eval()
    avg = AveragedModel(model)
    assert avg.module[0].weight is not model[0].weight
    x = minidl.randn(5, 3)
    with minidl.no_grad():
        np.testing.assert_array_equal(avg.eval()(x).numpy(), model(x).numpy())
    with pytest.raises(ValueError, match="get_ema_avg_fn"):
        get_ema_avg_fn(1.5)
    with pytest.raises(TypeError, match="AveragedModel"):
        AveragedModel("model")
    with pytest.raises(ValueError, match="not the same architecture"):
        avg.update_parameters(nn.Linear(3, 4))


def test_matches_torch_swa_utils():
    torch = pytest.importorskip("torch")
    minidl.manual_seed(1)
    model = small_model()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in model.state_dict().items()})
    avg = AveragedModel(model, avg_fn=get_ema_avg_fn(0.8), use_buffers=True)
    tavg = torch.optim.swa_utils.AveragedModel(
        tmodel, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.8),
        use_buffers=True)
    rng = np.random.default_rng(0)
    opt = minidl.optim.SGD(model.parameters(), lr=0.1)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    for _ in range(3):
        x = rng.standard_normal((8, 3)).astype(np.float32)
        opt.zero_grad()
        (model(minidl.tensor(x)) ** 2).mean().backward()
        opt.step()
        topt.zero_grad()
        (tmodel(torch.from_numpy(x)) ** 2).mean().backward()
        topt.step()
        avg.update_parameters(model)
        tavg.update_parameters(tmodel)
    ours, theirs = avg.state_dict(), tavg.state_dict()
    assert set(ours) == set(theirs)
    for k in ours:
        if "num_batches_tracked" in k:
            continue  # integer: minidl copies it, torch averages and truncates it
        np.testing.assert_allclose(ours[k].numpy(), theirs[k].numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=k)
