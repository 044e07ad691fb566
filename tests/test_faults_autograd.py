"""Fault injection for the autograd engine: never a silently wrong gradient.

  1. saved values are explicit: an op that saves a copy, a cast or a view of its input
     is caught when it runs, not turned into a constant that breaks double backward;
  2. one release rule: a second backward without retain_graph works exactly when
     PyTorch's does (registry-driven, every op kind) and otherwise raises its error;
  3. in-place edits through every kind of view are caught at backward;
  4. Tensor.numpy() refuses a tensor that requires grad, as in PyTorch;
  5. errors a custom-op author can act on (wrong gradient shapes, gradgradcheck,
     gradcheck on float32).
Where PyTorch is installed, the same input goes through PyTorch and the error class
and behaviour are compared.
"""
import functools

import numpy as np
import pytest

import minidl as md
from minidl import Function, GradcheckError, autograd
from registry import REGISTRY

IDS = [f"{i}-{spec.name}" for i, spec in enumerate(REGISTRY)]
TWICE = "Trying to backward through the graph a second time"
INPLACE = "modified by an inplace operation"


def leaf(values, dtype=md.float64):
    return md.tensor(values, dtype=dtype, requires_grad=True)


def torch_or_skip():
    return pytest.importorskip("torch")


# ================================================================ 1. saved values
def planted(save):
    """A Function y = x^2 whose forward saves save(x, out) for backward."""
    class Planted(Function):
        @staticmethod
        def forward(ctx, x):
            out = x * x
            ctx.save_for_backward(save(x, out))
            return out

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g
    return Planted


@pytest.mark.parametrize("save", [
    lambda x, out: x.copy(),
    lambda x, out: x.astype(np.float32),
    lambda x, out: x.view(),
    lambda x, out: x[...],
    lambda x, out: x.reshape(x.shape),
    lambda x, out: x + 0,
    lambda x, out: out.copy(),
    lambda x, out: np.float64(2.0),
], ids=["copy", "astype", "view", "x[...]", "reshape", "x + 0", "output copy", "scalar"])
def test_saving_anything_but_an_input_or_the_output_is_caught(save):
    with pytest.raises(RuntimeError, match=r"Planted\.forward: save_for_backward got "
                       r".*neither one of its tensor inputs nor its output.*ctx by name"):
        planted(save).apply(leaf([1.0, 2.0]))


def test_saved_inputs_and_outputs_come_back_as_the_graphs_own_tensors():
    seen = []

    class Cube(Function):  # y = x^3, saving x and y; dy/dx = 3 y / x
        @staticmethod
        def forward(ctx, x):
            out = x ** 3
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            seen.append((x, y))
            return 3 * y / x * g

    x = leaf([0.5, 1.5, 2.0])
    y = Cube.apply(x)
    y.sum().backward(retain_graph=True)
    assert seen[0][0] is x and seen[0][1] is y
    assert md.gradcheck(Cube.apply, (x,)) and md.gradgradcheck(Cube.apply, (x,))


def test_two_tensors_sharing_one_numpy_array_are_not_confused():
    # a * b saves both; b is a constant built on a's very array object: the second
    # derivative d2(a*b)/da2 must be 0, not 1 (as if b were a)
    array = np.array([1.0, 2.0])
    a, b = md.Tensor(array, requires_grad=True), md.Tensor(array)
    g, = autograd.grad((a * b).sum(), a, create_graph=True)
    assert not g.requires_grad  # d(a*b)/da = b, a constant: nothing to differentiate
    np.testing.assert_array_equal(g.numpy(), array)


def test_forward_returning_a_tensor_is_a_clear_error():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return md.Tensor(x)

    with pytest.raises(TypeError, match="Wrong.forward returned a Tensor"):
        Wrong.apply(leaf([1.0]))


# ================================================================ 2. release rule
def _forward(spec):
    rng = np.random.default_rng(0)
    inputs = [md.tensor(a, dtype=md.float64, requires_grad=True) for a in spec.sample(rng)]
    outs = spec.fn(*inputs)
    outs = [o for o in (outs if isinstance(outs, tuple) else (outs,))
            if o.grad_fn is not None]
    return inputs, outs


def _backward(outs):
    autograd.backward(outs, [md.ones(o.shape, dtype=o.dtype) for o in outs])


