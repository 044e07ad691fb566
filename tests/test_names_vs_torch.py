"""The names a PyTorch user types without reading docs, against PyTorch: Tensor.t(),
contiguous(), device, norm / linalg.norm / linalg.vector_norm / linalg.matrix_norm /
linalg.svdvals, F.linear, F.one_hot, and numpy's axis= / keepdims= in reductions."""
import math

import numpy as np
import pytest

import minidl as md
import minidl.functional as F

torch = pytest.importorskip("torch")
from torch_oracle import assert_matches_torch  # noqa: E402

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))


def test_t_transposes_matrices_and_leaves_vectors():
    for a in (X, X[0], np.array(2.0)):
        assert_matches_torch(lambda x: x.t(), lambda x: x.t(), a)
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        md.tensor(X3).t()


def test_contiguous_copies_only_non_contiguous_tensors():
    x = md.tensor(X, requires_grad=True)
    assert x.contiguous() is x and x.is_contiguous()
    y = x.T
    assert not y.is_contiguous()
    z = y.contiguous()
    assert z.is_contiguous() and z.detach().numpy().flags.c_contiguous
    np.testing.assert_array_equal(z.detach().numpy(), X.T)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(X))


NORMS = {
    "norm()": (lambda x: x.norm(), lambda x: x.norm()),
    "norm(p=1, dim=1)": (lambda x: x.norm(p=1, dim=1), lambda x: x.norm(p=1, dim=1)),
    "norm(3, (0, 2), keepdim)": (lambda x: x.norm(3, (0, 2), True),
                                 lambda x: x.norm(3, (0, 2), True)),
    "norm(inf, -1)": (lambda x: x.norm(math.inf, -1), lambda x: x.norm(math.inf, -1)),
    "norm('fro', (1, 2))": (lambda x: x.norm("fro", (1, 2)),
                            lambda x: x.norm("fro", (1, 2))),
    "norm('nuc', (1, 2))": (lambda x: x.norm("nuc", (1, 2)),
                            lambda x: x.norm("nuc", (1, 2))),
    "minidl.norm(x, 0.5)": (lambda x: md.norm(x, 0.5), lambda x: torch.norm(x, 0.5)),
    "vector_norm()": (md.linalg.vector_norm, torch.linalg.vector_norm),
    "vector_norm(1.5, (0, 1))": (lambda x: md.linalg.vector_norm(x, 1.5, (0, 1)),
                                 lambda x: torch.linalg.vector_norm(x, 1.5, (0, 1))),
    "vector_norm(-inf, 2, keepdim)": (
        lambda x: md.linalg.vector_norm(x, -math.inf, 2, keepdim=True),
        lambda x: torch.linalg.vector_norm(x, -math.inf, 2, keepdim=True)),
    "linalg.norm()": (md.linalg.norm, torch.linalg.norm),
    "linalg.norm(dim=1)": (lambda x: md.linalg.norm(x, dim=1),
                           lambda x: torch.linalg.norm(x, dim=1)),
    "linalg.norm(3, dim=-1)": (lambda x: md.linalg.norm(x, 3, dim=-1),
                               lambda x: torch.linalg.norm(x, 3, dim=-1)),
    "linalg.norm(inf, dim=(0, 2))": (lambda x: md.linalg.norm(x, math.inf, dim=(0, 2)),
                                     lambda x: torch.linalg.norm(x, math.inf, dim=(0, 2))),
    "linalg.norm(2, dim=(2, 1))": (lambda x: md.linalg.norm(x, 2, dim=(2, 1)),
                                   lambda x: torch.linalg.norm(x, 2, dim=(2, 1))),
    "matrix_norm(-1)": (lambda x: md.linalg.matrix_norm(x, -1),
                        lambda x: torch.linalg.matrix_norm(x, -1)),
    "matrix_norm(-2, keepdim)": (lambda x: md.linalg.matrix_norm(x, -2, keepdim=True),
                                 lambda x: torch.linalg.matrix_norm(x, -2, keepdim=True)),
    "svdvals": (md.linalg.svdvals, torch.linalg.svdvals),
}


