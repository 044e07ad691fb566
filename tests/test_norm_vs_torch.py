"""group_norm, instance_norm (with running statistics), layer_norm and batch_norm on
edge inputs, and the LayerNorm, GroupNorm and InstanceNorm layers, against PyTorch:
values, two derivatives, running statistics, state_dict keys, reprs and errors."""
import warnings

import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from minidl import nn
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF, TN = torch.nn.functional, torch.nn
R = np.random.default_rng(3)


@pytest.mark.parametrize("shape,groups,affine", [
    ((2, 4, 3), 2, True), ((2, 6, 2, 2), 3, True), ((3, 2), 1, False), ((2, 4, 5), 4, True),
    ((1, 6, 2, 2, 2), 2, False), ((2, 4), 4, False), ((0, 4, 3), 2, True)])
def test_group_norm_matches_torch(shape, groups, affine):
    arrays = [R.standard_normal(shape)]
    if affine:
        arrays += [R.standard_normal(shape[1]), R.standard_normal(shape[1])]
    assert_matches_torch(lambda x, *wb: F.group_norm(x, groups, *wb, eps=1e-3),
            lambda x, *wb: TF.group_norm(x, groups, *wb, eps=1e-3), *arrays)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 3, 3), (1, 2, 2, 2, 3)])
def test_instance_norm_matches_torch(shape):
    c = shape[1]
    assert_matches_torch(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
            lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
            R.standard_normal(shape), R.standard_normal(c), R.standard_normal(c))


def test_instance_norm_of_an_empty_batch():
    """PyTorch fails with a weight ("select(): index 0 out of range") and fills the
    running statistics with NaN; minidl returns the empty output, zero gradients for
    the weight, and leaves the running statistics alone."""
    assert_matches_torch(F.instance_norm, TF.instance_norm, np.zeros((0, 3, 4)))
    w, stats = md.ones(3, requires_grad=True), (md.zeros(3), md.ones(3))
    F.instance_norm(md.zeros(0, 3, 4), *stats, weight=w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 0)
    np.testing.assert_array_equal(stats[0].numpy(), 0)
    np.testing.assert_array_equal(stats[1].numpy(), 1)


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_instance_norm_running_statistics_match_torch(momentum):
    x = R.standard_normal((3, 2, 5))
    stats = [np.zeros(2), np.ones(2)]
    ours = [md.tensor(a) for a in stats]
    theirs = [torch.tensor(a) for a in stats]
    for _ in range(3):
        y = F.instance_norm(md.tensor(x), *ours, momentum=momentum)
        ty = TF.instance_norm(torch.tensor(x), *theirs, momentum=momentum)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-12)
        x = x * 1.5 + 0.3
    for m, t in zip(ours, theirs):
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-12)
    assert_matches_torch(lambda t: F.instance_norm(t, *ours, use_input_stats=False),
            lambda t: TF.instance_norm(t, *theirs, use_input_stats=False), x)


@pytest.mark.parametrize("call", [
    lambda f, t: f.instance_norm(t.zeros(3, 4)),                     # no spatial dims
    lambda f, t: f.instance_norm(t.zeros(3, 4, 1)),                  # one spatial element
    lambda f, t: f.instance_norm(t.zeros(2, 4, 3), t.zeros(4), None),
    lambda f, t: f.instance_norm(t.zeros(2, 4, 3), use_input_stats=False),
    lambda f, t: f.group_norm(t.zeros(4), 2),
    lambda f, t: f.group_norm(t.zeros(2, 4, 3), 3),
    lambda f, t: f.group_norm(t.zeros(2, 4, 3), 2, t.ones(3)),
    lambda f, t: f.group_norm(t.zeros(2, 4, 3, dtype=t.int64), 2),
    lambda f, t: f.layer_norm(t.zeros(2, 3, dtype=t.int64), (3,)),
    lambda f, t: f.batch_norm(t.zeros(2, 3, dtype=t.int64), None, None, training=True),
    lambda f, t: f.batch_norm(t.zeros(1, 3), None, None, training=True),
])
def test_errors_have_torch_classes(call):
    with pytest.raises(Exception) as theirs:
        call(TF, torch)
    with pytest.raises(type(theirs.value)):
        call(F, md)


@pytest.mark.parametrize("layer", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_training_on_an_empty_batch_is_empty_like_torch(layer):
    """PyTorch 2.13 returns an empty output, leaves the running statistics alone
    (but counts the batch) and gives zero gradients to weight and bias."""
    shape = (0, 3) if layer == "BatchNorm1d" else (0, 3, 2, 2)
    ours, theirs = getattr(nn, layer)(3), getattr(TN, layer)(3)
    x = md.zeros(*shape, requires_grad=True)
    tx = torch.zeros(shape, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    assert y.shape == tuple(ty.shape)
    y.sum().backward()
    ty.sum().backward()
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs.state_dict()[name].numpy())
    np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
    assert x.grad.shape == shape


NORM_LAYERS = [
    ("LayerNorm", (4,), {}), ("LayerNorm", ((2, 4),), dict(eps=1e-3, bias=False)),
    ("LayerNorm", (4,), dict(elementwise_affine=False)),
    ("GroupNorm", (2, 4), {}), ("GroupNorm", (4, 4), dict(affine=False)),
    ("GroupNorm", (1, 4), dict(bias=False, eps=0.1)),
    ("InstanceNorm1d", (4,), {}), ("InstanceNorm1d", (4,), dict(affine=True)),
    ("InstanceNorm2d", (4,), dict(track_running_stats=True, momentum=0.3)),
    ("InstanceNorm2d", (4,), dict(affine=True, bias=False, track_running_stats=True,
                                  momentum=None)),
    ("InstanceNorm3d", (4,), dict(affine=True)),
]
INPUTS = {"LayerNorm": (3, 2, 4), "GroupNorm": (3, 4, 5), "InstanceNorm1d": (3, 4, 5),
          "InstanceNorm2d": (3, 4, 3, 2), "InstanceNorm3d": (2, 4, 2, 3, 2)}


@pytest.mark.parametrize("name,args,kw", NORM_LAYERS)
def test_norm_layers_match_torch(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(TN, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs.state_dict()[key].numpy())
    ours.double()
    theirs.double()
    for p in ours.parameters():  # not the initial ones and zeros
        p.detach().numpy()[...] = R.standard_normal(p.shape)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                            ours.state_dict().items()})
    for mode in ("train", "eval", "train"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        x = R.standard_normal(INPUTS[name])
        assert_matches_torch(ours, theirs, x, order=1)
        for key, value in ours.state_dict().items():
            np.testing.assert_allclose(value.numpy(), theirs.state_dict()[key].numpy(),
                                       rtol=1e-12)
    if name.startswith("Instance"):  # unbatched input
        assert_matches_torch(ours, theirs, R.standard_normal(INPUTS[name][1:]), order=1)


def test_instance_norm_channel_mismatch_warns_or_raises_like_torch():
    x = np.zeros((2, 5, 3, 3))
    with pytest.warns(UserWarning, match="num_features"):
        nn.InstanceNorm2d(4)(md.tensor(x))
    with pytest.raises(ValueError, match="num_features"):
        nn.InstanceNorm2d(4, affine=True)(md.tensor(x))
    with pytest.raises(ValueError):
        TN.InstanceNorm2d(4, affine=True)(torch.tensor(x))
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.InstanceNorm2d(4)(md.zeros(4, 3))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm2d(5)(md.tensor(x))
