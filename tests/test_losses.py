"""Loss functions (minidl/ops/losses.py): values and gradients against PyTorch for every
option, closed-form cases that need no PyTorch, slow loop-based references, hypothesis
properties, dtypes, and the errors bad inputs must raise."""
import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from minidl import autograd
from registry import covers


# ------------------------------------------------------------------ helpers
def _md(a, grad=True):
    return md.tensor(a, dtype=md.float64, requires_grad=grad)


def _value_and_grads(fn, arrays, seed_grad):
    """fn's output and the gradients of sum(output * seed_grad) w.r.t. each array."""
    inputs = [_md(a) for a in arrays]
    out = fn(*inputs)
    out.backward(md.tensor(seed_grad, dtype=md.float64))
    return out.detach().numpy(), [t.grad.numpy() for t in inputs]


def _torch_value_and_grads(torch, fn, arrays, seed_grad):
    inputs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.backward(torch.tensor(seed_grad, dtype=torch.float64))
    return out.detach().numpy(), [t.grad.numpy() for t in inputs]


def _assert_matches_torch(md_fn, torch_fn, arrays, rng):
    """minidl and torch agree on the value and on the gradient of every array."""
    torch = pytest.importorskip("torch")
    out_shape = np.shape(torch_fn(*[torch.tensor(a) for a in arrays]).detach().numpy())
    seed_grad = rng.standard_normal(out_shape)
    value, grads = _value_and_grads(md_fn, arrays, seed_grad)
    want_value, want_grads = _torch_value_and_grads(torch, torch_fn, arrays, seed_grad)
    assert value.shape == want_value.shape
    np.testing.assert_allclose(value, want_value, rtol=1e-10, atol=1e-12)
    for g, want in zip(grads, want_grads):
        np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-12)


def _probs(rng, shape, dim):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis=dim, keepdims=True)


def _class_targets(rng, shape, C, ignore_index):
    t = rng.integers(0, C, shape)
    t[rng.random(shape) < 0.25] = ignore_index  # some positions are ignored
    return t


# ------------------------------------------------------------------ vs PyTorch
CLASS_SHAPES = [(5,), (6, 5), (3, 4, 5), (2, 3, 4, 2)]  # (C,), (N,C), K = 1, K = 2
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_class_indices_match_torch(shape, use_weight, ignore_index,
                                                 label_smoothing):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(hash((shape, use_weight, ignore_index)) % 2**32)
    cls = 0 if len(shape) == 1 else 1
    C = shape[cls]
    target = _class_targets(rng, shape[:cls] + shape[cls + 1:], C, ignore_index)
    if target.ndim == 0 and target == ignore_index:
        target = np.array(0)  # a 0-d ignored target gives nan; tested separately
    weight = rng.uniform(0.2, 2.0, C) if use_weight else None
    for reduction in REDUCTIONS:
        kw = dict(ignore_index=ignore_index, reduction=reduction,
                  label_smoothing=label_smoothing)
        _assert_matches_torch(
            lambda x: F.cross_entropy(x, md.tensor(target), weight=None if weight is None
                                      else md.tensor(weight, dtype=md.float64), **kw),
            lambda x: torch.nn.functional.cross_entropy(
                x, torch.tensor(target), weight=None if weight is None
                else torch.tensor(weight), **kw),
            [rng.standard_normal(shape) * 2], rng)


@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets_match_torch(shape, use_weight,
                                                       label_smoothing):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape) + 10 * use_weight)
    cls = 0 if len(shape) == 1 else 1
    weight = rng.uniform(0.2, 2.0, shape[cls]) if use_weight else None
    for reduction in REDUCTIONS:
        kw = dict(reduction=reduction, label_smoothing=label_smoothing)
        _assert_matches_torch(  # gradients flow to the logits and to the target probabilities
            lambda x, q: F.cross_entropy(x, q, weight=None if weight is None
                                         else md.tensor(weight, dtype=md.float64), **kw),
            lambda x, q: torch.nn.functional.cross_entropy(
                x, q, weight=None if weight is None else torch.tensor(weight), **kw),
            [rng.standard_normal(shape), _probs(rng, shape, cls)], rng)


