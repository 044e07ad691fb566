"""Module hooks (minidl/nn/hooks.py): forward hooks, full backward (pre-)hooks with
PyTorch's rules, capture_activations, and the examples that use them.

PyTorch (when installed) is the oracle for what backward hooks receive and how often
they fire.
"""
import pathlib
import sys

import numpy as np
import pytest

import minidl
from minidl import nn

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import plot_gradients  # noqa: E402


def shapes(grads):
    return [None if g is None else tuple(g.shape) for g in grads]


def recorder(calls):
    """A full backward hook that appends (grad_input, grad_output) as numpy arrays."""
    def hook(module, grad_input, grad_output):
        calls.append(([None if g is None else np.array(g.numpy()) for g in grad_input],
                      [None if g is None else np.array(g.numpy()) for g in grad_output]))
    return hook


# ------------------------------------------------------------------ forward hooks
def test_forward_hooks_fire_once_per_forward_with_the_output_shapes():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))
    seen = []
    for name, layer in model.named_children():
        layer.register_forward_hook(
            lambda m, args, out, name=name: seen.append((name, args[0].shape, out.shape)))
    model(minidl.randn(5, 1, 4, 4))
    assert seen == [("0", (5, 1, 4, 4), (5, 3, 2, 2)), ("1", (5, 3, 2, 2), (5, 3, 2, 2)),
                    ("2", (5, 3, 2, 2), (5, 12)), ("3", (5, 12), (5, 2))]
    model(minidl.randn(2, 1, 4, 4))
    assert len(seen) == 8 and seen[-1] == ("3", (2, 12), (2, 2))


def test_handles_remove_hooks():
    layer = nn.Linear(3, 2)
    calls = []
    forward = layer.register_forward_hook(lambda m, a, o: calls.append("forward"))
    pre = layer.register_forward_pre_hook(lambda m, a: calls.append("pre"))
    backward = layer.register_full_backward_hook(lambda m, gi, go: calls.append("bw"))
    back_pre = layer.register_full_backward_pre_hook(lambda m, go: calls.append("bpre"))
    x = minidl.randn(4, 3, requires_grad=True)
    layer(x).sum().backward()
    assert calls == ["pre", "forward", "bpre", "bw"]
    for handle in (forward, pre, backward):
        handle.remove()
    with back_pre:  # a handle is also a context manager that removes on exit
        pass
    layer(x).sum().backward()
    assert len(calls) == 4
    assert not (layer._forward_hooks or layer._forward_pre_hooks or layer._backward_hooks
                or layer._backward_pre_hooks)


# ------------------------------------------------------------------ full backward hooks
def twins(torch, kind):
    """A minidl layer and its torch twin holding the same weights, and an input shape."""
    if kind == "Linear":
        ours, theirs, shape = nn.Linear(4, 3), torch.nn.Linear(4, 3), (5, 4)
    elif kind == "Conv2d":
        ours, theirs = nn.Conv2d(2, 3, 3, padding=1), torch.nn.Conv2d(2, 3, 3, padding=1)
        shape = (2, 2, 5, 5)
    elif kind == "ReLU":
        ours, theirs, shape = nn.ReLU(), torch.nn.ReLU(), (3, 4)
    else:
        ours = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
        theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(),
                                     torch.nn.Linear(6, 3))
        shape = (5, 4)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    return ours, theirs, shape


@pytest.mark.parametrize("kind, input_requires_grad", [
    ("Linear", True), ("Linear", False), ("Conv2d", True), ("Conv2d", False),
    ("ReLU", True), ("Sequential", True), ("Sequential", False)])
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_matches_torch(rng, kind, input_requires_grad):
    torch = pytest.importorskip("torch")
    ours, theirs, shape = twins(torch, kind)
    x = rng.standard_normal(shape).astype(np.float32)
    ours_calls, theirs_calls = [], []
    ours.register_full_backward_hook(recorder(ours_calls))
    theirs.register_full_backward_hook(
        lambda m, gi, go: theirs_calls.append(
            ([None if g is None else g.numpy().copy() for g in gi],
             [None if g is None else g.numpy().copy() for g in go])))
    xm = minidl.tensor(x, requires_grad=input_requires_grad)
    xt = torch.tensor(x, requires_grad=input_requires_grad)
    out = ours(xm)
    weights = rng.standard_normal(out.shape).astype(np.float32)
    (out * minidl.tensor(weights)).sum().backward()
    (theirs(xt) * torch.tensor(weights)).sum().backward()
    assert len(ours_calls) == len(theirs_calls) == 1
    (gi, go), (tgi, tgo) = ours_calls[0], theirs_calls[0]
    assert shapes(gi) == shapes(tgi) and shapes(go) == shapes(tgo)
    for a, b in zip(gi + go, tgi + tgo):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if input_requires_grad:
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


