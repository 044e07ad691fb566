"""Exception classes against PyTorch: for each bad input, minidl's error must be an
instance of the class PyTorch raises (mostly RuntimeError), so that code written for
PyTorch catches it -- and it must name the op, not come from deep inside numpy."""
import numpy as np
import pytest

import minidl as md
import minidl.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def both(fn):
    """fn(lib, F) written once for minidl (md, F) and torch (torch, TF)."""
    return (lambda: fn(md, F)), (lambda: fn(torch, TF))


def img(lib, *shape):
    return lib.ones(*shape)


CASES = {
    # ---- shapes and geometry
    "conv2d channel mismatch": both(lambda L, f: f.conv2d(img(L, 1, 3, 8, 8), img(L, 4, 2, 3, 3))),
    "conv2d kernel larger than input": both(lambda L, f: f.conv2d(img(L, 1, 1, 2, 2), img(L, 1, 1, 3, 3))),
    "conv2d 2-d input": both(lambda L, f: f.conv2d(img(L, 8, 8), img(L, 1, 1, 3, 3))),
    "conv2d groups do not divide": both(lambda L, f: f.conv2d(img(L, 1, 4, 8, 8), img(L, 3, 2, 3, 3), groups=2)),
    "conv2d stride 0": both(lambda L, f: f.conv2d(img(L, 1, 1, 8, 8), img(L, 1, 1, 3, 3), stride=0)),
    "conv2d negative padding": both(lambda L, f: f.conv2d(img(L, 1, 1, 8, 8), img(L, 1, 1, 3, 3), padding=-1)),
    "conv2d bias size": both(lambda L, f: f.conv2d(img(L, 1, 1, 8, 8), img(L, 2, 1, 3, 3), img(L, 3))),
    "conv_transpose2d channel mismatch": both(lambda L, f: f.conv_transpose2d(img(L, 1, 3, 4, 4), img(L, 2, 1, 3, 3))),
    "max_pool2d kernel larger than input": both(lambda L, f: f.max_pool2d(img(L, 1, 1, 2, 2), 3)),
    "max_pool2d padding over half kernel": both(lambda L, f: f.max_pool2d(img(L, 1, 1, 8, 8), 2, padding=2)),
    "max_pool2d stride 0": both(lambda L, f: f.max_pool2d(img(L, 1, 1, 8, 8), 2, stride=0)),
    "max_pool2d 2-d input": both(lambda L, f: f.max_pool2d(img(L, 8, 8), 2)),
    "avg_pool2d kernel larger than input": both(lambda L, f: f.avg_pool2d(img(L, 1, 1, 2, 2), 3)),
    "avg_pool2d padding over half kernel": both(lambda L, f: f.avg_pool2d(img(L, 1, 1, 8, 8), 2, padding=2)),
    "adaptive_avg_pool2d 2-d input": both(lambda L, f: f.adaptive_avg_pool2d(img(L, 8), 2)),
    "pad odd number of values": both(lambda L, f: f.pad(img(L, 2, 3), (1, 2, 3))),
    "pad too many values": both(lambda L, f: f.pad(img(L, 3), (1, 1, 1, 1))),
    "permute wrong length": both(lambda L, f: img(L, 2, 3).permute(0)),
    "permute repeated dim": both(lambda L, f: img(L, 2, 3).permute(0, 0)),
    "reshape wrong size": both(lambda L, f: img(L, 2, 3).reshape(4, 2)),
    "reshape two -1": both(lambda L, f: img(L, 2, 3).reshape(-1, -1)),
    "view wrong size": both(lambda L, f: img(L, 2, 3).view(5)),
    "expand bad shape": both(lambda L, f: img(L, 2, 3).expand(4, 3)),
    "flatten start after end": both(lambda L, f: img(L, 2, 3, 4).flatten(2, 1)),
    "cat shapes differ": both(lambda L, f: L.cat([img(L, 2, 3), img(L, 3, 2)])),
    "cat 0-d": both(lambda L, f: L.cat([L.tensor(1.0), L.tensor(2.0)])),
    "cat empty list": both(lambda L, f: L.cat([])),
    "stack shapes differ": both(lambda L, f: L.stack([img(L, 2), img(L, 3)])),
    "matmul mismatch": both(lambda L, f: img(L, 2, 3) @ img(L, 2, 3)),
    "matmul 0-d": both(lambda L, f: L.matmul(L.tensor(1.0), img(L, 2))),
    "add does not broadcast": both(lambda L, f: img(L, 2, 3) + img(L, 4)),
    "where does not broadcast": both(lambda L, f: L.where(img(L, 2) > 0, img(L, 3), 0.0)),
    "linear mismatch": both(lambda L, f: f.linear(img(L, 2, 3), img(L, 4, 2))),
    "t of 3-d": both(lambda L, f: img(L, 2, 2, 2).t()),
    "item of many": both(lambda L, f: img(L, 3).item()),
    "bool of many": both(lambda L, f: bool(img(L, 3))),
    "len of 0-d": both(lambda L, f: len(L.tensor(1.0))),
    "negative size": both(lambda L, f: L.zeros(2, -1)),
    "eye negative": both(lambda L, f: L.eye(-2)),
    "ragged data": both(lambda L, f: L.tensor([[1, 2], [3]])),
    "string data": both(lambda L, f: L.tensor(["a"])),
    "arange step 0": both(lambda L, f: L.arange(0, 10, 0)),
    "arange wrong sign": both(lambda L, f: L.arange(10, 0, 1)),
    "randint empty range": both(lambda L, f: L.randint(5, 3, (2,))),
    "linspace negative steps": both(lambda L, f: L.linspace(0, 1, -1)),
    "full negative size": both(lambda L, f: L.full((-1,), 2.0)),
    # ---- dims out of range, and repeated dims
    "sum dim out of range": both(lambda L, f: img(L, 2, 3).sum(2)),
    "sum repeated dim": both(lambda L, f: img(L, 2, 3).sum((0, 0))),
    "mean dim out of range": both(lambda L, f: img(L, 2, 3).mean(-3)),
    "amax repeated dim": both(lambda L, f: img(L, 2, 3).amax((1, -1))),
    "max dim out of range": both(lambda L, f: img(L, 2, 3).max(5)),
    "var dim out of range": both(lambda L, f: img(L, 2, 3).var(3)),
    "softmax dim out of range": both(lambda L, f: f.softmax(img(L, 2, 3), 2)),
    "logsumexp dim out of range": both(lambda L, f: L.logsumexp(img(L, 2), 1)),
    "norm dim out of range": both(lambda L, f: img(L, 2).norm(dim=1)),
    "squeeze dim out of range": both(lambda L, f: img(L, 2, 1).squeeze(2)),
    "unsqueeze dim out of range": both(lambda L, f: img(L, 2).unsqueeze(3)),
    "transpose dim out of range": both(lambda L, f: img(L, 2, 3).transpose(0, 2)),
    "index out of range": both(lambda L, f: img(L, 2, 3)[2]),
    "index array out of range": both(lambda L, f: img(L, 2, 3)[:, L.tensor([0, 3])]),
    "too many indices": both(lambda L, f: img(L, 2)[0, 0]),
    "float index": both(lambda L, f: img(L, 2)[0.5]),
    "mask of wrong shape": both(lambda L, f: img(L, 2, 3)[L.tensor([True, False, True])]),
    "negative step": both(lambda L, f: img(L, 3)[::-1]),
    "max of empty": both(lambda L, f: L.zeros(0).max()),
    "argmax of empty": both(lambda L, f: L.zeros(0).argmax()),
    "amax of empty dim": both(lambda L, f: L.zeros(0, 2).amax(0)),
    "matrix_norm of a vector": both(lambda L, f: L.linalg.matrix_norm(img(L, 3))),
    "linalg.norm ord without dim on 3-d": both(lambda L, f: L.linalg.norm(img(L, 2, 2, 2), 2)),
    "vector_norm inf of empty": both(lambda L, f: L.linalg.vector_norm(L.zeros(0), float("inf"))),
    # ---- dtypes
    "requires_grad on int": both(lambda L, f: L.ones(2, dtype=L.int64).requires_grad_()),
    "requires_grad int tensor()": both(lambda L, f: L.tensor([1, 2], requires_grad=True)),
    "where with int condition": both(lambda L, f: L.where(L.tensor([1, 0]), img(L, 2), 0.0)),
    "mean of int": both(lambda L, f: L.tensor([1, 2]).mean()),
    "mean of bool": both(lambda L, f: L.tensor([True]).mean()),
    "var of int": both(lambda L, f: L.tensor([1, 2]).var()),
    "std of int": both(lambda L, f: L.tensor([1, 2]).std()),
    "vector_norm of int": both(lambda L, f: L.linalg.vector_norm(L.tensor([1, 2]))),
    "matmul mixed dtypes": both(lambda L, f: img(L, 2, 2) @ L.ones(2, 2, dtype=L.float64)),
    "linear mixed dtypes": both(lambda L, f: f.linear(img(L, 2, 3), L.ones(4, 3, dtype=L.float64))),
    "softmax of int": both(lambda L, f: f.softmax(L.tensor([1, 2]), 0)),
    "log_softmax of int": both(lambda L, f: f.log_softmax(L.tensor([1, 2]), 0)),
    "nn.Linear wrong features": both(lambda L, f: L.nn.Linear(3, 2)(img(L, 4, 5))),
    "nn.Conv2d wrong channels": both(lambda L, f: L.nn.Conv2d(3, 2, 3)(img(L, 1, 2, 5, 5))),
    "nn.MaxPool2d kernel too big": both(lambda L, f: L.nn.MaxPool2d(4)(img(L, 1, 1, 2, 2))),
    "nn.BatchNorm2d wrong channels": both(lambda L, f: L.nn.BatchNorm2d(3)(img(L, 2, 2, 4, 4))),
    "argmax of bool": both(lambda L, f: L.tensor([True, False]).argmax()),
    "int to a negative int power": both(lambda L, f: L.tensor([2]) ** -1),
    "bool minus bool": both(lambda L, f: L.tensor([True]) - L.tensor([False])),
    "bool minus int": both(lambda L, f: L.tensor([True]) - 1),
    "neg of bool": both(lambda L, f: -L.tensor([True])),
    "abs of bool": both(lambda L, f: L.tensor([True]).abs()),
    "pow of bools": both(lambda L, f: L.tensor([True]) ** L.tensor([True])),
    "and of floats": both(lambda L, f: img(L, 2) & img(L, 2)),
    "xor of float and int": both(lambda L, f: img(L, 2) ^ 1),
    "shift of floats": both(lambda L, f: img(L, 2) << 1),
    "invert a float": both(lambda L, f: ~img(L, 2)),
    "bitwise_not a float": both(lambda L, f: L.bitwise_not(img(L, 2))),
    "one_hot of floats": both(lambda L, f: f.one_hot(img(L, 2))),
    "one_hot of int32": both(lambda L, f: f.one_hot(L.tensor([1], dtype=L.int32))),
    "one_hot negative class": both(lambda L, f: f.one_hot(L.tensor([-1, 2]))),
    "one_hot class too large": both(lambda L, f: f.one_hot(L.tensor([1, 2]), 2)),
    "one_hot empty without num_classes": both(lambda L, f: f.one_hot(L.tensor([], dtype=L.int64))),
    "add a string": both(lambda L, f: img(L, 2) + "a"),
    "clamp without bounds": both(lambda L, f: L.clamp(img(L, 2))),
    # ---- values outside an op's domain
    "BCE input above 1": both(lambda L, f: f.binary_cross_entropy(img(L, 2) * 2, img(L, 2))),
    "BCE input below 0": both(lambda L, f: f.binary_cross_entropy(-img(L, 2), img(L, 2))),
    "cross_entropy target out of range": both(lambda L, f: f.cross_entropy(img(L, 2, 3), L.tensor([0, 3]))),
    "nll_loss float target": both(lambda L, f: f.nll_loss(img(L, 2, 3), img(L, 2))),
    "dropout p above 1": both(lambda L, f: f.dropout(img(L, 2), 1.5)),
    "device nonsense": both(lambda L, f: L.device("gpu")),
    "backward of non-scalar": both(lambda L, f: L.ones(2, requires_grad=True).exp().backward()),
}


