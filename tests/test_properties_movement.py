"""Property tests (hypothesis) for minidl/ops/movement.py: each op against its numpy
counterpart, and its gradient against the adjoint -- the gradient of a reordering
is the output gradient moved back (summed where an element was copied, zero where
it was dropped), computed here with numpy index bookkeeping."""
import numpy as np
from hypothesis import given, strategies as st

import minidl as md
from registry import covers

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def check_adjoint(op, x0, np_op, rng):
    """op(x) == np_op(x0), and the gradient equals the adjoint of np_op applied to a
    random w: sent through np_op on the positions of x0, then added back up."""
    x = md.tensor(x0, dtype=md.float64, requires_grad=True)
    outs = op(x)
    outs = outs if isinstance(outs, tuple) else (outs,)
    positions = np_op(np.arange(x0.size).reshape(x0.shape))  # which element went where
    positions = positions if isinstance(positions, tuple) else (positions,)
    expected = np.zeros(x0.size)
    loss = 0
    for out, pos in zip(outs, positions):
        np.testing.assert_array_equal(out.detach().numpy(), x0.ravel()[pos])
        w = rng.standard_normal(out.shape)
        loss = loss + (out * md.tensor(w)).sum()
        np.add.at(expected, pos, w)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), expected.reshape(x0.shape), rtol=1e-12)


@covers("flip", "roll")
@given(shape=shapes, seed=seeds, data=st.data())
def test_flip_and_roll_match_numpy(shape, seed, data):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    dims = data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1).map(tuple))
    shifts = tuple(data.draw(st.integers(-5, 5)) for _ in dims)
    check_adjoint(lambda x: md.flip(x, dims), x0, lambda a: np.flip(a, dims), rng)
    check_adjoint(lambda x: md.roll(x, shifts, dims), x0, lambda a: np.roll(a, shifts, dims),
                  rng)
    check_adjoint(lambda x: x.roll(shifts[0]), x0, lambda a: np.roll(a, shifts[0]), rng)


@covers("split", "chunk")
@given(shape=shapes, seed=seeds, data=st.data())
def test_split_and_chunk_cut_into_pytorch_sized_pieces(shape, seed, data):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    d = data.draw(st.integers(0, len(shape) - 1))
    n = shape[d]
    size = data.draw(st.integers(1, n + 1))
    bounds = list(range(size, n, size))  # pieces of `size`, the last one shorter
    check_adjoint(lambda x: md.split(x, size, d), x0,
                  lambda a: tuple(np.split(a, bounds, axis=d)), rng)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    sections = list(np.diff([0] + cuts + [n]))  # sizes adding up to n (zeros too)
    check_adjoint(lambda x: x.split(sections, d), x0,
                  lambda a: tuple(np.split(a, cuts, axis=d)), rng)
    chunks = data.draw(st.integers(1, 5))
    step = -(-n // chunks)  # ceil: PyTorch's chunk size (so maybe fewer chunks)
    check_adjoint(lambda x: md.chunk(x, chunks, d), x0,
                  lambda a: tuple(np.split(a, list(range(step, n, step)), axis=d)), rng)


@covers("tril", "triu", "diagonal", "diag")
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=3).map(tuple), seed=seeds,
       k=st.integers(-4, 4), data=st.data())
def test_triangles_and_diagonals_match_numpy(shape, seed, k, data):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    for op, ref in ((md.tril, np.tril), (md.triu, np.triu)):
        x = md.tensor(x0, requires_grad=True)
        y = op(x, k)
        np.testing.assert_array_equal(y.detach().numpy(), ref(x0, k))
        w = rng.standard_normal(shape)
        (y * md.tensor(w)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), ref(w, k))
    d1, d2 = data.draw(st.permutations(range(len(shape))))[:2]
    check_adjoint(lambda x: md.diagonal(x, k, d1, d2), x0,
                  lambda a: np.diagonal(a, k, d1, d2), rng)
    check_adjoint(lambda x: md.diag(x, k), x0[..., 0, :] if len(shape) == 3 else x0,
                  lambda a: np.diag(a, k), rng)
    v0 = x0.ravel()[:shape[-1]]
    x = md.tensor(v0, requires_grad=True)
    y = md.diag(x, k)
    np.testing.assert_array_equal(y.detach().numpy(), np.diag(v0, k))
    w = rng.standard_normal(y.shape)
    (y * md.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.diag(w, k))


@covers("Tensor.repeat", "repeat_interleave")
@given(shape=shapes, seed=seeds, data=st.data())
def test_repeat_tiles_and_repeat_interleave_repeats_elements(shape, seed, data):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=len(shape),
                                    max_size=len(shape) + 2)))
    check_adjoint(lambda x: x.repeat(*reps), x0, lambda a: np.tile(a, reps), rng)
    d = data.draw(st.integers(0, len(shape) - 1))
    counts = data.draw(st.lists(st.integers(0, 3), min_size=shape[d], max_size=shape[d]))
    check_adjoint(lambda x: md.repeat_interleave(x, md.tensor(counts), d), x0,
                  lambda a: np.repeat(a, counts, axis=d), rng)
    check_adjoint(lambda x: x.repeat_interleave(2), x0, lambda a: np.repeat(a, 2), rng)
    assert md.repeat_interleave(md.tensor(counts)).tolist() == np.repeat(
        np.arange(len(counts)), counts).tolist()


@covers("Tensor.unfold", "unflatten")
@given(shape=shapes, seed=seeds, data=st.data())
def test_unfold_gives_the_sliding_windows_and_unflatten_reshapes(shape, seed, data):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    d = data.draw(st.integers(0, len(shape) - 1))
    size = data.draw(st.integers(0, shape[d]))
    step = data.draw(st.integers(1, 3))
    windows = lambda a: np.lib.stride_tricks.sliding_window_view(  # noqa: E731
        a, size, axis=d)[(slice(None),) * d + (slice(None, None, step),)]
    check_adjoint(lambda x: x.unfold(d, size, step), x0, windows, rng)
    split = data.draw(st.sampled_from([s for s in range(1, shape[d] + 1) if shape[d] % s == 0]))
    new = shape[:d] + (split, -1) + shape[d + 1:]
    check_adjoint(lambda x: md.unflatten(x, d, (split, -1)), x0, lambda a: a.reshape(
        shape[:d] + (split, shape[d] // split) + shape[d + 1:]), rng)
    assert md.unflatten(md.tensor(x0), d, (split, -1)).shape == np.empty(shape).reshape(
        new).shape


@covers("meshgrid")
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=seeds,
       indexing=st.sampled_from(["ij", "xy"]))
def test_meshgrid_matches_numpy_and_sums_gradients_over_the_grid(sizes, seed, indexing):
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(n) for n in sizes]
    xs = [md.tensor(v, requires_grad=True) for v in vs]
    grids = md.meshgrid(*xs, indexing=indexing)
    want = np.meshgrid(*vs, indexing=indexing)
    loss, expected = 0, []
    for i, (g, w_grid) in enumerate(zip(grids, want)):
        np.testing.assert_array_equal(g.detach().numpy(), w_grid)
        w = rng.standard_normal(g.shape)
        loss = loss + (g * md.tensor(w)).sum()
        # x[i][k] fills the grid slice where coordinate i is k ("xy": axes 0, 1 swap)
        axis = i if indexing == "ij" or len(sizes) == 1 else [1, 0, 2][i]
        expected.append(np.moveaxis(w, axis, 0).reshape(sizes[i], -1).sum(1))
    loss.backward()
    for x, e in zip(xs, expected):
        np.testing.assert_allclose(x.grad.numpy(), e, rtol=1e-12)
