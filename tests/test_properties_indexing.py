"""Property tests (hypothesis) for minidl/ops/indexing.py: gather and the scatters
against plain loops over every position of the index (with repeated indices), their
gradients against the loops' own bookkeeping, and the mask ops against numpy."""
import itertools

import numpy as np
from hypothesis import given, strategies as st

import minidl as md
from registry import covers

seeds = st.integers(0, 2**32 - 1)


@st.composite
def indexed(draw):
    """(input shape, dim, index array): index no larger than input outside dim."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    dim = draw(st.integers(0, len(shape) - 1))
    ishape = tuple(draw(st.integers(1, 5)) if i == dim else draw(st.integers(1, s))
                   for i, s in enumerate(shape))
    seed = draw(seeds)
    index = np.random.default_rng(seed).integers(0, shape[dim], ishape)
    return shape, dim, index


def targets(index, dim):
    """(p, q) pairs: position p of index sends to / reads from position q of input."""
    for p in itertools.product(*[range(n) for n in index.shape]):
        q = list(p)
        q[dim] = index[p]
        yield p, tuple(q)


@covers("gather", "scatter_add")
@given(case=indexed(), seed=seeds)
def test_gather_and_scatter_add_follow_the_index_and_are_adjoint(case, seed):
    shape, dim, index = case
    rng = np.random.default_rng(seed)
    x0, w = rng.standard_normal(shape), rng.standard_normal(index.shape)
    x = md.tensor(x0, requires_grad=True)
    y = md.gather(x, dim, md.tensor(index))
    (y * md.tensor(w)).sum().backward()
    src0 = rng.standard_normal(index.shape)
    src = md.tensor(src0, requires_grad=True)
    z = md.scatter_add(md.tensor(x0), dim, md.tensor(index), src)
    (z * md.tensor(x0)).sum().backward()
    gathered, grad, added = np.zeros(index.shape), np.zeros(shape), x0.copy()
    for p, q in targets(index, dim):
        gathered[p] = x0[q]
        grad[q] += w[p]  # repeated indices add up
        added[q] += src0[p]
    np.testing.assert_array_equal(y.detach().numpy(), gathered)
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-12)
    np.testing.assert_allclose(z.detach().numpy(), added, rtol=1e-12)
    np.testing.assert_array_equal(src.grad.numpy(), gathered)  # d/dsrc: a gather


@covers("scatter")
@given(case=indexed(), seed=seeds, use_value=st.booleans())
def test_scatter_writes_in_index_order_and_the_winner_gets_the_gradient(case, seed,
                                                                        use_value):
    shape, dim, index = case
    rng = np.random.default_rng(seed)
    x0, src0 = rng.standard_normal(shape), rng.standard_normal(index.shape)
    x = md.tensor(x0, requires_grad=True)
    src = md.tensor(src0, requires_grad=True)
    y = x.scatter(dim, md.tensor(index), value=2.5) if use_value else \
        md.scatter(x, dim, md.tensor(index), src)
    w = rng.standard_normal(shape)
    (y * md.tensor(w)).sum().backward()
    out, winner = x0.copy(), {}
    for p, q in targets(index, dim):  # in order: a later write replaces an earlier
        out[q] = 2.5 if use_value else src0[p]
        winner[q] = p
    np.testing.assert_array_equal(y.detach().numpy(), out)
    grad_x = w.copy()
    grad_src = np.zeros(index.shape)
    for q, p in winner.items():
        grad_x[q] = 0
        grad_src[p] = w[q]
    np.testing.assert_array_equal(x.grad.numpy(), grad_x)
    if not use_value:
        np.testing.assert_array_equal(src.grad.numpy(), grad_src)


REDUCE = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}


@covers("scatter_reduce")
@given(case=indexed(), seed=seeds, reduce=st.sampled_from(sorted(REDUCE)),
       include_self=st.booleans())
def test_scatter_reduce_combines_everything_sent_to_one_place(case, seed, reduce,
                                                              include_self):
    shape, dim, index = case
    rng = np.random.default_rng(seed)
    x0, src0 = rng.standard_normal(shape), rng.standard_normal(index.shape)
    y = md.scatter_reduce(md.tensor(x0), dim, md.tensor(index), md.tensor(src0), reduce,
                          include_self=include_self)
    sent = {}
    for p, q in targets(index, dim):
        sent.setdefault(q, []).append(src0[p])
    expected = x0.copy()
    for q, values in sent.items():
        expected[q] = REDUCE[reduce](([x0[q]] if include_self else []) + values)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    # integers: mean rounds down, as in PyTorch
    xi, si = (x0 * 4).astype(np.int64), (src0 * 4).astype(np.int64)
    yi = md.scatter_reduce(md.tensor(xi), dim, md.tensor(index), md.tensor(si), "mean")
    for q, values in sent.items():
        total = [xi[q]] + [si[p] for p, q2 in targets(index, dim) if q2 == q]
        assert yi.numpy()[q] == sum(total) // len(total)


@covers("masked_fill", "masked_select")
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple), seed=seeds,
       data=st.data())
def test_mask_ops_match_numpy_and_route_gradients(shape, seed, data):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    mshape = shape[data.draw(st.integers(0, len(shape))):]  # broadcasts to shape
    m0 = rng.random(mshape) < 0.5
    x = md.tensor(x0, requires_grad=True)
    y = md.masked_fill(x, md.tensor(m0), -7.0)
    np.testing.assert_array_equal(y.detach().numpy(), np.where(m0, -7.0, x0))
    w = rng.standard_normal(shape)
    (y * md.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(m0, 0.0, w))
    x = md.tensor(x0, requires_grad=True)
    s = md.masked_select(x, md.tensor(m0))
    mb = np.broadcast_to(m0, shape)
    np.testing.assert_array_equal(s.detach().numpy(), x0[mb])
    v = rng.standard_normal(s.shape)
    (s * md.tensor(v)).sum().backward()
    expected = np.zeros(shape)
    expected[mb] = v
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    ints = md.masked_fill(md.tensor(np.zeros(shape, np.int64)), md.tensor(m0), 2.7)
    assert ints.dtype == np.int64
    np.testing.assert_array_equal(ints.numpy(), np.broadcast_to(np.where(m0, 2, 0), shape))


@covers("nonzero")
@given(shape=st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple), seed=seeds)
def test_nonzero_lists_the_positions_in_order(shape, seed):
    x0 = np.random.default_rng(seed).choice([0.0, 0.0, 1.0, np.nan], shape)
    got = md.nonzero(md.tensor(x0))
    assert got.dtype == np.int64 and got.shape == (int(np.count_nonzero(x0)), len(shape))
    assert [tuple(p) for p in got.tolist()] == [
        p for p in itertools.product(*[range(n) for n in shape]) if x0[p] != 0]
    as_tuple = md.nonzero(md.tensor(x0), as_tuple=True)
    for coords, ref in zip(as_tuple, np.nonzero(np.atleast_1d(x0))):
        assert coords.dtype == np.int64 and coords.tolist() == ref.tolist()
    for coords, ref in zip(md.where(md.tensor(x0 != 0)), as_tuple):
        assert coords.tolist() == ref.tolist()
