"""The activations added for PyTorch parity (selu, celu, hardtanh, relu6, hardsigmoid,
hardswish, logsigmoid, mish, softsign, softmin, normalize) and their layers, against
PyTorch: values, first and second derivatives (at the kinks too), dtypes, errors,
reprs."""
import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from minidl import nn
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF, TN = torch.nn.functional, torch.nn

R = np.random.default_rng(7)
WIDE = np.concatenate([R.standard_normal(20) * 4, [-6, -3, -1, -0.5, 0, 0.5, 1, 3, 6, 7]])
BIG = np.array([-800.0, -40.0, -21.0, -19.0, 19.0, 21.0, 40.0, 800.0])

ELEMENTWISE = {
    "selu": (F.selu, TF.selu),
    "celu": (F.celu, TF.celu),
    # (an alpha exact in float32: PyTorch's backward rounds 1/alpha to float32)
    "celu_alpha": (lambda x: F.celu(x, 0.25), lambda x: TF.celu(x, 0.25)),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_limits": (lambda x: F.hardtanh(x, -0.5, 3.0),
                        lambda x: TF.hardtanh(x, -0.5, 3.0)),
    "relu6": (F.relu6, TF.relu6),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "mish": (F.mish, TF.mish),
    "softsign": (F.softsign, TF.softsign),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_values_and_two_derivatives_match_torch(name):
    ours, theirs = ELEMENTWISE[name]
    if name == "hardsigmoid":  # PyTorch's backward multiplies by 1/6 rounded to float32,
        assert_matches_torch(ours, theirs, WIDE, order=1, rtol=1e-7)  # and has no second derivative
        x = md.tensor(WIDE, requires_grad=True)
        g, = md.autograd.grad(ours(x).sum(), x, create_graph=True)
        assert not g.requires_grad  # piecewise linear: the gradient does not depend on x
        return
    assert_matches_torch(ours, theirs, WIDE)


@pytest.mark.parametrize("name", ["logsigmoid", "mish", "softsign", "selu", "celu"])
def test_far_tails_match_torch(name):
    """Values and gradients; the second derivative is only checked to be finite
    (PyTorch's mish gives NaN at x = 800)."""
    ours, theirs = ELEMENTWISE[name]
    assert_matches_torch(ours, theirs, BIG, order=1, rtol=1e-9, atol=1e-12)
    x = md.tensor(BIG, requires_grad=True)
    g, = md.autograd.grad(ours(x).sum(), x, create_graph=True)
    gg, = md.autograd.grad(g.sum(), x)
    assert np.isfinite(gg.numpy()).all()


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float32_stays_float32(name):
    ours, theirs = ELEMENTWISE[name]
    x = WIDE.astype(np.float32)
    y, ty = ours(md.tensor(x)), theirs(torch.tensor(x))
    assert y.dtype == md.float32
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_integer_inputs_behave_as_in_torch(name, dtype):
    ours, theirs = ELEMENTWISE[name]
    x = np.arange(0, 9).astype(dtype)
    try:
        expected = theirs(torch.tensor(x))
    except (NotImplementedError, RuntimeError) as e:
        with pytest.raises(type(e)):
            ours(md.tensor(x))
        return
    got = ours(md.tensor(x))
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_hardtanh_on_unsigned_with_negative_limit_raises_like_torch():
    with pytest.raises(RuntimeError):
        TF.hardtanh(torch.arange(3, dtype=torch.uint8))
    with pytest.raises(RuntimeError, match="unsigned"):
        F.hardtanh(md.tensor(np.arange(3, dtype=np.uint8)))
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(md.tensor([1.0]), 2.0, 1.0)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin_matches_torch(dim):
    assert_matches_torch(lambda x: F.softmin(x, dim), lambda x: TF.softmin(x, dim),
            R.standard_normal((3, 4)))


def test_softmin_dtype_argument_casts_first():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    y = F.softmin(md.tensor(x), 1, dtype=md.float64)
    assert y.dtype == md.float64
    np.testing.assert_allclose(y.numpy(), TF.softmin(torch.tensor(x), 1,
                                                     dtype=torch.float64).numpy())