@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 0])
def test_nll_loss_matches_torch(shape, use_weight, ignore_index):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    cls = 0 if len(shape) == 1 else 1
    C = shape[cls]
    target = _class_targets(rng, shape[:cls] + shape[cls + 1:], C, ignore_index)
    if target.ndim == 0:
        target = np.array(2)
    weight = rng.uniform(0.2, 2.0, C) if use_weight else None
    for reduction in REDUCTIONS:
        _assert_matches_torch(
            lambda x: F.nll_loss(x, md.tensor(target), None if weight is None else
                                 md.tensor(weight, dtype=md.float64),
                                 ignore_index=ignore_index, reduction=reduction),
            lambda x: torch.nn.functional.nll_loss(
                x, torch.tensor(target), None if weight is None else torch.tensor(weight),
                ignore_index=ignore_index, reduction=reduction),
            [rng.standard_normal(shape)], rng)


def test_all_targets_ignored_gives_nan_mean_like_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.full(3, -100)
    for fn in ("cross_entropy", "nll_loss"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ours = getattr(F, fn)(md.tensor(x), md.tensor(t)).item()
        theirs = getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(t)).item()
        assert math.isnan(ours) and math.isnan(theirs)
        assert getattr(F, fn)(md.tensor(x), md.tensor(t), reduction="sum").item() == 0


@pytest.mark.parametrize("shape, weight_shape", [((), None), ((5,), (5,)),
                                                 ((3, 4), (4,)), ((3, 4), (3, 4)),
                                                 ((2, 3, 2), (3, 1))])
def test_binary_cross_entropy_matches_torch(shape, weight_shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    weight = None if weight_shape is None else rng.uniform(0.2, 2, weight_shape)
    x, t = rng.uniform(0.02, 0.98, shape), rng.uniform(0, 1, shape)
    for reduction in REDUCTIONS:
        _assert_matches_torch(
            lambda x, t: F.binary_cross_entropy(
                x, t, None if weight is None else md.tensor(weight, dtype=md.float64),
                reduction=reduction),
            lambda x, t: torch.nn.functional.binary_cross_entropy(
                x, t, None if weight is None else torch.tensor(weight),
                reduction=reduction),
            [x, t], rng)


def test_binary_cross_entropy_at_exact_zero_and_one_matches_torch():
    """log is clamped at -100 and the gradient's denominator at 1e-12, as PyTorch."""
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 0.0, 1.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.3])
    ours = md.tensor(x, dtype=md.float64, requires_grad=True)
    loss = F.binary_cross_entropy(ours, md.tensor(t, dtype=md.float64), reduction="sum")
    loss.backward()
    theirs = torch.tensor(x, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(t),
                                             reduction="sum").backward()
    np.testing.assert_allclose(loss.item(), 200 + 2 * 0.0 + 0.6931471805599453, rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8)
    assert np.isfinite(ours.grad.numpy()).all()


