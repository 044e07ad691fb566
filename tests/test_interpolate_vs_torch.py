"""interpolate in bilinear and linear mode (and nn.Upsample) against PyTorch: values
and two derivatives for align_corners both ways, size and scale_factor (with and
without recompute_scale_factor), float32 results; nearest on integer tensors; errors."""
import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from minidl import nn
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional
R = np.random.default_rng(5)

RESIZES = [dict(scale_factor=2), dict(scale_factor=0.5), dict(size=(3, 11)),
           dict(size=(9, 4)), dict(size=1), dict(scale_factor=(0.6, 2.3)),
           dict(scale_factor=(0.6, 2.3), recompute_scale_factor=True),
           dict(scale_factor=1.7), dict(size=(5, 7)), dict(scale_factor=3.0)]


@pytest.mark.parametrize("align_corners", [None, False, True])
@pytest.mark.parametrize("kw", RESIZES, ids=str)
def test_bilinear_matches_torch(kw, align_corners):
    assert_matches_torch(lambda x: F.interpolate(x, mode="bilinear", align_corners=align_corners, **kw),
            lambda x: TF.interpolate(x, mode="bilinear", align_corners=align_corners,
                                     **kw),
            R.standard_normal((2, 3, 5, 7)))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("kw", [dict(scale_factor=2.5), dict(size=3), dict(size=1),
                                dict(scale_factor=0.7, recompute_scale_factor=True)], ids=str)
def test_linear_matches_torch(kw, align_corners):
    assert_matches_torch(lambda x: F.interpolate(x, mode="linear", align_corners=align_corners, **kw),
            lambda x: TF.interpolate(x, mode="linear", align_corners=align_corners, **kw),
            R.standard_normal((2, 3, 6)))


@pytest.mark.parametrize("kw", RESIZES, ids=str)
def test_bilinear_float32_stays_float32_and_matches_torch(kw):
    x = R.standard_normal((2, 3, 6, 5)).astype(np.float32)
    y = F.interpolate(md.tensor(x), mode="bilinear", **kw)
    assert y.dtype == md.float32
    np.testing.assert_allclose(y.numpy(), TF.interpolate(torch.tensor(x), mode="bilinear",
                                                         **kw).numpy(), atol=2e-6)


def test_empty_batch():
    assert_matches_torch(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
            lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear"),
            np.zeros((0, 2, 3, 3)))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("shape", [(1, 2, 5), (2, 1, 3, 4), (1, 1, 2, 3, 2)])
def test_nearest_keeps_uint8_like_torch(mode, shape):
    x = R.integers(0, 256, shape).astype(np.uint8)
    y = F.interpolate(md.tensor(x), scale_factor=2.5, mode=mode)
    expected = TF.interpolate(torch.tensor(x), scale_factor=2.5, mode=mode)
    assert y.dtype == md.uint8
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
def test_nearest_keeps_other_integer_dtypes(dtype):
    """(PyTorch refuses these; the nearest modes only copy values, so minidl keeps
    the dtype, with the same values as for float input.)"""
    x = R.integers(-100, 100, (2, 2, 3, 4)).astype(dtype)
    y = F.interpolate(md.tensor(x), size=(5, 7))
    assert y.dtype == np.dtype(dtype)
    expected = TF.interpolate(torch.tensor(x.astype(np.float64)), size=(5, 7))
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


@pytest.mark.parametrize("call,error", [
    (lambda f, t: f.interpolate(t.zeros(1, 2, 3), scale_factor=2, mode="bilinear"),
     NotImplementedError),
    (lambda f, t: f.interpolate(t.zeros(1, 2, 3, 3), scale_factor=2, mode="linear"),
     NotImplementedError),
    (lambda f, t: f.interpolate(t.zeros(1, 2, 3, 3), scale_factor=2, align_corners=True),
     ValueError),
    (lambda f, t: f.interpolate(t.zeros(1, 2, 3, 3, dtype=t.int64), scale_factor=2,
                                mode="bilinear"), NotImplementedError),
    (lambda f, t: f.interpolate(t.zeros(1, 2, 3, 3), mode="bilinear"), ValueError),
    (lambda f, t: f.interpolate(t.zeros(1, 2, 3, 3), scale_factor=0.1, mode="bilinear"),
     RuntimeError),
    (lambda f, t: f.interpolate(t.zeros(1, 2, 3, 3) > 0, scale_factor=2),
     NotImplementedError),
])
def test_errors_have_torch_classes(call, error):
    with pytest.raises(error):
        call(TF, torch)
    with pytest.raises(error, match="interpolate"):
        call(F, md)


@pytest.mark.parametrize("kw", [dict(scale_factor=2, mode="bilinear"),
                                dict(size=(4, 9), mode="bilinear", align_corners=True),
                                dict(scale_factor=(1.5, 0.5), mode="bilinear",
                                     align_corners=False)], ids=str)
def test_upsample_layer_matches_torch(kw):
    ours, theirs = nn.Upsample(**kw), torch.nn.Upsample(**kw)
    assert repr(ours) == repr(theirs)
    assert_matches_torch(ours, theirs, R.standard_normal((2, 2, 4, 5)), order=1)
