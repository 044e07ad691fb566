"""Property tests (hypothesis): core ops against numpy references on drawn shapes --
broadcasting and its gradients, softmax identities, shape round trips, scatter-add of
repeated indices, reductions over random dims, and non-contiguous inputs."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minidl as md
from registry import covers

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's nan notes

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)


def leaf(a):
    return md.tensor(a, dtype=md.float64, requires_grad=True)


def reduce_to(grad, shape):
    """Reference for undoing broadcasting: sum over leading axes and stretched axes."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)


# ---------------------------------------------------------------- broadcasting
# op -> (minidl op, numpy op, numpy partial derivatives (d/da, d/db) at broadcast shape)
BINARY = {
    "add": (md.add, np.add, lambda a, b: (np.ones_like(a * b), np.ones_like(a * b))),
    "sub": (md.sub, np.subtract, lambda a, b: (np.ones_like(a * b), -np.ones_like(a * b))),
    "mul": (md.mul, np.multiply, lambda a, b: (b + 0 * a, a + 0 * b)),
    "div": (md.div, np.divide, lambda a, b: (1 / b + 0 * a, -a / b**2)),
    "pow": (md.pow, np.power, lambda a, b: (b * a ** (b - 1), a**b * np.log(a))),
    "maximum": (md.maximum, np.maximum,
                lambda a, b: ((a > b) + 0.0 * b, (b > a) + 0.0 * a)),
    "minimum": (md.minimum, np.minimum,
                lambda a, b: ((a < b) + 0.0 * b, (b < a) + 0.0 * a)),
    "add alpha": (lambda a, b: md.add(a, b, alpha=-1.5), lambda a, b: a - 1.5 * b,
                  lambda a, b: (np.ones_like(a * b), np.full_like(a * b, -1.5))),
    "sub alpha": (lambda a, b: md.sub(a, b, alpha=2), lambda a, b: a - 2 * b,
                  lambda a, b: (np.ones_like(a * b), np.full_like(a * b, -2.0))),
}


@covers(*{name.split()[0] for name in BINARY})
@pytest.mark.parametrize("name", BINARY)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       seed=seeds)
def test_binary_op_broadcasts_like_numpy_and_reduces_its_gradient(name, shapes, seed):
    op, np_op, partials = BINARY[name]
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = rng.uniform(0.5, 2.0, sa)  # positive: fine for div and pow
    b = rng.uniform(0.5, 2.0, sb)
    ta, tb = leaf(a), leaf(b)
    out = op(ta, tb)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.detach().numpy(), np_op(a, b), rtol=1e-12)
    out.sum().backward()
    da, db = partials(a, b)
    np.testing.assert_allclose(ta.grad.numpy(), reduce_to(np.broadcast_to(da, out.shape), sa),
                               rtol=1e-10)
    np.testing.assert_allclose(tb.grad.numpy(), reduce_to(np.broadcast_to(db, out.shape), sb),
                               rtol=1e-10)


@covers("where")
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       seed=seeds)
def test_where_broadcasts_condition_and_both_branches(shapes, seed):
    rng = np.random.default_rng(seed)
    sc, sx, sy = shapes.input_shapes
    cond, x, y = rng.random(sc) > 0.5, rng.standard_normal(sx), rng.standard_normal(sy)
    tx, ty = leaf(x), leaf(y)
    out = md.where(md.tensor(cond), tx, ty)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(cond, x, y))
    out.sum().backward()
    full = np.broadcast_to(cond, shapes.result_shape)
    np.testing.assert_allclose(tx.grad.numpy(), reduce_to(full * 1.0, sx))
    np.testing.assert_allclose(ty.grad.numpy(), reduce_to(~full * 1.0, sy))


@covers("matmul")
@given(shapes=mutually_broadcastable_shapes(signature="(m,k),(k,n)->(m,n)", max_dims=3,
                                            max_side=3), seed=seeds)