@pytest.mark.parametrize("shape", [(), (6,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("pos_weight_shape", [None, (1,), "last"])
def test_binary_cross_entropy_with_logits_matches_torch(shape, use_weight,
                                                        pos_weight_shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    if pos_weight_shape == "last":
        pos_weight_shape = shape[-1:]
    elif pos_weight_shape == (1,) and shape == ():
        pytest.skip("torch cannot broadcast a (1,) pos_weight into a 0-d loss")
    weight = rng.uniform(0.2, 2, shape[-1:]) if use_weight else None
    pos = None if pos_weight_shape is None else rng.uniform(0.5, 3, pos_weight_shape)
    x = rng.standard_normal(shape) * 4
    t = rng.uniform(0, 1, shape)
    for reduction in REDUCTIONS:
        def ours(x, t):
            return F.binary_cross_entropy_with_logits(
                x, t, None if weight is None else md.tensor(weight, dtype=md.float64),
                reduction=reduction,
                pos_weight=None if pos is None else md.tensor(pos, dtype=md.float64))

        def theirs(x, t):
            return torch.nn.functional.binary_cross_entropy_with_logits(
                x, t, None if weight is None else torch.tensor(weight),
                reduction=reduction,
                pos_weight=None if pos is None else torch.tensor(pos))
        _assert_matches_torch(ours, theirs, [x, t], rng)


@pytest.mark.parametrize("dtype, rtol, atol", [(np.float32, 1e-6, 3e-6),
                                               (np.float64, 1e-12, 1e-8)])
@pytest.mark.parametrize("n", [40, 100_000])  # the kernels' serial and parallel builds
def test_bce_with_logits_as_one_op_matches_its_formula(dtype, rtol, atol, n, rng):
    """The common case (no pos_weight, one dtype) runs as one op; pos_weight=1 takes
    the reference path of softplus, products and sums. Same values and gradients
    up to rounding (sigmoid(x) - t against 1 - t - sigmoid(-x): float32's 6e-8 of
    |g|) and to softplus's linear branch past -x > 20, which drops terms < 2.1e-9."""
    x = np.concatenate([rng.standard_normal(n - 6) * 30,
                        [0.0, -25, 25, -800, 800, 1e-30]]).astype(dtype)
    t = rng.random(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    results = []
    for pos_weight in (None, md.tensor(1.0, dtype=md.float32 if dtype == np.float32
                                       else md.float64)):
        xs, ts = md.tensor(x, requires_grad=True), md.tensor(t, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(xs, ts, reduction="none",
                                                  pos_weight=pos_weight)
        loss.backward(md.tensor(g))
        assert loss.dtype == xs.dtype
        results.append([loss.detach().numpy(), xs.grad.numpy(), ts.grad.numpy()])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=rtol, atol=atol)


def test_binary_cross_entropy_with_logits_huge_logits_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([1e4, -1e4, 1e4, -1e4, 800.0, -800.0, 0.0])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.7, 0.5])
    for pos in (None, np.array([2.5])):
        _assert_matches_torch(
            lambda x, t: F.binary_cross_entropy_with_logits(
                x, t, reduction="none",
                pos_weight=None if pos is None else md.tensor(pos, dtype=md.float64)),
            lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(
                x, t, reduction="none",
                pos_weight=None if pos is None else torch.tensor(pos)),
            [x, t], np.random.default_rng(0))


REGRESSION = [  # (name, extra keyword variants)
    ("mse_loss", [{}]),
    ("l1_loss", [{}]),
    ("smooth_l1_loss", [{"beta": 1.0}, {"beta": 0.3}, {"beta": 2.5}, {"beta": 0.0}]),
    ("huber_loss", [{"delta": 1.0}, {"delta": 0.4}, {"delta": 3.0}]),
]


@pytest.mark.parametrize("name, variants", REGRESSION)
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 2)])
def test_regression_losses_match_torch(name, variants, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    x, t = rng.standard_normal(shape) * 2, rng.standard_normal(shape) * 2
    for kw, reduction in itertools.product(variants, REDUCTIONS):
        _assert_matches_torch(lambda x, t: getattr(F, name)(x, t, reduction=reduction, **kw),
                 lambda x, t: getattr(torch.nn.functional, name)(
                     x, t, reduction=reduction, **kw), [x, t], rng)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses_match_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, t, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.random((3, 4))
    for reduction in REDUCTIONS:  # mse/l1 'mean' = sum(w l)/sum(w); huber: mean(w l)
        _assert_matches_torch(lambda x, t: getattr(F, name)(x, t, reduction=reduction,
                                               weight=md.tensor(w, dtype=md.float64)),
                 lambda x, t: getattr(torch.nn.functional, name)(
                     x, t, reduction=reduction, weight=torch.tensor(w)), [x, t], rng)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_broadcast_warns_and_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((4, 1)), rng.standard_normal((4,))
    with pytest.warns(UserWarning, match=name):
        ours = getattr(F, name)(md.tensor(x), md.tensor(t))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (5,)])
def test_kl_div_matches_torch(log_target, reduction, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    x = np.log(_probs(rng, shape, -1))
    q = _probs(rng, shape, -1)
    t = np.log(q) if log_target else q
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 'mean' warns in both
        _assert_matches_torch(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
                 lambda x, t: torch.nn.functional.kl_div(x, t, reduction=reduction,
                                                         log_target=log_target),
                 [x, t], rng)


def test_kl_div_zero_target_contributes_zero():
    x = md.tensor([[-1.0, -2.0, -0.5]], dtype=md.float64, requires_grad=True)
    loss = F.kl_div(x, md.tensor([[0.0, 0.5, 0.5]], dtype=md.float64), reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(0.5 * (math.log(0.5) + 2) + 0.5 * (math.log(0.5)
                                                                          + 0.5))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, -0.5, -0.5]])


