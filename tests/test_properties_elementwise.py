"""Property tests (hypothesis) for minidl/ops/elementwise.py, division.py and
logical.py: each function and its derivative against numpy formulas (float32 and
float64, non-contiguous inputs), the zero gradient of the step functions, the
division identities against Python's own // and % on integers, and the logical ops
and any/all against numpy."""
import math
import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
from registry import covers
from test_properties_extra import leaf, weighted_backward

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's nan notes

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
dtypes = st.sampled_from([np.float32, np.float64])


# name -> (op, f, f', low, high): values drawn in [low, high]
UNARY = {
    "sin": (md.sin, np.sin, np.cos, -4, 4),
    "cos": (md.cos, np.cos, lambda x: -np.sin(x), -4, 4),
    "tan": (md.tan, np.tan, lambda x: 1 / np.cos(x) ** 2, -1.4, 1.4),
    "asin": (md.asin, np.arcsin, lambda x: 1 / np.sqrt(1 - x * x), -0.95, 0.95),
    "acos": (md.acos, np.arccos, lambda x: -1 / np.sqrt(1 - x * x), -0.95, 0.95),
    "atan": (md.atan, np.arctan, lambda x: 1 / (1 + x * x), -5, 5),
    "sinh": (md.sinh, np.sinh, np.cosh, -3, 3),
    "cosh": (md.cosh, np.cosh, np.sinh, -3, 3),
    "asinh": (md.asinh, np.arcsinh, lambda x: 1 / np.sqrt(x * x + 1), -5, 5),
    "acosh": (md.acosh, np.arccosh, lambda x: 1 / np.sqrt(x * x - 1), 1.05, 5),
    "atanh": (md.atanh, np.arctanh, lambda x: 1 / (1 - x * x), -0.95, 0.95),
    "log2": (md.log2, np.log2, lambda x: 1 / (x * math.log(2)), 0.1, 5),
    "log10": (md.log10, np.log10, lambda x: 1 / (x * math.log(10)), 0.1, 5),
    "log1p": (md.log1p, np.log1p, lambda x: 1 / (1 + x), -0.9, 5),
    "exp2": (md.exp2, np.exp2, lambda x: np.exp2(x) * math.log(2), -4, 4),
    "expm1": (md.expm1, np.expm1, np.exp, -4, 4),
    "rsqrt": (md.rsqrt, lambda x: 1 / np.sqrt(x), lambda x: -0.5 * x ** -1.5, 0.1, 5),
}


@covers(*UNARY)
@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=seeds, dtype=dtypes, transposed=st.booleans())
def test_smooth_function_and_its_derivative_match_numpy(name, shape, seed, dtype,
                                                         transposed):
    op, f, df, low, high = UNARY[name]
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(low, high, shape).astype(dtype)
    if transposed:
        x0 = x0.T
    x = md.from_numpy(x0).requires_grad_()
    y = op(x)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    assert y.dtype == dtype and y.shape == x0.shape
    np.testing.assert_allclose(y.detach().numpy(), f(x0.astype(np.float64)), **tol)
    w = weighted_backward(y, rng)
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.numpy(), w * df(x0.astype(np.float64)), **tol)


@covers(*UNARY)
@given(seed=seeds, name=st.sampled_from(sorted(UNARY)))
def test_integer_input_becomes_float32_as_in_pytorch(seed, name):
    x0 = np.random.default_rng(seed).integers(1, 3, (3,))
    y = UNARY[name][0](md.tensor(x0))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), UNARY[name][1](x0.astype(np.float64)), rtol=1e-6)


# ---------------------------------------------------------------- step functions
STEPS = {"floor": (md.floor, np.floor), "ceil": (md.ceil, np.ceil),
         "trunc": (md.trunc, np.trunc), "round": (md.round, np.round),
         "sign": (md.sign, lambda x: (x > 0) * 1.0 - (x < 0))}