NORMALIZE = [dict(), dict(p=1.0), dict(p=3, dim=0), dict(p=float("inf"), dim=-1),
             dict(p=float("-inf")), dict(p=0), dict(dim=(0, 2)), dict(eps=0.5),
             dict(p=2.5, dim=2)]


@pytest.mark.parametrize("kw", NORMALIZE, ids=str)
def test_normalize_matches_torch(kw):
    x = R.permutation(24).reshape(2, 3, 4) * 0.1 - 1.15  # no zeros, no ties
    assert_matches_torch(lambda t: F.normalize(t, **kw), lambda t: TF.normalize(t, **kw), x)


def test_normalize_of_a_zero_vector_is_zero_with_finite_gradients_like_torch():
    """Values and gradients as PyTorch; second derivatives finite (PyTorch: NaN)."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
    assert_matches_torch(F.normalize, TF.normalize, x, order=1)
    assert_matches_torch(lambda t: F.normalize(t, dim=0), lambda t: TF.normalize(t, dim=0), x.T,
            order=1)
    t = md.tensor(x, requires_grad=True)
    g, = md.autograd.grad((F.normalize(t) * md.tensor(x + 1)).sum(), t, create_graph=True)
    gg, = md.autograd.grad(g.sum(), t)
    assert np.isfinite(gg.numpy()).all()


def test_normalize_out_argument():
    x = np.array([[3.0, 4.0]])
    out = md.zeros(1, 2, dtype=md.float64)
    assert F.normalize(md.tensor(x), out=out) is out
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8]])
    with pytest.raises(RuntimeError, match="out="):
        F.normalize(md.tensor(x, requires_grad=True), out=out)


def test_normalize_refuses_integers_like_torch():
    with pytest.raises(RuntimeError):
        TF.normalize(torch.tensor([[1, 2]]))
    with pytest.raises(RuntimeError, match="normalize"):
        F.normalize(md.tensor([[1, 2]]))


def test_inplace_writes_into_the_input_outside_autograd():
    x = md.tensor([-2.0, 0.5, 8.0])
    assert F.relu6(x, inplace=True) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.5, 6.0])
    with pytest.raises(RuntimeError, match="hardswish_: a leaf Variable that requires"):
        F.hardswish(md.tensor([1.0], requires_grad=True), inplace=True)


LAYERS = [
    (lambda m: m.SELU(), None), (lambda m: m.SELU(inplace=True), None),
    (lambda m: m.CELU(0.5), None), (lambda m: m.Hardtanh(-2.0, 0.5), None),
    (lambda m: m.ReLU6(), None), (lambda m: m.ReLU6(True), None),
    (lambda m: m.Hardsigmoid(), None), (lambda m: m.Hardswish(True), None),
    (lambda m: m.LogSigmoid(), None), (lambda m: m.Mish(inplace=True), None),
    (lambda m: m.Softsign(), None), (lambda m: m.Softmin(dim=1), None),
    (lambda m: m.Hardtanh(min_value=-0.3, max_value=0.2), None),
]


@pytest.mark.filterwarnings("ignore:.*deprecated")
@pytest.mark.parametrize("i", range(len(LAYERS)))
def test_layers_match_torch_values_and_repr(i):
    make, _ = LAYERS[i]
    ours, theirs = make(nn), make(TN)
    assert repr(ours) == repr(theirs)
    x = R.standard_normal((2, 5)) * 4
    y = ours(md.tensor(x, requires_grad=True) * 1)  # (not a leaf: inplace=True works)
    expected = theirs(torch.tensor(x, requires_grad=True) * 1)
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    assert not ours.parameters() or list(ours.parameters()) == []


def test_hardtanh_layer_checks_its_limits_like_torch():
    with pytest.raises((ValueError, AssertionError)):
        TN.Hardtanh(1.0, 1.0)
    with pytest.raises(ValueError, match="max_val"):
        nn.Hardtanh(1.0, 1.0)
