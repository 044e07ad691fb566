"""Property tests (hypothesis) for minidl/ops/scan.py and product.py, and the paired
reductions std_mean / var_mean: values against plain-loop references, and gradients
against the Jacobian written out element by element -- for inputs with zeros and
ties too, where the fast formulas need care."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
from registry import covers
from test_properties_extra import leaf

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def lines(shape, d):
    """Index tuples of every 1-D line along dim d (a slow loop over the slices)."""
    others = [range(n) if i != d else [slice(None)] for i, n in enumerate(shape)]
    return list(itertools.product(*others))


def few_values(rng, shape):
    """Small integers with zeros and ties (and a NaN now and then)."""
    return rng.integers(-2, 3, shape).astype(np.float64)


@covers("cumsum", "cumprod")
@given(shape=shapes, seed=seeds, data=st.data())
def test_cumsum_and_cumprod_match_loops_and_the_written_out_jacobian(shape, seed, data):
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    x0 = few_values(rng, shape)  # zeros included: cumprod's hard case
    for op, step in ((md.cumsum, lambda acc, v: acc + v), (md.cumprod, lambda acc, v: acc * v)):
        x = leaf(x0)
        y = op(x, d)
        w = rng.standard_normal(shape)
        (y * md.tensor(w)).sum().backward()
        for line in lines(shape, d % len(shape)):
            xs, ws = x0[line], w[line]
            acc, want = None, []
            for v in xs:
                acc = v if acc is None else step(acc, v)
                want.append(acc)
            np.testing.assert_allclose(y.detach().numpy()[line], want, rtol=1e-12)
            # dL/dx[k] = sum_{j >= k} w[j] * d y[j] / d x[k]
            for k in range(len(xs)):
                if op is md.cumsum:
                    expect = ws[k:].sum()
                else:
                    expect = sum(ws[j] * np.prod(np.delete(xs[:j + 1], k))
                                 for j in range(k, len(xs)))
                np.testing.assert_allclose(x.grad.numpy()[line][k], expect, atol=1e-10)


@covers("cumsum", "cumprod")
@given(seed=seeds)
def test_integer_scans_accumulate_in_int64_unless_a_dtype_is_given(seed):
    x0 = np.random.default_rng(seed).integers(-3, 4, (5,)).astype(np.int32)
    for op, ref in ((md.cumsum, np.cumsum), (md.cumprod, np.cumprod)):
        y = op(md.tensor(x0), 0)
        assert y.dtype == np.int64 and np.array_equal(y.numpy(), ref(x0))
        assert op(md.tensor(x0), 0, dtype=md.float64).dtype == np.float64
        assert op(md.tensor(x0 > 0), -1).dtype == np.int64


@covers("cummax", "cummin")
@given(shape=shapes, seed=seeds, data=st.data(), nans=st.booleans())
def test_cummax_and_cummin_pick_the_last_of_tied_extrema(shape, seed, data, nans):
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(0, len(shape) - 1))
    x0 = few_values(rng, shape)
    if nans:
        x0[rng.random(shape) < 0.2] = np.nan
    for op, better in ((md.cummax, np.greater_equal), (md.cummin, np.less_equal)):
        x = leaf(x0)
        values, indices = op(x, d)
        assert indices.dtype == np.int64
        w = rng.standard_normal(shape)
        (values * md.tensor(w)).sum().backward()
        expected_grad = np.zeros(shape)
        for line in lines(shape, d):
            best, at = None, 0
            for j, v in enumerate(x0[line]):  # a NaN wins and stays; ties: the later
                if np.isnan(v) or (best is not None and not np.isnan(best) and
                                   better(v, best)) or best is None:
                    best, at = v, j
                np.testing.assert_equal(values.detach().numpy()[line][j], best)
                assert indices.numpy()[line][j] == at
                expected_grad[line][at] += w[line][j]
        np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-12)


@covers("logcumsumexp")
@given(shape=shapes, seed=seeds, data=st.data(), scale=st.sampled_from([1.0, 50.0]))
def test_logcumsumexp_is_log_of_cumsum_of_exp(shape, seed, data, scale):
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(0, len(shape) - 1))
    x0 = rng.standard_normal(shape) * scale
    x = leaf(x0)
    y = md.logcumsumexp(x, d)
    m = x0.max()  # reference in a shifted frame, exact enough for moderate scales
    expected = np.log(np.cumsum(np.exp(x0 - m), axis=d)) + m
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-10, atol=1e-10)
    w = rng.standard_normal(shape)
    (y * md.tensor(w)).sum().backward()
    grad = np.zeros(shape)  # d y[j] / d x[i] = exp(x[i] - y[j]) for i <= j
    for line in lines(shape, d):
        xs, ys, ws = x0[line], expected[line], w[line]
        grad[line] = [sum(ws[j] * np.exp(xs[i] - ys[j]) for j in range(i, len(xs)))
                      for i in range(len(xs))]
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-8, atol=1e-10)


@covers("prod")
@given(shape=shapes, seed=seeds, data=st.data(), keepdim=st.booleans())
def test_prod_and_its_gradient_the_product_of_the_others(shape, seed, data, keepdim):
    rng = np.random.default_rng(seed)
    x0 = few_values(rng, shape)  # no zero, one zero or several per slice
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    x = leaf(x0)
    y = md.prod(x, dim, keepdim) if dim is not None else md.prod(x)
    expected = np.prod(x0, axis=dim, keepdims=keepdim and dim is not None)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12)
    w = rng.standard_normal(y.shape)
    (y * md.tensor(w)).sum().backward()
    axis = None if dim is None else dim % len(shape)
    kept = np.prod(x0, axis=axis, keepdims=True).shape
    w_full = np.broadcast_to(w.reshape(kept), shape)  # dL/dy of each x's slice
    grad = np.zeros(shape)
    for line in ([(slice(None),) * len(shape)] if axis is None else lines(shape, axis)):
        xs = x0[line].ravel()
        others = np.array([np.prod(np.delete(xs, k)) for k in range(len(xs))])
        grad[line] = (others * w_full[line].ravel()).reshape(x0[line].shape)
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-12, atol=1e-12)
    assert md.prod(md.tensor(x0.astype(np.int32))).dtype == np.int64


@covers("std_mean", "var_mean")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # N - correction <= 0: inf, NaN
@given(shape=shapes, seed=seeds, data=st.data(), keepdim=st.booleans(),
       correction=st.sampled_from([0, 1, 2]))
def test_std_mean_and_var_mean_are_std_var_and_mean(shape, seed, data, keepdim, correction):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    dims = data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1).map(tuple))
    n = int(np.prod([shape[i] for i in dims]))
    v, m = md.var_mean(md.tensor(x0), dims, keepdim=keepdim, correction=correction)
    s, m2 = md.std_mean(md.tensor(x0), dims, keepdim=keepdim, correction=correction)
    with np.errstate(divide="ignore", invalid="ignore"):
        want_v = np.var(x0, axis=dims, keepdims=keepdim) * n / max(n - correction, 0)
    np.testing.assert_allclose(v.numpy(), want_v, rtol=1e-10)
    np.testing.assert_allclose(s.numpy(), np.sqrt(want_v), rtol=1e-10)
    np.testing.assert_allclose(m.numpy(), np.mean(x0, axis=dims, keepdims=keepdim),
                               rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(m.numpy(), m2.numpy())
