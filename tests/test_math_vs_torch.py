"""The elementwise, division, logical, scan and product ops against PyTorch (an
optional oracle; skipped without torch): values, shapes, dtypes and gradients, on
ordinary inputs and at the edges -- zeros of both signs, whole and half numbers,
ties, +-inf and NaN -- where the gradient conventions must be PyTorch's."""
import math

import numpy as np
import pytest

import minidl as md

torch = pytest.importorskip("torch")
from test_ops_vs_torch import check  # noqa: E402  (values, dtypes, gradients)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's nan notes

R = np.random.default_rng(7)
X = R.standard_normal((3, 4))
INF, NAN = math.inf, math.nan
EDGE = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, -0.5, 1.5, 1e-300, INF, -INF, NAN])
UNIT = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, -2.0, INF, NAN])  # asin's edges and beyond
POS = np.array([0.0, -0.0, 1e-300, 0.5, 2.0, -1.0, INF, -INF, NAN])  # logs' edges
T = torch

UNARY_CASES = {name: (getattr(md, name), getattr(T, name), EDGE) for name in (
    "sin", "cos", "tan", "atan", "sinh", "cosh", "asinh", "exp2", "expm1", "sign", "floor",
    "ceil", "trunc", "round")}
UNARY_CASES.update({name: (getattr(md, name), getattr(T, name), UNIT) for name in (
    "asin", "acos", "atanh", "acosh")})
UNARY_CASES.update({name: (getattr(md, name), getattr(T, name), POS) for name in (
    "log2", "log10", "log1p", "rsqrt")})
UNARY_CASES["log1p_below_minus_one"] = (md.log1p, T.log1p, np.array([-1.0, -2.0, -0.999]))

