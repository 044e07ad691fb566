"""Edge inputs against PyTorch: forward values and gradients at 0, -0, +-inf, NaN,
negative bases, identical values and empty reductions, for the elementwise ops and
reductions -- where PyTorch defines a number (the std of identical values, the norm of
a zero vector, d/dy 0^y), minidl must give the same number, not NaN. Also PyTorch's
indexing order with integers next to index arrays, and softmax of a 0-d tensor."""
import itertools
import math
import warnings

import numpy as np
import pytest

import minidl as md
import minidl.functional as F

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning",
                                        "ignore::UserWarning")

INF, NAN = math.inf, math.nan
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, INF, -INF, NAN]


def run(fn, lib, arrays):
    """Forward value and the gradient of sum(output) w.r.t. each float input."""
    make = (lambda a: md.tensor(a, dtype=md.float64, requires_grad=True)) if lib is md \
        else (lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True))
    inputs = [make(a) for a in arrays]
    out = fn(*inputs)
    out.sum().backward()
    value = out.detach().numpy() if lib is torch else out.detach().numpy()
    grads = [np.zeros(np.shape(a)) if x.grad is None else x.grad.numpy()
             for x, a in zip(inputs, arrays)]
    return value, grads


def assert_same(name, md_fn, torch_fn, *arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_value, expected_grads = run(torch_fn, torch, arrays)
        value, grads = run(md_fn, md, arrays)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=0,
                               err_msg=f"{name}: forward at {arrays}")
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=0,
                                   err_msg=f"{name}: gradient of input {i} at {arrays}")


def pairs(values):
    a, b = zip(*itertools.product(values, repeat=2))
    return np.array(a), np.array(b)


# ------------------------------------------------------------------ elementwise
BINARY = {
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "maximum": (md.maximum, torch.maximum),
    "minimum": (md.minimum, torch.minimum),
    "clamp_tensor_min": (lambda a, b: md.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b)),
    "clamp_tensor_max": (lambda a, b: md.clamp(a, max=b), lambda a, b: torch.clamp(a, max=b)),
    "clamp_both": (lambda a, b: md.clamp(a, b, b + 1), lambda a, b: torch.clamp(a, b, b + 1)),
    "clamp_crossed": (lambda a, b: md.clamp(a, b, b - 1), lambda a, b: torch.clamp(a, b, b - 1)),
    "where": (lambda a, b: md.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b)),
}


@pytest.mark.parametrize("op", BINARY)
def test_binary_ops_at_every_pair_of_edge_values(op):
    assert_same(op, *BINARY[op], *pairs(EDGES))


SCALAR_EXPONENTS = [0, 1, 2, 3, -1, -2, 0.5, -0.5, 2.5, INF, -INF, NAN]


@pytest.mark.parametrize("exponent", SCALAR_EXPONENTS)
def test_pow_with_a_number_exponent_at_edges(exponent):
    x = np.array(EDGES)
    assert_same(f"x ** {exponent}", lambda a: a ** exponent, lambda a: a ** exponent, x)
    assert_same(f"{exponent} ** x", lambda a: exponent ** a, lambda a: exponent ** a, x)
    assert_same(f"pow(x, {exponent})", lambda a: md.pow(a, exponent),
                lambda a: torch.pow(a, exponent), x)


def test_pow_exponent_gradient_at_zero_base_is_torchs():
    # d/dy 0^y: -inf for y < 0 (the limit from a -> +0), 0 for y >= 0
    y = np.array([-0.3, -1.0, 0.0, 0.7, 2.0])
    assert_same("0 ** y", lambda b: 0.0 ** b, lambda b: 0.0 ** b, y)
    assert_same("zeros ** y", lambda a, b: a ** b, lambda a, b: a ** b, np.zeros(5), y)
    value, (ga, gb) = run(lambda a, b: a ** b, md, (np.zeros(5), y))
    assert gb[0] == -INF and gb[1] == -INF and (gb[2:] == 0).all()


