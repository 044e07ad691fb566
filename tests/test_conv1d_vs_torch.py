"""conv1d and nn.Conv1d against PyTorch: values and two derivatives over geometries
(stride, padding numbers/'same'/'valid', dilation, groups, bias, unbatched), the
layer's parameters, init, repr and state_dict, and errors naming conv1d."""
import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional

GEOMETRIES = [  # (N, C, L, O, K, kwargs)
    (2, 2, 7, 3, 3, {}), (1, 3, 8, 2, 2, dict(stride=2)),
    (2, 2, 6, 2, 3, dict(padding=2, dilation=2)),
    (1, 4, 6, 4, 3, dict(groups=2, stride=(2,), padding=(1,))),
    (2, 2, 5, 3, 2, dict(padding="same")), (1, 2, 9, 2, 3, dict(padding="same", dilation=3)),
    (1, 2, 4, 2, 4, dict(padding="valid")), (3, 6, 10, 6, 3, dict(groups=6, padding=1)),
    (0, 2, 7, 3, 3, dict(padding=1)),                                # empty batch
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("N,C,L,O,K,kw", GEOMETRIES)
def test_conv1d_matches_torch(N, C, L, O, K, kw, bias):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((N, C, L)),
              rng.standard_normal((O, C // kw.get("groups", 1), K))]
    if bias:
        arrays.append(rng.standard_normal(O))
    assert_matches_torch(lambda *t: F.conv1d(*t, **kw), lambda *t: TF.conv1d(*t, **kw), *arrays)


def test_unbatched_input():
    rng = np.random.default_rng(1)
    assert_matches_torch(lambda x, w: F.conv1d(x, w, padding=1), lambda x, w: TF.conv1d(x, w, padding=1),
            rng.standard_normal((2, 5)), rng.standard_normal((3, 2, 3)))


@pytest.mark.parametrize("call,error", [
    (lambda f, t: f(t.zeros(1, 2, 5), t.zeros(3, 2, 3, 3)), RuntimeError),   # 4-D weight
    (lambda f, t: f(t.zeros(1, 2, 5), t.zeros(3, 4, 3)), RuntimeError),      # channels
    (lambda f, t: f(t.zeros(1, 2, 2), t.zeros(3, 2, 3)), RuntimeError),      # too short
    (lambda f, t: f(t.zeros(1, 2, 5), t.zeros(3, 2, 3), stride=2, padding="same"),
     RuntimeError),
    (lambda f, t: f(t.zeros(1, 2, 5), t.zeros(3, 2, 3), padding="full"), RuntimeError),
    (lambda f, t: f(t.zeros(1, 2, 5), t.zeros(3, 2, 3), t.zeros(4)), RuntimeError),
])
def test_bad_arguments_raise_torch_classes_naming_conv1d(call, error):
    with pytest.raises(error):
        call(TF.conv1d, torch)
    with pytest.raises(error, match="conv1d"):
        call(F.conv1d, md)


LAYERS = [((4, 6, 3), {}), ((4, 6, 3), dict(stride=2, padding=1, bias=False)),
          ((4, 4, 2), dict(padding="same", dilation=2, groups=4)),
          ((4, 2, (3,)), dict(padding="valid")),
          ((4, 3, 3), dict(padding=2, padding_mode="reflect")),
          ((4, 3, 2), dict(padding="same", padding_mode="circular")),
          ((4, 3, 3), dict(padding=(1,), padding_mode="replicate", dilation=2))]


@pytest.mark.parametrize("args,kw", LAYERS)
def test_conv1d_layer_matches_torch(args, kw):
    ours, theirs = md.nn.Conv1d(*args, **kw), torch.nn.Conv1d(*args, **kw)
    assert repr(ours) == repr(theirs)
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())
    for name, value in state.items():
        assert tuple(value.shape) == tuple(theirs.state_dict()[name].shape)
        assert value.dtype == np.float32
    ours.double()
    theirs.double().load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                                     ours.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, args[0], 9))
    assert_matches_torch(ours, theirs, x, order=1)
    assert_matches_torch(ours, theirs, x[0], order=1)  # unbatched


def test_conv1d_default_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = md.nn.Conv1d(16, 64, 5, groups=4)
    bound = 1 / np.sqrt(4 * 5)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.1)


def test_conv1d_layer_errors_name_the_layer():
    with pytest.raises(RuntimeError, match=r"Conv1d\(2, 3.*\(N, 2, L\)"):
        md.nn.Conv1d(2, 3, 3)(md.zeros(1, 4, 8))
    with pytest.raises(TypeError, match="Conv1d"):
        md.nn.Conv1d(2, 3, (3, 3))