CASES = {
    **UNARY_CASES,
    "sin_matrix": (lambda a: a.sin(), lambda a: a.sin(), X),
    "round_decimals": (lambda a: md.round(a, decimals=2), lambda a: T.round(a, decimals=2),
                       np.array([0.125, 0.135, 1.005, 2.675, -0.375, 12345.6789])),
    "round_negative_decimals": (lambda a: a.round(decimals=-2),
                                lambda a: a.round(decimals=-2),
                                np.array([150.0, 250.0, -350.0, 1234.5, 49.9])),
    "copysign": (md.copysign, T.copysign, EDGE, EDGE[::-1].copy()),
    "copysign_scalar": (lambda a: md.copysign(a, -0.0), lambda a: T.copysign(a, -0.0), EDGE),
    "copysign_broadcast": (md.copysign, T.copysign, X, X[0]),
    "atan2": (md.atan2, T.atan2, X, X[:, :1]),
    "atan2_edges": (md.atan2, T.atan2, np.array([0.0, 0.0, -0.0, 1.0, INF, 1e-200, 1e200]),
                    np.array([0.0, -0.0, -0.0, 0.0, INF, 1e-200, 1e200])),
    "logaddexp": (md.logaddexp, T.logaddexp, X, X[0] * 30),
    "logaddexp_edges": (md.logaddexp, T.logaddexp, np.array([-INF, INF, 1.0, NAN, 3.0]),
                        np.array([-INF, INF, -INF, 1.0, 3.0])),
    "lerp_scalar": (lambda a, b: md.lerp(a, b, 0.3), lambda a, b: T.lerp(a, b, 0.3), X, X[0]),
    "lerp_tensor_weight": (md.lerp, T.lerp, X, X[0], np.array([0.0, 0.49, 0.5, 1.0])),
    "lerp_weight_one": (lambda a, b: a.lerp(b, 1.0), lambda a, b: a.lerp(b, 1.0), X, X * 3),
    "maximum_nan_inf_ties": (md.maximum, T.maximum, np.array([NAN, 1.0, NAN, INF, -INF, 2.0]),
                             np.array([1.0, NAN, NAN, INF, 5.0, 2.0])),
    "minimum_nan_inf_ties": (md.minimum, T.minimum, np.array([NAN, 1.0, NAN, INF, -INF, 2.0]),
                             np.array([1.0, NAN, NAN, INF, 5.0, 2.0])),
    # division
    "div_floor": (lambda a, b: md.div(a, b, rounding_mode="floor"),
                  lambda a, b: T.div(a, b, rounding_mode="floor"), X * 5, X[0]),
    "div_trunc": (lambda a, b: a.div(b, rounding_mode="trunc"),
                  lambda a, b: a.div(b, rounding_mode="trunc"), X * 5, X[0]),
    "div_floor_edges": (lambda a, b: md.div(a, b, rounding_mode="floor"),
                        lambda a, b: T.div(a, b, rounding_mode="floor"),
                        np.array([-0.0, 1.0, -1.0, 0.0, INF, 7.0]),
                        np.array([2.0, 0.0, 0.0, 0.0, 2.0, -INF])),
    "remainder": (lambda a, b: a % b, lambda a, b: a % b, X * 5, X[0]),
    "remainder_edges": (md.remainder, T.remainder,
                        np.array([-0.0, 0.0, -3.0, 3.0, -3.5, 5.0, 1.0, INF, 4.0]),
                        np.array([2.0, -2.0, 2.0, -2.0, INF, -INF, 0.0, 2.0, 2.0])),
    "rmod": (lambda a: 2.5 % a, lambda a: 2.5 - T.floor(2.5 / a.detach()) * a, X * 3),
    "fmod": (md.fmod, T.fmod, X * 5, X[0]),
    "fmod_edges": (md.fmod, T.fmod, np.array([-0.0, -3.0, 3.0, -3.5, 5.0, 1.0, 4.0]),
                   np.array([2.0, 2.0, -2.0, INF, -INF, 0.0, 2.0])),
    # scans and products
    "cumsum": (lambda a: md.cumsum(a, 1), lambda a: T.cumsum(a, 1), X),
    "cumsum_0d": (lambda a: a.cumsum(0), lambda a: a.cumsum(0), np.array(2.5)),
    "cumprod": (lambda a: a.cumprod(-1), lambda a: a.cumprod(-1), X),
    "cumprod_one_zero": (lambda a: md.cumprod(a, 0), lambda a: T.cumprod(a, 0),
                         np.array([2.0, 0.0, 3.0, 4.0, 5.0])),
    "cumprod_zeros": (lambda a: md.cumprod(a, 1), lambda a: T.cumprod(a, 1),
                      np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, 2.0, 0.0, 0.0]])),
    "cumprod_inf": (lambda a: md.cumprod(a, 0), lambda a: T.cumprod(a, 0),
                    np.array([2.0, INF, 3.0])),
    "cummax": (lambda a: md.cummax(a, 1), lambda a: T.cummax(a, 1), X),
    "cummax_ties_nan": (lambda a: a.cummax(0), lambda a: a.cummax(0),
                        np.array([1.0, 3.0, 2.0, 3.0, 3.0, 0.0, NAN, 5.0, NAN, 1.0])),
    "cummin_ties": (lambda a: md.cummin(a, 0), lambda a: T.cummin(a, 0),
                    np.array([1.0, 0.0, 2.0, 0.0, 0.0, -1.0, -INF, -INF])),
    "logcumsumexp": (lambda a: md.logcumsumexp(a, 1), lambda a: T.logcumsumexp(a, 1), X * 40),
    "logcumsumexp_infs": (lambda a: a.logcumsumexp(0), lambda a: a.logcumsumexp(0),
                          np.array([-INF, 1.0, -INF, 2.0])),
    "logcumsumexp_leading_infs": (lambda a: a.logcumsumexp(0), lambda a: a.logcumsumexp(0),
                                  np.array([-INF, -INF, 2.0])),
    "logcumsumexp_plus_inf": (lambda a: a.logcumsumexp(0), lambda a: a.logcumsumexp(0),
                              np.array([INF, 1.0, 2.0])),
    "prod": (md.prod, T.prod, X),
    "prod_dim": (lambda a: a.prod(1), lambda a: a.prod(1), X),
    "prod_keepdim": (lambda a: md.prod(a, 0, keepdim=True),
                     lambda a: T.prod(a, 0, keepdim=True), X),
    "prod_one_zero": (md.prod, T.prod, np.array([2.0, 0.0, 3.0])),
    "prod_two_zeros": (md.prod, T.prod, np.array([2.0, 0.0, 3.0, 0.0])),
    "prod_dim_zeros": (lambda a: a.prod(1), lambda a: a.prod(1), np.array(
        [[2.0, 0.0, 3.0, 0.0], [1.0, 2.0, 0.0, 4.0], [1.0, 2.0, 3.0, 4.0]])),
    "prod_inf": (md.prod, T.prod, np.array([2.0, INF, 3.0])),
    "prod_nan_and_zero": (lambda a: a.prod(1), lambda a: a.prod(1),
                          np.array([[2.0, NAN, 0.0], [0.0, 0.0, 1.0], [2.0, NAN, 3.0]])),
    "cumprod_nan_and_zero": (lambda a: a.cumprod(0), lambda a: a.cumprod(0),
                             np.array([2.0, NAN, 0.0, 3.0])),
    "lerp_nan_inf": (md.lerp, T.lerp, np.array([NAN, 1.0, 2.0]), np.array([1.0, INF, 3.0]),
                     np.array([0.2, 0.7, NAN])),
    "atan2_infinities": (md.atan2, T.atan2, np.array([INF, -INF, 1.0, NAN]),
                         np.array([INF, 1.0, -INF, 1.0])),
    "remainder_infinities": (md.remainder, T.remainder, np.array([INF, 5.0, -5.0, NAN]),
                             np.array([2.0, INF, INF, 1.0])),
    # reductions
    "std_mean": (md.std_mean, T.std_mean, X),
    "std_mean_dim": (lambda a: md.std_mean(a, 1, keepdim=True),
                     lambda a: T.std_mean(a, 1, keepdim=True), X),
    "std_mean_unbiased_positional": (lambda a: md.std_mean(a, 0, False),
                                     lambda a: T.std_mean(a, 0, False), X),
    "var_mean_correction": (lambda a: md.var_mean(a, dim=(0, 1), correction=0),
                            lambda a: T.var_mean(a, dim=(0, 1), correction=0), X),
    "sum_dtype": (lambda a: a.sum(dtype=md.float32), lambda a: a.sum(dtype=T.float32), X),
    "mean_dtype": (lambda a: a.mean(1, dtype=md.float32),
                   lambda a: a.mean(1, dtype=T.float32), X),
}

