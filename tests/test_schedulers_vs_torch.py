"""The schedulers OneCycleLR, ReduceLROnPlateau, CosineAnnealingWarmRestarts, LinearLR
and SequentialLR, and the Adagrad optimizer, against torch.optim: every learning rate
(and OneCycleLR's momentum) over 30+ steps, state_dict round trips that resume
exactly, and Adagrad's trajectory and state."""
import pickle

import numpy as np
import pytest

import minidl as md
from minidl import optim
from minidl.optim import lr_scheduler

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler
LRS = (0.1, 0.02)
STEPS = 36


def groups(lib, lrs=LRS):
    return [{"params": [lib.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]


def make_pair(opt_name, sched, opt_kw=None, lrs=LRS):
    """(minidl scheduler, torch scheduler); sched(lib_scheduler_module, optimizer)."""
    opt_kw = opt_kw or {}
    ours = sched(lr_scheduler, getattr(optim, opt_name)(groups(md, lrs), **opt_kw))
    theirs = sched(TS, getattr(torch.optim, opt_name)(groups(torch, lrs), **opt_kw))
    return ours, theirs


def trace(scheduler, steps, metrics=None):
    """lr and momentum-like values of every group after construction and each step."""
    def snapshot():
        rows = []
        for g in scheduler.optimizer.param_groups:
            rows += [g["lr"], g.get("momentum", 0.0), g.get("betas", (0.0,))[0]]
        return rows + list(scheduler.get_last_lr())
    history = [snapshot()]
    for i in range(steps):
        scheduler.optimizer.step()
        scheduler.step(*([] if metrics is None else [metrics[i]]))
        history.append(snapshot())
    return np.array(history, dtype=float)


def warmup_then_cosine(lib, opt):
    return lib.SequentialLR(opt, [lib.LinearLR(opt, start_factor=0.1, total_iters=5),
                                  lib.CosineAnnealingLR(opt, T_max=12, eta_min=0.001)],
                            milestones=[5])


SCHEDULES = {
    "linear_default": ("SGD", lambda lib, o: lib.LinearLR(o)),
    "linear_decay": ("SGD", lambda lib, o: lib.LinearLR(o, 1.0, 0.05, total_iters=20)),
    "linear_warmup": ("SGD", lambda lib, o: lib.LinearLR(o, 0.25, 1.0, total_iters=12)),
    "warm_restarts": ("SGD", lambda lib, o: lib.CosineAnnealingWarmRestarts(o, T_0=7)),
    "warm_restarts_mult": ("SGD", lambda lib, o: lib.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.005)),
    "one_cycle_sgd": ("SGD", lambda lib, o: lib.OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
                      dict(momentum=0.9)),
    "one_cycle_adam_linear": ("Adam", lambda lib, o: lib.OneCycleLR(
        o, max_lr=[0.5, 0.05], epochs=4, steps_per_epoch=9, pct_start=0.25,
        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0)),
    "one_cycle_three_phase": ("SGD", lambda lib, o: lib.OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS, three_phase=True, base_momentum=0.8,
        max_momentum=[0.9, 0.99]), dict(momentum=0.5)),
    "one_cycle_no_momentum": ("RMSprop", lambda lib, o: lib.OneCycleLR(
        o, max_lr=0.2, total_steps=STEPS + 1, cycle_momentum=False, pct_start=0.5)),
    "sequential_warmup_cosine": ("SGD", warmup_then_cosine),
    "sequential_three": ("SGD", lambda lib, o: lib.SequentialLR(
        o, [lib.LinearLR(o, 0.5, 0.5, total_iters=3), lib.ExponentialLR(o, gamma=0.9),
            lib.StepLR(o, step_size=4, gamma=0.5)], milestones=[4, 15])),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_matches_torch_step_by_step(name):
    opt_name, sched, *opt_kw = SCHEDULES[name]
    ours, theirs = make_pair(opt_name, sched, *opt_kw)
    np.testing.assert_allclose(trace(ours, STEPS), trace(theirs, STEPS), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("name", SCHEDULES)
def test_state_dict_round_trip_resumes_exactly(name):
    opt_name, sched, *opt_kw = SCHEDULES[name]
    make = lambda lrs=LRS: sched(lr_scheduler, getattr(optim, opt_name)(  # noqa: E731
        groups(md, lrs), **(opt_kw[0] if opt_kw else {})))
    full = trace(make(), STEPS)
    first = make()
    trace(first, 11)
    saved = pickle.loads(pickle.dumps((first.state_dict(), first.optimizer.state_dict())))
    trace(first, 3)  # stepping on must not change what was saved
    second = make(lrs=(9.0, 9.0))
    second.load_state_dict(saved[0])
    second.optimizer.load_state_dict(saved[1])
    np.testing.assert_allclose(trace(second, STEPS - 11), full[11:], rtol=1e-12)


def test_one_cycle_refuses_to_step_past_its_end_like_torch():
    for lib in (lr_scheduler, TS):
        opt = (optim if lib is lr_scheduler else torch.optim).SGD(
            groups(md if lib is lr_scheduler else torch), lr=0.1, momentum=0.9)
        sched = lib.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(3):
            sched.step()
        with pytest.raises(ValueError, match="3"):
            sched.step()
    with pytest.raises(ValueError, match="momentum"):
        lr_scheduler.OneCycleLR(optim.Adagrad(groups(md)), max_lr=1.0, total_steps=5)


METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.85, 0.85, 0.86, 0.9, 0.9, 0.9, 0.9, 0.84,
           0.84, 0.84, 0.84, 0.84, 0.84, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
           0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
PLATEAUS = [dict(), dict(patience=2), dict(patience=1, factor=0.5, cooldown=2),
            dict(mode="max", patience=1, threshold=0.05, threshold_mode="abs"),
            dict(patience=0, min_lr=[0.01, 0.015], factor=0.3),
            dict(patience=1, threshold=0.1, eps=0.05)]


@pytest.mark.parametrize("kw", PLATEAUS, ids=str)
def test_reduce_lr_on_plateau_matches_torch(kw):
    ours, theirs = make_pair("SGD", lambda lib, o: lib.ReduceLROnPlateau(o, **kw))
    np.testing.assert_allclose(trace(ours, STEPS, METRICS), trace(theirs, STEPS, METRICS),
                               rtol=1e-12)
    state = ours.state_dict()
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert state[key] == theirs.state_dict()[key]


def test_reduce_lr_on_plateau_round_trip_and_tensor_metrics():
    make = lambda: lr_scheduler.ReduceLROnPlateau(optim.SGD(groups(md)), patience=1)  # noqa
    full = trace(make(), STEPS, METRICS)
    first = make()
    trace(first, 10, METRICS)
    second = make()
    second.load_state_dict(pickle.loads(pickle.dumps(first.state_dict())))
    second.optimizer.load_state_dict(first.optimizer.state_dict())
    np.testing.assert_allclose(trace(second, STEPS - 10, METRICS[10:]), full[10:])
    second.step(md.tensor(0.1))  # a 0-d tensor works as the metric
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ReduceLROnPlateau(optim.SGD(groups(md)), factor=1.0)


def test_warm_restarts_with_fractional_epochs_match_torch():
    ours, theirs = make_pair("SGD", lambda lib, o: lib.CosineAnnealingWarmRestarts(
        o, T_0=4, T_mult=2))
    for epoch in np.arange(0, 20, 0.25):
        ours.step(float(epoch))
        theirs.step(float(epoch))
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


# ---------------------------------------------------------------------- Adagrad
ADAGRAD = [dict(), dict(lr=0.1, lr_decay=0.01), dict(lr=0.05, weight_decay=0.1),
           dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6),
           dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, maximize=True)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", ADAGRAD, ids=str)
def test_adagrad_trajectory_matches_torch(kw, dtype):
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype)]
    ours = [md.tensor(a, requires_grad=True) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt, topt = optim.Adagrad(ours, **kw), torch.optim.Adagrad(theirs, **kw)
    for _ in range(STEPS):
        grads = [rng.standard_normal(a.shape).astype(dtype) for a in start]
        for p, tp, g in zip(ours, theirs, grads):
            p.grad, tp.grad = md.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    tol = dict(rtol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    for p, tp in zip(ours, theirs):
        assert p.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), **tol)
    for i, tp in enumerate(theirs):
        state, tstate = opt.state_dict()["state"][i], topt.state_dict()["state"][i]
        assert float(state["step"].numpy()) == float(tstate["step"])
        np.testing.assert_allclose(state["sum"].numpy(), tstate["sum"].numpy(), **tol)


def test_adagrad_state_exists_from_the_start_and_round_trips():
    p = md.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    topt = torch.optim.Adagrad([tp], initial_accumulator_value=0.25)
    assert list(opt.state_dict()["state"][0]) == list(topt.state_dict()["state"][0])
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["sum"].numpy(), 0.25)
    assert set(opt.state_dict()["param_groups"][0]) <= set(topt.state_dict()["param_groups"][0])
    p.grad = md.tensor([0.5, -1.0])
    opt.step()
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    q = md.tensor(p.detach().numpy().copy(), requires_grad=True)
    opt2 = optim.Adagrad([q])
    opt2.load_state_dict(saved)
    for o, x in ((opt, p), (opt2, q)):
        x.grad = md.tensor([0.1, 0.2])
        o.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises(ValueError, match="lr_decay"):
        optim.Adagrad([p], lr_decay=-1)
