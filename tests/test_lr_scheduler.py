"""Tests for minidl.optim.lr_scheduler and gradient clipping (minidl.optim.clip_grad).

Schedulers: step by step against torch.optim.lr_scheduler (when torch is installed) and
against their closed forms; state_dict round trips; resuming with last_epoch.
Clipping: against a numpy reference and torch.nn.utils.
"""
import math
import pickle

import numpy as np
import pytest

import minidl as md
from minidl import optim
from minidl.optim import lr_scheduler


def make_optimizer(lrs=(0.1, 0.02)):
    """An SGD optimizer with one param group per learning rate."""
    groups = [{"params": [md.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=1.0)


def lrs_over(scheduler, steps):
    """The lrs after construction, then after each of `steps` scheduler steps."""
    history = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        history.append(scheduler.get_last_lr())
    return np.array(history)


T_MAX = 7
SCHEDULERS = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=2, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11])),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=T_MAX)),
    ("CosineAnnealingLR", dict(T_max=T_MAX, eta_min=0.005)),
    ("CosineAnnealingLR", dict(T_max=1, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (epoch + 1))),
]


# ---------------------------------------------------------------------- vs torch
@pytest.mark.parametrize("name,options", SCHEDULERS)
def test_matches_torch_step_by_step(name, options):
    torch = pytest.importorskip("torch")
    lrs = (0.1, 0.02)
    ours = getattr(lr_scheduler, name)(make_optimizer(lrs), **options)
    tgroups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    theirs = getattr(torch.optim.lr_scheduler, name)(torch.optim.SGD(tgroups, lr=1.0),
                                                     **options)
    steps = 3 * T_MAX + 2
    np.testing.assert_allclose(lrs_over(ours, steps), lrs_over(theirs, steps),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,options", SCHEDULERS[:-1])
def test_resuming_with_last_epoch_matches_torch(name, options):
    """Build a scheduler at last_epoch=4 on groups that carry 'initial_lr' (as after
    loading an optimizer checkpoint) and keep stepping."""
    torch = pytest.importorskip("torch")
    groups = [{"params": [md.tensor([1.0], requires_grad=True)], "lr": 0.03,
               "initial_lr": 0.1}]
    tgroups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.03,
                "initial_lr": 0.1}]
    ours = getattr(lr_scheduler, name)(optim.SGD(groups), last_epoch=4, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch.optim.SGD(tgroups),
                                                     last_epoch=4, **options)
    np.testing.assert_allclose(lrs_over(ours, 10), lrs_over(theirs, 10), rtol=1e-12)