def _grads(inputs):
    return [None if t.grad is None else t.grad.numpy().copy() for t in inputs]


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_second_backward_is_right_or_raises_pytorchs_error(spec):
    inputs, outs = _forward(spec)
    if not outs:
        pytest.skip("no graph (the op returned its input)")
    _backward(outs)
    first = _grads(inputs)
    try:
        _backward(outs)
    except RuntimeError as e:
        assert TWICE in str(e) and "retain_graph=True" in str(e)
        return
    for g1, g2 in zip(first, _grads(inputs)):  # worked: gradients added once more
        assert (g1 is None) == (g2 is None)
        if g1 is not None:
            np.testing.assert_allclose(g2, 2 * g1, rtol=1e-12, atol=1e-15)


# -- the same against PyTorch, node by node. Each kind of graph node has a "twin": a
# small PyTorch graph whose node is the same op. A minidl graph must raise on a second
# backward exactly when one of its nodes' twins raises in PyTorch.
def _has_arrays(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) for i in items)


def node_kind(node) -> str:
    name = node.function.__name__
    if name in ("GetItem", "IndexAdd"):  # (read before backward releases ctx.index)
        return name + ("[advanced]" if _has_arrays(node.index) else "[basic]")
    if name == "CopySlices":
        return name + ("[region]" if node.steps else "[whole]")
    return name


