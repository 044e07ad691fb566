"""The autograd engine's behaviour: accumulation, retain_graph, grad modes, higher-order
derivatives, autograd.grad, in-place checks, anomaly detection, dtypes, error
messages, deep and diamond graphs, and user-defined Functions."""
import math

import numpy as np
import pytest

import minidl as md
from minidl import autograd, Function


def leaf(values, dtype=md.float64):
    return md.tensor(values, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------- backward basics
def test_backward_accumulates_into_grad():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4, 6])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 7, 9])


def test_grad_of_a_broadcast_operand_is_summed_back_to_its_shape():
    a, b = leaf(np.ones(3)), leaf(np.ones((2, 3)))
    (a * b * 2).sum().backward()
    assert a.grad.shape == (3,) and b.grad.shape == (2, 3)
    np.testing.assert_allclose(a.grad.numpy(), [4, 4, 4])


def test_second_backward_without_retain_graph_raises_and_with_it_works():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()

    x2 = leaf([1.0, 2.0])
    y2 = (x2.exp() * x2).sum()
    y2.backward(retain_graph=True)
    first = x2.grad.numpy().copy()
    y2.backward()
    np.testing.assert_allclose(x2.grad.numpy(), 2 * first)


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(md.tensor([1.0, 0.0, 2.0], dtype=md.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2, 0, 4])


def test_backward_of_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        md.tensor([1.0, 2.0]).sum().backward()


def test_only_float_tensors_can_require_grad():
    with pytest.raises(TypeError, match="int64"):
        md.tensor([1, 2], requires_grad=True)


# ---------------------------------------------------------------- grad modes
def test_no_grad_enable_grad_and_set_grad_enabled_as_context_managers():
    x = leaf([1.0])
    with md.no_grad():
        assert not md.is_grad_enabled()
        y = x * 2
        with md.enable_grad():
            z = x * 2
        with md.set_grad_enabled(True):
            w = x * 2
    assert md.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and w.requires_grad
    with md.set_grad_enabled(False):
        assert not (x * 2).requires_grad


def test_grad_modes_as_decorators_and_restored_after_exceptions():
    @md.no_grad()
    def double(t):
        return t * 2

    @md.enable_grad()
    def triple(t):
        return t * 3

    x = leaf([1.0])
    assert not double(x).requires_grad
    with md.no_grad():
        assert triple(x).requires_grad
    with pytest.raises(ZeroDivisionError):
        with md.no_grad():
            1 / 0
    assert md.is_grad_enabled()


def test_detach_and_data_share_memory_but_leave_the_graph():
    x = leaf([1.0, 2.0])
    for d in (x.detach(), x.data):
        assert not d.requires_grad and d.grad_fn is None
        assert np.shares_memory(d.detach().numpy(), x.detach().numpy())


# ---------------------------------------------------------------- higher order
@pytest.mark.parametrize("f, d1, d2", [
    (lambda x: x ** 3, lambda x: 3 * x ** 2, lambda x: 6 * x),
    (lambda x: x.exp() * x, lambda x: np.exp(x) * (1 + x), lambda x: np.exp(x) * (2 + x)),
    (md.tanh, lambda x: 1 - np.tanh(x) ** 2,
     lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    (md.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s),
     lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s)),
    (lambda x: md.log(x * x + 1), lambda x: 2 * x / (x * x + 1),
     lambda x: (2 - 2 * x * x) / (x * x + 1) ** 2),
])
def test_create_graph_gives_analytic_second_derivatives(f, d1, d2):
    x0 = np.array([-1.5, -0.3, 0.4, 1.2])
    x = leaf(x0)
    g, = autograd.grad(f(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), d1(x0), rtol=1e-12)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d2(x0), rtol=1e-10, atol=1e-14)


def test_second_derivative_through_a_0d_output():
    # exp(sum x) has Hessian exp(sum x) * ones: the saved 0-d output must stay in the graph
    x = leaf([0.1, 0.2])
    g, = autograd.grad(x.sum().exp(), x, create_graph=True)
    h, = autograd.grad(g[0], x)
    np.testing.assert_allclose(h.numpy(), [math.exp(0.3)] * 2)


def test_backward_create_graph_grads_are_not_aliased():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    with md.no_grad():
        a.grad.zero_()
    np.testing.assert_allclose(b.grad.numpy(), [1.0])


