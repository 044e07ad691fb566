"""Property tests (hypothesis) for minidl/ops/sorting.py and einsum.py.

Sorting: values against numpy (NaN largest), indices against a stable argsort where
the order of ties is defined, gradients sent to exactly the elements picked.
einsum: random equations (repeated letters, "...", implicit outputs, one to three
operands) against numpy.einsum, gradients against finite differences, which are
exact for a function linear in each operand."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
from registry import covers

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def few_values(rng, shape, nans=False):
    x = rng.integers(-2, 3, shape).astype(np.float64)  # ties
    if nans:
        x[rng.random(shape) < 0.15] = np.nan
    return x


def picked_gradient(shape, d, indices, w):
    """The gradient of values = x.gather(d, indices): w added at the picked places."""
    grad = np.zeros(shape)
    np.put_along_axis(grad, indices, 0, axis=d)  # (shape check)
    for line in np.ndindex(*indices.shape):
        target = list(line)
        target[d] = indices[line]
        grad[tuple(target)] += w[line]
    return grad


@covers("sort", "argsort")
@given(shape=shapes, seed=seeds, data=st.data(), descending=st.booleans(),
       nans=st.booleans())
def test_sort_orders_values_keeps_ties_stable_and_sends_gradients_back(
        shape, seed, data, descending, nans):
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(0, len(shape) - 1))
    x0 = few_values(rng, shape, nans)
    x = md.tensor(x0, requires_grad=True)
    values, indices = md.sort(x, d, descending=descending, stable=True)
    expected = np.sort(x0, axis=d)
    if descending:
        expected = np.flip(expected, d)
    np.testing.assert_array_equal(values.detach().numpy(), expected)
    key = -np.nan_to_num(x0, nan=np.inf) if descending else np.nan_to_num(x0, nan=np.inf)
    np.testing.assert_array_equal(indices.numpy(), np.argsort(key, axis=d, kind="stable"))
    np.testing.assert_array_equal(md.argsort(x, d, descending, stable=True).numpy(),
                                  indices.numpy())
    w = rng.standard_normal(shape)
    (values * md.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), picked_gradient(shape, d, indices.numpy(), w))
    unstable = md.sort(md.tensor(x0), d, descending)  # same values, any order of ties
    np.testing.assert_array_equal(unstable.values.numpy(), expected)
    np.testing.assert_array_equal(np.take_along_axis(x0, unstable.indices.numpy(), d),
                                  expected)


@covers("topk", "kthvalue", "median")
@given(shape=shapes, seed=seeds, data=st.data(), nans=st.booleans())
def test_order_statistics_pick_elements_of_the_right_rank(shape, seed, data, nans):
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(0, len(shape) - 1))
    x0 = few_values(rng, shape, nans)
    n = shape[d]
    k = data.draw(st.integers(1, n))
    largest = data.draw(st.booleans())
    ascending = np.sort(x0, axis=d)  # NaN last, as the largest
    ranked = np.flip(ascending, d) if largest else ascending
    x = md.tensor(x0, requires_grad=True)
    values, indices = md.topk(x, k, d, largest=largest)
    np.testing.assert_array_equal(values.detach().numpy(), np.take(ranked, range(k), axis=d))
    np.testing.assert_array_equal(np.take_along_axis(x0, indices.detach().numpy(), d), values.detach().numpy())
    w = rng.standard_normal(values.shape)
    (values * md.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), picked_gradient(shape, d, indices.numpy(), w))
    kth = md.kthvalue(md.tensor(x0), k, d, keepdim=True)
    np.testing.assert_array_equal(kth.values.numpy(), np.take(ascending, [k - 1], axis=d))
    np.testing.assert_array_equal(np.take_along_axis(x0, kth.indices.numpy(), d),
                                  kth.values.numpy())
    med = md.median(md.tensor(x0), d)
    lower = np.take(ascending, (n - 1) // 2, axis=d)
    has_nan = np.isnan(x0).any(axis=d)
    np.testing.assert_array_equal(med.values.numpy(), np.where(has_nan, np.nan, lower))
    first = np.take_along_axis(x0, np.expand_dims(med.indices.numpy(), d), d).squeeze(d)
    np.testing.assert_array_equal(first, med.values.numpy())


@covers("median")
@given(shape=shapes, seed=seeds)
def test_median_of_all_elements_shares_its_gradient_among_ties(shape, seed):
    rng = np.random.default_rng(seed)
    x0 = few_values(rng, shape)
    x = md.tensor(x0, requires_grad=True)
    m = md.median(x)
    flat = np.sort(x0.ravel())
    assert m.item() == flat[(flat.size - 1) // 2]
    m.backward(md.tensor(3.0, dtype=md.float64))
    ties = x0 == m.item()
    np.testing.assert_allclose(x.grad.numpy(), np.where(ties, 3.0 / ties.sum(), 0.0))


# ---------------------------------------------------------------- einsum
@st.composite
def einsum_cases(draw):
    """(equation, operand shapes): letters with fixed sizes, repeated letters within
    an operand, "..." on some operands, explicit or implicit output."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    terms, shapes_ = [], []
    for _ in range(draw(st.integers(1, 3))):
        letters = draw(st.lists(st.sampled_from("abcd"), max_size=3))
        dots = draw(st.booleans()) and len(batch) > 0
        terms.append(("..." if dots else "") + "".join(letters))
        shapes_.append((batch if dots else ()) + tuple(sizes[c] for c in letters))
    used = sorted({c for t in terms for c in t if c != "."})
    equation = ",".join(terms)
    if draw(st.booleans()):
        out = draw(st.permutations(used))[:draw(st.integers(0, len(used)))]
        dots = any("..." in t for t in terms)
        equation += "->" + ("..." if dots and draw(st.booleans()) else "") + "".join(out)
    return equation, shapes_


