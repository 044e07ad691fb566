"""In-place semantics, as in PyTorch: augmented assignment (x += y edits x itself), the
in-place family (add_, mul_, clamp_, copy_, fill_, normal_, ...), x[index] = value as
a differentiable op, edits through views, gradient hooks, backward(inputs=...), and
the hand-written SGD loop a student writes first. Gradients of recorded edits are
checked by the op registry too (tests/registry_inplace.py)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
from minidl import autograd, nn, optim
from registry import covers


def leaf(values, dtype=md.float64):
    return md.tensor(values, dtype=dtype, requires_grad=True)


def torch_leaf(torch, values):
    return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ================================================================ augmented assignment
AUGMENTED = {
    "+=": lambda a, b: a.__iadd__(b), "-=": lambda a, b: a.__isub__(b),
    "*=": lambda a, b: a.__imul__(b), "/=": lambda a, b: a.__itruediv__(b),
    "**=": lambda a, b: a.__ipow__(b), "//=": lambda a, b: a.__ifloordiv__(b),
    "%=": lambda a, b: a.__imod__(b),
}


@pytest.mark.parametrize("op", sorted(AUGMENTED))
def test_augmented_assignment_edits_the_same_object_and_bumps_its_version(op):
    a = md.tensor([1.0, 2.0, 4.0])
    b = a
    memory, version = a.numpy(), a._version
    before = a.numpy().copy()
    b = AUGMENTED[op](b, md.tensor([2.0, 2.0, 0.5]))
    assert b is a and a.numpy() is memory and a._version == version + 1
    expected = AUGMENTED[op](before, np.array([2.0, 2.0, 0.5]))  # numpy's own +=, ...
    np.testing.assert_allclose(a.numpy(), expected)


@pytest.mark.parametrize("op", ["//=", "%="])
def test_floor_division_and_remainder_in_place_as_pytorch(op):
    values, divisors = [-7, -2, 5, 9], [2, 3, -4, 4]
    mine = md.tensor(values)
    assert AUGMENTED[op](mine, md.tensor(divisors)) is mine and mine._version == 1
    x = leaf([-7.5, 2.5, 5.0])
    floats = x * 1
    AUGMENTED[op](floats, 2.0)           # recorded: % has a gradient, // has none
    if op == "%=":
        floats.sum().backward()
        assert x.grad.tolist() == [1.0, 1.0, 1.0]
    else:
        with pytest.raises(RuntimeError, match="derivative"):
            floats.sum().backward()
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(values)
    AUGMENTED[op](theirs, torch.tensor(divisors))
    assert mine.tolist() == theirs.tolist()
    t_floats = torch.tensor([-7.5, 2.5, 5.0], dtype=torch.float64, requires_grad=True) * 1
    assert AUGMENTED[op](t_floats, 2.0).tolist() == floats.tolist()


def test_python_augmented_assignment_statements():
    a = md.ones(3)
    alias = a
    a += 1
    a *= md.tensor([1.0, 2.0, 3.0])
    a -= 0.5
    a /= 2
    a **= 2
    assert a is alias and a.tolist() == [0.5625, 3.0625, 7.5625]


def test_in_place_results_keep_the_dtype_and_shape_or_refuse_as_pytorch():
    f32 = md.ones(3)
    f32 += md.ones(3, dtype=md.float64)          # float32 stays float32
    assert f32.dtype == md.float32
    ints = md.tensor([1, 2])
    ints += 3
    assert ints.dtype == md.int64 and ints.tolist() == [4, 5]
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the "
                       "desired output type int64"):
        ints += 0.5
    with pytest.raises(RuntimeError, match=r"output with shape \(3,\) doesn't match "
                       r"the broadcast shape \(2, 3\)"):
        md.ones(3).add_(md.ones(2, 3))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="can't be cast"):
        t = torch.tensor([1, 2])
        t += 0.5
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        torch.ones(3).add_(torch.ones(2, 3))


def test_in_place_on_a_leaf_that_requires_grad_raises_pytorchs_error():
    w = leaf([1.0, 2.0])
    for edit in (lambda: w.add_(1.0), lambda: AUGMENTED["-="](w, 1.0),
                 lambda: w.__setitem__(0, 1.0), lambda: w[0:1].mul_(2.0),
                 lambda: w.normal_()):
        with pytest.raises(RuntimeError, match="a (view of a )?leaf Variable that "
                           "requires grad is being used in an in-place operation"):
            edit()
    assert w._version == 0 and w.tolist() == [1.0, 2.0]
    with md.no_grad():
        w -= 0.5
        w[1] = 7.0
    assert w.tolist() == [0.5, 7.0] and w._version == 2 and w.is_leaf
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        torch_leaf(torch, [1.0]).add_(1.0)


def _chain(module, x, w):
    """A graph with in-place edits of non-leaf tensors (recorded, as in PyTorch)."""
    y = x * 2
    y += w                 # AddBackward
    y *= x                 # MulBackward, saving the old y
    y.clamp_(-3.0, 3.0)
    y /= w + 2
    y **= 2
    y.sub_(w, alpha=0.5)
    z = y.exp() + 0.0     # (Exp saves its output: edit the sum instead)
    z.add_(1.0)
    return z


def assert_same_as_torch(fn, *values):
    """fn(module, *leaves) gives the same output, and the same gradients of its sum,
    in minidl and in PyTorch."""
    mine = [leaf(v) for v in values]
    out = fn(md, *mine)
    out.sum().backward()
    torch = pytest.importorskip("torch")
    theirs = [torch_leaf(torch, v) for v in values]
    ref = fn(torch, *theirs)
    ref.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_edits_of_a_tensor_in_the_graph_are_recorded_and_differentiable():
    x0, w0 = [0.3, -0.8, 1.4], [0.5, 1.5, -0.25]
    z = _chain(md, leaf(x0), leaf(w0))
    assert z.grad_fn.name() == "AddBackward" and not z.is_leaf
    assert md.gradcheck(lambda a, b: _chain(md, a, b), (leaf(x0), leaf(w0)))
    assert md.gradgradcheck(lambda a, b: _chain(md, a, b), (leaf(x0), leaf(w0)))
    assert_same_as_torch(_chain, x0, w0)


def test_in_place_on_a_constant_with_an_operand_requiring_grad_joins_the_graph():
    w = leaf([1.0, 2.0])
    buf = md.zeros(2)
    buf.add_(w * 3)
    assert not buf.is_leaf and buf.requires_grad
    buf.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


# ================================================================ the in-place family
def test_fill_zero_copy_and_clamp():
    t = md.zeros(2, 3)
    assert t.fill_(2.5) is t and (t.numpy() == 2.5).all()
    assert t.zero_() is t and (t.numpy() == 0).all()
    assert t.copy_(md.tensor([1.0, 2.0, 3.0])) is t        # broadcast, as PyTorch
    assert t.tolist() == [[1, 2, 3], [1, 2, 3]]
    assert t.clamp_(max=2.0) is t and t.tolist() == [[1, 2, 2], [1, 2, 2]]
    assert t.clamp_(min=1.5).tolist() == [[1.5, 2, 2], [1.5, 2, 2]]
    ints = md.zeros(2, dtype=md.int64)
    ints.copy_(md.tensor([1.7, -2.2]))                      # copy_ casts, as PyTorch
    assert ints.tolist() == [1, -2] and t._version == 5


def test_normal_and_uniform_draw_from_minidls_generators():
    md.manual_seed(3)
    a = md.zeros(2000).normal_(2.0, 0.5)
    md.manual_seed(3)
    b = md.zeros(2000).normal_(2.0, 0.5)
    assert a.tolist() == b.tolist()
    assert abs(a.numpy().mean() - 2.0) < 0.05 and abs(a.numpy().std() - 0.5) < 0.05
    u = md.zeros(2000, dtype=md.float64).uniform_(-1.0, 3.0, generator=md.Generator(1))
    assert u.dtype == md.float64 and -1 <= u.numpy().min() and u.numpy().max() < 3
    same = md.zeros(2000, dtype=md.float64).uniform_(-1.0, 3.0, generator=md.Generator(1))
    assert same.tolist() == u.tolist()


def test_fill_and_normal_of_a_tensor_in_the_graph_give_zero_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.fill_(3.0)
    (y * y).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    v = leaf(2.0)
    z = (x * 1).fill_(v)          # a 0-d tensor value: its gradient flows, as PyTorch
    z.sum().backward()
    assert v.grad.item() == 2.0


def test_requires_grad_():
    t = md.ones(2)
    assert t.requires_grad_() is t and t.requires_grad
    with pytest.raises(TypeError, match="float"):
        md.tensor([1, 2]).requires_grad_()


# ================================================================ setitem as an op
def _setitem(module, x, v, index):
    y = x * 1
    y[index] = v
    return y


@pytest.mark.parametrize("index, value_shape", [
    ((slice(0, 2),), (2, 4)), ((1,), (4,)), ((slice(None), 2), ()),
    (([0, 2],), (1, 4)), ((slice(None), [3, 0]), (3, 2)),
])
def test_setitem_in_the_graph_matches_pytorch(index, value_shape):
    rng = np.random.default_rng(0)
    x0, v0, g = rng.standard_normal((3, 4)), rng.standard_normal(value_shape), \
        rng.standard_normal((3, 4))
    x, v = leaf(x0), leaf(v0)
    y = _setitem(md, x, v, index)
    assert y.grad_fn.name() == "CopySlicesBackward"
    y.backward(md.tensor(g))
    expected = x0.copy()
    expected[index] = v0
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    overwritten = np.zeros((3, 4), bool)
    overwritten[index] = True
    np.testing.assert_array_equal(x.grad.numpy(), np.where(overwritten, 0.0, 2 * g / 2))
    torch = pytest.importorskip("torch")
    tx, tv = torch_leaf(torch, x0), torch_leaf(torch, v0)
    ty = _setitem(torch, tx, tv, index)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())


def test_setitem_uses_pytorchs_index_order_with_integers_and_arrays():
    # x[1, :, [0, 1]] is (4, 2) in PyTorch (numpy would say (2, 4)): so is its region
    rng = np.random.default_rng(0)
    x0, v0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((4, 2))
    index = (1, slice(None), [0, 1])
    for record in (False, True):
        x, v = leaf(x0), leaf(v0)
        y = x * 1 if record else x.detach().clone()
        y[index] = v if record else v.detach()
        assert y[index].tolist() == v0.tolist()
    y.sum().backward()
    assert v.grad.shape == (4, 2) and x.grad.numpy()[1, :, :2].sum() == 0
    torch = pytest.importorskip("torch")
    t = torch.tensor(x0)
    t[index] = torch.tensor(v0)
    np.testing.assert_array_equal(y.detach().numpy(), t.numpy())


def test_setitem_builds_a_tensor_from_parts():
    a, b = leaf([1.0, 2.0]), leaf(3.0)
    out = md.zeros(3)
    out[0:2] = a * 2
    out[2] = b
    assert not out.is_leaf
    (out * md.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert a.grad.tolist() == [2.0, 20.0] and b.grad.item() == 100.0


def test_setitem_with_a_value_that_does_not_fit_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        md.zeros(4)[0:2] = md.ones(3)
    x = leaf([1.0, 2.0, 3.0]) * 1
    with pytest.raises(RuntimeError, match=r"setitem.*\(3,\).*\(2,\)"):
        x[0:2] = md.ones(3)


# ================================================================ edits through views
def _view_edits(module, x, w):
    y = x * 1
    y[0:2].mul_(w[0])             # a slice
    y.view(2, 3)[1].add_(w)       # a view, then an index
    y.T[0] += w[1]                # .T, setitem of a row of it
    y.unsqueeze(0).squeeze(0)[1:, 1:].clamp_(-1, 1)
    return y * x


def test_edits_through_views_rebase_the_base_as_in_pytorch():
    rng = np.random.default_rng(1)
    assert_same_as_torch(_view_edits, rng.standard_normal((3, 2)) * 2,
                         rng.standard_normal(3))


def test_a_view_made_before_an_edit_of_its_base_follows_the_new_history():
    def run(module):
        x = torch_leaf(module, [1.0, 2.0, 3.0]) if module is not md else leaf([1.0, 2, 3])
        y = x * 2
        a, b = y[0:2], y[1:3]
        a.mul_(10)                # edits y[1] too: b must see it in backward
        b.sum().backward()
        return np.array(x.grad.tolist())

    np.testing.assert_array_equal(run(md), [0.0, 20.0, 2.0])
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(run(md), run(torch))


def test_a_view_made_in_no_grad_refuses_a_recorded_edit_as_in_pytorch():
    for module in (md,) + ((pytest.importorskip("torch"),)):
        x = module.ones(3, dtype=module.float64, requires_grad=True)
        y = x * 2
        with module.no_grad():
            v = y[0:2]
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode and "
                           "is being modified inplace with grad mode enabled"):
            v.mul_(2)


# ================================================================ hooks
def test_register_hook_on_leaf_and_non_leaf_sees_and_replaces_the_gradient():
    def run(module):
        x = leaf([1.0, 2.0]) if module is md else torch_leaf(module, [1.0, 2.0])
        seen = []
        hx = x.register_hook(lambda g: seen.append(("x", g.tolist())))
        y = x * 3
        y.register_hook(lambda g: g * 10)          # replaces dL/dy
        y.retain_grad()
        (y * y).sum().backward()
        hx.remove()
        (x * 1).sum().backward()                   # removed: not called again
        return seen, y.grad.tolist(), x.grad.tolist()

    seen, y_grad, x_grad = run(md)
    assert seen == [("x", [180.0, 360.0])]         # 3 * 10 * 2y, once
    assert y_grad == [60.0, 120.0] and x_grad == [181.0, 361.0]
    torch = pytest.importorskip("torch")
    assert run(torch) == (seen, y_grad, x_grad)


def test_hook_errors_as_pytorch():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that "
                       "doesn't require gradient"):
        md.ones(2).register_hook(lambda g: g)
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (x * 2).sum().backward()


def test_post_accumulate_grad_hook():
    x = leaf([1.0, 2.0])
    calls = []
    handle = x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
    (x * 3).sum().backward()
    (x * x).sum().backward()
    handle.remove()
    (x * 1).sum().backward()
    assert calls == [[3.0, 3.0], [5.0, 7.0]]
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be "
                       "registered on non-leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_hooks_with_autograd_grad_and_create_graph():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 2)
    g, = autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.tolist() == [6.0, 24.0] and g.requires_grad


# ================================================================ backward(inputs=...)
def test_backward_inputs_accumulates_only_into_the_given_tensors():
    def run(module):
        x = leaf([1.0, 2.0, 3.0]) if module is md else torch_leaf(module, [1.0, 2, 3])
        w = leaf([1.0, 1.0, 2.0]) if module is md else torch_leaf(module, [1.0, 1, 2])
        h = x * w
        (h * h).sum().backward(inputs=[h, w])
        return x.grad, h.grad.tolist(), w.grad.tolist()

    x_grad, h_grad, w_grad = run(md)
    assert x_grad is None and h_grad == [2.0, 4.0, 12.0] and w_grad == [2.0, 8.0, 36.0]
    torch = pytest.importorskip("torch")
    t_x, t_h, t_w = run(torch)
    assert t_x is None and (t_h, t_w) == (h_grad, w_grad)


def test_backward_inputs_errors():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot "
                       "be empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward(inputs=[md.ones(1)])


def test_backward_inputs_does_not_run_or_release_the_rest_of_the_graph():
    x = leaf([1.0, 2.0])
    h = x.exp()
    loss = (h * 2).sum()
    loss.backward(inputs=[h])
    assert x.grad is None and h.grad.tolist() == [2.0, 2.0]
    g, = autograd.grad(h, x, md.ones(2, dtype=md.float64))  # Exp was not released
    np.testing.assert_allclose(g.numpy(), np.exp([1.0, 2.0]))


# ================================================================ no_grad as decorator
def test_no_grad_bare_and_called_as_decorators():
    x = leaf([1.0])

    @md.no_grad
    def bare(t):
        return t * 2

    @md.no_grad()
    def called(t):
        return t * 2

    @md.enable_grad
    def enabled(t):
        return t * 2

    assert not bare(x).requires_grad and not called(x).requires_grad
    assert bare.__name__ == "bare"
    with md.no_grad():
        assert enabled(x).requires_grad


# ================================================================ the hand-written loop
def test_hand_written_sgd_loop_matches_optim_sgd_step_for_step():
    def model_and_data():
        md.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        x = md.randn(16, 4)
        y = md.tensor(np.arange(16) % 3)
        return model, x, y

    lr, losses = 0.1, {}
    by_hand, x, y = model_and_data()
    for _ in range(5):
        by_hand.zero_grad()
        loss = md.functional.cross_entropy(by_hand(x), y)
        loss.backward()
        with md.no_grad():
            for p in by_hand.parameters():
                p -= lr * p.grad
        losses.setdefault("hand", []).append(loss.item())
    reference, x, y = model_and_data()
    opt = optim.SGD(reference.parameters(), lr=lr)
    for _ in range(5):
        opt.zero_grad()
        loss = md.functional.cross_entropy(reference(x), y)
        loss.backward()
        opt.step()
        losses.setdefault("sgd", []).append(loss.item())
    assert losses["hand"] == losses["sgd"] and losses["hand"][-1] < losses["hand"][0]
    for p, q in zip(by_hand.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert p.is_leaf and p.grad_fn is None


# ================================================================ property test
FAMILY = {
    "add_": (lambda y, v: y.add_(v), lambda y, v: y + v),
    "sub_": (lambda y, v: y.sub_(v, alpha=2), lambda y, v: y - 2 * v),
    "mul_": (lambda y, v: y.mul_(v), lambda y, v: y * v),
    "div_": (lambda y, v: y.div_(v.abs() + 1), lambda y, v: y / (v.abs() + 1)),
    "pow_": (lambda y, v: y.pow_(2), lambda y, v: y ** 2),
    "clamp_": (lambda y, v: y.clamp_(-0.5, 0.5), lambda y, v: y.clamp(-0.5, 0.5)),
    "copy_": (lambda y, v: y.copy_(v), lambda y, v: y * 0 + v),
    "fill_": (lambda y, v: y.fill_(v.sum()), lambda y, v: y * 0 + v.sum()),
    "zero_": (lambda y, v: y.zero_(), lambda y, v: y * 0),
    "setitem": (lambda y, v: y.__setitem__(..., v), lambda y, v: y * 0 + v),
}


@covers(*FAMILY)
@given(st.sampled_from(sorted(FAMILY)), st.sampled_from([(3,), (2, 3), (2, 1, 3)]),
       st.sampled_from(["same", "broadcast", "view"]), st.integers(0, 2**16))
def test_in_place_ops_equal_their_out_of_place_versions(name, shape, how, seed):
    """Value and gradients of y.op_(v) equal those of the out-of-place y = op(y, v),
    for a fresh tensor, a broadcast operand, and an edit through a view."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    v0 = rng.standard_normal(shape[-1:] if how == "broadcast" else shape)
    g = rng.standard_normal(shape)
    in_place, out_of_place = FAMILY[name]
    results = []
    for edit in (in_place, None):
        x, v = leaf(x0), leaf(v0)
        y = x * 1.5
        if edit is None:
            y = out_of_place(y, v)
        elif how == "view":
            edit(y.view(-1).view(shape), v)
        else:
            edit(y, v)
        (y * md.tensor(g)).sum().backward()
        results.append((y.detach().numpy(), x.grad, v.grad))
    (y1, gx1, gv1), (y2, gx2, gv2) = results
    np.testing.assert_allclose(y1, y2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx1.numpy(), gx2.numpy(), rtol=1e-12, atol=1e-12)
    if gv2 is None or not gv2.numpy().any():
        assert gv1 is None or not gv1.numpy().any()
    else:
        np.testing.assert_allclose(gv1.numpy(), gv2.numpy(), rtol=1e-12, atol=1e-12)
