"""minidl.nn: Module registration, state_dict, hooks, modes, layers, init, summary.

PyTorch (when installed) is the oracle for names, shapes, reprs and numbers.
"""
import math
from collections import OrderedDict

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.nn import init


def mlp(*sizes):
    """Linear layers of the given sizes with ReLU between them."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def torch_mlp(torch, *sizes):
    """The same architecture in torch."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def load_into_torch(torch, torch_model, state_dict):
    torch_model.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                 for k, v in state_dict.items()})


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(minidl.ones(4))
        self.register_buffer("count", minidl.zeros(1))
        self.register_buffer("scratch", minidl.zeros(2), persistent=False)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(2, 3)})

    def forward(self, x):
        x = self.block(x)
        for layer in self.layers:
            x = layer(x)
        return self.heads["cls"](x)


# ------------------------------------------------------------------ registration
def test_registration_order_and_names():
    net = Net()
    # each module's own parameters come before its children's (as in PyTorch)
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "layers.0.weight",
        "layers.0.bias", "layers.1.weight", "layers.1.bias", "heads.cls.weight",
        "heads.cls.bias"]
    assert [n for n, _ in net.named_buffers()] == ["block.count", "block.scratch"]
    assert list(net.state_dict()) == [
        "block.scale", "block.count", "block.fc.weight", "block.fc.bias",
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
        "heads.cls.weight", "heads.cls.bias"]  # non-persistent "scratch" left out
    assert [n for n, _ in net.named_children()] == ["block", "layers", "heads"]
    assert [n for n, _ in net.named_modules()] == [
        "", "block", "block.fc", "block.act", "layers", "layers.0", "layers.1", "heads",
        "heads.cls"]
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    assert net.num_parameters() == 3 * 4 + 4 + 4 + 20 + 10 + 9
    assert net(minidl.randn(5, 3)).shape == (5, 3)


def test_names_and_shapes_match_torch():
    torch = pytest.importorskip("torch")

    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 4)
            self.scale = torch.nn.Parameter(torch.ones(4))
            self.register_buffer("count", torch.zeros(1))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)
            self.act = torch.nn.Tanh()

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = TorchBlock()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 4),
                                               torch.nn.Linear(4, 2)])
            self.heads = torch.nn.ModuleDict({"cls": torch.nn.Linear(2, 3)})

    ours, theirs = Net().state_dict(), TorchNet().state_dict()
    assert list(ours) == list(theirs)
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape)
                                                       for v in theirs.values()]


