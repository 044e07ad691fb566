"""gradcheck and gradgradcheck as a public tool: they accept correct ops and catch
wrong first and second derivatives with a useful message."""
import numpy as np
import pytest

import minidl as md
from minidl import Function, GradcheckError


def leaf(shape, seed=0, dtype=md.float64):
    data = np.random.default_rng(seed).uniform(0.5, 1.5, shape)
    return md.tensor(data, dtype=dtype, requires_grad=True)


class CubeOffByFactor(Function):
    """x^3 with a wrong backward: 2x^2 instead of 3x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 2 * x * x


class ScaleWrongOnSecondInput(Function):
    """a * b with a correct gradient for a and a wrong one (missing) for b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * 0


class SquareConstantBackward(Function):
    """x^2 whose backward uses x as a constant: first derivatives right, second wrong
    (the graph of the gradient does not see x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x.copy()
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g * 2 * md.tensor(ctx.x, dtype=md.float64)


def test_gradcheck_accepts_correct_ops():
    a, b = leaf((2, 3), 0), leaf((3,), 1)
    assert md.gradcheck(lambda x, y: (x * y).exp() / (y + 1), (a, b))
    assert md.gradcheck(lambda x: md.softmax(x, 1), (a,), fast_mode=True)
    assert md.gradgradcheck(lambda x, y: md.tanh(x @ y), (a, b))
    assert md.gradcheck(lambda x: x.sum(), leaf(4))  # a bare tensor is fine too


def test_gradcheck_reports_input_worst_element_and_both_values():
    x = leaf((2, 3))
    with pytest.raises(GradcheckError) as info:
        md.gradcheck(CubeOffByFactor.apply, (x,))
    msg = str(info.value)
    worst = np.unravel_index(np.argmax(x.detach().numpy() ** 2), x.shape)  # error = x^2
    assert "input 0" in msg
    assert f"input index {tuple(int(i) for i in worst)}" in msg
    analytic, numeric = 2 * x.detach().numpy()[worst] ** 2, 3 * x.detach().numpy()[worst] ** 2
    assert f"analytic {analytic:.6g} vs numerical {numeric:.6g}" in msg


def test_gradcheck_names_the_wrong_input():
    with pytest.raises(GradcheckError, match="input 1"):
        md.gradcheck(ScaleWrongOnSecondInput.apply, (leaf(3, 0), leaf(3, 1)))
    a = leaf(3, 0)
    b = md.tensor(np.ones(3), dtype=md.float64)  # not requiring grad: not checked
    assert md.gradcheck(ScaleWrongOnSecondInput.apply, (a, b))


def test_raise_exception_false_returns_false():
    assert md.gradcheck(CubeOffByFactor.apply, (leaf(4),), raise_exception=False) is False
    assert md.gradcheck(lambda x: x ** 3, (leaf(4),), raise_exception=False) is True


def test_fast_mode_detects_the_same_bug():
    with pytest.raises(GradcheckError, match="fast_mode"):
        md.gradcheck(CubeOffByFactor.apply, (leaf((3, 2)),), fast_mode=True)
    assert not md.gradcheck(ScaleWrongOnSecondInput.apply, (leaf(3, 0), leaf(3, 1)),
                            fast_mode=True, raise_exception=False)


def test_gradgradcheck_detects_a_wrong_double_backward():
    x = leaf(4)
    assert md.gradcheck(SquareConstantBackward.apply, (x,))  # first order is right
    with pytest.raises(GradcheckError, match="input 0"):  # d(grad)/dx: 0, not 2v
        md.gradgradcheck(SquareConstantBackward.apply, (x,))
    assert md.gradgradcheck(SquareConstantBackward.apply, (x,), raise_exception=False,
                            fast_mode=True) is False
    assert md.gradgradcheck(lambda t: t * t, (x,))


def test_gradcheck_refuses_float32_inputs_up_front():
    x = leaf(3, dtype=md.float32)
    for check in (md.gradcheck, md.gradgradcheck):
        with pytest.raises(TypeError, match="input 0 is float32.*float64"):
            check(lambda t: t * 2, (x,), raise_exception=False)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        md.gradcheck(lambda t: t * 2, (md.ones(3, dtype=md.float64),))


def test_gradcheck_leaves_inputs_unchanged():
    x = leaf((2, 2))
    before = x.detach().numpy().copy()
    md.gradcheck(lambda t: t.exp(), (x,))
    md.gradcheck(lambda t: t.exp(), (x,), fast_mode=True)
    np.testing.assert_array_equal(x.detach().numpy(), before)