LOOSE = {"sum_dtype", "mean_dtype"}  # float32 results


@pytest.mark.parametrize("name", CASES)
def test_op_matches_torch(name):
    md_fn, torch_fn, *arrays = CASES[name]
    tol = dict(rtol=1e-6, atol=1e-6) if name in LOOSE else {}
    check(md_fn, torch_fn, *arrays, **tol)


# ---------------------------------------------------------------- second derivatives
def second_derivatives(lib, fn, x0, seed=0):
    """d/dx of (dL/dx . v) for L = sum(fn(x) * w): a Hessian-vector product."""
    rng = np.random.default_rng(seed)
    shape = fn(torch, torch.tensor(x0)).shape
    w, v = rng.standard_normal(tuple(shape)), rng.standard_normal(x0.shape)
    if lib is torch:
        x = torch.tensor(x0, requires_grad=True)
        g, = torch.autograd.grad((fn(torch, x) * torch.tensor(w)).sum(), x, create_graph=True)
        h, = torch.autograd.grad((g * torch.tensor(v)).sum(), x)
        return h.numpy()
    x = md.tensor(x0, dtype=md.float64, requires_grad=True)
    g, = md.autograd.grad((fn(md, x) * md.tensor(w)).sum(), [x], create_graph=True)
    h, = md.autograd.grad((g * md.tensor(v)).sum(), [x])
    return h.numpy()