def torch_twins(torch):
    """{node kind: () -> a PyTorch tensor whose graph has that op}."""
    F = torch.nn.functional

    def t(*shape):  # a leaf with values in [0.25, 0.75): valid for log, sqrt, bce
        return (torch.rand(*shape, dtype=torch.float64) * 0.5 + 0.25).requires_grad_()

    def double(forward, shape, wrt=0):  # the op that computes forward's gradient
        xs = [t(*s) for s in shape]
        y = forward(*xs)
        g = t(*y.shape)
        return torch.autograd.grad(y, xs[wrt], g, create_graph=True)[0]

    def setitem(b, index, v):
        b = b.clone()
        b[index] = v
        return b

    def hooked(x):
        m = torch.nn.Identity()
        m.register_full_backward_hook(lambda *_: None)
        return m(x)

    return {
        "Add": lambda: t(3) + t(3), "Sub": lambda: t(3) - t(3), "Mul": lambda: t(3) * t(3),
        "Div": lambda: t(3) / t(3), "Neg": lambda: -t(3), "Pow": lambda: t(3) ** t(3),
        "Exp": lambda: t(3).exp(), "Log": lambda: t(3).log(), "Sqrt": lambda: t(3).sqrt(),
        "Abs": lambda: t(3).abs(), "Clamp": lambda: t(3).clamp(0.4, 0.6),
        "Maximum": lambda: torch.maximum(t(3), t(3)),
        "Minimum": lambda: torch.minimum(t(3), t(3)),
        "Where": lambda: torch.where(torch.tensor([True, False, True]), t(3), t(3)),
        "Clone": lambda: t(3).clone(), "Cast": lambda: t(3).float(),
        "Reshape": lambda: t(2, 3).reshape(6), "Permute": lambda: t(2, 3).permute(1, 0),
        "GetItem[basic]": lambda: t(3, 2)[1:], "GetItem[advanced]": lambda: t(3, 2)[[0, 2]],
        "IndexAdd[basic]": lambda: double(lambda x: x[1:], [(3, 2)]),
        "IndexAdd[advanced]": lambda: double(lambda x: x[[0, 2]], [(3, 2)]),
        "CopySlices[whole]": lambda: t(3).clone().copy_(t(3)),
        "CopySlices[region]": lambda: setitem(t(3), slice(0, 2), t(2)),
        "Cat": lambda: torch.cat([t(2), t(3)]), "Pad": lambda: F.pad(t(2, 3), (1, 1)),
        "Sum": lambda: t(2, 3).sum(0), "SumTo": lambda: t(2, 3).sum_to_size(1, 3),
        "Expand": lambda: t(1, 3).expand(2, 3), "Mean": lambda: t(2, 3).mean(0),
        "Amax": lambda: t(2, 3).amax(1), "Amin": lambda: t(2, 3).amin(1),
        "Var": lambda: t(2, 3).var(1), "Std": lambda: t(2, 3).std(1),
        "VectorNorm": lambda: torch.linalg.vector_norm(t(2, 3), dim=1),
        "SingularValues": lambda: torch.linalg.svdvals(t(3, 3)),
        "MaxPool2d": lambda: F.max_pool2d(t(1, 1, 4, 4), 2),
        "MaxPool2dScatter": lambda: double(lambda x: F.max_pool2d(x, 2), [(1, 1, 4, 4)]),
        "AvgPool2d": lambda: F.avg_pool2d(t(1, 1, 4, 4), 2),
        "AvgPool2dAdjoint": lambda: double(lambda x: F.avg_pool2d(x, 2), [(1, 1, 4, 4)]),
        "Conv2d": lambda: F.conv2d(t(1, 1, 5, 5), t(2, 1, 3, 3)),
        "ConvTranspose2d": lambda: F.conv_transpose2d(t(1, 2, 3, 3), t(2, 1, 3, 3)),
        "Conv2dWeight": lambda: double(F.conv2d, [(1, 1, 5, 5), (2, 1, 3, 3)], wrt=1),
        "ReLU": lambda: t(3).relu(), "LeakyReLU": lambda: F.leaky_relu(t(3)),
        "ELU": lambda: F.elu(t(3)), "Sigmoid": lambda: t(3).sigmoid(),
        "Tanh": lambda: t(3).tanh(), "Erf": lambda: torch.erf(t(3)),
        "Softplus": lambda: F.softplus(t(3)), "Softmax": lambda: t(2, 3).softmax(1),
        "LogSoftmax": lambda: t(2, 3).log_softmax(1), "MatMul": lambda: t(2, 3) @ t(3, 2),
        "Linear": lambda: F.linear(t(2, 3), t(4, 3), t(4)),
        "BatchNorm": lambda: F.batch_norm(t(4, 3), None, None, t(3), t(3), training=True),
        "SlopeMask": lambda: double(F.relu, [(3,)]),
        "Dropout": lambda: F.dropout(t(10), 0.5),
        "Join": lambda: hooked(t(3)) + 1, "Split": lambda: hooked(t(3)) + 1,
        "BinaryCrossEntropy": lambda: F.binary_cross_entropy(t(3), t(3)),
        "BCEWithLogits": lambda: F.binary_cross_entropy_with_logits(t(3), t(3),
                                                                   reduction="none"),
        **{name: (lambda f: lambda: f(t(3)))(getattr(torch, name.lower())) for name in (
            "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
            "Exp2", "Expm1", "Log2", "Log10", "Log1p", "Rsqrt", "Floor", "Ceil",
            "Trunc", "Sign", "Round")},
        "Acosh": lambda: torch.acosh(t(3) + 1), "Atanh": lambda: torch.atanh(t(3)),
        "Atan2": lambda: torch.atan2(t(3), t(3)),
        "Copysign": lambda: torch.copysign(t(3), t(3)),
        "Logaddexp": lambda: torch.logaddexp(t(3), t(3)),
        "Lerp": lambda: torch.lerp(t(3), t(3), t(3)),
        "DivRounded": lambda: torch.div(t(3), t(3), rounding_mode="floor"),
        "Remainder": lambda: torch.remainder(t(3), t(3)),
        "Hardsigmoid": lambda: F.hardsigmoid(t(3)), "Hardswish": lambda: F.hardswish(t(3)),
        "Hardtanh": lambda: F.hardtanh(t(3)), "LogSigmoid": lambda: F.logsigmoid(t(3)),
        "CumSum": lambda: t(2, 3).cumsum(1), "CumProd": lambda: t(2, 3).cumprod(1),
        "LogCumSumExp": lambda: t(2, 3).logcumsumexp(1), "Prod": lambda: t(2, 3).prod(1),
        "MedianAll": lambda: t(2, 3).median(), "Flip": lambda: t(2, 3).flip(1),
        "Roll": lambda: t(2, 3).roll(1, 1),
        "Scatter": lambda: t(2, 3).scatter(1, torch.tensor([[0], [2]]), t(2, 1)),
        "ScatterReduce": lambda: t(2, 3).scatter_reduce(1, torch.tensor([[0], [2]]),
                                                        t(2, 1), "amax"),
        "MaxUnpool2d": lambda: F.max_unpool2d(t(1, 1, 2, 2), torch.tensor([[[[0, 3],
                                                                              [9, 15]]]]), 2),
        "Bilinear": lambda: F.interpolate(t(1, 1, 2, 2), scale_factor=2, mode="bilinear"),
        "Nearest": lambda: F.interpolate(t(1, 1, 2, 2), scale_factor=2),
        "Sample": lambda: F.grid_sample(t(1, 1, 4, 4), t(1, 2, 2, 2), align_corners=False),
        # grid -> pixel coordinates, x * slope + offset with numbers kept: as x * 2 + 1
        "SourceCoords": lambda: t(3) * 2 + 1,
        "Scale": lambda: torch.add(t(3), t(3), alpha=2),
        "Threshold": lambda: F.threshold(t(3), 0.5, 2.0),
        "Huber": lambda: F.huber_loss(t(3), t(3), reduction="none"),
        "MeanOverKept": lambda: F.nll_loss(t(2, 3), torch.tensor([0, 2])),
        "NllMean": lambda: F.nll_loss(t(2, 3), torch.tensor([0, 2])),
        "XLogX": lambda: torch.xlogy(t(3), t(3)),
        # torch.distributed.nn.functional.all_reduce saves no tensor (and needs a
        # process group); in a world of one it is a copy, as Clone
        "AllReduceSum": lambda: t(3).clone(),
    }