@pytest.mark.parametrize("name", NORMS)
def test_norms_match_torch(name):
    assert_matches_torch(*NORMS[name], X3)


@pytest.mark.parametrize("order", [None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_linalg_norm_of_a_matrix_and_a_vector_matches_torch(order):
    assert_matches_torch(lambda x: md.linalg.norm(x, order), lambda x: torch.linalg.norm(x, order), X)
    if not isinstance(order, str):
        assert_matches_torch(lambda x: md.linalg.norm(x, order), lambda x: torch.linalg.norm(x, order),
                X[0])


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (5, 2), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("order", ["nuc", 2, -2, "svdvals"])
def test_singular_value_norms_have_torchs_higher_derivatives(order, shape):
    """svdvals' backward is made of differentiable ops (U and V are functions of A):
    first, second and third derivatives as PyTorch's."""
    fns = (md.linalg.svdvals, torch.linalg.svdvals) if order == "svdvals" else (
        lambda a: md.linalg.matrix_norm(a, order),
        lambda a: torch.linalg.matrix_norm(a, order))
    assert_matches_torch(*fns, RNG.standard_normal(shape), order=3, rtol=1e-6, atol=1e-9)


def test_repeated_singular_values_give_torchs_nan_second_derivative():
    """Where singular values repeat the singular vectors are not unique, and the
    second derivative is NaN in both (the first is fine)."""
    a = np.diag([2.0, 2.0, 1.0])
    results = []
    for lib in (md, torch):
        t = lib.tensor(a, requires_grad=True)
        g, = lib.autograd.grad(lib.linalg.svdvals(t).sum(), t, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), t)
        results.append((g.detach().numpy(), np.isnan(gg.numpy())))
    np.testing.assert_allclose(results[0][0], results[1][0], atol=1e-12)
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_linear_matches_torch():
    w, b = RNG.standard_normal((5, 4)), RNG.standard_normal(5)
    assert_matches_torch(F.linear, torch.nn.functional.linear, X3, w, b)
    assert_matches_torch(F.linear, torch.nn.functional.linear, X, w)
    assert_matches_torch(F.linear, torch.nn.functional.linear, X[0], w[0], np.array(0.5))


def test_one_hot_matches_torch():
    for idx, n in (([0, 2, 1], -1), ([[1], [3]], 5), ([], 3)):
        got = F.one_hot(md.tensor(idx, dtype=md.int64), n)
        expected = torch.nn.functional.one_hot(torch.tensor(idx, dtype=torch.int64), n)
        assert got.dtype == np.int64 and got.shape == tuple(expected.shape)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


AXIS_REDUCTIONS = ["sum", "mean", "amax", "amin", "var", "std", "logsumexp", "argmax",
                   "argmin", "max", "min", "softmax", "log_softmax", "prod", "any", "all",
                   "median", "cumsum", "cumprod", "logcumsumexp", "cummax"]
NO_KEEPDIM = ("softmax", "log_softmax", "cumsum", "cumprod", "logcumsumexp", "cummax")
PAIR_RESULT = ("max", "min", "median", "cummax")


@pytest.mark.parametrize("name", AXIS_REDUCTIONS)
def test_axis_and_keepdims_are_aliases_as_in_torch(name):
    def call(x, lib):
        kw = {"axis": 1}
        if name not in NO_KEEPDIM:
            kw["keepdims"] = True
        out = getattr(x, name)(**kw)
        return out[0] if name in PAIR_RESULT else out

    got = call(md.tensor(X3), md)
    expected = call(torch.tensor(X3), torch)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)
    if name not in ("softmax", "log_softmax"):  # the functions take them too
        out = getattr(md, name)(md.tensor(X3), axis=-1)
        out = out[0] if name in PAIR_RESULT else out
        assert out.shape == (X3.shape if name in NO_KEEPDIM else X3.shape[:-1])
    with pytest.raises(TypeError, match="alias"):
        getattr(md.tensor(X3), name)(dim=0, axis=1)