def test_kl_div_mean_warns_like_torch():
    x = md.tensor([[-1.0, -1.0]])
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, md.tensor([[0.5, 0.5]]))


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None),
                                                  (True, True), (False, True)])
def test_deprecated_size_average_and_reduce_match_torch(size_average, reduce):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    y = rng.standard_normal((4, 3))
    kw = dict(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [(F.cross_entropy(md.tensor(x), md.tensor(t), **kw),
                  torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t),
                                                    **kw)),
                 (F.mse_loss(md.tensor(x), md.tensor(y), **kw),
                  torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y), **kw))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="deprecated"):
        F.l1_loss(md.tensor(x), md.tensor(y), **kw)


def test_positional_arguments_follow_torch_order():
    """weight, size_average, ignore_index, reduce, reduction: torch's positional order."""
    x = md.tensor([[1.0, 2.0, 0.5], [0.0, 0.3, 0.1]])
    t = md.tensor([2, 1])
    by_name = F.cross_entropy(x, t, ignore_index=1, reduction="sum")
    by_position = F.cross_entropy(x, t, None, None, 1, None, "sum")
    assert by_name.item() == by_position.item()
    assert by_name.item() == pytest.approx(-F.log_softmax(x, 1).numpy()[0, 2], rel=1e-6)


# ------------------------------------------------------------------ closed forms
@pytest.mark.parametrize("shape", [(7,), (4, 7), (2, 7, 3)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.4])
def test_uniform_logits_give_log_C(shape, label_smoothing):
    cls = 0 if len(shape) == 1 else 1
    x = md.full(shape, 0.37, dtype=md.float64)
    t = md.tensor(np.random.default_rng(0).integers(0, 7, shape[:cls] + shape[cls + 1:]))
    for reduction in ("mean", "none"):
        loss = F.cross_entropy(x, t, reduction=reduction, label_smoothing=label_smoothing)
        np.testing.assert_allclose(loss.numpy(), math.log(7), rtol=1e-14)


def test_perfect_prediction_gives_zero_loss_and_gradient():
    t = np.array([3, 0, 2, 1])
    x = np.full((4, 5), -30.0)
    x[np.arange(4), t] = 30.0
    logits = md.tensor(x, dtype=md.float64, requires_grad=True)
    loss = F.cross_entropy(logits, md.tensor(t))
    loss.backward()
    assert 0 <= loss.item() < 1e-24
    assert np.abs(logits.grad.numpy()).max() < 1e-24
    sure = md.tensor([1.0, 0.0])
    assert F.binary_cross_entropy(sure, sure).item() == 0
    assert F.mse_loss(md.tensor([1.5, 2.0]), md.tensor([1.5, 2.0])).item() == 0


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    """d/dx mean_n CE(x_n, y_n) = (softmax(x) - one_hot(y)) / N, written out in numpy."""
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    logits = md.tensor(x, dtype=md.float64, requires_grad=True)
    F.cross_entropy(logits, md.tensor(t)).backward()
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    np.testing.assert_allclose(logits.grad.numpy(), (p - np.eye(4)[t]) / 5, rtol=1e-12)


def test_binary_cross_entropy_with_logits_is_exact_at_huge_logits():
    """At |x| = 1e4, e^-|x| underflows to 0 and the loss is exactly relu(+-x)."""
    for dtype in (md.float32, md.float64):
        x = md.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype, requires_grad=True)
        t = md.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype)
        loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        np.testing.assert_array_equal(loss.detach().numpy(), [0, 0, 1e4, 1e4])
        loss.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, -1])  # sigmoid(x) - t
        assert loss.dtype == dtype and x.grad.dtype == dtype
        p = md.tensor([2.0], dtype=dtype)  # pos_weight scales the positive term
        loss = F.binary_cross_entropy_with_logits(x, t, pos_weight=p, reduction="none")
        np.testing.assert_array_equal(loss.detach().numpy(), [0, 0, 1e4, 2e4])


def test_binary_cross_entropy_clamps_log_at_minus_100():
    loss = F.binary_cross_entropy(md.tensor([0.0, 1.0]), md.tensor([1.0, 0.0]),
                                  reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100, 100])