@covers(*STEPS)
@given(shape=shapes, seed=seeds, dtype=dtypes, halves=st.booleans())
def test_step_functions_match_numpy_and_have_zero_gradient(shape, seed, dtype, halves):
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-3, 3, shape).astype(dtype)
    if halves:  # the edges: whole and half numbers, zeros of both signs
        x0 = (rng.integers(-6, 6, shape) / 2).astype(dtype) * rng.choice([1, -1], shape)
    for name, (op, f) in STEPS.items():
        x = leaf(x0, dtype)
        y = op(x)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.detach().numpy(), f(x0))
        weighted_backward(y, rng)
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape, dtype))


@covers("round")
@given(seed=seeds, decimals=st.integers(-2, 3))
def test_round_with_decimals_rounds_half_to_even_at_that_digit(seed, decimals):
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-500, 500, (6,))
    y = md.round(md.tensor(x0, dtype=md.float64), decimals=decimals).numpy()
    scale = 10.0 ** decimals
    expected = np.rint(x0 * scale) / scale if decimals >= 0 else \
        np.rint(x0 / 10.0 ** -decimals) * 10.0 ** -decimals
    np.testing.assert_array_equal(y, expected)
    assert np.all(np.abs(y - x0) <= 0.5 / scale + 1e-9)


@covers("sign", "floor", "round")
@given(seed=seeds, dtype=st.sampled_from([np.int32, np.int64, np.uint8]))
def test_step_functions_keep_integer_dtypes(seed, dtype):
    x0 = np.random.default_rng(seed).integers(0, 5, (4,)).astype(dtype)
    for op in (md.floor, md.ceil, md.trunc, md.round):
        y = op(md.tensor(x0))
        assert y.dtype == dtype and np.array_equal(y.numpy(), x0)
    assert md.sign(md.tensor(x0)).dtype == dtype


# ---------------------------------------------------------------- binary functions
@st.composite
def broadcast_pair(draw):
    big = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    small = tuple(1 if draw(st.booleans()) else s for s in big[draw(st.integers(0, len(big))):])
    return (big, small) if draw(st.booleans()) else (small, big)


def reduce_to(a, shape):
    a = a.sum(axis=tuple(range(a.ndim - len(shape))))
    return a.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1 and a.shape[i] != 1),
                 keepdims=True).reshape(shape)


def _check_binary(op, f, dfa, dfb, a0, b0, rng):
    a, b = leaf(a0), leaf(b0)
    y = op(a, b)
    np.testing.assert_allclose(y.detach().numpy(), f(a0, b0), rtol=1e-12, atol=1e-14)
    w = weighted_backward(y, rng)
    np.testing.assert_allclose(a.grad.numpy(), reduce_to(w * dfa(a0, b0), a0.shape),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), reduce_to(w * dfb(a0, b0), b0.shape),
                               rtol=1e-10, atol=1e-12)


@covers("copysign", "atan2", "logaddexp")
@given(shapes=broadcast_pair(), seed=seeds)
def test_binary_functions_broadcast_and_match_numpy_derivatives(shapes, seed):
    rng = np.random.default_rng(seed)
    a0 = rng.standard_normal(shapes[0]) * 3
    b0 = rng.standard_normal(shapes[1]) * 3
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    _check_binary(md.copysign, np.copysign, lambda a, b: np.sign(a) * np.sign(
        np.copysign(1, b)), lambda a, b: 0 * a * b, a0, b0, rng)
    _check_binary(md.atan2, np.arctan2, lambda a, b: b / (a * a + b * b),
                  lambda a, b: -a / (a * a + b * b), a0, b0, rng)
    _check_binary(md.logaddexp, np.logaddexp, lambda a, b: sig(a - b),
                  lambda a, b: sig(b - a), a0, b0, rng)


