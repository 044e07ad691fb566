"""Property tests (hypothesis) for the ops test_properties.py does not reach:
elementwise functions and their derivatives against numpy formulas (float32 and
float64, non-contiguous inputs), the reshape family, expand / sum_to, cat and stack,
max / min / argmax / argmin with ties, clone and cast, and dropout's masks."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from registry import covers

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)
dtypes = st.sampled_from([np.float32, np.float64])


def leaf(a, dtype=np.float64):
    return md.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def weighted_backward(y, rng):
    """Backward of sum(y * w) for a random w; returns w (= dL/dy)."""
    w = rng.standard_normal(y.shape)
    (y * md.tensor(w, dtype=y.dtype)).sum().backward()
    return w


# ---------------------------------------------------------------- elementwise functions
def sig(x):
    return 1 / (1 + np.exp(-x))


erf = np.vectorize(math.erf, otypes=[float])
phi = lambda x: np.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
GELU_TANH = lambda x: np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))  # noqa: E731

# name -> (minidl op, numpy f, numpy f', domain); domains keep clear of kinks and bounds
UNARY = {
    "neg": (md.neg, np.negative, lambda x: -np.ones_like(x), "real"),
    "log": (md.log, np.log, lambda x: 1 / x, "positive"),
    "sqrt": (md.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x), "positive"),
    "abs": (md.abs, np.abs, np.sign, "nonzero"),
    "clamp": (lambda t: md.clamp(t, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
              lambda x: ((x > -0.5) & (x < 0.7)) * 1.0, "clamp"),
    "clip": (lambda t: md.clip(t, min=-0.5), lambda x: np.maximum(x, -0.5),
             lambda x: (x > -0.5) * 1.0, "clamp"),
    "leaky_relu": (lambda t: md.leaky_relu(t, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   lambda x: np.where(x > 0, 1.0, 0.1), "nonzero"),
    "elu": (md.elu, lambda x: np.where(x > 0, x, np.expm1(x)),
            lambda x: np.where(x > 0, 1.0, np.exp(x)), "nonzero"),
    "sigmoid": (md.sigmoid, sig, lambda x: sig(x) * (1 - sig(x)), "real"),
    "tanh": (md.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2, "real"),
    "erf": (md.erf, erf, lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x), "real"),
    "softplus": (lambda t: md.softplus(t, beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2,
                 lambda x: sig(2 * x), "real"),
    "silu": (md.silu, lambda x: x * sig(x), lambda x: sig(x) * (1 + x * (1 - sig(x))),
             "real"),
    "gelu": (md.gelu, lambda x: x * (1 + erf(x / math.sqrt(2))) / 2,
             lambda x: (1 + erf(x / math.sqrt(2))) / 2 + x * phi(x), "real"),
    "gelu_tanh": (lambda t: md.gelu(t, approximate="tanh"),
                  lambda x: x * (1 + GELU_TANH(x)) / 2,
                  lambda x: (1 + GELU_TANH(x)) / 2 + x / 2 * (1 - GELU_TANH(x) ** 2)
                  * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x), "real"),
}


def draw_domain(rng, shape, domain):
    x = rng.uniform(-3, 3, shape)
    if domain == "positive":
        return rng.uniform(0.1, 3, shape)
    if domain == "nonzero":
        return np.where(np.abs(x) < 0.05, 0.05, x)
    if domain == "clamp":  # away from the bounds -0.5 and 0.7
        return np.where(np.abs(x + 0.5) < 0.05, -0.6, np.where(np.abs(x - 0.7) < 0.05, 0.8, x))
    return x


@covers("neg", "log", "sqrt", "abs", "clamp", "clip", "leaky_relu", "elu", "sigmoid",
        "tanh", "erf", "softplus", "silu", "gelu")
@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=seeds, dtype=dtypes, transposed=st.booleans())
def test_elementwise_op_and_its_derivative_match_numpy(name, shape, seed, dtype,
                                                       transposed):
    op, f, df, domain = UNARY[name]
    rng = np.random.default_rng(seed)
    x0 = draw_domain(rng, shape, domain).astype(dtype)
    if transposed:  # a non-contiguous view
        x0 = x0.T
    x = md.from_numpy(x0).requires_grad_()
    y = op(x)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10,
                                                                       atol=1e-12)
    assert y.dtype == dtype and y.shape == x0.shape
    np.testing.assert_allclose(y.detach().numpy(), f(x0.astype(np.float64)), **tol)
    w = weighted_backward(y, rng)
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.numpy(), w * df(x0.astype(np.float64)), **tol)


# ---------------------------------------------------------------- the reshape family
@covers("view", "flatten", "squeeze", "unsqueeze")
@given(shape=shapes, data=st.data(), seed=seeds)
def test_reshape_family_matches_numpy_and_routes_gradients_back(shape, data, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    n = max(len(shape), 1)
    start = data.draw(st.integers(-n, n - 1))
    end = data.draw(st.integers(start % n, n - 1))
    size_one = [i for i, s in enumerate(shape) if s == 1]
    cases = [
        (lambda x: md.view(x, -1), x0.reshape(-1)),
        (lambda x: md.flatten(x, start, end), x0.reshape(
            shape[:start % n] + (-1,) + shape[end + 1:]) if shape else x0.reshape(1)),
        (md.squeeze, np.squeeze(x0)),
        (lambda x: md.unsqueeze(x, -1), x0[..., None]),
        (lambda x: md.unsqueeze(x, 0), x0[None]),
    ]
    if size_one:
        d = data.draw(st.sampled_from(size_one))
        cases.append((lambda x: md.squeeze(x, d), np.squeeze(x0, d)))
    for op, expected in cases:
        x = leaf(x0)
        y = op(x)
        np.testing.assert_array_equal(y.detach().numpy(), expected)
        w = weighted_backward(y, rng)
        np.testing.assert_array_equal(x.grad.numpy(), w.reshape(shape))


# ---------------------------------------------------------------- expand and sum_to
def reduce_to(a, shape):
    """Reference for sum_to: sum over the leading axes and the axes of size 1."""
    a = a.sum(axis=tuple(range(a.ndim - len(shape))))
    return a.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1 and a.shape[i] != 1),
                 keepdims=True)


@st.composite
def small_and_big_shapes(draw):
    """(small, big): small broadcasts to big (fewer dims, or 1 where big is not)."""
    big = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple))
    lead = draw(st.integers(0, len(big)))
    small = tuple(1 if draw(st.booleans()) else s for s in big[lead:])
    return small, big


@covers("expand", "sum_to")
@given(shapes=small_and_big_shapes(), seed=seeds)
def test_expand_and_sum_to_are_each_others_adjoint(shapes, seed):
    small, big = shapes
    rng = np.random.default_rng(seed)
    s0, b0 = rng.standard_normal(small), rng.standard_normal(big)
    s = leaf(s0)
    expanded = md.expand(s, big)
    np.testing.assert_array_equal(expanded.detach().numpy(), np.broadcast_to(s0, big))
    w = weighted_backward(expanded, rng)
    np.testing.assert_allclose(s.grad.numpy(), reduce_to(w, small), rtol=1e-12)
    b = leaf(b0)
    summed = md.sum_to(b, small)
    np.testing.assert_allclose(summed.detach().numpy(), reduce_to(b0, small), rtol=1e-12)
    w = weighted_backward(summed, rng)
    np.testing.assert_array_equal(b.grad.numpy(), np.broadcast_to(w, big))


# ---------------------------------------------------------------- cat and stack
@covers("concatenate", "stack")
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
       sizes=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data(),
       seed=seeds)
def test_concatenate_and_stack_match_numpy_and_split_the_gradient(shape, sizes, data,
                                                                  seed):
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    parts = [rng.standard_normal(shape[:d % len(shape)] + (k,) + shape[d % len(shape) + 1:])
             for k in sizes]
    xs = [leaf(p) for p in parts]
    y = md.concatenate(xs, d)
    np.testing.assert_array_equal(y.detach().numpy(), np.concatenate(parts, d))
    w = weighted_backward(y, rng)
    for x, gw in zip(xs, np.split(w, np.cumsum(sizes)[:-1], axis=d)):
        np.testing.assert_array_equal(x.grad.numpy(), gw)

    same = [rng.standard_normal(shape) for _ in sizes]
    ds = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [leaf(p) for p in same]
    y = md.stack(xs, ds)
    np.testing.assert_array_equal(y.detach().numpy(), np.stack(same, ds))
    w = weighted_backward(y, rng)
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(x.grad.numpy(), np.take(w, i, axis=ds))


# ---------------------------------------------------------------- max / min with ties
@covers("max", "min", "argmax", "argmin")
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_max_and_min_over_a_dim_pick_the_first_extremum_and_send_it_the_gradient(
        shape, data, keepdim, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.integers(0, 3, shape).astype(np.float64)  # few values: many ties
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    for reduce, np_value, np_index, arg in ((md.max, np.max, np.argmax, md.argmax),
                                           (md.min, np.min, np.argmin, md.argmin)):
        x = leaf(x0)
        values, indices = reduce(x, dim, keepdim)
        want = np_index(x0, axis=dim)
        np.testing.assert_array_equal(values.detach().numpy(), np_value(x0, axis=dim,
                                                               keepdims=keepdim))
        np.testing.assert_array_equal(indices.numpy(), np.expand_dims(want, dim)
                                      if keepdim else want)
        np.testing.assert_array_equal(arg(x, dim).numpy(), want)
        assert arg(x).item() == np_index(x0)
        w = weighted_backward(values, rng)
        expected = np.zeros_like(x0)
        np.put_along_axis(expected, np.expand_dims(want, dim),
                          w if keepdim else np.expand_dims(w, dim), axis=dim)
        np.testing.assert_array_equal(x.grad.numpy(), expected)


# ---------------------------------------------------------------- clone and cast
@covers("clone", "cast")
@given(shape=shapes, seed=seeds, dtype=dtypes)
def test_clone_copies_and_cast_converts_with_identity_gradients(shape, seed, dtype):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    x = leaf(x0)
    c = md.clone(x)
    np.testing.assert_array_equal(c.detach().numpy(), x0)
    assert not np.shares_memory(c.detach().numpy(), x.detach().numpy())
    w = weighted_backward(c, rng)
    np.testing.assert_array_equal(x.grad.numpy(), w)

    x = leaf(x0)
    y = md.cast(x, dtype)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.detach().numpy(), x0.astype(dtype))
    w = weighted_backward(y, rng)
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), w.astype(dtype).astype(np.float64))


# ---------------------------------------------------------------- dropout masks
# op -> the axes along which its mask is constant, for 4-d input (N, C, H, W); for
# dropout3d 4-d input is one unbatched (C, D, H, W) sample
DROPOUTS = {"dropout": (), "dropout2d": (2, 3), "dropout3d": (1, 2, 3)}
ALPHA_DROPOUTS = {"alpha_dropout": (), "feature_alpha_dropout": (2, 3)}


@covers(*DROPOUTS, "dropout1d")
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
                       st.integers(1, 3)),
       p=st.sampled_from([0.0, 0.25, 0.5, 0.9]), seed=seeds)
def test_dropout_keeps_or_zeroes_each_value_or_plane_and_scales_by_1_over_1_minus_p(
        shape, p, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0.5, 2, shape) * rng.choice([-1, 1], shape)  # no zeros in x
    cases = [(getattr(F, name), x0, axes) for name, axes in DROPOUTS.items()]
    cases.append((F.dropout1d, x0[0], (2,)))  # (N, C, L)
    for op, x0, axes in cases:
        x = leaf(x0)
        y = op(x, p)
        kept = y.detach().numpy() != 0
        np.testing.assert_allclose(y.detach().numpy()[kept], x0[kept] / (1 - p), rtol=1e-12)
        if axes:  # whole planes are kept or dropped together
            assert (kept.all(axis=axes) | ~kept.any(axis=axes)).all()
        if p == 0:
            assert kept.all()
        w = weighted_backward(y, rng)
        np.testing.assert_allclose(x.grad.numpy(), w * kept / (1 - p), rtol=1e-12)
        np.testing.assert_array_equal(op(x, p, training=False).detach().numpy(), x0)


@covers(*ALPHA_DROPOUTS)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
                       st.integers(1, 3)),
       p=st.sampled_from([0.25, 0.5, 0.9]), seed=seeds)
def test_alpha_dropout_is_an_affine_map_of_the_kept_values(shape, p, seed):
    """y = a x + a ALPHA p where kept, -a ALPHA (1 - p) where dropped (a constant),
    with a = 1 / sqrt((ALPHA^2 p + 1)(1 - p)); the gradient is a where kept, else 0."""
    from minidl.ops.dropout import ALPHA
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0.5, 2, shape)  # (> 0: a kept value never equals a dropped one)
    a = 1 / np.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    for name, axes in ALPHA_DROPOUTS.items():
        x = leaf(x0)
        y = getattr(F, name)(x, p, training=True)
        out = y.detach().numpy()
        kept = out > -a * ALPHA * (1 - p) + 1e-12
        np.testing.assert_allclose(out[kept], a * x0[kept] + a * ALPHA * p, rtol=1e-12)
        np.testing.assert_allclose(out[~kept], -a * ALPHA * (1 - p), rtol=1e-12)
        if axes:
            assert (kept.all(axis=axes) | ~kept.any(axis=axes)).all()
        w = weighted_backward(y, rng)
        np.testing.assert_allclose(x.grad.numpy(), w * kept * a, rtol=1e-12)
        assert getattr(F, name)(x, p) is x  # (training=False by default, as in PyTorch)