UNARY = {
    "exp": (md.exp, torch.exp), "log": (md.log, torch.log), "sqrt": (md.sqrt, torch.sqrt),
    "abs": (md.abs, torch.abs), "neg": (md.neg, torch.neg),
    "clamp": (lambda a: md.clamp(a, -1.0, 0.5), lambda a: torch.clamp(a, -1.0, 0.5)),
    "clamp_min": (lambda a: md.clamp(a, min=0.0), lambda a: torch.clamp(a, min=0.0)),
    "clamp_nan_bound": (lambda a: md.clamp(a, max=NAN), lambda a: torch.clamp(a, max=NAN)),
    "reciprocal": (lambda a: 1 / a, lambda a: 1 / a),
    "square": (lambda a: a * a, lambda a: a * a),
    "softmax": (lambda a: md.softmax(a, 0), lambda a: torch.softmax(a, 0)),
    "log_softmax": (lambda a: md.log_softmax(a, 0), lambda a: torch.log_softmax(a, 0)),
}


@pytest.mark.parametrize("op", UNARY)
def test_unary_ops_at_edge_values(op):
    md_fn, torch_fn = UNARY[op]
    if op.endswith("softmax"):  # a reduction: one edge value at a time, among finite ones
        for v in EDGES:
            assert_same(op, md_fn, torch_fn, np.array([v, 1.0, -2.0]))
        assert_same(op, md_fn, torch_fn, np.array([-INF, -INF]))
        return
    assert_same(op, md_fn, torch_fn, np.array(EDGES))


# ------------------------------------------------------------------ reductions
REDUCTION_INPUTS = {
    "identical": np.full((3, 4), 1.5),
    "zeros": np.zeros((3, 4)),
    "one_column": np.array([[2.0], [2.0], [-1.0]]),
    "with_inf": np.array([[1.0, INF, 2.0], [-INF, 0.0, 1.0]]),
    "with_nan": np.array([[1.0, NAN, 2.0, NAN], [3.0, 0.0, -1.0, 2.0]]),
    "all_minus_inf": np.full((2, 3), -INF),
    "ties": np.array([[1.0, 3.0, 3.0], [-2.0, -2.0, 0.0]]),
    "negative_zero": np.array([[0.0, -0.0], [-0.0, 0.0]]),
}
REDUCTIONS = {
    "sum": (lambda x: x.sum(1), lambda x: x.sum(1)),
    "mean": (lambda x: x.mean(), lambda x: x.mean()),
    "var": (lambda x: x.var(1), lambda x: x.var(1)),
    "var_all": (lambda x: x.var(), lambda x: x.var()),
    "std": (lambda x: x.std(1), lambda x: x.std(1)),
    "std_all": (lambda x: x.std(), lambda x: x.std()),
    "std_biased": (lambda x: x.std(0, correction=0), lambda x: x.std(0, correction=0)),
    "max": (lambda x: x.max(), lambda x: x.max()),
    "min": (lambda x: x.min(), lambda x: x.min()),
    "max_dim": (lambda x: x.max(1).values, lambda x: x.max(1).values),
    "min_dim": (lambda x: x.min(0)[0], lambda x: x.min(0)[0]),
    "amax": (lambda x: x.amax(1), lambda x: x.amax(1)),
    "amin_all": (lambda x: x.amin(), lambda x: x.amin()),
    "logsumexp": (lambda x: x.logsumexp(1), lambda x: x.logsumexp(1)),
    "logsumexp_all": (lambda x: md.logsumexp(x, (0, 1)), lambda x: x.logsumexp((0, 1))),
    "softmax": (lambda x: md.softmax(x, 1), lambda x: torch.softmax(x, 1)),
    "log_softmax": (lambda x: md.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1)),
    "norm": (lambda x: x.norm(), lambda x: x.norm()),
    "norm_dim": (lambda x: x.norm(dim=1), lambda x: x.norm(dim=1)),
}
for _p in (1, 3, 0.5, 1.5, -1, INF, -INF, 0):
    REDUCTIONS[f"vector_norm_{_p}"] = (
        lambda x, p=_p: md.linalg.vector_norm(x, p, 1),
        lambda x, p=_p: torch.linalg.vector_norm(x, p, 1))