def test_state_dict_loads_into_torch_and_gives_same_output(rng):
    torch = pytest.importorskip("torch")
    model, twin = mlp(6, 5, 4, 3), torch_mlp(torch, 6, 5, 4, 3)
    load_into_torch(torch, twin, model.state_dict())
    x = rng.standard_normal((7, 6)).astype(np.float32)
    expected = twin(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(minidl.tensor(x)).detach().numpy(), expected, rtol=1e-5,
                               atol=1e-6)
    # and back: torch's state_dict loads into ours
    twin2 = torch_mlp(torch, 6, 5, 4, 3)
    model.load_state_dict({k: v.numpy() for k, v in twin2.state_dict().items()})
    np.testing.assert_allclose(model(minidl.tensor(x)).detach().numpy(),
                               twin2(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_shared_parameter_is_listed_once():
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    model = nn.Sequential(a, b)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    assert len(list(model.parameters())) == 3
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_setattr_rules():
    m = Block()
    m.scale = None  # a registered parameter may become None
    assert "scale" not in dict(m.named_parameters())
    with pytest.raises(TypeError, match="scale"):
        m.scale = minidl.ones(4)  # a plain Tensor is not a Parameter
    m.count = minidl.ones(1)  # buffers take plain tensors
    assert m.state_dict()["count"].item() == 1
    m.extra = minidl.ones(2)  # unregistered: a plain attribute
    assert "extra" not in m.state_dict()
    del m.act
    assert [n for n, _ in m.named_children()] == ["fc"]

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minidl.ones(1))  # before super().__init__()

    with pytest.raises(AttributeError, match="__init__"):
        Early()
    with pytest.raises(AttributeError, match="nothing"):
        m.nothing
    with pytest.raises(KeyError):
        m.register_buffer("a.b", minidl.ones(1))


def test_parameter_basics():
    p = nn.Parameter(minidl.ones(2, 3))
    assert p.requires_grad and isinstance(p, minidl.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(minidl.ones(2), requires_grad=False).requires_grad
    data = np.zeros(3, dtype=np.float32)
    q = nn.Parameter(data)
    data[0] = 5
    assert q.detach().numpy()[0] == 5  # shares memory, as torch


def test_forward_missing():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(minidl.ones(1))


# ------------------------------------------------------------------ load_state_dict
def test_load_state_dict_strict_and_non_strict():
    model = mlp(3, 4, 2)
    sd = model.state_dict()
    partial = OrderedDict((k, v) for k, v in sd.items() if k != "2.bias")
    partial["extra.weight"] = minidl.ones(1)
    with pytest.raises(RuntimeError) as err:
        model.load_state_dict(partial)
    assert '"2.bias"' in str(err.value) and '"extra.weight"' in str(err.value)
    assert "Missing" in str(err.value) and "Unexpected" in str(err.value)
    result = model.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra.weight"]


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    model = mlp(3, 4, 2)
    sd = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    sd["0.weight"] = np.zeros((5, 3), dtype=np.float32)
    for strict in (True, False):
        with pytest.raises(RuntimeError) as err:
            model.load_state_dict(sd, strict=strict)
        assert "0.weight" in str(err.value)
        assert "(5, 3)" in str(err.value) and "(4, 3)" in str(err.value)


def test_load_state_dict_copies_in_place_with_cast():
    model = mlp(3, 2)
    weight = model[0].weight
    version = weight._version
    new = np.arange(6, dtype=np.float64).reshape(2, 3)  # numpy, float64
    model.load_state_dict({"0.weight": new, "0.bias": minidl.tensor([1.0, 2.0])})
    assert model[0].weight is weight  # same object: an optimizer holding it still works
    assert weight.dtype == np.float32 and weight._version > version
    np.testing.assert_array_equal(weight.detach().numpy(), new)
    new[0, 0] = 100  # copied, not shared
    assert weight.detach().numpy()[0, 0] == 0


def test_state_dict_is_detached_and_shares_memory():
    model = mlp(2, 2)
    sd = model.state_dict()
    assert not sd["0.weight"].requires_grad
    assert not isinstance(sd["0.weight"], nn.Parameter)
    assert np.shares_memory(sd["0.weight"].detach().numpy(), model[0].weight.detach().numpy())
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight
    assert list(model.state_dict(prefix="net.")) == ["net.0.weight", "net.0.bias"]


# ------------------------------------------------------------------ modes, grads, dtypes
def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net[1].train()
    assert not net.training and net[1].training and net[1][0].training
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_requires_grad_apply_and_to():
    model = mlp(3, 2)
    model(minidl.randn(4, 3)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any()
               for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Sequential"]
    block = Block()
    block.double()
    assert {p.dtype for p in block.parameters()} == {np.dtype(np.float64)}
    assert block.count.dtype == np.float64
    assert block(minidl.randn(2, 3, dtype=minidl.float64)).dtype == np.float64
    block.to(minidl.float32)
    assert block.fc.weight.dtype == np.float32


# ------------------------------------------------------------------ hooks
def test_forward_hooks_fire_and_remove():
    model = mlp(3, 4, 2)
    calls = []
    pre = model[0].register_forward_pre_hook(
        lambda m, args: calls.append(("pre", args[0].shape)))
    post = model[2].register_forward_hook(
        lambda m, args, out: calls.append(("post", args[0].shape, out.shape)))
    model(minidl.randn(5, 3))
    assert calls == [("pre", (5, 3)), ("post", (5, 4), (5, 2))]
    pre.remove()
    post.remove()
    model(minidl.randn(5, 3))
    assert len(calls) == 2


def test_hooks_can_replace_input_and_output():
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, args: args[0] * 2)
    layer.register_forward_hook(lambda m, args, out: out + 1)
    assert layer(minidl.tensor([1.0])).item() == 3.0


def test_full_backward_hook_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer, twin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    load_into_torch(torch, twin, layer.state_dict())
    ours, theirs = [], []
    layer.register_full_backward_hook(lambda m, gi, go: ours.append((gi, go)))
    twin.register_full_backward_hook(lambda m, gi, go: theirs.append((gi, go)))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    (twin(xt) ** 2).sum().backward()
    (layer(minidl.tensor(x, requires_grad=True)) ** 2).sum().backward()
    (gi, go), (tgi, tgo) = ours[0], theirs[0]
    np.testing.assert_allclose(gi[0].numpy(), tgi[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(go[0].numpy(), tgo[0].numpy(), rtol=1e-5)
    # an input that does not require grad: grad_input is (None,), as in torch
    layer(minidl.tensor(x)).sum().backward()
    assert len(ours) == 2 and ours[1][0] == (None,) and ours[1][1][0].shape == (4, 2)


def test_full_backward_hook_can_replace_grad_input():
    layer = nn.Linear(3, 2)
    handle = layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = minidl.randn(4, 3, requires_grad=True)
    layer(x).sum().backward()
    assert not x.grad.numpy().any()
    assert layer.weight.grad.numpy().any()  # parameter grads are untouched
    handle.remove()
    x.grad = None
    layer(x).sum().backward()
    assert x.grad.numpy().any()


# ------------------------------------------------------------------ Linear
def test_linear_matches_torch_forward_and_backward(rng):
    torch = pytest.importorskip("torch")
    for bias in (True, False):
        layer, twin = nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias)
        load_into_torch(torch, twin, layer.state_dict())
        x = rng.standard_normal((2, 5, 4)).astype(np.float32)  # (*, in)
        xt = torch.tensor(x, requires_grad=True)
        xm = minidl.tensor(x, requires_grad=True)
        yt, ym = twin(xt), layer(xm)
        np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
        g = rng.standard_normal(ym.shape).astype(np.float32)
        yt.backward(torch.from_numpy(g))
        ym.backward(minidl.tensor(g))
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.weight.grad.numpy(), twin.weight.grad.numpy(),
                                   rtol=1e-5, atol=1e-5)
        if bias:
            np.testing.assert_allclose(layer.bias.grad.numpy(), twin.bias.grad.numpy(),
                                       rtol=1e-5, atol=1e-5)


def test_linear_shapes_dtype_and_errors():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    assert layer(minidl.randn(4)).shape == (3,)
    assert nn.Linear(4, 3, dtype=minidl.float64).weight.dtype == np.float64
    assert nn.Linear(4, 3, bias=False).bias is None
    assert list(nn.Linear(4, 3, bias=False).state_dict()) == ["weight"]
    with pytest.raises(ValueError) as err:
        layer(minidl.randn(2, 5))
    assert "Linear" in str(err.value) and "(2, 5)" in str(err.value)
    assert "4" in str(err.value)


def test_linear_default_init_bounds_and_seed():
    minidl.manual_seed(1)
    a = nn.Linear(400, 300)
    minidl.manual_seed(1)
    b = nn.Linear(400, 300)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) -> U(-1/sqrt(fan_in), ...)
    w = a.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(a.bias.detach().numpy()).max() <= bound


# ------------------------------------------------------------------ init
def _param(*shape):
    return nn.Parameter(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize("shape, fan_in, fan_out", [
    ((300, 200), 200, 300), ((64, 16, 3, 3), 144, 576), ((16, 32, 5, 5), 800, 400)])
def test_init_std_matches_formula(shape, fan_in, fan_out):
    n = math.prod(shape)
    tol = 4 / math.sqrt(2 * n)  # ~4 standard errors of a sample std, relative
    cases = [
        (init.kaiming_normal_, {}, math.sqrt(2 / fan_in)),
        (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"},
         math.sqrt(2 / fan_out)),
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(3 * fan_in)),
        (init.xavier_normal_, {}, math.sqrt(2 / (fan_in + fan_out))),
        (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(2 / (fan_in + fan_out))),
    ]
    for fn, kw, std in cases:
        p = _param(*shape)
        version = p._version
        assert fn(p, **kw) is p  # in place on a Parameter that requires grad
        assert p._version > version
        assert abs(p.detach().numpy().std() / std - 1) < tol, (fn.__name__, kw)
        assert abs(p.detach().numpy().mean()) < 4 * std / math.sqrt(n)


def test_init_uniform_bounds_and_constants():
    p = init.uniform_(_param(50, 40), -0.3, 0.2)
    assert p.detach().numpy().min() >= -0.3 and p.detach().numpy().max() <= 0.2
    assert p.detach().numpy().min() < -0.29 and p.detach().numpy().max() > 0.19
    bound = math.sqrt(6 / (40 + 50))
    w = init.xavier_uniform_(_param(50, 40)).detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    t = init.trunc_normal_(_param(100, 50), std=1.0, a=-0.5, b=1.0).detach().numpy()
    assert t.min() >= -0.5 and t.max() <= 1.0 and t.min() < -0.45
    assert (init.constant_(_param(3), 0.5).detach().numpy() == 0.5).all()
    assert (init.ones_(_param(3)).detach().numpy() == 1).all()
    assert (init.zeros_(init.ones_(_param(3))).detach().numpy() == 0).all()
    assert init.normal_(_param(200, 100), mean=3.0, std=0.5).detach().numpy().mean() == \
        pytest.approx(3.0, abs=0.01)


def test_init_generator_and_errors():
    g1, g2 = minidl.Generator(7), minidl.Generator(7)
    a = init.kaiming_uniform_(_param(5, 4), generator=g1).detach().numpy()
    b = init.kaiming_uniform_(_param(5, 4), generator=g2).detach().numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="fewer than 2"):
        init.xavier_uniform_(_param(5))
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_normal_(_param(5, 4), mode="fan_middle")
    with pytest.raises(ValueError):
        init.calculate_gain("wobble")


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None),
                        ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))