class Mix(nn.Module):
    """Several positional inputs, one of them not a Tensor and one not used."""

    def forward(self, x, y, unused, scale):
        return x * y * scale


def test_full_backward_hook_with_several_inputs_matches_torch(rng):
    torch = pytest.importorskip("torch")

    class TorchMix(torch.nn.Module):
        def forward(self, x, y, unused, scale):
            return x * y * scale

    arrays = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    for needs in [(True, True, True), (True, False, True), (False, True, False)]:
        ours_calls, theirs_calls = [], []
        ours, theirs = Mix(), TorchMix()
        ours.register_full_backward_hook(recorder(ours_calls))
        theirs.register_full_backward_hook(
            lambda m, gi, go: theirs_calls.append(
                ([None if g is None else g.numpy().copy() for g in gi],
                 [None if g is None else g.numpy().copy() for g in go])))
        xs = [minidl.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
        ts = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
        (ours(*xs, 3.0) ** 2).sum().backward()
        (theirs(*ts, 3.0) ** 2).sum().backward()
        assert len(ours_calls) == len(theirs_calls) == 1
        (gi, go), (tgi, tgo) = ours_calls[0], theirs_calls[0]
        assert shapes(gi) == shapes(tgi) and len(gi) == 4 and gi[3] is None
        for a, b in zip(gi + go, tgi + tgo):
            if b is not None:
                np.testing.assert_allclose(a, b, rtol=1e-5)
        if needs[2]:  # the output does not depend on `unused`: its gradient is zeros
            assert not gi[2].any() and not xs[2].grad.numpy().any()


def test_full_backward_hook_fires_once_per_backward():
    layer = nn.Linear(3, 2)
    calls = []
    layer.register_full_backward_hook(recorder(calls))
    x = minidl.randn(4, 3, requires_grad=True)
    y = layer(x)
    (y.sum() + (y * y).sum()).backward()  # the output is used twice: one call
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0][1][0], 1 + 2 * y.detach().numpy(), rtol=1e-6)
    loss = layer(x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert len(calls) == 3
    with minidl.no_grad():
        layer(x)
    assert len(calls) == 3


def test_full_backward_hook_sees_every_output():
    class Pair(nn.Module):
        def forward(self, x):
            return x * 2, x * 3

    calls = []
    pair = Pair()
    pair.register_full_backward_hook(recorder(calls))
    x = minidl.randn(2, 3, requires_grad=True)
    a, b = pair(x)
    a.sum().backward()  # b is not used: its gradient is None, as in torch
    (gi,), (ga, gb) = calls[0]
    assert gb is None and np.all(ga == 1) and np.all(gi == 2)
    a, b = pair(x)
    (a.sum() + b.sum()).backward()
    assert len(calls) == 2 and np.all(calls[1][0][0] == 5)


def test_backward_hook_can_replace_grad_input_and_is_checked():
    layer = nn.Linear(3, 2)
    x = minidl.randn(4, 3, requires_grad=True)
    with layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,)):
        layer(x).sum().backward()
    expected = np.ones((4, 2), np.float32) @ layer.weight.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 10 * expected, rtol=1e-6)
    with layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0])):
        with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2"):
            layer(x).sum().backward()
    with layer.register_full_backward_hook(lambda m, gi, go: (gi[0][:2],)):
        with pytest.raises(RuntimeError, match=r"grad_input of shape \(2, 3\)"):
            layer(x).sum().backward()
    with layer.register_full_backward_hook(lambda m, gi, go: (go[0],)):
        with pytest.raises(RuntimeError, match="no input requires grad"):
            layer(minidl.randn(4, 3)).sum().backward()


def test_backward_pre_hook_can_replace_grad_output_as_torch(rng):
    torch = pytest.importorskip("torch")
    ours, theirs, shape = twins(torch, "Linear")
    seen = []
    for layer in (ours, theirs):
        layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        layer.register_full_backward_hook(
            lambda m, gi, go: seen.append(go[0].sum().item()))
    x = rng.standard_normal(shape).astype(np.float32)
    xm, xt = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xm).sum().backward()
    theirs(xt).sum().backward()
    assert seen[0] == pytest.approx(seen[1]) == 3 * 5 * 3  # the hook saw the new one
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-5)