@pytest.mark.parametrize("name", CASES)
def test_error_class_matches_torch(name):
    ours, theirs = CASES[name]
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(Exception) as got:
        ours()
    assert isinstance(got.value, expected.type), (
        f"{name}: torch raises {expected.type.__name__}, minidl "
        f"{type(got.value).__name__}: {got.value}")
    text = str(got.value)
    assert len(text) > 15 and "Traceback" not in text, text


@pytest.mark.parametrize("cls, bases", [
    (md.ShapeError, (ValueError, RuntimeError)),
    (md.DTypeError, (TypeError, RuntimeError)),
    (md.NotImplementedForDType, (TypeError, NotImplementedError, RuntimeError)),
    (md.ArgumentError, (ValueError, RuntimeError)),
    (md.DataError, (TypeError, ValueError, RuntimeError)),
    (md.DeviceError, (ValueError, RuntimeError)),
])
def test_minidl_error_classes_are_both_python_and_torch_style(cls, bases):
    assert all(issubclass(cls, b) for b in bases)


def test_attribute_errors_point_to_the_op_table_and_write_your_own_op():
    for owner, name in ((md.ones(2), "cumsumm"), (md, "fft_thing"), (F, "conv4d")):
        with pytest.raises(AttributeError) as e:
            getattr(owner, name)
        assert "docs/ops.md" in str(e.value) and "Write your own op" in str(e.value)
        assert name in str(e.value)
    with pytest.raises(AttributeError, match="Did you mean 'sum'"):
        md.ones(2).summ()
    with pytest.raises(AttributeError, match="import minidl.plot"):
        md.__getattr__("plot")  # (what md.plot does while the submodule is not imported)
    assert not hasattr(md.ones(2), "__array_interface__")  # numpy's probes stay cheap