# ------------------------------------------------------------------ dropout
def test_dropout_statistics_and_eval_identity():
    x = minidl.ones(200, 100)
    for p in (0.2, 0.5, 0.8):
        y = nn.Dropout(p)(x).numpy()
        assert abs((y == 0).mean() - p) < 0.02
        assert abs(y.mean() - 1) < 0.05  # inverted dropout keeps the mean
        assert set(np.unique(y)) <= {0.0, np.float32(1 / (1 - p))}
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert (nn.Dropout(1.0)(x).numpy() == 0).all()
    assert nn.Dropout(0.0)(x) is x


def test_dropout2d_zeroes_whole_channels():
    x = minidl.ones(40, 30, 3, 3)
    y = nn.Dropout2d(0.4)(x).numpy()
    per_channel = y.reshape(40, 30, 9)
    assert (per_channel == per_channel[..., :1]).all()  # a channel: all kept or all 0
    assert abs((per_channel[..., 0] == 0).mean() - 0.4) < 0.05
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        rows = nn.Dropout2d(0.5)(minidl.ones(50, 2, 4)).numpy()  # (as PyTorch: N, C, L)
    assert (rows == rows[..., :1]).all() and 0 < (rows == 0).mean() < 1
    assert nn.Dropout2d().eval()(x) is x
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        nn.Dropout2d()(minidl.ones(3, 4))