def test_batched_matmul_broadcasts_batch_dims(shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = leaf(a), leaf(b)
    out = ta @ tb
    np.testing.assert_allclose(out.detach().numpy(), a @ b, rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(md.tensor(g, dtype=md.float64))
    ga = g @ np.swapaxes(np.broadcast_to(b, out.shape[:-2] + b.shape[-2:]), -1, -2)
    gb = np.swapaxes(np.broadcast_to(a, out.shape[:-2] + a.shape[-2:]), -1, -2) @ g
    np.testing.assert_allclose(ta.grad.numpy(), reduce_to(ga, sa), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), reduce_to(gb, sb), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- softmax family
rows = st.tuples(st.integers(1, 4), st.integers(1, 6))


@covers("softmax")
@given(shape=rows, seed=seeds, scale=st.sampled_from([1.0, 30.0, 1e4]))
def test_softmax_sums_to_one_and_is_shift_invariant(shape, seed, scale):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * scale
    shift = rng.standard_normal((shape[0], 1)) * 100
    s = md.softmax(md.tensor(x, dtype=md.float64), dim=1).numpy()
    assert np.isfinite(s).all() and (s >= 0).all()
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)
    shifted = md.softmax(md.tensor(x + shift, dtype=md.float64), dim=1).numpy()
    np.testing.assert_allclose(shifted, s, atol=1e-9)


@covers("log_softmax")
@given(shape=rows, seed=seeds, scale=st.sampled_from([1.0, 10.0, 1e4]),
       dtype=st.sampled_from([md.float32, md.float64]))
def test_log_softmax_is_log_of_softmax_and_stays_finite(shape, seed, scale, dtype):
    rng = np.random.default_rng(seed)
    x = md.tensor(rng.choice([-1.0, 1.0], shape) * scale + rng.standard_normal(shape),
                  dtype=dtype, requires_grad=True)
    ls = md.log_softmax(x, dim=-1)
    assert ls.dtype == dtype and np.isfinite(ls.detach().numpy()).all()
    with np.errstate(divide="ignore"):
        log_s = np.log(md.softmax(x, dim=-1).detach().numpy().astype(np.float64))
    finite = np.isfinite(log_s)
    tol = 1e-5 if dtype == md.float32 else 1e-9
    np.testing.assert_allclose(ls.detach().numpy()[finite], log_s[finite], rtol=tol, atol=tol)
    np.testing.assert_allclose(np.exp(ls.detach().numpy().astype(np.float64)).sum(-1), 1, rtol=tol)
    ls.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ---------------------------------------------------------------- shape round trips
@covers("permute", "transpose")
@given(data=st.data(), shape=shapes, seed=seeds)
def test_permute_and_transpose_round_trip_with_their_gradients(data, shape, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    x = leaf(x0)
    y = x.permute(perm)  # (a tuple: x.permute() with no dims raises, as in PyTorch)
    np.testing.assert_array_equal(y.detach().numpy(), np.transpose(x0, perm))
    np.testing.assert_array_equal(y.permute(tuple(np.argsort(perm))).detach().numpy(), x0)
    w = rng.standard_normal(y.shape)
    (y * md.tensor(w, dtype=md.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.transpose(w, np.argsort(perm)))
    if len(shape) >= 2:
        d0, d1 = data.draw(st.integers(0, len(shape) - 1)), -1
        np.testing.assert_array_equal(x.transpose(d0, d1).transpose(d0, d1).detach().numpy(), x0)
        np.testing.assert_array_equal(x.transpose(d0, d1).detach().numpy(), np.swapaxes(x0, d0, d1))


@covers("reshape")
@given(data=st.data(), shape=shapes, seed=seeds)
def test_reshape_round_trip_with_gradient(data, shape, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    n = x0.size
    first = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    x = leaf(x0)
    y = x.reshape(first, -1)
    assert y.shape == (first, n // first)
    np.testing.assert_array_equal(y.detach().numpy(), x0.reshape(first, -1))
    np.testing.assert_array_equal(y.reshape(shape).detach().numpy(), x0)
    w = rng.standard_normal(y.shape)
    (y.flatten() * md.tensor(w.ravel(), dtype=md.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), w.reshape(shape))


# ---------------------------------------------------------------- getitem scatter-add
@covers("getitem")
@given(n=st.integers(1, 5), data=st.data(), seed=seeds)
def test_getitem_gradient_scatter_adds_repeated_indices(n, data, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((n, 3))
    rows = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=8)))
    cols = np.array(data.draw(st.lists(st.integers(0, 2), min_size=len(rows),
                                       max_size=len(rows))))
    for index in (rows, (rows, cols), (slice(None, None, 2), cols)):
        x = leaf(x0)
        y = x[index]
        np.testing.assert_array_equal(y.detach().numpy(), x0[index])
        w = rng.standard_normal(y.shape)
        (y * md.tensor(w, dtype=md.float64)).sum().backward()
        expected = np.zeros_like(x0)
        np.add.at(expected, index, w)
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


@covers("getitem")
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=seeds)
def test_getitem_with_a_bool_mask(shape, seed):
    rng = np.random.default_rng(seed)
    x0, mask = rng.standard_normal(shape), rng.random(shape) > 0.5
    x = leaf(x0)
    y = x[md.tensor(mask)]
    np.testing.assert_array_equal(y.detach().numpy(), x0[mask])
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2.0 * mask)


# ---------------------------------------------------------------- reductions
def np_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCTIONS = {
    "sum": (lambda t, d, k: t.sum(d, keepdim=k), np.sum),
    "mean": (lambda t, d, k: t.mean(d, keepdim=k), np.mean),
    "var": (lambda t, d, k: t.var(d, keepdim=k), lambda x, axis, keepdims:
            np.var(x, axis=axis, keepdims=keepdims, ddof=1)),
    "var_biased": (lambda t, d, k: t.var(d, unbiased=False, keepdim=k), np.var),
    "std": (lambda t, d, k: t.std(d, keepdim=k), lambda x, axis, keepdims:
            np.std(x, axis=axis, keepdims=keepdims, ddof=1)),
    "amax": (lambda t, d, k: t.amax(d, keepdim=k), np.max),
    "amin": (lambda t, d, k: t.amin(d, keepdim=k), np.min),
    "logsumexp": (lambda t, d, k: t.logsumexp(d, keepdim=k), np_logsumexp),
}


@covers("sum", "mean", "var", "std", "amax", "amin", "logsumexp")
@pytest.mark.parametrize("name", REDUCTIONS)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
       data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_reductions_match_numpy_over_random_dims(name, shape, data, keepdim, seed):
    ours, ref = REDUCTIONS[name]
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    neg = data.draw(st.booleans())  # negative dims must work as well
    dims = tuple(a - len(shape) if neg else a for a in axes)
    x0 = np.random.default_rng(seed).standard_normal(shape)
    x = leaf(x0)
    out = ours(x, dims if len(dims) > 1 else dims[0], keepdim)
    expected = ref(x0, axis=tuple(axes), keepdims=keepdim)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


@covers("sum", "mean", "amax")
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seed=seeds)
def test_full_reductions_and_their_gradients(shape, seed):
    x0 = np.random.default_rng(seed).standard_normal(shape)
    x = leaf(x0)
    (x.sum() + x.mean() * 2 + x.amax()).backward()
    hit = (x0 == x0.max()) / (x0 == x0.max()).sum()
    np.testing.assert_allclose(x.grad.numpy(), 1 + 2 / x0.size + hit, rtol=1e-12)