HESSIAN_CASES = {
    "cumprod_zeros": (lambda lib, x: lib.cumprod(x, 0), np.array([2.0, 0.0, 3.0, 0.0, 5.0])),
    "prod_one_zero": (lambda lib, x: lib.prod(x) + 0 * x, np.array([2.0, 0.0, 3.0])),
    "prod_two_zeros": (lambda lib, x: lib.prod(x) + 0 * x, np.array([2.0, 0.0, 3.0, 0.0])),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x, 0), np.array([0.5, -1.0, 2.0])),
    "atan2": (lambda lib, x: lib.atan2(x, lib.flip(x, (0,)) + 0.5), np.array([0.3, -1.0, 2.0])),
    "lerp": (lambda lib, x: lib.lerp(x, x * x, x / 4), np.array([0.3, -1.0, 2.0])),
}


@pytest.mark.parametrize("name", HESSIAN_CASES)
def test_second_derivatives_match_torch(name):
    fn, x0 = HESSIAN_CASES[name]
    np.testing.assert_allclose(second_derivatives(md, fn, x0),
                               second_derivatives(torch, fn, x0), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- dtypes and errors
X32, I64 = np.array([1.5, -2.5], np.float32), np.array([3, -7])


@pytest.mark.parametrize("make", [
    lambda lib, x, i: lib.sin(i), lambda lib, x, i: lib.log1p(i), lambda lib, x, i: x.exp2(),
    lambda lib, x, i: lib.sign(i), lambda lib, x, i: lib.floor(i), lambda lib, x, i: i.round(),
    lambda lib, x, i: lib.copysign(i, -1), lambda lib, x, i: lib.atan2(i, x),
    lambda lib, x, i: i // 2, lambda lib, x, i: i // 2.5, lambda lib, x, i: 7 // i,
    lambda lib, x, i: i % 3, lambda lib, x, i: x % i, lambda lib, x, i: lib.fmod(i, 2),
    lambda lib, x, i: lib.div(i, 2, rounding_mode="floor"),
    lambda lib, x, i: lib.div(i, 2, rounding_mode="trunc"),
    lambda lib, x, i: lib.isnan(i), lambda lib, x, i: lib.isfinite(x),
    lambda lib, x, i: lib.logical_and(x, i), lambda lib, x, i: lib.logical_not(i),
    lambda lib, x, i: lib.isclose(x, x), lambda lib, x, i: i.any(), lambda lib, x, i: x.all(0),
    lambda lib, x, i: (i > 0).to(lib.uint8).any(), lambda lib, x, i: lib.cumsum(i, 0),
    lambda lib, x, i: lib.cumsum(i.to(lib.int32), 0), lambda lib, x, i: lib.cumprod(i > 0, 0),
    lambda lib, x, i: lib.cumsum(i, 0, dtype=lib.float64), lambda lib, x, i: lib.prod(i),
    lambda lib, x, i: lib.prod(i.to(lib.int32), 0),
    lambda lib, x, i: lib.prod(x, dtype=lib.float64),
    lambda lib, x, i: lib.cummax(i, 0)[0], lambda lib, x, i: lib.cummin(i, 0)[1],
    lambda lib, x, i: lib.cummax(i > 0, 0)[0], lambda lib, x, i: i.sum(dtype=lib.float32),
    lambda lib, x, i: i.mean(dtype=lib.float64), lambda lib, x, i: lib.std_mean(x)[1],
])
def test_result_dtypes_and_values_match_torch(make):
    ours = make(md, md.tensor(X32), md.tensor(I64))
    theirs = make(torch, torch.tensor(X32), torch.tensor(I64))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (ours, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("make, cls", [
    (lambda lib: lib.tensor([1, 2]) // lib.tensor([1, 0]), RuntimeError),
    (lambda lib: lib.tensor([1, 2]) % 0, RuntimeError),
    (lambda lib: lib.fmod(lib.tensor([1, 2]), 0), RuntimeError),
    (lambda lib: lib.div(lib.tensor([1.0]), 2, rounding_mode="round"), RuntimeError),
    (lambda lib: lib.tensor([True]) // lib.tensor([True]), RuntimeError),
    (lambda lib: lib.logaddexp(lib.tensor([1]), lib.tensor([2])), RuntimeError),
    (lambda lib: lib.lerp(lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64), 0.5),
     RuntimeError),
    (lambda lib: lib.isclose(lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64)),
     RuntimeError),
    (lambda lib: lib.round(lib.tensor([1, 2]), decimals=1), RuntimeError),
    (lambda lib: lib.cumsum(lib.ones(2, 3), 2), IndexError),
    (lambda lib: lib.logcumsumexp(lib.tensor([1, 2]), 0), RuntimeError),
    (lambda lib: lib.prod(lib.ones(2, 3), (0, 1)), TypeError),
])
def test_errors_are_catchable_as_in_torch(make, cls):
    with pytest.raises(cls):
        make(torch)
    with pytest.raises(cls):
        make(md)


@pytest.mark.parametrize("op", ["floor_divide", "scatter_reduce_multiply"])
def test_backward_raises_where_torch_defines_no_derivative(op):
    def run(lib):
        x = lib.tensor([1.5, 2.5], requires_grad=True)
        if op == "floor_divide":
            y = x // 2
        else:
            y = x.scatter(0, lib.tensor([0, 0]), lib.tensor([2.0, 3.0]), reduce="multiply")
        y.sum().backward()
    for lib in (torch, md):
        with pytest.raises(RuntimeError):
            run(lib)


def test_floor_division_values_at_the_edges_match_torch():
    a = np.array([-0.0, -3.0, 3.0, -3.5, 5.0, 1.0, 7.5, -7.5, 0.0])
    b = np.array([2.0, 2.0, -2.0, INF, -INF, 0.0, 2.5, 2.5, 0.0])
    ours = (md.tensor(a) // md.tensor(b)).numpy()
    theirs = (torch.tensor(a) // torch.tensor(b)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))  # -0.0 too


def test_scalar_remainder_tensor_has_a_gradient_where_torch_has_none():
    # torch: "derivative for aten::remainder is not implemented" for number % tensor;
    # minidl gives the derivative, -floor(a / b) (checked in test_op_matches_torch)
    x = torch.tensor([1.5], requires_grad=True)
    with pytest.raises(RuntimeError):
        (2.5 % x).sum().backward()


def test_isclose_and_predicates_at_the_edges():
    a = np.array([0.0, INF, -INF, NAN, 1.0, 1.0 + 1e-6, 1e-9, NAN])
    b = np.array([-0.0, INF, INF, NAN, 1.0 + 1e-5, 1.0, 0.0, 1.0])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0}):
        np.testing.assert_array_equal(md.isclose(md.tensor(a), md.tensor(b), **kw).numpy(),
                                      torch.isclose(torch.tensor(a), torch.tensor(b), **kw))
    for name in ("isnan", "isinf", "isfinite", "logical_not"):
        np.testing.assert_array_equal(getattr(md, name)(md.tensor(a)).numpy(),
                                      getattr(torch, name)(torch.tensor(a)).numpy())
    c = np.array([[0, 1, 2, 0, -1, 0, 3, 0]])  # broadcasts against a
    for name in ("logical_and", "logical_or", "logical_xor"):
        ours = getattr(md, name)(md.tensor(a), md.tensor(c))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(c))
        assert ours.dtype == np.bool_ and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