def test_double_backward_through_a_hooked_module_matches_torch(rng):
    torch = pytest.importorskip("torch")
    ours, theirs, shape = twins(torch, "Sequential")
    counts = {"ours": 0, "theirs": 0}
    ours.register_full_backward_hook(lambda m, gi, go: counts.__setitem__(
        "ours", counts["ours"] + 1))
    theirs.register_full_backward_hook(lambda m, gi, go: counts.__setitem__(
        "theirs", counts["theirs"] + 1))
    x = rng.standard_normal(shape).astype(np.float64)
    ours.double(), theirs.double()
    xm, xt = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gm,) = minidl.autograd.grad((ours(xm) ** 3).sum(), xm, create_graph=True)
    (gt,) = torch.autograd.grad((theirs(xt) ** 3).sum(), xt, create_graph=True)
    (gm ** 2).sum().backward()
    (gt ** 2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-8)
    assert counts["ours"] == counts["theirs"]


# ------------------------------------------------------------------ capture_activations
def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


def hooks_left(model):
    return sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())


def test_capture_activations_names_shapes_and_values():
    model = small_cnn()
    x = minidl.randn(5, 1, 4, 4)
    with minidl.no_grad(), nn.capture_activations(model) as acts:
        out = model(x)
    assert list(acts) == ["0", "1", "2", "3"]
    assert [a.shape for a in acts.values()] == [(5, 2, 2, 2), (5, 2, 2, 2), (5, 8),
                                               (5, 3)]
    np.testing.assert_array_equal(acts["3"], out.numpy())
    np.testing.assert_array_equal(acts["1"], np.maximum(acts["0"], 0))
    assert isinstance(acts["0"], np.ndarray) and not acts.grads
    assert hooks_left(model) == 0
    with nn.capture_activations(model, layers=["1"]) as acts:
        model(x)
    assert list(acts) == ["1"] and hooks_left(model) == 0


def test_capture_activations_gradients_are_dloss_doutput():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = minidl.randn(5, 3)
    w = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    with nn.capture_activations(model, grads=True) as acts:
        (model(x) * minidl.tensor(w)).sum().backward()
    assert list(acts.grads) == ["0", "1", "2"]  # in forward order
    g1 = w @ model[2].weight.detach().numpy()            # through the last Linear
    np.testing.assert_allclose(acts.grads["2"], w)
    np.testing.assert_allclose(acts.grads["1"], g1, rtol=1e-6)
    np.testing.assert_allclose(acts.grads["0"], g1 * (acts["0"] > 0), rtol=1e-6)
    assert hooks_left(model) == 0


def test_capture_activations_removes_its_hooks_on_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match="boom"):
        with nn.capture_activations(model, grads=True):
            raise ValueError("boom")
    assert hooks_left(model) == 0
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        with nn.capture_activations(model, layers=["0", "nope"]):
            pass
    assert hooks_left(model) == 0


# ------------------------------------------------------------------ the examples
def test_cnn_feature_maps_come_from_capture_activations():
    import train_cnn
    sys.path.insert(0, str(ROOT))
    from models import SeedCNN
    model = SeedCNN()
    image = minidl.rand(1, 1, 28, 28)
    maps = train_cnn.first_layer_activations(model, image)
    conv = model.features[0](image).detach().numpy()[0]
    assert maps.shape == (32, 26, 26)
    np.testing.assert_allclose(maps, np.maximum(conv, 0), rtol=1e-5, atol=1e-6)
    assert hooks_left(model) == 0


def test_plot_gradients_example_writes_its_figures(tmp_path):
    norms = plot_gradients.main(["--steps", "4", "--limit", "300", "--batch-size", "32",
                                 "--out", str(tmp_path), "--no-progress"])
    for name in ("activation_histograms.png", "gradient_histograms.png",
                 "gradient_norms.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name
    # the point of the figures: sigmoid's first layer gets a far smaller gradient
    # than its last; with ReLU and Kaiming init they stay within a factor of 10
    for setup, per_layer in norms.items():
        assert list(per_layer) == [f"layer {k}" for k in range(1, 9)]
        assert all(list(steps) == [0, 1, 2, 3] for steps in per_layer.values())
    sigmoid, relu = norms["sigmoid, default init"], norms["ReLU, Kaiming init"]
    assert sigmoid["layer 1"][0] < 1e-3 * sigmoid["layer 8"][0]
    assert 0.1 < relu["layer 1"][0] / relu["layer 8"][0] < 10


def test_the_core_does_not_reach_up_into_nn():
    """tensor.py and autograd.py (the core) import nothing from minidl.nn: the hook
    handle they return lives beside them, in minidl/handle.py."""
    import ast
    import minidl.handle
    root = pathlib.Path(minidl.__file__).parent
    for name in ("tensor.py", "autograd.py", "handle.py"):
        tree = ast.parse((root / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("nn"), (name, node.module)
    assert nn.RemovableHandle is minidl.handle.RemovableHandle