def test_regression_closed_forms():
    x, t = md.tensor([0.0, 1.0, 3.0, -2.0]), md.tensor([0.5, 1.0, 0.0, 0.0])
    # d = -0.5, 0, 3, -2
    assert F.mse_loss(x, t).item() == pytest.approx((0.25 + 9 + 4) / 4)
    assert F.l1_loss(x, t, reduction="sum").item() == pytest.approx(5.5)
    np.testing.assert_allclose(F.huber_loss(x, t, reduction="none", delta=1.0).numpy(),
                               [0.125, 0, 2.5, 1.5])
    np.testing.assert_allclose(F.smooth_l1_loss(x, t, reduction="none", beta=2.0).numpy(),
                               [0.0625, 0, 2.0, 1.0])


# ------------------------------------------------------------------ slow references
def _reference_cross_entropy(x, t, weight, ignore_index, reduction, eps):
    """PyTorch's definition, one position at a time (plain Python loops)."""
    cls = 0 if x.ndim == 1 else 1
    C = x.shape[cls]
    xs = np.moveaxis(x, cls, -1).reshape(-1, C)
    w = np.ones(C) if weight is None else weight
    losses, total = [], 0.0
    for row, y in zip(xs, t.reshape(-1)):
        if y == ignore_index:
            losses.append(0.0)
            continue
        logp = row - row.max() - math.log(sum(math.exp(v - row.max()) for v in row))
        nll = -w[y] * logp[y]
        smooth = -sum(w[c] * logp[c] for c in range(C))
        losses.append((1 - eps) * nll + eps / C * smooth)
        total += w[y]
    losses = np.array(losses).reshape(t.shape)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / total


@covers("cross_entropy")
@given(shape=st.sampled_from([(3,), (1, 3), (4, 2), (2, 3, 1), (1, 4, 2, 2)]),
       seed=st.integers(0, 2**31), use_weight=st.booleans(),
       reduction=st.sampled_from(REDUCTIONS), eps=st.sampled_from([0.0, 0.15, 1.0]),
       ignore_index=st.sampled_from([-100, 0, 2]))
def test_cross_entropy_matches_loop_reference(shape, seed, use_weight, reduction, eps,
                                              ignore_index):
    rng = np.random.default_rng(seed)
    cls = 0 if len(shape) == 1 else 1
    C = shape[cls]
    x = rng.standard_normal(shape) * 3
    t = rng.integers(0, C, shape[:cls] + shape[cls + 1:])
    if reduction == "mean" and np.all(t == ignore_index):
        t = np.zeros_like(t) + (ignore_index + 1) % C  # keep the mean defined
    weight = rng.uniform(0.1, 2.0, C) if use_weight else None
    ours = F.cross_entropy(md.tensor(x, dtype=md.float64), md.tensor(t),
                           None if weight is None else md.tensor(weight,
                                                                 dtype=md.float64),
                           ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=eps)
    want = _reference_cross_entropy(x, t, weight, ignore_index, reduction, eps)
    np.testing.assert_allclose(ours.numpy(), want, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ properties
@covers("cross_entropy", "nll_loss")
@given(n=st.integers(1, 5), C=st.integers(1, 5), seed=st.integers(0, 2**31),
       use_weight=st.booleans(), reduction=st.sampled_from(REDUCTIONS),
       ignore_index=st.sampled_from([-100, 0]))
def test_cross_entropy_is_nll_of_log_softmax(n, C, seed, use_weight, reduction,
                                             ignore_index):
    rng = np.random.default_rng(seed)
    x = md.tensor(rng.standard_normal((n, C)) * 3, dtype=md.float64)
    t = rng.integers(0, C, n)
    t[0] = C - 1  # at least one kept target when ignore_index == 0 (unless C == 1)
    t = md.tensor(t)
    w = md.tensor(rng.uniform(0.1, 2, C), dtype=md.float64) if use_weight else None
    with np.errstate(invalid="ignore"):  # C == 1: all ignored, 'mean' is 0/0 = nan
        ce = F.cross_entropy(x, t, w, ignore_index=ignore_index, reduction=reduction)
        nll = F.nll_loss(F.log_softmax(x, 1), t, w, ignore_index=ignore_index,
                         reduction=reduction)
    np.testing.assert_allclose(ce.numpy(), nll.numpy(), rtol=1e-12, equal_nan=True)


@covers("binary_cross_entropy_with_logits", "binary_cross_entropy")
@given(shape=st.sampled_from([(1,), (5,), (2, 3), (3, 1, 2)]), seed=st.integers(0, 2**31),
       reduction=st.sampled_from(REDUCTIONS))
def test_bce_with_logits_is_bce_of_sigmoid(shape, seed, reduction):
    rng = np.random.default_rng(seed)
    x = md.tensor(rng.uniform(-8, 8, shape), dtype=md.float64)  # away from saturation
    t = md.tensor(rng.uniform(0, 1, shape), dtype=md.float64)
    a = F.binary_cross_entropy_with_logits(x, t, reduction=reduction)
    b = F.binary_cross_entropy(F.sigmoid(x), t, reduction=reduction)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9)