for _o in ("fro", 1, -1, INF, -INF, "nuc", 2, -2):
    REDUCTIONS[f"matrix_norm_{_o}"] = (
        lambda x, o=_o: md.linalg.matrix_norm(x, o),
        lambda x, o=_o: torch.linalg.matrix_norm(x, o))


@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("case", REDUCTION_INPUTS)
def test_reductions_at_edge_inputs(op, case):
    x = REDUCTION_INPUTS[case]
    if op in ("matrix_norm_nuc", "matrix_norm_2", "matrix_norm_-2") and np.isnan(x).any():
        with pytest.raises(RuntimeError):  # no singular values: both refuse
            REDUCTIONS[op][1](torch.tensor(x))
        with pytest.raises(RuntimeError, match="NaN"):
            REDUCTIONS[op][0](md.tensor(x))
        return
    assert_same(f"{op} of {case}", *REDUCTIONS[op], x)


def test_std_and_norm_of_identical_values_have_torchs_zero_gradient():
    x = md.full((4,), 2.0, dtype=md.float64, requires_grad=True)
    (x.std() + x.var() + (x - 2).norm() + md.linalg.vector_norm(x - 2, 3)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4))


def test_empty_reductions_match_torch():
    for md_fn, torch_fn in [(lambda x: x.sum(), lambda x: x.sum()),
                            (lambda x: x.mean(), lambda x: x.mean()),
                            (lambda x: x.norm(), lambda x: x.norm()),
                            (lambda x: x.amax(1), lambda x: x.amax(1))]:
        assert_same("empty", md_fn, torch_fn, np.zeros((0, 3)))
    for name, args in itertools.product(("max", "min", "amax", "amin", "argmax"),
                                        [(), (0,)]):
        with pytest.raises(Exception) as expected:
            getattr(torch.zeros(0, 3), name)(*args)
        with pytest.raises(expected.type):
            getattr(md.zeros(0, 3), name)(*args)
    values, indices = md.zeros(0, 3).max(1)
    assert values.shape == indices.shape == (0,)


def test_softmax_and_log_softmax_of_a_0d_tensor():
    assert_same("softmax 0-d", lambda x: md.softmax(x, 0), lambda x: torch.softmax(x, 0),
                np.array(2.5))
    assert_same("log_softmax 0-d", lambda x: md.log_softmax(x, -1),
                lambda x: torch.log_softmax(x, -1), np.array(-1.0))
    assert md.softmax(md.tensor(3.0), 0).item() == 1.0
    assert md.log_softmax(md.tensor(3.0), 0).item() == 0.0
    with pytest.raises(IndexError):
        md.softmax(md.tensor(3.0), 1)


