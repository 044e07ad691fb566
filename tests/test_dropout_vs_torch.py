"""Dropout against PyTorch 2.13: for every function and input rank, the same
outcome (identity, new values, warning, error), the same mask structure (which
values are dropped together) and the same statistics. The random streams differ, so
values are compared through their structure, not one by one."""
import warnings

import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from minidl import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

FUNCTIONS = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
             "feature_alpha_dropout"]
SHAPES = [(5,), (40, 50), (30, 20, 4), (10, 6, 3, 4), (6, 5, 2, 3, 2)]


def run(lib_f, x, **kw):
    """('ok', output, warning texts) or ('error', exception class, warning texts)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = ("ok", lib_f(x, **kw))
        except Exception as e:  # noqa: BLE001  (compared with PyTorch's)
            out = ("error", type(e))
    return out + ([str(w.message) for w in caught],)


def mask_axes(name, ndim):
    """The axes along which PyTorch's mask is constant: none for dropout and
    alpha_dropout; every axis after (sample, channel) for feature dropout; for
    dropout1d/3d on unbatched input, every axis after the channel."""
    if name in ("dropout", "alpha_dropout"):
        return ()
    batched = {"dropout1d": ndim == 3, "dropout3d": ndim == 5}.get(name, True)
    return tuple(range(2 if batched else 1, ndim))


def two_values(name, p):
    """What dropout makes of an input of ones: (dropped, kept)."""
    if "alpha" not in name:
        return np.array([0.0, 1 / (1 - p)])
    from minidl.ops.dropout import ALPHA
    a = 1 / np.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    return np.array([-a * ALPHA * (1 - p), a + a * ALPHA * p])


def dropped_in_blocks(y, axes):
    """Is y's mask (0 where dropped; alpha dropout: its smallest value) constant along
    axes?"""
    kept = y != y.min()
    return (kept.all(axis=axes) | ~kept.any(axis=axes)).all()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("training, p", [(True, 0.3), (False, 0.3), (True, 0.0),
                                         (True, 1.0)])
def test_every_dropout_at_every_rank_as_torch(name, shape, training, p):
    md.manual_seed(0)
    torch.manual_seed(0)
    x0 = np.ones(shape, np.float32)
    tx, mx = torch.tensor(x0), md.tensor(x0)
    kw = dict(p=p, training=training)
    theirs, ours = run(getattr(TF, name), tx, **kw), run(getattr(F, name), mx, **kw)
    assert ours[0] == theirs[0] and ours[2] == theirs[2], (ours, theirs)
    if theirs[0] == "error":
        assert issubclass(ours[1], theirs[1])
        return
    y, ty = ours[1].numpy(), theirs[1].numpy()
    assert y.shape == ty.shape and ours[1].dtype == md.float32
    assert (ours[1] is mx) == (theirs[1] is tx)  # (the input itself comes back)
    if not training or p in (0.0, 1.0):
        np.testing.assert_array_equal(y, ty)
        return
    # the same two values (dropped, kept), dropped in the same blocks
    for out in (y, ty):
        assert np.isclose(out[..., None], two_values(name, p), rtol=1e-6).any(-1).all()
    axes = mask_axes(name, len(shape))
    assert dropped_in_blocks(ty, axes) and dropped_in_blocks(y, axes)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_dropout_rate_mean_and_variance_as_torch(name):
    """The share of dropped blocks, and the output's mean and standard deviation
    (dropout keeps the mean, alpha dropout the mean and variance)."""
    md.manual_seed(0)
    torch.manual_seed(0)
    x0 = np.random.default_rng(0).standard_normal((400, 50, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, name)(md.tensor(x0), 0.4, True).numpy()
        ty = getattr(TF, name)(torch.tensor(x0), 0.4, True).numpy()
    blocks = x0.size / np.prod([x0.shape[a] for a in mask_axes(name, x0.ndim)])
    for out in (y, ty):
        values, counts = np.unique(out, return_counts=True)
        dropped = out == values[counts.argmax()]  # (0; for alpha dropout, its shift)
        assert dropped.mean() == pytest.approx(0.4, abs=4 * np.sqrt(0.24 / blocks))
    assert y.mean() == pytest.approx(ty.mean(), abs=0.03)
    assert y.std() == pytest.approx(ty.std(), rel=0.03)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_integer_input_is_refused_in_training_and_passed_through_in_eval(name, dtype):
    x0 = np.ones((2, 3, 4), dtype)
    for training in (True, False):
        theirs = run(getattr(TF, name), torch.tensor(x0), p=0.5, training=training)
        ours = run(getattr(F, name), md.tensor(x0), p=0.5, training=training)
        assert ours[0] == theirs[0]
        if theirs[0] == "error":
            assert issubclass(ours[1], theirs[1])


@pytest.mark.parametrize("name", FUNCTIONS)
def test_inplace_dropout_writes_into_the_input_and_is_recorded(name):
    shape = (6, 4, 3, 2, 2) if name == "dropout3d" else (6, 4, 5)
    a = md.tensor(np.ones(shape), requires_grad=True)
    x = a * 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, name)(x, 0.5, True, inplace=True)
        assert y is x and x._version == 1
        (x * x).sum().backward()
        # d/da of (mask * 2a + shift)^2 = 2 y * mask * 2, with y's mask the factor
        kept = (y.detach().numpy() != y.detach().numpy().min()) if "alpha" in name else (
            y.detach().numpy() != 0)
        assert ((a.grad.numpy() != 0) == kept).all()
        with pytest.raises(RuntimeError, match="leaf Variable"):
            getattr(F, name)(md.ones(*shape, requires_grad=True), 0.5, True, inplace=True)


@pytest.mark.parametrize("layer", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                   "AlphaDropout", "FeatureAlphaDropout"])
def test_dropout_layers_match_torch(layer):
    ours, theirs = getattr(nn, layer)(0.25, inplace=True), getattr(torch.nn, layer)(
        0.25, inplace=True)
    assert repr(ours) == repr(theirs)
    x = md.ones(4, 3, 2) if layer == "Dropout1d" else md.ones(4, 3, 2, 2, 2)
    assert ours.eval()(x) is x