# ---------------------------------------------------------------- non-contiguous inputs
views = st.sampled_from(["transposed", "strided", "reversed", "broadcast"])


def make_view(rng, kind):
    base = rng.standard_normal((4, 6))
    return {"transposed": base.T, "strided": base[::2, 1::2],
            "reversed": base[::-1, ::-2],
            "broadcast": np.broadcast_to(base[:1], (3, 6))}[kind]


@covers("softmax", "matmul", "sum", "exp", "transpose", "reshape", "getitem", "var",
        "relu", "cat", "pad")
@given(kind=views, seed=seeds)
def test_ops_on_non_contiguous_inputs_match_contiguous_copies(kind, seed):
    rng = np.random.default_rng(seed)
    view = make_view(rng, kind)
    copy = np.ascontiguousarray(view)
    w = rng.standard_normal((view.shape[1], 2))
    results = []
    for arr in (view, copy):
        x = md.from_numpy(arr).requires_grad_()
        assert x.shape == view.shape
        outs = [md.softmax(x, 1), x @ md.tensor(w, dtype=md.float64), x.sum(0),
                x.exp(), x.T.reshape(-1), x[:, 1::2], x.var(1), md.relu(x),
                md.cat([x, x], 1), md.pad(x, (1, 1))]
        sum((o * o).sum() for o in outs).backward()
        results.append(([o.detach().numpy().copy() for o in outs], x.grad.numpy().copy()))
    (outs_view, grad_view), (outs_copy, grad_copy) = results
    for a, b in zip(outs_view, outs_copy):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_view, grad_copy, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(view, copy)  # the input itself was not written to
