"""Property tests (hypothesis) for comparisons, bitwise ops, norms, F.linear and
F.one_hot: drawn shapes, dtypes and values against slow numpy references."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minidl as md
import minidl.functional as F
from registry import covers

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

seeds = st.integers(0, 2**32 - 1)
pair_shapes = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                            max_side=3)
INTS = ["int8", "int16", "int32", "int64", "uint8"]
NUMBER_DTYPES = INTS + ["bool", "float32", "float64"]


def small_values(rng, shape, dtype):
    """Values every dtype holds exactly (small integers, quarters for floats), so a
    comparison gives the same answer in any dtype the operands are promoted to."""
    if dtype == "bool":
        return rng.random(shape) > 0.5
    low = 0 if dtype == "uint8" else -20
    values = rng.integers(low, 20, shape)
    return (values / 4 if dtype.startswith("float") else values).astype(dtype)


COMPARISONS = {"eq": (np.equal, lambda a, b: a == b), "ne": (np.not_equal, lambda a, b: a != b),
               "lt": (np.less, lambda a, b: a < b), "le": (np.less_equal, lambda a, b: a <= b),
               "gt": (np.greater, lambda a, b: a > b),
               "ge": (np.greater_equal, lambda a, b: a >= b)}


@covers("eq", "ne", "lt", "le", "gt", "ge")
@given(shapes=pair_shapes, dtypes=st.tuples(*[st.sampled_from(NUMBER_DTYPES)] * 2),
       seed=seeds, scalar=st.booleans())
def test_comparisons_broadcast_promote_and_match_numpy(shapes, dtypes, seed, scalar):
    rng = np.random.default_rng(seed)
    a = small_values(rng, shapes.input_shapes[0], dtypes[0])
    b = small_values(rng, shapes.input_shapes[1], dtypes[1])
    other = b.reshape(-1)[0].item() if scalar and b.size else md.tensor(b)
    for name, (np_fn, operator) in COMPARISONS.items():
        expected = np_fn(a.astype(np.float64), np.asarray(other if scalar and b.size
                                                          else b, dtype=np.float64))
        for got in (getattr(md, name)(md.tensor(a), other),
                    operator(md.tensor(a), other)):
            assert got.dtype == np.bool_ and got.shape == expected.shape
            np.testing.assert_array_equal(got.numpy(), expected, err_msg=name)


def wrap(values, dtype):
    """Python integers -> dtype, wrapping around as fixed-width integers do."""
    values = np.asarray(values)
    return np.array([int(v) for v in values.reshape(-1)], dtype=np.int64).astype(
        dtype).reshape(values.shape)


@covers("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
        "bitwise_left_shift", "bitwise_right_shift")
@given(shapes=pair_shapes, dtypes=st.tuples(*[st.sampled_from(INTS)] * 2), seed=seeds)
def test_bitwise_ops_match_python_integers(shapes, dtypes, seed):
    rng = np.random.default_rng(seed)
    a = small_values(rng, shapes.input_shapes[0], dtypes[0])
    b = small_values(rng, shapes.input_shapes[1], dtypes[1])
    s = rng.integers(0, 7, shapes.input_shapes[1]).astype(dtypes[1])  # shift amounts
    # integers with integers: the wider type (as numpy), but a 0-d tensor does not
    # widen one with dimensions
    ndims = (a.ndim, b.ndim)
    out_dtype = (np.dtype(dtypes[0]) if ndims[1] == 0 < ndims[0] else
                 np.dtype(dtypes[1]) if ndims[0] == 0 < ndims[1] else
                 np.promote_types(*dtypes))
    ta, tb, ts = md.tensor(a), md.tensor(b), md.tensor(s)
    aa, bb = np.broadcast_arrays(a.astype(object), b.astype(object))
    _, ss = np.broadcast_arrays(a.astype(object), s.astype(object))
    cases = {"bitwise_and": (ta & tb, np.vectorize(lambda x, y: x & y)(aa, bb)),
             "bitwise_or": (ta | tb, np.vectorize(lambda x, y: x | y)(aa, bb)),
             "bitwise_xor": (md.bitwise_xor(ta, tb), np.vectorize(lambda x, y: x ^ y)(aa, bb)),
             "bitwise_left_shift": (ta << ts, np.vectorize(lambda x, y: x << y)(aa, ss)),
             "bitwise_right_shift": (md.bitwise_right_shift(ta, ts),
                                     np.vectorize(lambda x, y: x >> y)(aa, ss))}
    for name, (got, expected) in cases.items():
        assert got.dtype == out_dtype, name
        np.testing.assert_array_equal(got.numpy(), wrap(np.asarray(expected), out_dtype),
                                      err_msg=name)
    np.testing.assert_array_equal((~ta).numpy(), wrap(~a.astype(object), a.dtype))
    mask_a, mask_b = a > 0, b > 0  # bool tensors: the logical ops
    np.testing.assert_array_equal((md.tensor(mask_a) ^ md.tensor(mask_b)).numpy(),
                                  mask_a != mask_b)
    np.testing.assert_array_equal((~md.tensor(mask_a)).numpy(), ~mask_a)


# ------------------------------------------------------------------ norms
def reference_norm(x, p, axes):
    """(sum |x|^p)^(1/p) written out, with the inf / -inf / 0 cases."""
    a = np.abs(x)
    if p == math.inf:
        return a.max(axis=axes)
    if p == -math.inf:
        return a.min(axis=axes)
    if p == 0:
        return (a != 0).sum(axis=axes).astype(x.dtype)
    return (a ** p).sum(axis=axes) ** (1 / p)


def reference_norm_grad(x, p, axes):
    """d norm / dx = sign(x) |x|^(p-1) / norm^(p-1) (inputs away from 0 and ties)."""
    norm = np.expand_dims(reference_norm(x, p, axes), axes)
    if math.isinf(p):
        return np.sign(x) * (np.abs(x) == norm)
    if p == 0:
        return np.zeros_like(x)
    return np.sign(x) * np.abs(x) ** (p - 1) / norm ** (p - 1)


@covers("norm", "vector_norm", "linalg.norm")
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       p=st.sampled_from([2, 1, 3, 0.5, 1.5, -1, 0, math.inf, -math.inf]),
       data=st.data(), seed=seeds)
def test_vector_norms_and_their_gradients_match_the_formula(shape, p, data, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))  # distinct magnitudes >= 0.1: no ties, no zeros
    x0 = ((rng.permutation(n) + 1) * 0.1 * rng.choice([-1, 1], n)).reshape(shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    expected = reference_norm(x0, p, axes)
    for fn in (lambda x: x.norm(p, dim=axes), lambda x: md.norm(x, p, axes),
               lambda x: md.linalg.vector_norm(x, p, axes),
               lambda x: md.linalg.norm(x, p, dim=axes) if len(axes) == 1 else
               md.linalg.vector_norm(x, ord=p, axis=axes)):
        x = md.tensor(x0, dtype=md.float64, requires_grad=True)
        out = fn(x)
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), reference_norm_grad(x0, p, axes),
                                   rtol=1e-9, atol=1e-12)
    kept = md.linalg.vector_norm(md.tensor(x0), p, axes, keepdim=True)
    assert kept.shape == tuple(1 if i in axes else s for i, s in enumerate(shape))


@covers("matrix_norm", "linalg.norm", "svdvals")
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), batch=st.integers(1, 2),
       order=st.sampled_from(["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]),
       seed=seeds)
def test_matrix_norms_match_numpy(rows, cols, batch, order, seed):
    a = np.random.default_rng(seed).standard_normal((batch, rows, cols))
    expected = np.stack([np.linalg.norm(m, order) for m in a])
    got = md.linalg.matrix_norm(md.tensor(a, dtype=md.float64), order)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(md.linalg.norm(md.tensor(a[0], dtype=md.float64),
                                              order).numpy(), expected[0], rtol=1e-10)


# ------------------------------------------------------------------ F.linear, F.one_hot
@covers("linear")
@given(batch=st.lists(st.integers(1, 3), max_size=2).map(tuple), n_in=st.integers(1, 4),
       n_out=st.integers(1, 4), bias=st.booleans(), seed=seeds)
def test_linear_matches_x_times_w_transposed_plus_b(batch, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    x0, w0 = rng.standard_normal(batch + (n_in,)), rng.standard_normal((n_out, n_in))
    b0 = rng.standard_normal(n_out)
    g = rng.standard_normal(batch + (n_out,))
    x, w, b = (md.tensor(v, dtype=md.float64, requires_grad=True) for v in (x0, w0, b0))
    out = F.linear(x, w, b if bias else None)
    np.testing.assert_allclose(out.detach().numpy(), x0 @ w0.T + (b0 if bias else 0), rtol=1e-12)
    (out * md.tensor(g, dtype=md.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g @ w0, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), g.reshape(-1, n_out).T @
                               x0.reshape(-1, n_in), rtol=1e-12)
    if bias:
        np.testing.assert_allclose(b.grad.numpy(), g.reshape(-1, n_out).sum(0),
                                   rtol=1e-12)


@covers("one_hot")
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple), extra=st.integers(0, 2),
       seed=seeds)
def test_one_hot_matches_rows_of_the_identity(shape, extra, seed):
    idx = np.random.default_rng(seed).integers(0, 4, shape)
    n = (int(idx.max()) + 1 if idx.size else 1) + extra
    got = F.one_hot(md.tensor(idx), n)
    assert got.dtype == np.int64 and got.shape == shape + (n,)
    np.testing.assert_array_equal(got.numpy(), np.eye(n, dtype=np.int64)[idx])
    if idx.size:
        np.testing.assert_array_equal(F.one_hot(md.tensor(idx)).numpy(),
                                      np.eye(int(idx.max()) + 1)[idx])