@functools.lru_cache(maxsize=None)
def torch_raises_twice(kind: str) -> bool:
    torch = torch_or_skip()
    root = torch_twins(torch)[kind]()
    root.backward(torch.ones_like(root))
    try:
        root.backward(torch.ones_like(root))
    except RuntimeError as e:
        assert TWICE in str(e)
        return True
    return False


def _kinds(outs) -> set:
    order = autograd._topological_order([o.grad_fn for o in outs])
    return {node_kind(n) for n in order if isinstance(n, autograd.Context)}


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_second_backward_raises_exactly_when_pytorchs_does(spec):
    torch = torch_or_skip()
    _, outs = _forward(spec)
    kinds = _kinds(outs)
    unknown = kinds - torch_twins(torch).keys()
    if not outs or unknown:
        pytest.skip(f"no graph, or no PyTorch twin for {sorted(unknown)} (see the "
                    "test below)")
    expected = any(torch_raises_twice(k) for k in sorted(kinds))
    _backward(outs)
    if expected:
        with pytest.raises(RuntimeError, match=TWICE):
            _backward(outs)
    else:
        _backward(outs)


def test_every_kind_of_graph_node_has_a_pytorch_twin():
    torch = torch_or_skip()
    kinds = set()
    for spec in REGISTRY:
        kinds |= _kinds(_forward(spec)[1])
    missing = sorted(kinds - torch_twins(torch).keys())
    assert not missing, f"add PyTorch twins for {missing} to torch_twins()"


# -- and whole public ops against PyTorch's own op (a composite must not raise where
# PyTorch's single op works: mean is one op, as in PyTorch)
def _edited(edit):
    """op(x): a clone of x (a tensor in the graph), edited in place by edit(y, x)."""
    def op(module, x):
        y = x.clone()
        edit(y, x)
        return y
    return op