def numpy_einsum(equation, *arrays):
    """np.einsum, which (unlike PyTorch) needs "..." in an explicit output: when it is
    left out, the "..." dims are summed."""
    lhs, arrow, rhs = equation.partition("->")
    if not arrow or "..." not in lhs or "..." in rhs:
        return np.einsum(equation, *arrays)
    full = np.einsum(lhs + "->..." + rhs, *arrays)
    return full.sum(axis=tuple(range(full.ndim - len(rhs))))


@covers("einsum")
@given(case=einsum_cases(), seed=seeds)
def test_einsum_matches_numpy_and_finite_differences(case, seed):
    equation, shapes_ = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes_]
    expected = numpy_einsum(equation, *arrays)
    xs = [md.tensor(a, requires_grad=True) for a in arrays]
    y = md.einsum(equation, *xs)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(expected.shape)
    (y * md.tensor(w)).sum().backward()
    for i, a in enumerate(arrays):  # linear in each operand: central differences exact
        grad = np.zeros(a.shape)
        for k in np.ndindex(*a.shape):
            step = np.zeros(a.shape)
            step[k] = 1.0
            plus = [b + step if j == i else b for j, b in enumerate(arrays)]
            minus = [b - step if j == i else b for j, b in enumerate(arrays)]
            diff = numpy_einsum(equation, *plus) - numpy_einsum(equation, *minus)
            grad[k] = np.sum(w * diff) / 2
        got = xs[i].grad.numpy() if xs[i].grad is not None else np.zeros(a.shape)
        np.testing.assert_allclose(got, grad, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("equation, shapes_, message", [
    ("ij,jk", [(2, 3), (4, 5)], "size 4"),
    ("ij->ii", [(2, 2)], "more than once"),
    ("ij->k", [(2, 2)], "not in any input"),
    ("ijk", [(2, 2)], "has 2 dims"),
    ("ij,jk", [(2, 2)], "2 operand"),
])
def test_einsum_errors_name_the_problem(equation, shapes_, message):
    with pytest.raises(RuntimeError, match=message):
        md.einsum(equation, *[md.zeros(s) for s in shapes_])
