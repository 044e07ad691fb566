"""Property tests (hypothesis) for the nn-level ops added for PyTorch parity:
activations against numpy formulas and their derivatives (float32 and float64,
non-contiguous inputs); see the sections below for the others."""
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


def weighted_backward(y, rng):
    """Backward of sum(y * w) for a random w; returns w (= dL/dy)."""
    w = rng.standard_normal(y.shape)
    (y * md.tensor(w, dtype=y.dtype)).sum().backward()
    return w


def tolerances(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10,
                                                                       atol=1e-12)


# ---------------------------------------------------------------- activations
def sig(x):
    return 1 / (1 + np.exp(-x))


SA, SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
step = lambda x, lo, hi: ((x > lo) & (x < hi)) * 1.0  # noqa: E731
sp = lambda x: np.log1p(np.exp(x))  # noqa: E731

# name -> (minidl op, numpy f, numpy f')
ACTIVATIONS = {
    "selu": (F.selu, lambda x: SS * np.where(x > 0, x, SA * np.expm1(x)),
             lambda x: SS * np.where(x > 0, 1, SA * np.exp(x))),
    "celu": (lambda t: F.celu(t, 2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)),
             lambda x: np.where(x > 0, 1, np.exp(x / 2))),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5),
                 lambda x: step(x, -0.5, 1.5)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), lambda x: step(x, 0, 6)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1),
                    lambda x: step(x, -3, 3) / 6),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                  lambda x: np.where(x >= 3, 1.0, step(x, -3, 3) * (x / 3 + 0.5))),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(sig(x)), lambda x: 1 - sig(x)),
    "mish": (F.mish, lambda x: x * np.tanh(sp(x)),
             lambda x: np.tanh(sp(x)) + x * sig(x) * (1 - np.tanh(sp(x)) ** 2)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x)),
                 lambda x: 1 / (1 + np.abs(x)) ** 2),
}


@covers(*ACTIVATIONS)
@pytest.mark.parametrize("name", ACTIVATIONS)
@given(shape=shapes, seed=seeds, dtype=dtypes, transposed=st.booleans())
def test_activation_and_its_derivative_match_numpy(name, shape, seed, dtype, transposed):
    op, f, df = ACTIVATIONS[name]
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-8, 8, shape).astype(dtype)
    x0 = x0.T if transposed else x0  # (a non-contiguous view)
    x = md.from_numpy(x0).requires_grad_()
    y = op(x)
    assert y.dtype == dtype and y.shape == x0.shape
    np.testing.assert_allclose(y.numpy(), f(x0.astype(np.float64)), **tolerances(dtype))
    w = weighted_backward(y, rng)
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.numpy(), w * df(x0.astype(np.float64)),
                               **tolerances(dtype))


@covers("softmin")
@given(shape=shapes.filter(len), seed=seeds, data=st.data())
def test_softmin_is_softmax_of_the_negation_and_sums_to_one(shape, seed, data):
    x0 = np.random.default_rng(seed).standard_normal(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    y = F.softmin(md.tensor(x0), dim).numpy()
    e = np.exp(x0.min(axis=dim, keepdims=True) - x0)
    np.testing.assert_allclose(y, e / e.sum(axis=dim, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(y.sum(axis=dim), 1.0, rtol=1e-12)


@covers("normalize")
@given(shape=shapes.filter(len), seed=seeds, data=st.data(),
       p=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_normalize_gives_unit_vectors_and_is_scale_invariant(shape, seed, data, p):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    y = F.normalize(md.tensor(x0), p=p, dim=dim).numpy()
    norms = np.linalg.norm(np.moveaxis(y, dim, -1), ord=p, axis=-1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-10)
    scaled = F.normalize(md.tensor(x0 * 3.5), p=p, dim=dim).numpy()
    np.testing.assert_allclose(scaled, y, rtol=1e-10, atol=1e-15)
    # the gradient is orthogonal to x for p = 2 (a unit vector cannot grow along x)
    x = md.tensor(x0, requires_grad=True)
    weighted_backward(F.normalize(x, dim=dim), rng)
    np.testing.assert_allclose((x.grad.numpy() * x0).sum(axis=dim), 0, atol=1e-10)