@covers("lerp")
@given(shapes=broadcast_pair(), seed=seeds, scalar=st.booleans())
def test_lerp_is_start_plus_weight_times_the_difference(shapes, seed, scalar):
    rng = np.random.default_rng(seed)
    s0, e0 = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    w0 = float(rng.uniform(-0.5, 1.5)) if scalar else rng.uniform(-0.5, 1.5, shapes[1])
    start, end = leaf(s0), leaf(e0)
    weight = w0 if scalar else leaf(w0)
    y = md.lerp(start, end, weight)
    np.testing.assert_allclose(y.detach().numpy(), s0 + w0 * (e0 - s0), rtol=1e-12, atol=1e-14)
    g = weighted_backward(y, rng)
    np.testing.assert_allclose(start.grad.numpy(), reduce_to(g * (1 - w0), s0.shape),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(end.grad.numpy(), reduce_to(g * w0 + 0 * s0, e0.shape),
                               rtol=1e-10, atol=1e-12)
    if not scalar:
        np.testing.assert_allclose(weight.grad.numpy(), reduce_to(g * (e0 - s0), w0.shape),
                                   rtol=1e-10, atol=1e-12)
    assert md.lerp(start, end, 1.0).detach().numpy().tolist() == np.broadcast_to(
        e0, y.shape).tolist()  # exactly `end` at weight 1


# ---------------------------------------------------------------- division
ints = st.lists(st.integers(-50, 50), min_size=1, max_size=8)


@covers("floor_divide", "remainder", "fmod", "div")
@given(a=ints, b=st.lists(st.integers(-9, 9).filter(bool), min_size=1, max_size=8))
def test_integer_division_matches_python_and_c(a, b):
    n = min(len(a), len(b))
    a, b = np.array(a[:n]), np.array(b[:n])
    ta, tb = md.tensor(a), md.tensor(b)
    floor = [x // y for x, y in zip(a.tolist(), b.tolist())]
    trunc = [int(x / y) for x, y in zip(a.tolist(), b.tolist())]
    assert (ta // tb).tolist() == floor and md.floor_divide(ta, tb).dtype == np.int64
    assert md.div(ta, tb, rounding_mode="floor").tolist() == floor
    assert md.div(ta, tb, rounding_mode="trunc").tolist() == trunc
    assert (ta % tb).tolist() == [x % y for x, y in zip(a.tolist(), b.tolist())]
    assert md.fmod(ta, tb).tolist() == [int(math.fmod(x, y)) for x, y in
                                        zip(a.tolist(), b.tolist())]
    assert (7 // tb).tolist() == [7 // y for y in b.tolist()]
    assert (7 % tb).tolist() == [7 % y for y in b.tolist()]


@covers("remainder", "fmod", "div")
@given(seed=seeds, shapes=broadcast_pair())
def test_float_division_identities_and_gradients(seed, shapes):
    rng = np.random.default_rng(seed)
    a0 = rng.uniform(-10, 10, shapes[0])
    b0 = rng.uniform(0.5, 3, shapes[1]) * rng.choice([-1, 1], shapes[1])
    a, b = leaf(a0), leaf(b0)
    for rounding, rem, sign_of in (("floor", md.remainder, b0), ("trunc", md.fmod, a0)):
        q = md.div(a, b, rounding_mode=rounding).detach().numpy()
        r = rem(a, b)
        np.testing.assert_allclose(q * b0 + r.detach().numpy(), np.broadcast_to(a0, q.shape),
                                   rtol=1e-12, atol=1e-12)
        assert np.all((r.detach().numpy() == 0) | (np.sign(r.detach().numpy()) == np.sign(
            np.broadcast_to(sign_of, q.shape))))
        a.grad = b.grad = None
        w = weighted_backward(r, rng)  # dr/da = 1, dr/db = -q
        np.testing.assert_allclose(a.grad.numpy(), reduce_to(w, a0.shape), rtol=1e-12)
        np.testing.assert_allclose(b.grad.numpy(), reduce_to(-w * q, b0.shape), rtol=1e-12)


def test_integer_division_by_zero_raises_and_float_gives_inf():
    with pytest.raises(ZeroDivisionError, match="floor_divide"):
        md.tensor([1, 2]) // md.tensor([1, 0])
    with pytest.raises(RuntimeError, match="remainder"):
        md.tensor([1, 2]) % 0
    assert (md.tensor([1.0, -1.0]) // 0).tolist() == [math.inf, -math.inf]
    assert np.isnan((md.tensor([1.0]) % 0).numpy()).all()


# ---------------------------------------------------------------- logical ops
@covers("isnan", "isinf", "isfinite")
@given(seed=seeds, shape=shapes, dtype=st.sampled_from([np.float32, np.float64, np.int64]))
def test_float_predicates_match_numpy(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    x0 = rng.choice([0.0, 1.5, -2.0, np.inf, -np.inf, np.nan], shape)
    x0 = x0.astype(dtype) if dtype != np.int64 else rng.integers(-3, 3, shape)
    for op, f in ((md.isnan, np.isnan), (md.isinf, np.isinf), (md.isfinite, np.isfinite)):
        y = op(md.tensor(x0))
        assert y.dtype == np.bool_ and np.array_equal(y.numpy(), f(x0))


@covers("isclose")
@given(seed=seeds, equal_nan=st.booleans(), rtol=st.sampled_from([0.0, 1e-5, 0.1]),
       atol=st.sampled_from([0.0, 1e-8, 0.5]))
def test_isclose_is_the_tolerance_formula(seed, equal_nan, rtol, atol):
    rng = np.random.default_rng(seed)
    a0 = rng.choice([0.0, 1.0, np.nan, np.inf, -np.inf, 1e-9], 8)
    b0 = np.where(rng.random(8) < 0.5, a0, a0 + rng.choice([0.0, 1e-7, 0.3, 2.0], 8))
    got = md.isclose(md.tensor(a0), md.tensor(b0), rtol, atol, equal_nan).numpy()
    for g, x, y in zip(got, a0, b0):
        if np.isnan(x) or np.isnan(y):
            assert g == (equal_nan and np.isnan(x) and np.isnan(y))
        elif np.isinf(x) or np.isinf(y):
            assert g == (x == y)
        else:
            assert g == (abs(x - y) <= atol + rtol * abs(y))


@covers("logical_not", "logical_and", "logical_or", "logical_xor")
@given(shapes=broadcast_pair(), seed=seeds)
def test_logical_ops_treat_nonzero_as_true(shapes, seed):
    rng = np.random.default_rng(seed)
    a0 = rng.choice([0.0, 2.5, -1.0, np.nan], shapes[0])
    b0 = rng.integers(0, 2, shapes[1])
    a, b = md.tensor(a0), md.tensor(b0)
    for op, f in ((md.logical_and, operator.and_), (md.logical_or, operator.or_),
                  (md.logical_xor, operator.xor)):
        y = op(a, b)
        assert y.dtype == np.bool_
        assert np.array_equal(y.numpy(), f(a0 != 0, b0 != 0))
    assert np.array_equal(md.logical_not(a).numpy(), a0 == 0)


@covers("any", "all")
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple), seed=seeds,
       data=st.data(), keepdim=st.booleans())
def test_any_and_all_over_dims_match_numpy(shape, seed, data, keepdim):
    x0 = np.random.default_rng(seed).choice([0, 0, 1, 3], shape).astype(np.uint8)
    dims = data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1).map(tuple))
    for op, f in ((md.any, np.any), (md.all, np.all)):
        for x, dtype in ((md.tensor(x0), np.uint8), (md.tensor(x0 > 0), np.bool_),
                         (md.tensor(x0 * 0.5), np.bool_)):
            y = op(x, dims, keepdim)
            assert y.dtype == dtype
            assert np.array_equal(y.numpy(), f(x0, axis=dims, keepdims=keepdim))
        assert op(md.tensor(x0)).item() == f(x0)