BARE_OPS = {
    "add": lambda m, x: x + 1, "sub": lambda m, x: 2 - x, "neg": lambda m, x: -x,
    "mul": lambda m, x: x * 3, "div": lambda m, x: x / 2, "exp": lambda m, x: x.exp(),
    "sum": lambda m, x: x.sum(), "sum dim": lambda m, x: x.sum(1),
    "mean": lambda m, x: x.mean(), "mean dim": lambda m, x: x.mean(0, keepdim=True),
    "var": lambda m, x: x.var(), "amax": lambda m, x: x.amax(1),
    "max dim": lambda m, x: x.max(1)[0], "logsumexp": lambda m, x: x.logsumexp(1),
    "reshape": lambda m, x: x.reshape(6), "view": lambda m, x: x.view(3, 2),
    "flatten": lambda m, x: x.flatten(), "squeeze": lambda m, x: x[None].squeeze(0),
    "unsqueeze": lambda m, x: x.unsqueeze(1), "permute": lambda m, x: x.permute(1, 0),
    "transpose": lambda m, x: x.transpose(0, 1), "T": lambda m, x: x.T,
    "expand": lambda m, x: x[:1].expand(4, 3), "cat": lambda m, x: m.cat([x, x], 1),
    "stack": lambda m, x: m.stack([x, x]), "clone": lambda m, x: x.clone(),
    "to": lambda m, x: x.float(), "slice": lambda m, x: x[:, 1:],
    "int index": lambda m, x: x[1], "list index": lambda m, x: x[[0, 1, 0]],
    "mask": lambda m, x: x[x > 0.5], "relu": lambda m, x: m.relu(x),
    "abs": lambda m, x: x.abs(), "clamp": lambda m, x: x.clamp(0.2, 0.8),
    "where": lambda m, x: m.where(x > 0.5, x, 0.0), "pow": lambda m, x: x ** 2,
    "softmax": lambda m, x: m.softmax(x, 1), "matmul": lambda m, x: x @ x.T,
    "add_": _edited(lambda y, x: y.add_(1)),
    "sub_": _edited(lambda y, x: y.sub_(x)),
    "iadd": _edited(lambda y, x: y.__iadd__(x)),
    "mul_": _edited(lambda y, x: y.mul_(2)),
    "fill_": _edited(lambda y, x: y.fill_(2)),
    "zero_": _edited(lambda y, x: y.zero_()),
    "copy_": _edited(lambda y, x: y.copy_(x + 1)),
    "setitem": _edited(lambda y, x: y.__setitem__((0, slice(1)), 5.0)),
    "view add_": _edited(lambda y, x: y[0].add_(1)),
    # (nearest interpolation keeps its size-derived index arrays; alpha is a number)
    "add_ alpha": _edited(lambda y, x: y.add_(x, alpha=2)),
    "sub_ alpha": _edited(lambda y, x: y.sub_(x, alpha=-0.5)),
    "add alpha": lambda m, x: m.add(x, x * x, alpha=3),
    "sub alpha": lambda m, x: m.sub(x, x.exp(), alpha=3),
    "interpolate nearest": lambda m, x: m.nn.functional.interpolate(x[None, None], (3, 5)),
    "interpolate nearest 1d": lambda m, x: m.nn.functional.interpolate(
        x[None], scale_factor=2.5),
    "interpolate nearest-exact": lambda m, x: m.nn.functional.interpolate(
        x[None, None, None], scale_factor=(1, 2, 1.5), mode="nearest-exact"),
}


def _outcome(module, x, op):
    out = BARE_OPS[op](module, x)
    out.backward(module.ones(out.shape, dtype=out.dtype), retain_graph=False)
    first = np.array(x.grad.tolist())
    try:
        out.backward(module.ones(out.shape, dtype=out.dtype))
    except RuntimeError as e:
        assert TWICE in str(e)
        return "raises", first
    return "works", first