def _loss_calls(rng):
    """(name, fn(reduction) -> loss, weights of the 'mean', or None for a plain mean)."""
    x = md.tensor(rng.standard_normal((4, 3)), dtype=md.float64)
    y = md.tensor(rng.standard_normal((4, 3)), dtype=md.float64)
    p = md.tensor(rng.uniform(0.05, 0.95, (4, 3)), dtype=md.float64)
    t = md.tensor(rng.integers(0, 3, 4))
    w = md.tensor(rng.uniform(0.1, 2, 3), dtype=md.float64)
    ew = md.tensor(rng.uniform(0.1, 2, (4, 3)), dtype=md.float64)
    return [
        ("cross_entropy", lambda r: F.cross_entropy(x, t, w, reduction=r),
         w.numpy()[t.numpy()]),
        ("cross_entropy smoothed", lambda r: F.cross_entropy(
            x, t, w, reduction=r, label_smoothing=0.3), w.numpy()[t.numpy()]),
        ("cross_entropy probs", lambda r: F.cross_entropy(x, p, reduction=r), None),
        ("nll_loss", lambda r: F.nll_loss(x, t, w, reduction=r), w.numpy()[t.numpy()]),
        ("binary_cross_entropy", lambda r: F.binary_cross_entropy(p, y.abs() / 3,
                                                                  reduction=r), None),
        ("binary_cross_entropy_with_logits", lambda r: F.binary_cross_entropy_with_logits(
            x, p, w, reduction=r, pos_weight=w), None),
        ("mse_loss", lambda r: F.mse_loss(x, y, reduction=r), None),
        ("mse_loss weighted", lambda r: F.mse_loss(x, y, reduction=r, weight=ew),
         ew.numpy()),
        ("l1_loss", lambda r: F.l1_loss(x, y, reduction=r), None),
        ("smooth_l1_loss", lambda r: F.smooth_l1_loss(x, y, reduction=r, beta=0.7), None),
        ("huber_loss", lambda r: F.huber_loss(x, y, reduction=r, delta=0.7), None),
        ("kl_div", lambda r: F.kl_div(F.log_softmax(x, 1), p, reduction=r), None),
    ]


@covers("cross_entropy", "nll_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
        "huber_loss", "kl_div")
@given(seed=st.integers(0, 2**31))
def test_sum_and_mean_reductions_agree_with_none(seed):
    for name, loss, weights in _loss_calls(np.random.default_rng(seed)):
        none = loss("none").numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # kl_div 'mean'
            mean = loss("mean").item()
        np.testing.assert_allclose(loss("sum").item(), none.sum(), rtol=1e-12,
                                   err_msg=name)
        want = none.mean() if weights is None else none.sum() / weights.sum()
        np.testing.assert_allclose(mean, want, rtol=1e-12, err_msg=name)


@covers("cross_entropy")
@given(seed=st.integers(0, 2**31), eps=st.floats(0, 1), use_weight=st.booleans())
def test_label_smoothing_equals_smoothed_probability_target(seed, eps, use_weight):
    """Class index y with smoothing eps == probability target one_hot(y) with eps."""
    rng = np.random.default_rng(seed)
    x = md.tensor(rng.standard_normal((5, 4)), dtype=md.float64)
    t = rng.integers(0, 4, 5)
    w = md.tensor(rng.uniform(0.1, 2, 4), dtype=md.float64) if use_weight else None
    for reduction in ("none", "sum") + (() if use_weight else ("mean",)):
        a = F.cross_entropy(x, md.tensor(t), w, reduction=reduction, label_smoothing=eps)
        b = F.cross_entropy(x, md.tensor(np.eye(4)[t], dtype=md.float64), w,
                            reduction=reduction, label_smoothing=eps)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ dtypes