# ---------------------------------------------------------------------- closed forms
def test_step_lr_closed_form():
    history = lrs_over(lr_scheduler.StepLR(make_optimizer(), step_size=3, gamma=0.5), 10)
    expected = [[lr * 0.5 ** (epoch // 3) for lr in (0.1, 0.02)] for epoch in range(11)]
    np.testing.assert_allclose(history, expected, rtol=1e-12)


def test_multistep_lr_closed_form():
    sched = lr_scheduler.MultiStepLR(make_optimizer(), milestones=[2, 5], gamma=0.1)
    history = lrs_over(sched, 7)[:, 0]
    np.testing.assert_allclose(history, [0.1, 0.1, 0.01, 0.01, 0.01, 1e-3, 1e-3, 1e-3],
                               rtol=1e-12)


def test_exponential_lr_closed_form():
    history = lrs_over(lr_scheduler.ExponentialLR(make_optimizer(), gamma=0.8), 6)
    np.testing.assert_allclose(history[:, 1], [0.02 * 0.8 ** e for e in range(7)],
                               rtol=1e-12)


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing_follows_closed_form(eta_min):
    """The recursive updates stay on eta_min + (lr0 - eta_min)(1 + cos(pi t / T)) / 2,
    down to eta_min at T_max and back up, for several periods."""
    T = 5
    history = lrs_over(lr_scheduler.CosineAnnealingLR(make_optimizer(), T_max=T,
                                                      eta_min=eta_min), 3 * T)
    for lr0, column in zip((0.1, 0.02), history.T):
        expected = [eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t / T)) / 2
                    for t in range(3 * T + 1)]
        np.testing.assert_allclose(column, expected, rtol=1e-9, atol=1e-15)
    assert history[T, 0] == pytest.approx(eta_min, abs=1e-15)


def test_lambda_lr_per_group():
    opt = make_optimizer()
    sched = lr_scheduler.LambdaLR(opt, [lambda e: e + 1, lambda e: 0.5 ** e])
    history = lrs_over(sched, 3)
    np.testing.assert_allclose(history, [[0.1 * (e + 1), 0.02 * 0.5 ** e]
                                         for e in range(4)], rtol=1e-12)
    assert all(g["initial_lr"] == lr for g, lr in zip(opt.param_groups, (0.1, 0.02)))


def test_step_with_epoch_uses_closed_form():
    sched = lr_scheduler.StepLR(make_optimizer(), step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert sched.last_epoch == 5
    np.testing.assert_allclose(sched.get_last_lr(), [0.1 * 0.25, 0.02 * 0.25])


def test_scheduler_drives_the_optimizer_updates():
    x = md.tensor([0.0], requires_grad=True)
    opt = optim.SGD([x], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):  # steps of 1, 0.5, 0.25 along -grad
        x.grad = md.tensor([-1.0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(x.detach().numpy(), [1.75])
    assert opt.param_groups[0]["lr"] == 0.125


# ---------------------------------------------------------------------- saving
@pytest.mark.parametrize("name,options", SCHEDULERS[:-1])
def test_state_dict_round_trip_resumes_identically(name, options):
    cls = getattr(lr_scheduler, name)
    full = lrs_over(cls(make_optimizer(), **options), 12)

    opt = make_optimizer()
    sched = cls(opt, **options)
    lrs_over(sched, 5)
    saved = sched.state_dict(), opt.state_dict()
    lrs_over(sched, 2)  # stepping on must not change what was saved
    saved = pickle.loads(pickle.dumps(saved))

    opt2 = make_optimizer(lrs=(9.0, 9.0))
    sched2 = cls(opt2, **options)  # build the scheduler first, then load both states
    sched2.load_state_dict(saved[0])
    opt2.load_state_dict(saved[1])
    assert sched2.last_epoch == 5
    np.testing.assert_allclose(lrs_over(sched2, 7), full[5:], rtol=1e-12)


class Warmup:
    """A callable object: its attributes are saved by LambdaLR.state_dict."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


def test_lambda_lr_state_dict_saves_callable_objects_only():
    opt = make_optimizer()
    sched = lr_scheduler.LambdaLR(opt, [Warmup(4), lambda e: 1.0])
    sched.step()
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"epochs": 4}, None]
    assert "optimizer" not in sd and sd["last_epoch"] == 1

    other = lr_scheduler.LambdaLR(make_optimizer(), [Warmup(10), lambda e: 1.0])
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].epochs == 4 and other.last_epoch == 1


def test_scheduler_errors():
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer"):
        lr_scheduler.StepLR([md.tensor([1.0])], step_size=1)
    with pytest.raises(ValueError, match="step_size.*0"):
        lr_scheduler.StepLR(make_optimizer(), step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        lr_scheduler.CosineAnnealingLR(make_optimizer(), T_max=0)
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(make_optimizer(), [lambda e: 1.0])
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(make_optimizer(), gamma=0.5, last_epoch=3)


# ---------------------------------------------------------------------- clipping
def params_with_grads(rng, shapes=((3, 4), (5,), ()), dtype=np.float32, scale=1.0):
    params = []
    for shape in shapes:
        p = md.tensor(np.asarray(rng.standard_normal(shape), dtype), requires_grad=True)
        p.grad = md.tensor(np.asarray(scale * rng.standard_normal(shape), dtype))
        params.append(p)
    return params


def ref_total_norm(grads, norm_type):
    flat = np.concatenate([np.ravel(g).astype(np.float64) for g in grads])
    if norm_type == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)


@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_numpy_reference(norm_type, max_norm, rng):
    params = params_with_grads(rng, dtype=np.float64, scale=3.0)
    grads = [p.grad.numpy().copy() for p in params]
    total = ref_total_norm(grads, norm_type)
    returned = optim.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert isinstance(returned, md.Tensor) and returned.shape == ()
    assert returned.item() == pytest.approx(total, rel=1e-12)
    scale = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * scale, rtol=1e-12)
    if max_norm < total:
        assert ref_total_norm([p.grad.numpy() for p in params], norm_type) == \
            pytest.approx(max_norm, rel=1e-5)


@pytest.mark.parametrize("norm_type", [2.0, "inf", 1.0])
def test_clip_grad_norm_matches_torch(norm_type, rng):
    torch = pytest.importorskip("torch")
    params = params_with_grads(rng, scale=2.0)
    tparams = []
    for p in params:
        tp = torch.tensor(p.detach().numpy().copy(), requires_grad=True)
        tp.grad = torch.tensor(p.grad.numpy().copy())
        tparams.append(tp)
    ours = optim.clip_grad_norm_(params, 1.0, norm_type=norm_type)
    theirs = torch.nn.utils.clip_grad_norm_(tparams, 1.0, norm_type=norm_type)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    for p, tp in zip(params, tparams):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_edge_cases(rng):
    p = md.tensor([3.0, 4.0], requires_grad=True)
    assert optim.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = md.tensor([3.0, 4.0])
    assert optim.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    p.grad = md.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        optim.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with np.errstate(invalid="ignore"):  # inf * 0 -> nan, as in PyTorch
        assert math.isinf(optim.clip_grad_norm_([p], 1.0).item())
    assert np.isnan(p.grad.numpy()[0])


def test_clip_grad_value(rng):
    params = params_with_grads(rng, scale=3.0)
    grads = [p.grad.numpy().copy() for p in params]
    params.append(md.tensor([1.0], requires_grad=True))  # no grad: skipped
    assert optim.clip_grad_value_(params, 1.5) is None
    for p, g in zip(params, grads):
        assert p.grad.dtype == np.float32
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -1.5, 1.5))
    assert params[-1].grad is None