def test_dropout_gradient_is_the_mask_and_seed_repeats():
    x = minidl.randn(10, 10, requires_grad=True)
    minidl.manual_seed(3)
    y = minidl.functional.dropout(x, 0.3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y.detach().numpy() != 0) / 0.7, rtol=1e-6)
    minidl.manual_seed(3)
    np.testing.assert_array_equal(minidl.functional.dropout(x, 0.3).detach().numpy(), y.detach().numpy())


def test_dropout_rejects_bad_p():
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            minidl.functional.dropout(minidl.ones(2), bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            minidl.functional.dropout2d(minidl.ones(1, 1, 2, 2), bad)


# ------------------------------------------------------------------ containers
def test_sequential_indexing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert seq[1:][1] is c and list(seq[1:]._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        seq[3]
    seq.append(nn.Sigmoid())
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    seq[2] = nn.Tanh()
    assert isinstance(seq[2], nn.Tanh)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Tanh"]
    assert list(layers.state_dict()) == ["1.weight", "1.bias"]
    heads = nn.ModuleDict({"a": nn.Linear(2, 1)})
    heads["b"] = nn.Linear(2, 3)
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert heads.pop("a").out_features == 1 and list(heads.keys()) == ["b"]


# ------------------------------------------------------------------ repr and summary
def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    T = torch.nn
    ours = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Sequential(nn.Linear(256, 10, bias=False), nn.LeakyReLU(0.1)), nn.ELU(),
        nn.GELU(), nn.Softplus(), nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.Identity(),
        nn.Unflatten(1, (2, 5)), nn.Dropout2d(), nn.Softmax(dim=1), nn.LogSoftmax(1))
    theirs = T.Sequential(
        T.Flatten(), T.Linear(784, 256), T.ReLU(), T.Dropout(0.2),
        T.Sequential(T.Linear(256, 10, bias=False), T.LeakyReLU(0.1)), T.ELU(),
        T.GELU(), T.Softplus(), T.SiLU(), T.Sigmoid(), T.Tanh(), T.Identity(),
        T.Unflatten(1, (2, 5)), T.Dropout2d(), T.Softmax(dim=1), T.LogSoftmax(1))
    assert repr(ours) == repr(theirs)
    assert repr(Block()).startswith("Block(\n  (fc): Linear(in_features=3, out_features=4")


def test_summary_of_mnist_mlp(capsys):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                          nn.Dropout(0.5), nn.Linear(256, 10))
    text = model.summary((2, 1, 28, 28))
    assert capsys.readouterr().out.strip() == text.strip()
    assert "Total params: 203,530" in text
    assert "Trainable params: 203,530" in text and "Non-trainable params: 0" in text
    assert "1 (Linear)" in text and "(2, 256)" in text and "(2, 10)" in text
    assert "200,960" in text and "2,570" in text
    assert model.training and model[3].training  # mode restored
    assert not model[1]._forward_hooks  # hooks removed
    model[1].requires_grad_(False)
    assert "Trainable params: 2,570" in model.summary((1, 784))
    one_sample = model.summary((28, 28))  # no batch dimension: a batch of 1 is added
    assert "(1, 784)" in one_sample and "Total params: 203,530" in one_sample
    with pytest.raises(ValueError, match="Linear"):
        model.summary((3, 5))