@pytest.mark.parametrize("op", sorted(BARE_OPS))
def test_public_ops_backward_twice_as_pytorchs(op):
    torch = torch_or_skip()
    values = np.random.default_rng(0).uniform(0, 1, (2, 3))
    mine, g_mine = _outcome(md, leaf(values), op)
    theirs, g_theirs = _outcome(torch, torch.tensor(values, requires_grad=True), op)
    assert mine == theirs
    np.testing.assert_allclose(g_mine, g_theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("pool", ["avg_pool2d", "max_pool2d"])
def test_second_backward_through_a_gradient_graph_as_pytorch(pool):
    """The graph of a gradient (create_graph=True) follows the same rule: the average
    pool's adjoint keeps only sizes (works twice), the max pool's scatter its indices."""
    def run(module):
        F = md.functional if module is md else module.nn.functional
        x = module.ones(1, 1, 4, 4, dtype=module.float64, requires_grad=True)
        y = getattr(F, pool)(x, 2)
        g = module.ones(1, 1, 2, 2, dtype=module.float64, requires_grad=True)
        gx, = module.autograd.grad(y, x, g, create_graph=True)
        gx.sum().backward()
        try:
            gx.sum().backward()
        except RuntimeError as e:
            assert TWICE in str(e)
            return "raises"
        return "works"

    assert run(md) == {"avg_pool2d": "works", "max_pool2d": "raises"}[pool]
    assert run(md) == run(torch_or_skip())


def test_released_ctx_state_raises_pytorchs_error_and_retain_graph_keeps_it():
    x = leaf(np.arange(16.0).reshape(1, 1, 4, 4))
    y = md.functional.max_pool2d(x, 2)
    node = y.grad_fn
    y.sum().backward(retain_graph=True)
    assert node.argmax is not None  # retained
    y.sum().backward()
    with pytest.raises(RuntimeError, match=f"MaxPool2dBackward: {TWICE}"):
        node.argmax
    with pytest.raises(RuntimeError, match=TWICE):
        y.sum().backward()


# ================================================================ 3. in-place via views
VIEWS = {
    "slice": lambda y: y[0:2], "int index": lambda y: y[1], "ellipsis": lambda y: y[...],
    "reshape": lambda y: y.reshape(6), "view": lambda y: y.view(3, 2),
    "flatten": lambda y: y.flatten(), "transpose": lambda y: y.transpose(0, 1),
    "permute": lambda y: y.permute(1, 0), "T": lambda y: y.T,
    "unsqueeze": lambda y: y.unsqueeze(0), "squeeze": lambda y: y[None].squeeze(0),
    "chain": lambda y: y.T[1:].unsqueeze(0)[0], "detach": lambda y: y.detach(),
    "detach then slice": lambda y: y.detach()[:, 1],
}
EDITS = {
    "fill_": lambda v: v.fill_(0.0), "zero_": lambda v: v.zero_(),
    "add_": lambda v: v.add_(1.0), "+=": lambda v: v.__iadd__(1.0),
    "mul_": lambda v: v.mul_(2.0), "clamp_": lambda v: v.clamp_(max=0.0),
    "copy_": lambda v: v.copy_(v * 0 + 3), "setitem": lambda v: v.__setitem__(0, 9.0),
    "normal_": lambda v: v.normal_(),
}


def _edit_saved_output_through_view(module, view, edit):
    x = module.tensor([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], dtype=module.float64,
                      requires_grad=True)
    y = x.exp()                     # Exp saves its output y
    loss = y.sum()
    with module.no_grad():
        edit(VIEWS[view](y))
    loss.backward()


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_an_in_place_edit_through_any_view_is_caught(view, edit):
    with pytest.raises(RuntimeError, match=INPLACE):
        _edit_saved_output_through_view(md, view, EDITS[edit])


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_views_and_in_place_edits_are_caught_as_in_pytorch(view):
    torch = torch_or_skip()
    with pytest.raises(RuntimeError, match=INPLACE):
        _edit_saved_output_through_view(torch, view, EDITS["mul_"])
    with pytest.raises(RuntimeError, match=INPLACE):
        _edit_saved_output_through_view(md, view, EDITS["mul_"])


def test_a_saved_input_edited_through_a_view_is_caught():
    x = leaf([0.5, 1.0, 2.0])
    h = x * 1.0
    z = (h * x).sum()               # Mul saves h
    with md.no_grad():
        h.view(3, 1)[1] = 7.0
    with pytest.raises(RuntimeError, match=rf"MulBackward.*{INPLACE}.*version 1; "
                       "expected version 0"):
        z.backward()


def test_edits_through_data_are_not_tracked_as_in_pytorch():
    x = leaf([1.0, 2.0])
    y = x.exp()
    loss = y.sum()
    y.data.mul_(0.0)            # .data shares memory, not the version counter
    assert y._version == 0
    loss.backward()             # no error: the user's responsibility, as in PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_writing_through_an_expanded_view_raises_as_in_pytorch():
    with pytest.raises(RuntimeError, match="more than one element of the written-to "
                       "tensor refers to a single memory location"):
        md.ones(1, 3).expand(2, 3).add_(1.0)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="more than one element"):
        torch.ones(1, 3).expand(2, 3).add_(1.0)


def test_views_share_the_version_counter_and_data_does_not():
    y = md.zeros(2, 3)
    views = [f(y) for f in VIEWS.values()] + [y[:1].expand(4, 3)]
    y.add_(1.0)
    assert all(v._version == 1 for v in views)
    views[0].mul_(2.0)
    assert y._version == 2 and all(v._version == 2 for v in views)
    assert y.data._version == 0 and md.ones(3).reshape(3)._version == 0


# ================================================================ 4. numpy() refusal
@pytest.mark.parametrize("make", [lambda m: m.ones(3, requires_grad=True),
                                  lambda m: m.ones(3, requires_grad=True) * 2],
                         ids=["leaf", "non-leaf"])