# ---------------------------------------------------------------- autograd.grad
def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    hidden = x * w
    gx, gh = autograd.grad((hidden * hidden).sum(), [x, hidden])
    np.testing.assert_allclose(gx.detach().numpy(), 2 * (x.detach().numpy() * w.detach().numpy()) * w.detach().numpy())
    np.testing.assert_allclose(gh.detach().numpy(), 2 * hidden.detach().numpy())
    assert x.grad is None and w.grad is None


def test_autograd_grad_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), [2.0])


def test_autograd_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    g, = autograd.grad(x * x, x, grad_outputs=md.tensor([1.0, 10.0], dtype=md.float64))
    np.testing.assert_allclose(g.numpy(), [2.0, 40.0])


# ---------------------------------------------------------------- in-place checks
@pytest.mark.parametrize("edit", [
    lambda t: t.fill_(0.0),
    lambda t: t.copy_(np.zeros(3)),
    lambda t: t.__setitem__(0, 5.0),
    lambda t: t.zero_(),
])
def test_modifying_a_tensor_saved_for_backward_raises(edit):
    x = leaf([0.5, 1.0, 2.0])
    y = x.exp()           # Exp saves its output y
    z = (y * 2).sum()
    with md.no_grad():
        edit(y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_modifying_a_saved_input_raises():
    x = leaf([0.5, 1.0])
    h = x * 1.0
    z = (h * x).sum()      # Mul saves both inputs
    with md.no_grad():
        h[1] = 3.0
    with pytest.raises(RuntimeError, match=r"Mul.*modified by an inplace operation"):
        z.backward()


@pytest.mark.parametrize("edit", [
    lambda t: t.fill_(0.0), lambda t: t.copy_([1.0, 2.0]), lambda t: t.__setitem__(0, 1.0),
])
def test_in_place_on_a_leaf_requiring_grad_raises_unless_no_grad(edit):
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf"):
        edit(x)
    with md.no_grad():
        edit(x)
    assert x._version == 1


# ---------------------------------------------------------------- anomaly detection
numpy_warnings_off = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@numpy_warnings_off
def test_detect_anomaly_names_the_forward_op_that_made_nan():
    x = leaf([1.0, -1.0])
    with md.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Log forward.*1 NaN"):
            md.log(x)
    assert np.isnan(md.log(x).detach().numpy()[1])  # off by default: NaN just propagates


@numpy_warnings_off
def test_detect_anomaly_names_the_backward_op_and_where_it_was_created():
    x = leaf([0.0, 4.0])
    with md.detect_anomaly():
        y = (md.sqrt(x) * 2).sum()
        with pytest.raises(RuntimeError, match=r"Sqrt\.backward.*inf") as info:
            y.backward()
    assert "test_autograd.py" in str(info.value)  # the creation stack points at us


@numpy_warnings_off
def test_anomaly_inside_a_backward_is_blamed_on_that_op_not_its_helpers():
    x = leaf([0.0])
    with md.detect_anomaly():
        y = md.sqrt(x).sum()
        with pytest.raises(RuntimeError) as info:
            y.backward()
    assert "Sqrt" in str(info.value) and "Div" not in str(info.value).split("\n")[0]


# ---------------------------------------------------------------- dtypes
def test_float32_stays_float32_with_scalars_and_int_labels():
    x = leaf(np.arange(6).reshape(2, 3) * 0.1, dtype=md.float32)
    labels = md.tensor([2, 0])
    assert labels.dtype == md.int64
    steps = [x * 2, x + 1.5, 2.5 - x, x / 3, 1 / (x + 1), x ** 2, 2 ** x,
             x * np.float64(0.5), x * labels[:, None], x + labels.reshape(2, 1),
             md.where(x > 0.2, x, 0.0), md.maximum(x, 0.1), x.clamp(0.1, 0.4),
             x.mean(), x.var(), x.std(0), md.softmax(x, 1), md.log_softmax(x, 1),
             md.log_softmax(x, 1)[md.arange(2), labels], md.gelu(x), md.softplus(x),
             x @ md.ones(3, 2), md.cat([x, x], 0), md.pad(x, (1, 1))]
    for i, t in enumerate(steps):
        assert t.dtype == md.float32, f"step {i} gave {t.dtype}"
    sum(s.sum() for s in steps).backward()
    assert x.grad.dtype == md.float32 and np.isfinite(x.grad.numpy()).all()


def test_float64_is_kept():
    x = leaf([1.0, 2.0])
    y = (x * 2.5 + 1).exp().sum()
    y.backward()
    assert y.dtype == md.float64 and x.grad.dtype == md.float64


# ---------------------------------------------------------------- error messages
def test_broadcast_error_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        md.ones(2, 3) + md.ones(4)
    with pytest.raises(RuntimeError, match=r"mul.*\(2, 3\).*\(2,\)"):
        md.ones(2, 3) * md.ones(2)


def test_matmul_error_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        md.ones(2, 3) @ md.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul.*\(\)"):
        md.matmul(md.ones(3), md.tensor(2.0))


@pytest.mark.parametrize("data", [[1 + 2j], ["a", "b"], [object()]])
def test_unsupported_dtypes_raise_a_clear_type_error(data):
    with pytest.raises(TypeError, match="tensor"):
        md.tensor(data)


def test_unsupported_dtype_argument_raises():
    with pytest.raises(TypeError, match="complex"):
        md.tensor([1.0], dtype=np.complex64)
    with pytest.raises(TypeError, match="float16"):
        md.ones(2).to(np.float16)


@pytest.mark.parametrize("call, op", [
    (lambda: md.exp([1.0, 2.0]), "exp"),
    (lambda: md.sum(np.ones(3)), "sum"),
    (lambda: md.ones(3).sum(dim=1.5), "sum"),
    (lambda: md.relu("x"), "relu"),
    (lambda: md.add(1, 2), "add"),
])
def test_wrong_argument_types_name_the_op(call, op):
    with pytest.raises(TypeError, match=op):
        call()


def test_wrong_operand_type_in_arithmetic():
    with pytest.raises(TypeError, match="str"):
        md.ones(2) + "a"


def test_out_of_range_dims_raise():
    with pytest.raises(IndexError, match="permute"):
        md.ones(2, 3).permute(0, 3)
    with pytest.raises(IndexError, match="sum"):
        md.ones(2, 3).sum(2)


# ---------------------------------------------------------------- graph structure
def test_retain_grad_on_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    other = x * 2
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())
    assert other.grad is None


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000], rtol=1e-9)


