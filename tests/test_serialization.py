"""minidl.save / minidl.load: npz checkpoints without pickle, written atomically."""
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.tools.serialization import CheckpointError, FORMAT_VERSION


def model_and_optimizer():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    opt = minidl.optim.Adam(model.parameters(), lr=1e-2, betas=(0.8, 0.95))
    for _ in range(2):
        opt.zero_grad()
        model(minidl.randn(5, 4)).pow(2).sum().backward()
        opt.step()
    return model, opt


def assert_same(a, b):
    """Equal structure, types and values (Tensors compared by dtype and content)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, minidl.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b or (a != a and b != b)  # NaN equals NaN here


def test_round_trip_of_nested_structure(tmp_path):
    obj = {
        "tensor": minidl.tensor([[1.5, -2.0]]),
        "double": minidl.randn(3, dtype=minidl.float64),
        "labels": minidl.tensor([1, 2, 3]),
        "mask": minidl.tensor([True, False]),
        "scalar_tensor": minidl.tensor(3.0),
        "empty": minidl.zeros(0, 4),
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "np_scalar": np.float32(0.25),
        "ints": {0: "zero", 7: [1, 2.5, None, True, "s"]},
        "tuple": (0.9, 0.999),
        "nested": [{"a": (1, [2, {"b": None}])}],
        "odict": OrderedDict([("z", 1), ("a", 2)]),
        "special": [float("inf"), float("nan"), -0.0, 10**20, ""],
    }
    minidl.save(obj, tmp_path / "ckpt.npz")
    assert_same(minidl.load(tmp_path / "ckpt.npz"), obj)


def test_parameters_and_requires_grad_survive(tmp_path):
    p = nn.Parameter(minidl.ones(2))
    t = minidl.ones(2, requires_grad=True)
    minidl.save([p, t], str(tmp_path / "p.npz"))
    p2, t2 = minidl.load(str(tmp_path / "p.npz"))
    assert isinstance(p2, nn.Parameter) and p2.requires_grad
    assert not isinstance(t2, nn.Parameter) and t2.requires_grad


def test_model_and_optimizer_state_dicts_round_trip(tmp_path):
    model, opt = model_and_optimizer()
    path = tmp_path / "run" / "checkpoint.pt"  # any suffix; missing dirs are created
    minidl.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 2},
                path)
    ckpt = minidl.load(path)
    assert_same(ckpt["model"], model.state_dict())
    assert_same(ckpt["optim"], opt.state_dict())
    assert list(ckpt["optim"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    assert ckpt["optim"]["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert ckpt["optim"]["param_groups"][0]["betas"] == (0.8, 0.95)

    # a fresh model and optimizer restored from it continue exactly like the original
    minidl.manual_seed(5)
    model2 = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    opt2 = minidl.optim.Adam(model2.parameters(), lr=1.0)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optim"])
    x = minidl.randn(5, 4)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_state_dict_loads_into_torch(tmp_path):
    torch = pytest.importorskip("torch")
    model, _ = model_and_optimizer()
    minidl.save(model.state_dict(), tmp_path / "m.npz")
    twin = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                               torch.nn.Linear(3, 2))
    twin.load_state_dict({k: torch.from_numpy(v.numpy())
                          for k, v in minidl.load(tmp_path / "m.npz").items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(),
                               model(minidl.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_file_is_plain_npz_without_pickle(tmp_path):
    minidl.save({"w": minidl.ones(2)}, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:
        header = json.loads(npz["__minidl__"].tobytes())
        assert header["version"] == FORMAT_VERSION
        assert sorted(npz.files) == ["0", "__minidl__"]


def test_save_is_atomic(tmp_path):
    path = tmp_path / "c.npz"
    minidl.save({"a": 1}, path)
    with pytest.raises(TypeError, match="object"):
        minidl.save({"a": minidl.ones(1), "bad": object()}, path)
    assert minidl.load(path) == {"a": 1}  # the old file is untouched
    assert os.listdir(tmp_path) == ["c.npz"]  # no temporary file left behind


def test_save_rejects_unsupported_things(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['x'\]\[1\]"):
        minidl.save({"x": [1, {1, 2}]}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="keys"):
        minidl.save({(1, 2): 3}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="dtype"):
        minidl.save(np.array(["a"]), tmp_path / "a.npz")


@pytest.mark.parametrize("kind", ["text", "empty", "plain_npz", "npy", "truncated",
                                  "future", "bad_header"])
def test_load_rejects_foreign_or_broken_files(tmp_path, kind):
    path = tmp_path / f"{kind}.npz"
    if kind == "text":
        path.write_text("hello, I am not a checkpoint\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "plain_npz":
        np.savez(path, a=np.ones(3))
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.ones(3))
    elif kind == "truncated":
        minidl.save({"w": minidl.randn(100)}, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - 30])
    elif kind in ("future", "bad_header"):
        header = {"format": "minidl", "version": FORMAT_VERSION + 1, "root": None}
        text = json.dumps(header) if kind == "future" else "{not json"
        np.savez(path, __minidl__=np.frombuffer(text.encode(), dtype=np.uint8))
    with pytest.raises(CheckpointError) as err:
        minidl.load(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, ValueError)
    if kind == "future":
        assert "version" in str(err.value)


def test_load_reports_structure_that_does_not_match_arrays(tmp_path):
    path = tmp_path / "c.npz"
    minidl.save({"w": minidl.ones(2)}, path)
    with zipfile.ZipFile(path) as z:  # rewrite without the array entry
        header = z.read("__minidl__.npy")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("__minidl__.npy", header)
    with pytest.raises(CheckpointError, match="corrupted"):
        minidl.load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        minidl.load(tmp_path / "nope.npz")