@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
def test_softmax_without_dim_uses_torchs_implicit_dim_and_warns(ndim):
    x = np.random.default_rng(ndim).standard_normal((2, 3, 2, 2)[:ndim])
    for md_fn, torch_fn in [(md.softmax, torch.nn.functional.softmax),
                            (md.log_softmax, torch.nn.functional.log_softmax),
                            (lambda t: md.nn.Softmax()(t), lambda t: torch.nn.Softmax()(t)),
                            (lambda t: md.nn.LogSoftmax()(t),
                             lambda t: torch.nn.LogSoftmax()(t)),
                            (F.softmin, torch.nn.functional.softmin),
                            (lambda t: md.nn.Softmin()(t), lambda t: torch.nn.Softmin()(t))]:
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            expected = torch_fn(torch.tensor(x)).numpy()
        with pytest.warns(UserWarning, match="Implicit dimension choice") as record:
            got = md_fn(md.tensor(x)).numpy()
        assert record[0].filename == __file__  # the warning points at the caller
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# ------------------------------------------------------------------ indexing
X5 = np.arange(5 * 6 * 7 * 8 * 9, dtype=np.float64).reshape(5, 6, 7, 8, 9)
M2 = np.random.default_rng(0).random((6, 7)) > 0.5
INDEXES = {
    "int slice step array slice": (1, slice(None), slice(3, 6, 2), [0, 4, 1], slice(0, 2)),
    "slice int slice array": (slice(None), 1, slice(None), [0, 1]),
    "array int array": ([0, 1], 1, [0, 1]),
    "None int slice array": (None, 1, slice(None), [0, 1]),
    "ellipsis int array": (Ellipsis, 1, [0, 1]),
    "0-d tensor int": (np.array(2), slice(None), [0, 1]),
    "int array slice array": (1, [0, 1], slice(None), [0, 1]),
    "int ellipsis 2-d array int": (1, Ellipsis, [[0], [1]], 2),
    "int mask": (2, M2),
    "mask int": (M2[:5, :1].repeat(6, 1), 1),
    "slice int mask": (slice(None), 1, np.random.default_rng(1).random((7, 8)) > 0.5),
    "bool scalar int array": (True, 1, slice(None), [2, 0]),
    "negative int array": (-1, slice(1, 3), [-1, 0]),
    "int arrays broadcast": (0, [[0], [1]], slice(None), [1, 2, 3]),
    "plain slices": (slice(1, 4), Ellipsis, slice(None, None, 3)),
}


def _torch_index(index):
    return tuple(torch.tensor(i) if isinstance(i, (list, np.ndarray)) else i
                 for i in index)


def _md_index(index):
    return tuple(md.tensor(i) if isinstance(i, np.ndarray) else i for i in index)


@pytest.mark.parametrize("name", INDEXES)
def test_advanced_indexing_follows_torchs_result_shape(name):
    index = INDEXES[name]
    assert_same(name, lambda x: x[_md_index(index)] * 1.5,
                lambda x: x[_torch_index(index)] * 1.5, X5)


def test_a_uint8_index_is_a_mask_with_a_warning_as_in_torch():
    mask = np.array([1, 0, 1], dtype=np.uint8)
    with pytest.warns(UserWarning, match="uint8"):
        expected = torch.arange(3)[torch.tensor(mask)]
    with pytest.warns(UserWarning, match="uint8"):
        got = md.arange(3)[md.tensor(mask)]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_negative_steps_are_refused_like_torch():
    for index in ((slice(None, None, -1),), (0, slice(4, 0, -2))):
        with pytest.raises(ValueError):
            torch.zeros(5, 5)[index]
        with pytest.raises(ValueError, match="step"):
            md.zeros(5, 5)[index]


VAR_EDGES = [((1,), None, 1), ((3,), None, 3), ((2, 3), 0, 2), ((0,), None, 1),
             ((2, 0), 1, 0), ((2,), None, 3), ((2, 2), (0, 1), 5)]


@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("shape, dim, correction", VAR_EDGES)
def test_var_and_std_without_degrees_of_freedom_warn_once_like_torch(op, shape, dim,
                                                                     correction):
    """N - correction <= 0: PyTorch's inf/NaN values and gradients, and its one warning
    (no RuntimeWarning from numpy), in forward and backward."""
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    results = []
    for lib in (md, torch):
        t = lib.tensor(x, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(lib, op)(t, dim=dim, correction=correction)
            outs = out if isinstance(out, tuple) else (out,)
            sum(o.sum() for o in outs).backward()
        results.append(([o.detach().numpy() for o in outs], t.grad.numpy(),
                         [(w.category, str(w.message).split(" (Triggered")[0])
                          for w in caught]))
    (ours, our_grad, our_warnings), (theirs, their_grad, their_warnings) = results
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(our_grad, their_grad)
    assert our_warnings == their_warnings


def test_mean_of_nothing_is_nan_without_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = md.ones(2, 0, requires_grad=True)
        m = t.mean(1)
        np.testing.assert_array_equal(m.detach().numpy(), [np.nan, np.nan])
        m.sum().backward()
        assert t.grad.shape == (2, 0)
        assert np.isnan(md.ones(0).mean().item())