def test_float32_models_get_float32_losses_and_gradients():
    """float32 input with float32 (or integer) targets and weights: a float32 loss. A
    float64 target promotes the loss to float64, as in PyTorch -- but the gradient
    that reaches a float32 leaf is float32 still. (Every dtype pair is checked
    against PyTorch in test_dtype_sweeps_vs_torch.py.)"""
    rng = np.random.default_rng(0)
    x = md.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    xk = md.tensor(rng.standard_normal((2, 3, 2)).astype(np.float32), requires_grad=True)
    t = md.tensor(np.array([0, 2, 1, -100]))                   # int64 targets
    w32 = md.tensor([1.0, 2.0, 0.5])                           # float32 class weight
    y32 = md.tensor(rng.random((4, 3)).astype(np.float32))     # float32 targets
    y64 = md.tensor(rng.random((4, 3)), dtype=md.float64)      # float64 targets
    y_int = md.tensor(rng.integers(0, 2, (4, 3)))              # integer targets
    losses = [
        F.cross_entropy(x, t, w32, label_smoothing=0.1),
        F.cross_entropy(x, y32, w32, label_smoothing=0.1),
        F.cross_entropy(xk, md.tensor(np.array([[0, 2], [1, 1]]))),
        F.nll_loss(x, t, w32, reduction="sum"),
        F.binary_cross_entropy(F.sigmoid(x), y32),
        F.binary_cross_entropy_with_logits(x, y32, w32, pos_weight=w32),
        F.mse_loss(x, y_int), F.l1_loss(x, y32), F.smooth_l1_loss(x, y32),
        F.huber_loss(x, y64), F.kl_div(F.log_softmax(x, 1), y32, reduction="batchmean"),
    ]
    promoted = [F.mse_loss(x, y64), F.l1_loss(x, y64), F.smooth_l1_loss(x, y64),
                F.cross_entropy(x, y64), F.kl_div(F.log_softmax(x, 1), y64, reduction="sum")]
    for loss in losses + promoted:
        assert loss.dtype == (np.float64 if loss in promoted else np.float32), loss
        x.grad = xk.grad = None
        loss.backward()
        for leaf in (x, xk):
            assert leaf.grad is None or leaf.grad.dtype == np.float32


# ------------------------------------------------------------------ efficiency
def test_cross_entropy_op_count_does_not_grow_with_batch():
    """No per-sample Python work: the same few ops run for a batch of 2 or of 64."""
    def count_ops(n):
        calls = []
        autograd._apply_hooks.append(lambda cls, args, out: calls.append(cls))
        try:
            x = md.randn(n, 10, requires_grad=True)
            t = md.tensor(np.arange(n) % 10)
            F.cross_entropy(x, t).backward()
        finally:
            autograd._apply_hooks.pop()
        return len(calls)
    assert count_ops(2) == count_ops(64) <= 20


# ------------------------------------------------------------------ errors
ALL_LOSSES = [
    ("cross_entropy", lambda **kw: F.cross_entropy(md.zeros(2, 3), md.tensor([0, 1]),
                                                   **kw)),
    ("nll_loss", lambda **kw: F.nll_loss(md.zeros(2, 3), md.tensor([0, 1]), **kw)),
    ("binary_cross_entropy", lambda **kw: F.binary_cross_entropy(
        md.full((2,), 0.5), md.ones(2), **kw)),
    ("binary_cross_entropy_with_logits", lambda **kw: F.binary_cross_entropy_with_logits(
        md.zeros(2), md.ones(2), **kw)),
    ("mse_loss", lambda **kw: F.mse_loss(md.zeros(2), md.ones(2), **kw)),
    ("l1_loss", lambda **kw: F.l1_loss(md.zeros(2), md.ones(2), **kw)),
    ("smooth_l1_loss", lambda **kw: F.smooth_l1_loss(md.zeros(2), md.ones(2), **kw)),
    ("huber_loss", lambda **kw: F.huber_loss(md.zeros(2), md.ones(2), **kw)),
    ("kl_div", lambda **kw: F.kl_div(md.zeros(2), md.ones(2), **kw)),
]


