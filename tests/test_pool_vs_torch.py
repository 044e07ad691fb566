"""adaptive_max_pool2d, max_unpool2d and their layers against PyTorch (values, indices,
two derivatives, output sizes, errors), and the dtype table of every pool: integer
tensors stay integer where PyTorch allows them, and are refused where it refuses."""
import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from minidl import nn
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional
R = np.random.default_rng(11)


def distinct(*shape):
    return R.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 2.0


@pytest.mark.parametrize("shape,size", [((2, 3, 7, 5), (3, 2)), ((1, 2, 4, 4), 4),
                                        ((1, 1, 5, 9), (None, 4)), ((2, 6, 6), 4),
                                        ((1, 2, 3, 3), 5), ((0, 2, 4, 4), 2)])
def test_adaptive_max_pool2d_matches_torch(shape, size):
    assert_matches_torch(lambda x: F.adaptive_max_pool2d(x, size, return_indices=True),
            lambda x: TF.adaptive_max_pool2d(x, size, return_indices=True),
            distinct(*shape))


UNPOOL = [  # input shape, max_pool2d / max_unpool2d arguments, output_size
    ((2, 2, 4, 6), dict(kernel_size=2), None),
    ((1, 2, 7, 5), dict(kernel_size=3, stride=3, padding=1), (7, 5)),
    ((1, 1, 7, 5), dict(kernel_size=2), (1, 1, 7, 5)),
    ((3, 5, 5), dict(kernel_size=(2, 1), stride=(2, 1)), (5, 5)),
    ((0, 2, 4, 4), dict(kernel_size=2), None),
]


@pytest.mark.parametrize("shape,kw,output_size", UNPOOL)
def test_max_unpool2d_inverts_max_pool2d_like_torch(shape, kw, output_size):
    x = distinct(*shape)
    _, idx = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    ours_idx = md.tensor(idx.numpy())
    pooled = TF.max_pool2d(torch.tensor(x), **kw).numpy()
    assert_matches_torch(lambda t: F.max_unpool2d(t, ours_idx, output_size=output_size, **kw),
            lambda t: TF.max_unpool2d(t, idx, output_size=output_size, **kw), pooled)


def test_max_unpool2d_with_repeated_indices_matches_torch():
    """Overlapping windows pick one position twice: the value is written once, and
    each input reads the gradient at its position (PyTorch's rule)."""
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [0.0, 0.0, 3.0, 1.0]]]])
    _, idx = TF.max_pool2d(torch.tensor(x), (1, 2), stride=1, return_indices=True)
    pooled = TF.max_pool2d(torch.tensor(x), (1, 2), stride=1).numpy()
    assert_matches_torch(lambda t: F.max_unpool2d(t, md.tensor(idx.numpy()), (1, 2), 1, output_size=(2, 4)),
            lambda t: TF.max_unpool2d(t, idx, (1, 2), 1, output_size=(2, 4)), pooled)


@pytest.mark.parametrize("call,error", [
    (lambda f, t, i: f.max_unpool2d(t.zeros(1, 1, 2, 2), i, 2, output_size=(6, 4)),
     ValueError),
    (lambda f, t, i: f.max_unpool2d(t.zeros(1, 1, 2, 2), i * 0 + 16, 2), RuntimeError),
    (lambda f, t, i: f.max_unpool2d(t.zeros(1, 1, 2, 2), i * 0 - 1, 2), RuntimeError),
    (lambda f, t, i: f.max_unpool2d(t.zeros(1, 1, 2, 3), i, 2), RuntimeError),
    (lambda f, t, i: f.adaptive_max_pool2d(t.zeros(1, 1, 2, 2, 2), 2), RuntimeError),
])
def test_errors_have_torch_classes(call, error):
    with pytest.raises(error):
        call(TF, torch, torch.zeros(1, 1, 2, 2, dtype=torch.int64))
    with pytest.raises(error):
        call(F, md, md.zeros(1, 1, 2, 2, dtype=md.int64))


POOLS = {
    "max_pool2d": (lambda f, x: f.max_pool2d(x, 2), True),
    "max_pool2d_indices": (lambda f, x: f.max_pool2d(x, 2, 1, return_indices=True), True),
    "avg_pool2d": (lambda f, x: f.avg_pool2d(x, 2, 1, 1), False),
    "avg_pool2d_divisor": (lambda f, x: f.avg_pool2d(x, 3, divisor_override=4), False),
    "adaptive_avg_pool2d": (lambda f, x: f.adaptive_avg_pool2d(x, 3), False),
    "adaptive_max_pool2d": (lambda f, x: f.adaptive_max_pool2d(x, 3), True),
}
INT_DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", POOLS)
def test_integer_inputs_keep_their_dtype_or_raise(name, dtype):
    """Where PyTorch computes on integers, the result has its dtype and values; where
    it refuses, minidl refuses too -- except the max pools, which only pick values and
    so keep every integer dtype (a superset of PyTorch's table)."""
    call, picks = POOLS[name]
    x = R.integers(-50 if dtype[0] == "i" else 0, 100, (2, 2, 5, 6)).astype(dtype)
    try:
        expected = call(TF, torch.tensor(x))
    except NotImplementedError:
        if picks and dtype != "bool":
            out = call(F, md.tensor(x))
            out = out[0] if isinstance(out, tuple) else out
            assert out.dtype == np.dtype(dtype)
            return
        with pytest.raises(NotImplementedError):
            call(F, md.tensor(x))
        return
    got = call(F, md.tensor(x))
    for g, e in zip(got if isinstance(got, tuple) else [got],
                    expected if isinstance(expected, tuple) else [expected]):
        assert str(g.dtype) == str(e.dtype).replace("torch.", "")
        np.testing.assert_array_equal(g.numpy(), e.numpy())


def test_layers_match_torch():
    x = distinct(2, 3, 7, 6)
    for ours, theirs in [(nn.AdaptiveMaxPool2d((3, 2)), torch.nn.AdaptiveMaxPool2d((3, 2))),
                         (nn.AdaptiveMaxPool2d(4, return_indices=True),
                          torch.nn.AdaptiveMaxPool2d(4, return_indices=True))]:
        assert repr(ours) == repr(theirs)
        assert_matches_torch(ours, theirs, x)
    pool, tpool = nn.MaxPool2d(3, 2, 1, return_indices=True), \
        torch.nn.MaxPool2d(3, 2, 1, return_indices=True)
    unpool, tunpool = nn.MaxUnpool2d(3, 2, 1), torch.nn.MaxUnpool2d(3, 2, 1)
    assert repr(unpool) == repr(tunpool)
    x = distinct(2, 3, 8, 8)
    (y, i), (ty, ti) = pool(md.tensor(x)), tpool(torch.tensor(x))
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert_matches_torch(lambda t: unpool(t, i, output_size=(8, 8)),
            lambda t: tunpool(t, ti, output_size=(8, 8)), ty.numpy())