def test_diamond_graph_sums_both_paths():
    x0 = np.array([0.3, -0.7])
    x = leaf(x0)
    a, b = x * 2, x.exp()
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x0) + 2 * x0 * np.exp(x0))


def test_same_tensor_used_twice_in_one_op():
    x = leaf([3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0])


# ---------------------------------------------------------------- user-defined Functions
class Square(Function):
    """The example from minidl.autograd.Function's docstring."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return 2 * x * grad  # d/dx x^2 = 2x


class Swish(Function):
    """swish(x) = x * sigmoid(beta x), with a non-tensor argument beta."""

    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return x / (1 + np.exp(-beta * x))

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        s = md.sigmoid(x * ctx.beta)
        return grad * (s + ctx.beta * x * s * (1 - s)), None  # None for beta


def test_user_defined_square():
    x = leaf([1.0, -2.0])
    y = Square.apply(x)
    assert y.grad_fn is not None and y.grad_fn.name() == "SquareBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0])
    assert md.gradcheck(Square.apply, (leaf(np.random.default_rng(0).normal(size=4)),))
    assert md.gradgradcheck(Square.apply, (leaf(np.random.default_rng(1).normal(size=4)),))


def test_user_defined_swish_with_a_non_tensor_argument():
    x0 = np.random.default_rng(0).normal(size=(2, 3))
    assert md.gradcheck(lambda t: Swish.apply(t, 1.7), (leaf(x0),))
    assert md.gradgradcheck(lambda t: Swish.apply(t, 1.7), (leaf(x0),))
    ref = x0 / (1 + np.exp(-1.7 * x0))
    np.testing.assert_allclose(Swish.apply(leaf(x0), 1.7).detach().numpy(), ref)


def test_needs_input_grad_reflects_requires_grad():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    Probe.apply(leaf([1.0]), md.tensor([1.0], dtype=md.float64))
    assert seen == [(True, False)]