@pytest.mark.parametrize("name, call", ALL_LOSSES)
def test_bad_reduction_raises_naming_the_op(name, call):
    with pytest.raises(ValueError, match=f"{name}: reduction .*'avg'"):
        call(reduction="avg")
    if name != "kl_div":
        with pytest.raises(ValueError, match="batchmean"):
            call(reduction="batchmean")


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_out_of_range_targets_raise(fn):
    x = md.zeros(3, 4)
    with pytest.raises(IndexError, match=fr"{fn.__name__}: target value 4 .*C=4"):
        fn(x, md.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="target value -1"):
        fn(x, md.tensor([0, -1, 1]))
    with pytest.raises(IndexError, match="target value -100"):  # not the ignore_index
        fn(x, md.tensor([0, -100, 1]), ignore_index=2)
    assert np.isfinite(fn(x, md.tensor([0, -100, 1])).item())  # -100 is ignored


def test_class_target_shape_and_dtype_errors():
    x = md.zeros(3, 4)
    with pytest.raises(md.ShapeError, match=r"cross_entropy: .*shape \(3,\).*\(3, 4\).*"
                                            r"got \(2,\)"):
        F.cross_entropy(x, md.tensor([0, 1]))
    with pytest.raises(md.DTypeError, match=r"cross_entropy: class-index targets must be "
                                            r"int64.*probability targets must have the "
                                            r"input's shape \(3, 4\)"):
        F.cross_entropy(x, md.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="nll_loss: class-index targets must be int64"):
        F.nll_loss(x, md.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(md.ShapeError, match="nll_loss: class-index target"):
        F.nll_loss(md.zeros(2, 3, 4), md.tensor([[0, 1, 2], [0, 1, 2]]))
    with pytest.raises(md.ShapeError,
                       match=r"cross_entropy: weight .*\(4,\), got \(3,\)"):
        F.cross_entropy(x, md.tensor([0, 1, 2]), weight=md.ones(3))
    with pytest.raises(md.ShapeError, match="cross_entropy: input must be"):
        F.cross_entropy(md.tensor(1.0), md.tensor(0))
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing"):
        F.cross_entropy(x, md.tensor([0, 1, 2]), label_smoothing=1.5)


def test_elementwise_loss_shape_errors():
    with pytest.raises(md.ShapeError, match=r"binary_cross_entropy: target shape \(3,\) "
                                            r"must equal input shape \(3, 1\)"):
        F.binary_cross_entropy(md.full((3, 1), 0.5), md.ones(3))
    with pytest.raises(md.ShapeError, match="binary_cross_entropy_with_logits: target "):
        F.binary_cross_entropy_with_logits(md.zeros(2, 3), md.ones(3))
    with pytest.raises(md.ShapeError, match=r"mse_loss: input shape \(2, 3\) and target "
                                            r"shape \(2,\)"):
        F.mse_loss(md.zeros(2, 3), md.ones(2))
    with pytest.raises(md.ShapeError, match="l1_loss: weight must have"):
        F.l1_loss(md.zeros(2, 3), md.ones(2, 3), weight=md.ones(3))
    with pytest.raises(md.ShapeError, match="binary_cross_entropy: weight"):
        F.binary_cross_entropy(md.full((2, 3), 0.5), md.ones(2, 3), weight=md.ones(2))


def test_binary_cross_entropy_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: every input .*\[0, 1\].*"
                                         "with_logits"):
        F.binary_cross_entropy(md.tensor([0.5, 1.5]), md.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="every input"):
        F.binary_cross_entropy(md.tensor([float("nan"), 0.5]), md.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="every target"):
        F.binary_cross_entropy(md.tensor([0.5, 0.5]), md.tensor([-0.1, 1.0]))


def test_bad_beta_and_delta():
    with pytest.raises(ValueError, match="huber_loss: delta"):
        F.huber_loss(md.zeros(2), md.ones(2), delta=0.0)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta"):
        F.smooth_l1_loss(md.zeros(2), md.ones(2), beta=-1.0)
