"""batch_norm and layer_norm: against numpy references, running-statistics updates,
PyTorch (when installed), dtypes and error messages."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from registry import covers


def ref_batch_norm(x, mean, var, weight, bias, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


@st.composite
def bn_cases(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (3,), (2, 3), (1, 1)]))
    if n * int(np.prod(spatial)) == 1:
        n = 2  # training needs more than one value per channel
    affine = draw(st.booleans())
    momentum = draw(st.sampled_from([0.1, 0.5, 1.0]))
    eps = draw(st.sampled_from([1e-5, 1e-2]))
    return (n, c) + spatial, affine, momentum, eps, draw(st.integers(0, 1000))


@covers("batch_norm")
@given(bn_cases())
def test_batch_norm_training_matches_reference_and_updates_running_stats(case):
    shape, affine, momentum, eps, seed = case
    rng = np.random.default_rng(seed)
    c = shape[1]
    rm, rv = md.tensor(rng.standard_normal(c)), md.tensor(rng.uniform(0.5, 2, c))
    rm0, rv0 = rm.numpy().copy(), rv.numpy().copy()
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    x = rng.standard_normal(shape) * 3 + 1
    out = F.batch_norm(md.tensor(x), rm, rv, w if w is None else md.tensor(w),
                       b if b is None else md.tensor(b), training=True,
                       momentum=momentum, eps=eps)
    axes = (0,) + tuple(range(2, x.ndim))
    mean, var = x.mean(axes), x.var(axes)
    np.testing.assert_allclose(out.numpy(), ref_batch_norm(x, mean, var, w, b, eps),
                               rtol=1e-10, atol=1e-10)
    n = x.size // c
    np.testing.assert_allclose(rm.numpy(), (1 - momentum) * rm0 + momentum * mean)
    np.testing.assert_allclose(rv.numpy(),
                               (1 - momentum) * rv0 + momentum * var * n / (n - 1))
    assert rm._version == 1 and rv._version == 1


@covers("batch_norm")
@given(bn_cases())
def test_batch_norm_eval_uses_running_stats_and_leaves_them_alone(case):
    shape, affine, _, eps, seed = case
    rng = np.random.default_rng(seed)
    c = shape[1]
    rm, rv = md.tensor(rng.standard_normal(c)), md.tensor(rng.uniform(0.5, 2, c))
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    x = rng.standard_normal(shape)
    out = F.batch_norm(md.tensor(x), rm, rv, w if w is None else md.tensor(w),
                       b if b is None else md.tensor(b), eps=eps)
    np.testing.assert_allclose(out.numpy(),
                               ref_batch_norm(x, rm.numpy(), rv.numpy(), w, b, eps),
                               rtol=1e-10, atol=1e-10)
    assert rm._version == 0 and rv._version == 0


def test_batch_norm_training_output_is_standardized_and_gradient_sums_to_zero():
    x = md.tensor(np.random.default_rng(0).standard_normal((8, 3, 4, 4)) * 5 + 2,
                  requires_grad=True)
    out = F.batch_norm(x, None, None, training=True, eps=0.0)
    np.testing.assert_allclose(out.detach().numpy().mean((0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.detach().numpy().var((0, 2, 3)), 1, atol=1e-10)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(md.tensor(g))
    # the output does not move when x shifts per channel: gradient sums to 0 per channel
    np.testing.assert_allclose(x.grad.numpy().sum((0, 2, 3)), 0, atol=1e-10)


def test_batch_norm_is_twice_differentiable_in_both_modes():
    rng = np.random.default_rng(0)
    x = md.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = md.tensor(rng.standard_normal(2), requires_grad=True)
    assert md.gradgradcheck(lambda x, w: F.batch_norm(x, None, None, w, training=True),
                            (x, w))
    rm, rv = md.tensor(rng.standard_normal(2)), md.tensor(rng.uniform(1, 2, 2))
    assert md.gradgradcheck(lambda x, w: F.batch_norm(x, rm, rv, w) ** 2, (x, w))


@pytest.mark.parametrize("training", [True, False])
def test_float32_stays_float32(training):
    x = md.tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(
        np.float32), requires_grad=True)
    rm, rv = md.zeros(3), md.ones(3)
    w, b = md.ones(3, requires_grad=True), md.zeros(3, requires_grad=True)
    out = F.batch_norm(x, rm, rv, w, b, training=training)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert w.grad.dtype == rm.dtype == rv.dtype == np.float32
    ln = F.layer_norm(x, (2, 2))
    assert ln.dtype == np.float32


@covers("layer_norm")
@given(st.integers(1, 3), st.sampled_from([(4,), (2, 3), (1, 5)]), st.booleans(),
       st.integers(0, 100))
def test_layer_norm_matches_reference(batch, normalized, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + normalized) * 2 - 1
    w, b = (rng.standard_normal(normalized), rng.standard_normal(normalized)) \
        if affine else (None, None)
    out = F.layer_norm(md.tensor(x), normalized, w if w is None else md.tensor(w),
                       b if b is None else md.tensor(b), eps=1e-5)
    axes = tuple(range(1, x.ndim))
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    if affine:
        y = y * w + b
    np.testing.assert_allclose(out.numpy(), y, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, error, words", [
    (lambda x: F.batch_norm(x, md.zeros(4), md.ones(3), training=True), RuntimeError,
     ["batch_norm", "running_mean", "3", "4"]),
    (lambda x: F.batch_norm(x, None, None, md.ones(2), training=True), RuntimeError,
     ["batch_norm", "weight", "3", "(2,)"]),
    (lambda x: F.batch_norm(x, md.zeros(3), md.ones(3), bias=md.ones(5)), RuntimeError,
     ["bias", "5"]),
    (lambda x: F.batch_norm(x[:1], None, None, training=True), ValueError,
     ["Expected more than 1 value per channel when training", "(1, 3)"]),
    (lambda x: F.batch_norm(x, None, None), ValueError, ["running_mean", "training"]),
    (lambda x: F.batch_norm(x[0], None, None, training=True), RuntimeError,
     ["batch_norm", "(3,)"]),
    (lambda x: F.layer_norm(x, 4), RuntimeError, ["layer_norm", "(4,)", "(2, 3)"]),
    (lambda x: F.layer_norm(x, 3, md.ones(4)), RuntimeError, ["layer_norm", "weight"]),
])
def test_errors_name_the_op_and_the_rule(call, error, words):
    x = md.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    with pytest.raises(error) as info:
        call(x)
    for word in words:
        assert word in str(info.value)


# ------------------------------------------------------------------ against PyTorch
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_torch_over_several_steps(shape, affine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    c = shape[1]
    rm, rv = md.zeros(c), md.ones(c)
    trm, trv = torch.zeros(c), torch.ones(c)
    w0, b0 = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(
        np.float32)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        xm = md.tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        wm, bm = (md.tensor(w0, requires_grad=True), md.tensor(b0, requires_grad=True)) \
            if affine else (None, None)
        wt, bt = (torch.tensor(w0, requires_grad=True), torch.tensor(
            b0, requires_grad=True)) if affine else (None, None)
        out = F.batch_norm(xm, rm, rv, wm, bm, training=True, momentum=0.3)
        ref = torch.nn.functional.batch_norm(xt, trm, trv, wt, bt, training=True,
                                             momentum=0.3)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=2e-5)
        out.backward(md.tensor(g))
        ref.backward(torch.tensor(g))
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), atol=1e-4)
        if affine:
            np.testing.assert_allclose(wm.grad.numpy(), wt.grad.numpy(), atol=1e-4)
            np.testing.assert_allclose(bm.grad.numpy(), bt.grad.numpy(), atol=1e-4)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)
    x = rng.standard_normal(shape).astype(np.float32)
    wm, wt = (md.tensor(w0), torch.tensor(w0)) if affine else (None, None)
    out = F.batch_norm(md.tensor(x), rm, rv, wm, None, eps=1e-3)
    ref = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, wt, None, eps=1e-3)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-5)


def test_layer_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5))
    w, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    xm = md.tensor(x, requires_grad=True)
    wm, bm = md.tensor(w, requires_grad=True), md.tensor(b, requires_grad=True)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.layer_norm(xm, (4, 5), wm, bm)
    ref = torch.nn.functional.layer_norm(xt, (4, 5), wt, bt)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(x.shape)
    out.backward(md.tensor(g))
    ref.backward(torch.tensor(g))
    for mine, theirs in ((xm, xt), (wm, wt), (bm, bt)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), atol=1e-10)


# ------------------------------------------------------------------ nn.BatchNorm1d/2d
def test_batchnorm_layer_buffers_training_and_eval():
    bn = md.nn.BatchNorm2d(3, momentum=0.5)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == np.int64
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 2)) * 2 + 1
    out = bn(md.tensor(x.astype(np.float32)))
    np.testing.assert_allclose(out.detach().numpy().mean((0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.5 * x.mean((0, 2, 3)),
                               rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y = bn(md.tensor(x.astype(np.float32)))
    expected = ref_batch_norm(x, bn.running_mean.numpy(), bn.running_var.numpy(),
                              None, None, 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    assert bn.num_batches_tracked.item() == 1  # eval leaves the buffers alone


def test_batchnorm_layer_without_running_stats_always_uses_the_batch():
    bn = md.nn.BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    assert list(bn.state_dict()) == [] and bn.running_mean is None
    x = md.tensor(np.random.default_rng(0).standard_normal((5, 2)))
    np.testing.assert_allclose(bn(x).numpy().mean(0), 0, atol=1e-12)


def test_batchnorm_layer_momentum_none_is_a_cumulative_average():
    bn = md.nn.BatchNorm1d(2, momentum=None)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 2)).astype(np.float32) for _ in range(3)]
    for b in batches:
        bn(md.tensor(b))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)


@pytest.mark.parametrize("layer, shape", [(md.nn.BatchNorm1d, (2, 3, 4, 5)),
                                          (md.nn.BatchNorm2d, (2, 3, 4))])
def test_batchnorm_layer_rejects_wrong_rank(layer, shape):
    with pytest.raises(RuntimeError, match=r"BatchNorm.d: expected .*" +
                       str(shape).replace("(", r"\(").replace(")", r"\)")):
        layer(3)(md.zeros(shape))


@pytest.mark.parametrize("kw", [{}, dict(affine=False), dict(momentum=None),
                                dict(track_running_stats=False), dict(bias=False),
                                dict(eps=1e-3, momentum=0.2)])
@pytest.mark.parametrize("dims", [1, 2])
def test_batchnorm_layer_matches_torch_repr_state_dict_and_outputs(kw, dims):
    torch = pytest.importorskip("torch")
    mine = (md.nn.BatchNorm1d if dims == 1 else md.nn.BatchNorm2d)(3, **kw)
    theirs = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(3, **kw)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    shape = (4, 3, 5) if dims == 1 else (4, 3, 2, 3)
    for _ in range(3):  # train both on the same batches
        x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
        np.testing.assert_allclose(mine(md.tensor(x)).detach().numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(mine.state_dict()[key].numpy(), value.numpy(),
                                   rtol=1e-5, atol=1e-6)
    # load minidl's state into a fresh torch layer: eval outputs agree
    fresh = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(3, **kw)
    fresh.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                           mine.state_dict().items()})
    mine.eval(), fresh.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(mine(md.tensor(x)).detach().numpy(),
                               fresh(torch.tensor(x)).detach().numpy(), atol=1e-5)