# ------------------------------------------------------------------ activations, shapes
def test_activation_and_shape_layers_match_torch(rng):
    torch = pytest.importorskip("torch")
    T = torch.nn
    x = rng.standard_normal((2, 3, 4)).astype(np.float32) * 3
    pairs = [(nn.ReLU(), T.ReLU()), (nn.LeakyReLU(0.2), T.LeakyReLU(0.2)),
             (nn.ELU(0.5), T.ELU(0.5)), (nn.Sigmoid(), T.Sigmoid()), (nn.Tanh(), T.Tanh()),
             (nn.Softplus(2.0, 3.0), T.Softplus(2.0, 3.0)), (nn.GELU(), T.GELU()),
             (nn.GELU("tanh"), T.GELU("tanh")), (nn.SiLU(), T.SiLU()),
             (nn.Softmax(-1), T.Softmax(-1)), (nn.Softmax(dim=1), T.Softmax(dim=1)),
             (nn.LogSoftmax(dim=2), T.LogSoftmax(dim=2)), (nn.Identity(), T.Identity()),
             (nn.Flatten(), T.Flatten()), (nn.Flatten(0, 1), T.Flatten(0, 1)),
             (nn.Unflatten(2, (2, 2)), T.Unflatten(2, (2, 2))),
             (nn.Unflatten(-1, (-1, 2)), T.Unflatten(-1, (-1, 2)))]
    for ours, theirs in pairs:
        expected = theirs(torch.from_numpy(x)).numpy()
        got = ours(minidl.tensor(x)).numpy()
        assert got.shape == expected.shape, ours
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=repr(ours))
    # Softmax() without dim: PyTorch's implicit dim, with its warning
    with pytest.warns(UserWarning, match="Implicit dimension"):
        got = nn.Softmax()(minidl.tensor(x)).numpy()
    with pytest.warns(UserWarning, match="Implicit dimension"):
        expected = T.Softmax()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(1, (2, 2))(minidl.ones(2, 3))