def test_numpy_of_a_tensor_that_requires_grad_refuses(make):
    t = make(md)
    message = r"Can't call numpy\(\) on Tensor that requires grad. Use " \
              r"tensor.detach\(\).numpy\(\) instead."
    for call in (lambda: t.numpy(), lambda: np.asarray(t)):
        with pytest.raises(RuntimeError, match=message):
            call()
    assert np.shares_memory(t.detach().numpy(), t.numpy(force=True))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=message):
        make(torch).numpy()


def test_numpy_of_other_tensors_shares_memory():
    t = md.ones(3)
    t.numpy()[0] = 5.0
    assert t.tolist() == [5.0, 1.0, 1.0]
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    assert x.grad.numpy().tolist() == [2.0, 2.0]  # a gradient does not require grad


# ================================================================ 5. custom-op errors
def product(function, backward, name):
    """A Function y = a * b with the given (buggy) backward; function: minidl's
    Function or torch.autograd.Function."""
    class Product(function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

    Product.backward = staticmethod(backward)
    Product.__name__ = name
    return Product


def wrong_shape(function, ones):
    """y = a * b whose backward returns a gradient of shape (5,) for b."""
    return product(function, lambda ctx, g: (g, ones(5)), "WrongShape")


def test_backward_returning_the_wrong_number_of_gradients_is_reported():
    op = product(Function, lambda ctx, g: g, "OneGradient")
    with pytest.raises(RuntimeError, match="OneGradient.backward returned 1 gradients "
                       "but forward took 2 arguments"):
        op.apply(leaf([1.0]), leaf([2.0])).sum().backward()


def test_a_wrong_gradient_shape_names_the_function_the_input_and_both_shapes():
    a, b = leaf(np.ones((3, 4))), leaf(np.ones(4))
    op = wrong_shape(Function, lambda n: md.ones(n, dtype=md.float64))
    with pytest.raises(RuntimeError, match=r"Function WrongShapeBackward returned an "
                       r"invalid gradient at index 1 - got shape \(5,\) but expected "
                       r"shape compatible with \(4,\)"):
        op.apply(a, b).sum().backward()
    torch = pytest.importorskip("torch")
    op = wrong_shape(torch.autograd.Function, lambda n: torch.ones(n, dtype=torch.float64))
    ta = torch.ones(3, 4, dtype=torch.float64, requires_grad=True)
    tb = torch.ones(4, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient at index 1"):
        op.apply(ta, tb).sum().backward()


def test_a_gradient_of_the_broadcast_shape_is_summed_down():
    # Mul's backward returns g * b and g * a at the broadcast shape (3, 4)
    from minidl.ops.arithmetic import Mul
    a, b = leaf(np.arange(12.0).reshape(3, 4)), leaf([1.0, 2.0, 3.0, 4.0])
    Mul.apply(a, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), np.arange(12.0).reshape(3, 4).sum(0))
    assert md.gradcheck(Mul.apply, (leaf(np.ones((2, 3))), leaf([1.0, 2, 3])))


class ProductWithConstantBackward(Function):
    """y = a * b^2 whose backward uses b's numpy value: first derivatives are right,
    the second derivatives with respect to b are not (the graph is cut)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        b_value = md.tensor(b.detach().numpy(), dtype=md.float64)  # (the bug)
        return g * b_value * b_value, g * 2 * a * b_value


def test_gradgradcheck_says_second_derivatives_and_names_the_users_input():
    a, b = leaf([0.5, 1.5]), leaf([1.2, 0.7])
    assert md.gradcheck(ProductWithConstantBackward.apply, (a, b))
    with pytest.raises(GradcheckError) as info:
        md.gradgradcheck(ProductWithConstantBackward.apply, (a, b))
    message = str(info.value)
    assert message.startswith("gradgradcheck: SECOND derivatives are wrong: the "
                              "derivative of (the gradient with respect to input ")
    assert "with respect to input 1 (shape (2,))" in message
    assert "numpy values or constants" in message and "cuts the graph" in message


def test_gradcheck_refuses_float32_up_front():
    x = leaf([1.0, 2.0], dtype=md.float32)
    with pytest.raises(TypeError, match="input 0 is float32; finite differences need "
                       "float64"):
        md.gradcheck(lambda t: t * t, (x,))
    with pytest.raises(TypeError, match="float64"):
        md.gradgradcheck(lambda t: t * t, (x,))
