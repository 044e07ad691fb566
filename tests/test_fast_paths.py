"""The training step's fast paths (issue 13), each against the reference it replaces:

  * batch_norm's backward as one kernel (plain backward) against its Tensor-op
    formula (the path create_graph=True takes);
  * big +, -, * results written into recycled arrays: the same numbers, and no two
    live results share memory;
  * .grad taking the engine's gradient array when nothing else holds it, and a copy
    whenever anything else could see it (a hook, another leaf, the caller's array);
  * nll_loss's (and cross_entropy's) default mean as one op against the chain of ops.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from minidl import autograd

seeds = st.integers(0, 2**16)


# ------------------------------------------------------------------ batch_norm
def _bn_grads(x, w, b, g, create_graph):
    inputs = [t for t in (x, w, b) if t is not None and t.requires_grad]
    y = F.batch_norm(x, None, None, w, b, training=True)
    return autograd.grad(y, inputs, g, create_graph=create_graph)


@given(seed=seeds, shape=st.sampled_from([(5, 3), (4, 2, 3), (3, 4, 2, 5), (2, 1, 3, 3)]),
       affine=st.booleans(), x_grad=st.booleans())
def test_batch_norm_kernel_backward_is_the_tensor_formula(seed, shape, affine, x_grad):
    rng = np.random.default_rng(seed)
    x = md.tensor(rng.standard_normal(shape) * 3 + 1, requires_grad=x_grad)
    c = shape[1]
    w = md.tensor(rng.standard_normal(c), requires_grad=True) if affine else None
    b = md.tensor(rng.standard_normal(c), requires_grad=True) if affine else None
    if not (x_grad or affine):
        return
    g = md.tensor(rng.standard_normal(shape))
    fast = _bn_grads(x, w, b, g, create_graph=False)
    reference = _bn_grads(x, w, b, g, create_graph=True)
    for f, r in zip(fast, reference):
        np.testing.assert_allclose(f.numpy(), r.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_kernel_backward_in_float32_and_with_a_broadcast_gradient():
    x = md.randn(8, 4, 5, 5, requires_grad=True)
    w, b = md.randn(4, requires_grad=True), md.randn(4, requires_grad=True)
    y = F.batch_norm(x, None, None, w, b, training=True)
    g = md.ones(1).expand(*y.shape)  # a non-contiguous gradient, as from y.sum()
    fast = autograd.grad(y, [x, w, b], g, retain_graph=True)
    reference = autograd.grad(y, [x, w, b], g, create_graph=True)
    for f, r in zip(fast, reference):
        assert f.dtype == md.float32
        np.testing.assert_allclose(f.numpy(), r.detach().numpy(), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ binned + - *
@pytest.mark.parametrize("op", [np.add, np.subtract, np.multiply])
@pytest.mark.parametrize("shapes", [((300, 200), (300, 200)), ((300, 200), (200,)),
                                    ((300, 1), (1, 200)), ((300, 200), ())])
def test_big_results_are_numpys_and_never_share_memory(op, shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    fn = {np.add: lambda x, y: x + y, np.subtract: lambda x, y: x - y,
          np.multiply: lambda x, y: x * y}[op]
    first, second = fn(md.tensor(a), md.tensor(b)), fn(md.tensor(a), md.tensor(b))
    np.testing.assert_array_equal(first.numpy(), op(a, b))
    np.testing.assert_array_equal(second.numpy(), op(a, b))
    assert not np.shares_memory(first.numpy(), second.numpy())
    first.numpy()[...] = 0  # editing one result leaves the other alone
    np.testing.assert_array_equal(second.numpy(), op(a, b))


# ------------------------------------------------------------------ .grad ownership
def test_grad_is_the_engines_array_only_when_nothing_else_holds_it():
    a = md.randn(300, 300, requires_grad=True)
    b = md.randn(300, 300, requires_grad=True)
    (a + b).sum().backward()  # Add's backward sends one gradient to both leaves
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.numpy()[...] += 1
    np.testing.assert_array_equal(b.grad.numpy(), 1)

    seen = []
    a.grad = None
    handle = a.register_hook(lambda g: seen.append(g))  # a hook keeps the gradient
    (a * 2).sum().backward()
    handle.remove()
    assert not np.shares_memory(seen[0].numpy(), a.grad.numpy())
    a.grad.numpy()[...] = 0
    np.testing.assert_array_equal(seen[0].numpy(), 2)

    mine = np.ones((300, 300), np.float32)  # a gradient the caller passes in and keeps
    a.grad = None
    (a + 0).backward(mine)
    assert not np.shares_memory(a.grad.numpy(), mine)


def test_grad_takes_the_gradient_nobody_else_holds(monkeypatch):
    taken = []
    accumulate = md.Tensor._accumulate_grad

    def spy(t, g, create_graph, engine_only=False):
        accumulate(t, g, create_graph, engine_only)
        taken.append(t.grad.numpy() is g.numpy())
    monkeypatch.setattr(md.Tensor, "_accumulate_grad", spy)
    w, x = md.randn(300, 300, requires_grad=True), md.randn(300, 300)
    (w * x).sum().backward()
    assert taken == [True]


def test_grads_accumulate_into_taken_arrays_without_touching_anything_else():
    w, x = md.randn(300, 300, requires_grad=True), md.randn(300, 300)
    (w * x).sum().backward()
    (w * x).sum().backward()  # the second backward adds into the first .grad
    np.testing.assert_allclose(w.grad.numpy(), 2 * x.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(x.numpy(), x.numpy().copy())


# ------------------------------------------------------------------ nll_loss's mean
def _term_by_term(x, classes, kept, w, weighted, reduction):
    from minidl.ops import losses
    picked = -losses._pick(x, classes) * w
    return losses._reduce_classes(losses._kept_only(picked, kept), reduction, kept, w)


@pytest.mark.parametrize("shape", [(32, 10), (10,), (4, 5, 3, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_nll_mean_op_gives_the_term_by_term_bits(monkeypatch, shape, dtype, ignore_index):
    """cross_entropy's default reduction as one op (NllMean): the same loss, gradient
    and second derivative, bit for bit, as the chain of ops it replaces."""
    from minidl.ops import losses
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = md.tensor(rng.integers(0, shape[1] if len(shape) > 1 else shape[0],
                               shape[:1] + shape[2:] if len(shape) > 1 else ()))
    results = []
    for nll in (losses._class_nll, _term_by_term):
        monkeypatch.setattr(losses, "_class_nll", nll)
        xt = md.tensor(x, requires_grad=True)
        loss = F.cross_entropy(xt, t, ignore_index=ignore_index)
        assert (loss.grad_fn.function is losses.NllMean) == (nll is not _term_by_term)
        g, = autograd.grad(loss, xt, create_graph=True)
        gg, = autograd.grad((g * g).sum(), xt)
        results.append([a.detach().numpy() for a in (loss, g, gg)])
    for fast, reference in zip(*results):
        np.testing.assert_array_equal(fast, reference)