# ------------------------------------------------------------------ losses and utils
def test_loss_modules_match_torch(rng):
    torch = pytest.importorskip("torch")
    T = torch.nn
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 6)
    probs = 1 / (1 + np.exp(-logits))
    targets = rng.uniform(0, 1, (6, 4)).astype(np.float32)
    weight = rng.uniform(0.5, 2, 4).astype(np.float32)
    cases = [
        (nn.CrossEntropyLoss(), T.CrossEntropyLoss(), logits, labels),
        (nn.CrossEntropyLoss(weight=minidl.tensor(weight), reduction="sum",
                             label_smoothing=0.1),
         T.CrossEntropyLoss(weight=torch.from_numpy(weight), reduction="sum",
                            label_smoothing=0.1), logits, labels),
        (nn.NLLLoss(reduction="none"), T.NLLLoss(reduction="none"), logits, labels),
        (nn.BCELoss(), T.BCELoss(), probs, targets),
        (nn.BCEWithLogitsLoss(pos_weight=minidl.tensor(weight)),
         T.BCEWithLogitsLoss(pos_weight=torch.from_numpy(weight)), logits, targets),
        (nn.MSELoss(), T.MSELoss(), logits, targets),
        (nn.L1Loss(reduction="sum"), T.L1Loss(reduction="sum"), logits, targets),
    ]
    for ours, theirs, inp, tgt in cases:
        expected = theirs(torch.from_numpy(inp), torch.from_numpy(tgt)).numpy()
        got = ours(minidl.tensor(inp), minidl.tensor(tgt)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6,
                                   err_msg=type(ours).__name__)
    assert list(nn.CrossEntropyLoss(weight=minidl.ones(3)).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_nn_utils_clip_grad():
    model = mlp(3, 2)
    model(minidl.randn(4, 3) * 100).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert float(total) > 1
    norm = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                         for p in model.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-3)
    nn.utils.clip_grad_value_(model.parameters(), 0.01)
    assert max(np.abs(p.grad.numpy()).max() for p in model.parameters()) <= 0.01


def test_module_zero_grad_is_the_optimizer_s_against_torch():
    """One implementation (optim/optimizer.py clear_grads), PyTorch's rules: zeroing
    in place keeps the gradient tensor, and cuts a create_graph gradient from its graph."""
    torch = pytest.importorskip("torch")
    model = mlp(3, 2)
    x = minidl.randn(4, 3)
    minidl.autograd.backward(model(x).pow(2).sum(), create_graph=True)
    kept = [p.grad for p in model.parameters()]
    assert all(g.grad_fn is not None for g in kept)
    model.zero_grad(set_to_none=False)
    assert all(p.grad.grad_fn is None and not p.grad.numpy().any()
               for p in model.parameters())
    model(x).sum().backward()
    kept = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g for p, g in zip(model.parameters(), kept))
    t = torch.nn.Linear(3, 2)
    t(torch.randn(4, 3)).sum().backward()
    kept = [p.grad for p in t.parameters()]
    t.zero_grad(set_to_none=False)
    assert all(p.grad is g for p, g in zip(t.parameters(), kept))
