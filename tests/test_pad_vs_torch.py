"""pad's modes (constant, reflect, replicate, circular), negative widths (cropping)
and errors against torch.nn.functional.pad: values, two derivatives, dtypes, and the
exception class for every input PyTorch refuses."""
import itertools

import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional

MODES = ["constant", "reflect", "replicate", "circular"]
SHAPES = [(5,), (2, 5), (2, 4, 5), (1, 2, 4, 5), (1, 2, 3, 4, 5)]
WIDTHS = [(1, 2), (-1, 2), (2, -1), (4, 0), (0, 0), (-2, -2), (-3, 2), (5, 5), (-5, 0),
          (1, 1, -1, 2), (2, -1, -1, 2), (0, 3, 3, 0), (1, 0, 2, 1, 0, 2),
          (-1, 1, 1, -1, 2, 2), (1, 1, 1, 1, 1, 1, 1, 1)]


def _torch_outcome(x, widths, mode):
    try:
        return TF.pad(torch.tensor(x), widths, mode=mode), None
    except (RuntimeError, NotImplementedError, ValueError, TypeError) as e:
        return None, e


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape,widths", list(itertools.product(SHAPES, WIDTHS)))
def test_pad_matches_torch_or_raises_the_same_class(mode, shape, widths):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 0.5 - 3
    expected, error = _torch_outcome(x, widths, mode)
    if error is not None:
        with pytest.raises(type(error)):
            F.pad(md.tensor(x), widths, mode=mode)
        return
    if expected.numel() and not np.isfinite(expected.numpy()).all():
        pytest.skip("PyTorch reads uninitialised memory here")
    assert_matches_torch(lambda t: F.pad(t, widths, mode=mode), lambda t: TF.pad(t, widths, mode=mode),
            x)


@pytest.mark.parametrize("mode", MODES)
def test_integer_tensors_keep_their_dtype(mode):
    x = np.arange(10).reshape(2, 5)
    got = F.pad(md.tensor(x), (2, 1), mode=mode)
    expected = TF.pad(torch.tensor(x), (2, 1), mode=mode)
    assert got.dtype == md.int64
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,widths", [((0, 2, 5), (1, 1)), ((2, 0, 5), (1, 1)),
                                          ((0, 2, 3, 4), (1, 1, 1, 1)),
                                          ((0, 3, 4), (1, 1, 1, 1)), ((1, 0), (1, 1))])
def test_empty_dims_follow_torch(mode, shape, widths):
    x = np.zeros(shape)
    expected, error = _torch_outcome(x, widths, mode)
    if error is not None:
        with pytest.raises(type(error)):
            F.pad(md.tensor(x), widths, mode=mode)
    else:
        assert F.pad(md.tensor(x), widths, mode=mode).shape == tuple(expected.shape)


def test_constant_value_and_its_defaults():
    x = np.arange(6.0).reshape(2, 3)
    for kw in [dict(value=2.5), dict(value=None), dict()]:
        np.testing.assert_array_equal(F.pad(md.tensor(x), (1, 1), **kw).numpy(),
                                      TF.pad(torch.tensor(x), (1, 1), **kw).numpy())
    ints = F.pad(md.tensor([[1, 2]]), (1, 0), value=2.7)
    np.testing.assert_array_equal(ints.numpy(), [[2, 1, 2]])


@pytest.mark.parametrize("bad,error", [
    (dict(pad=(1,)), RuntimeError), (dict(pad=(1, 1, 1, 1, 1, 1)), RuntimeError),
    (dict(pad=(1.0, 1)), TypeError), (dict(pad=(1, 1), mode="mirror"), NotImplementedError),
    (dict(pad=(1, 1), mode="reflect", value=1.0), RuntimeError),
    (dict(pad=(-3, -3)), RuntimeError),
])
def test_bad_arguments_raise_torch_classes(bad, error):
    x = np.zeros((2, 5))
    with pytest.raises(error):
        TF.pad(torch.tensor(x), **bad)
    with pytest.raises(error, match="pad"):
        F.pad(md.tensor(x), **bad)


def test_conv_padding_modes_match_torch():
    for mode in ("reflect", "replicate", "circular"):
        for layer, shape in [(md.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode),
                              (2, 2, 5, 6)),
                             (md.nn.Conv2d(2, 2, (2, 3), padding="same",
                                           padding_mode=mode), (2, 5, 5)),
                             (md.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode),
                              (2, 2, 6))]:
            tlayer = getattr(torch.nn, type(layer).__name__)(
                2, layer.out_channels, layer.kernel_size, padding=layer.padding,
                padding_mode=mode).double()
            tlayer.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                                    layer.double().state_dict().items()})
            x = np.random.default_rng(0).standard_normal(shape)
            assert_matches_torch(lambda t: layer(t), lambda t: tlayer(t), x, order=1)
