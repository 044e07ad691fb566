"""Tests for minidl.optim: SGD, Adam, AdamW, RMSprop and the Optimizer base class.

Each optimizer is checked against a slow reference written here from the textbook
formulas (float64, several steps, hyperparameters drawn by hypothesis) and against
torch.optim when torch is installed. Then the machinery: param groups, zero_grad,
closures, state_dict round trips, dtypes, in-place updates, and error messages.
"""
import pickle

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
from minidl import optim


# ---------------------------------------------------------------------- references
def ref_sgd(x, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False):
    """SGD as PyTorch's docs write it (maximize negates the gradient first)."""
    x, buf = x.copy(), None
    for grad in grads:
        g = -grad if maximize else grad
        g = g + weight_decay * x
        if momentum != 0:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        x = x - lr * g
    return x


def ref_adam(x, grads, lr, betas, eps, weight_decay=0.0, amsgrad=False, maximize=False,
             decoupled=False):
    """Adam / AdamW with bias-corrected moments m_hat, v_hat."""
    beta1, beta2 = betas
    x = x.copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    v_max = np.zeros_like(x)
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad
        if decoupled:
            x = x - lr * weight_decay * x
        else:
            g = g + weight_decay * x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1 ** t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2 ** t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
    return x


def ref_rmsprop(x, grads, lr, alpha, eps, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    x = x.copy()
    v = np.zeros_like(x)
    g_avg = np.zeros_like(x)
    buf = np.zeros_like(x)
    for grad in grads:
        g = -grad if maximize else grad
        g = g + weight_decay * x
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg * g_avg
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            x = x - lr * buf
        else:
            x = x - lr * g / (np.sqrt(v_tilde) + eps)
    return x


def run(opt_class, x0, grads, **options):
    """Run minidl's optimizer on one parameter, feeding it the given gradients."""
    p = md.tensor(x0.copy(), requires_grad=True)
    opt = opt_class([p], **options)
    for g in grads:
        p.grad = md.tensor(g.copy())
        opt.step()
    return p.detach().numpy()


def grad_sequence(shape=(2, 3), steps=5):
    """1 to `steps` gradients of the given shape, entries in [-3, 3]."""
    size = int(np.prod(shape))
    flat = st.lists(st.floats(-3, 3), min_size=size, max_size=size)
    return st.lists(flat.map(lambda v: np.array(v).reshape(shape)), min_size=1,
                    max_size=steps)


X0 = np.linspace(-1.5, 2.0, 6).reshape(2, 3)


def assert_close64(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------- vs references
@given(grads=grad_sequence(), lr=st.floats(0, 1), momentum=st.floats(0, 0.99),
       dampening=st.floats(0, 0.9), weight_decay=st.sampled_from([0.0, 0.1, 1.0]),
       nesterov=st.booleans(), maximize=st.booleans())
def test_sgd_matches_reference(grads, lr, momentum, dampening, weight_decay, nesterov,
                               maximize):
    if nesterov:  # Nesterov needs momentum > 0 and no dampening
        momentum, dampening = max(momentum, 0.1), 0.0
    options = dict(lr=lr, momentum=momentum, dampening=dampening,
                   weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
    assert_close64(run(optim.SGD, X0, grads, **options), ref_sgd(X0, grads, **options))


def test_sgd_first_momentum_step_has_no_dampening():
    g = np.ones((2, 3))
    out = run(optim.SGD, X0, [g, g], lr=1.0, momentum=0.5, dampening=0.5)
    # b1 = g = 1; b2 = 0.5 * 1 + 0.5 * 1 = 1; two steps of size 1
    np.testing.assert_allclose(out, X0 - 2.0)


@given(grads=grad_sequence(), lr=st.floats(0, 0.5), beta1=st.floats(0, 0.99),
       beta2=st.floats(0, 0.999), eps=st.sampled_from([1e-8, 1e-3, 0.5]),
       weight_decay=st.sampled_from([0.0, 0.05, 0.5]), amsgrad=st.booleans(),
       maximize=st.booleans(), decoupled=st.booleans())
def test_adam_and_adamw_match_reference(grads, lr, beta1, beta2, eps, weight_decay,
                                        amsgrad, maximize, decoupled):
    options = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                   amsgrad=amsgrad, maximize=maximize)
    cls = optim.AdamW if decoupled else optim.Adam
    assert_close64(run(cls, X0, grads, **options),
                   ref_adam(X0, grads, decoupled=decoupled, **options))


@given(grads=grad_sequence(), lr=st.floats(0, 0.5), alpha=st.floats(0.5, 0.999),
       eps=st.sampled_from([1e-8, 1e-2]), weight_decay=st.sampled_from([0.0, 0.3]),
       momentum=st.sampled_from([0.0, 0.5, 0.9]), centered=st.booleans(),
       maximize=st.booleans())
def test_rmsprop_matches_reference(grads, lr, alpha, eps, weight_decay, momentum,
                                   centered, maximize):
    options = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                   momentum=momentum, centered=centered, maximize=maximize)
    assert_close64(run(optim.RMSprop, X0, grads, **options),
                   ref_rmsprop(X0, grads, **options))


def test_defaults_are_pytorchs():
    p = md.tensor([1.0], requires_grad=True)
    assert optim.SGD([p]).defaults == dict(lr=1e-3, momentum=0, dampening=0,
                                           weight_decay=0, nesterov=False, maximize=False)
    adam = optim.Adam([p]).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"],
            adam["amsgrad"], adam["maximize"]) == (1e-3, (0.9, 0.999), 1e-8, 0, False, False)
    adamw = optim.AdamW([p]).defaults
    assert adamw["weight_decay"] == 1e-2 and adamw["decoupled_weight_decay"] is True
    assert optim.RMSprop([p]).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8,
                                               weight_decay=0, momentum=0,
                                               centered=False, maximize=False)


# ---------------------------------------------------------------------- vs torch
TORCH_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, maximize=True, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
]


@pytest.mark.parametrize("name,options", TORCH_CASES)
def test_matches_torch(name, options, rng):
    torch = pytest.importorskip("torch")
    shapes = [(4, 3), (3,), ()]
    x0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [md.tensor(x.copy(), requires_grad=True) for x in x0]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in x0]
    opt = getattr(optim, name)(ours, **options)
    topt = getattr(torch.optim, name)(theirs, **options)
    for _ in range(10):
        for p, tp in zip(ours, theirs):
            g = rng.standard_normal(p.shape).astype(np.float32)
            p.grad, tp.grad = md.tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)
    # same state, under the same names
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["state"].keys() == tsd["state"].keys()
    for i, state in sd["state"].items():
        assert state.keys() == tsd["state"][i].keys()
        for key, value in state.items():
            np.testing.assert_allclose(np.asarray(value), tsd["state"][i][key].numpy(),
                                       rtol=1e-5, atol=1e-6)
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    assert set(sd["param_groups"][0]) <= set(tsd["param_groups"][0])


# ---------------------------------------------------------------------- numerics
ALL_OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    (optim.Adam, dict(lr=0.1, weight_decay=0.1, amsgrad=True, maximize=True)),
    (optim.AdamW, dict(lr=0.1, amsgrad=True)),
    (optim.RMSprop, dict(lr=0.1, weight_decay=0.1, momentum=0.5, centered=True,
                         maximize=True)),
]


@pytest.mark.parametrize("cls,options", ALL_OPTIMIZERS)
def test_float32_stays_float32_in_place(cls, options, rng):
    p = md.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    array, version = p._data, p._version
    opt = cls([p], **options)
    for _ in range(3):
        p.grad = md.tensor(rng.standard_normal((3, 4)).astype(np.float32))
        opt.param_groups[0]["lr"] = np.float64(0.1)  # a numpy scalar, e.g. from a schedule
        opt.step()
    assert p._data is array  # updated in place
    assert p.dtype == np.float32 and p._version == version + 3
    assert p.grad_fn is None and p.requires_grad
    for value in opt.state[p].values():
        if value.shape == p.shape:
            assert value.dtype == np.float32


@pytest.mark.parametrize("cls,options", ALL_OPTIMIZERS)
def test_gradient_is_not_modified(cls, options, rng):
    p = md.tensor(rng.standard_normal(5), requires_grad=True)
    g = rng.standard_normal(5)
    p.grad = md.tensor(g.copy())
    opt = cls([p], **options)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(p.grad.numpy(), g)


def test_adam_minimises_a_quadratic():
    target = md.tensor([1.0, -2.0, 3.0])
    x = md.zeros(3, requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        loss = ((x - target) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(x.detach().numpy(), target.detach().numpy(), atol=1e-2)
    assert loss.item() < 1e-3


def test_works_with_nn_parameter():
    Parameter = getattr(md.nn, "Parameter", None)
    if Parameter is None:
        pytest.skip("minidl.nn.Parameter not available")
    w = Parameter(md.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])


# ---------------------------------------------------------------------- machinery
def test_param_groups_with_different_options():
    a = md.tensor([1.0, 1.0], requires_grad=True)
    b = md.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)  # filled from defaults
    assert opt.param_groups[1]["params"] == [b]
    a.grad, b.grad = md.tensor([1.0, 2.0]), md.tensor([1.0])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.8])
    np.testing.assert_allclose(b.detach().numpy(), [0.5])

    c = md.tensor([0.0], requires_grad=True)
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    c.grad = md.tensor([1.0])
    opt.step()
    np.testing.assert_allclose(c.detach().numpy(), [-0.1])


def test_named_parameters_are_accepted():
    a = md.tensor([1.0], requires_grad=True)
    opt = optim.SGD([("weight", a)], lr=1.0)
    assert opt.param_groups[0]["params"] == [a]
    assert opt.param_groups[0]["param_names"] == ["weight"]


def test_parameters_without_grad_are_skipped():
    a = md.tensor([1.0], requires_grad=True)
    b = md.tensor([1.0], requires_grad=True)
    frozen = md.tensor([1.0])  # requires_grad=False: accepted (as in PyTorch), never moves
    opt = optim.Adam([a, b, frozen], lr=0.1)
    a.grad = md.tensor([1.0])
    opt.step()
    assert b.detach().numpy()[0] == 1.0 and b._version == 0 and frozen.detach().numpy()[0] == 1.0
    assert a.detach().numpy()[0] != 1.0
    assert b not in opt.state and opt.state[a]["step"].item() == 1
    assert list(opt.state_dict()["state"]) == [0]


def test_zero_grad():
    a = md.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    opt.zero_grad()
    assert a.grad is None
    (a * a).sum().backward()
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()  # params without grad are fine too
    opt.zero_grad(set_to_none=False)
    assert a.grad is None


def test_step_with_closure():
    x = md.tensor([3.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.25)
    calls = []

    def closure():
        calls.append(md.is_grad_enabled())
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with md.no_grad():  # the closure still records a graph
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 9.0
    np.testing.assert_allclose(x.detach().numpy(), [1.5])  # 3 - 0.25 * 6
    assert opt.step() is None


def _train(opt, params, grads):
    for g in grads:
        for p, gp in zip(params, g):
            p.grad = md.tensor(gp.copy())
        opt.step()


@pytest.mark.parametrize("cls,options", ALL_OPTIMIZERS)
def test_state_dict_round_trip(cls, options, rng):
    shapes = [(2, 3), (3,)]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(6)]
    x0 = [rng.standard_normal(s) for s in shapes]

    def fresh():
        params = [md.tensor(x.copy(), requires_grad=True) for x in x0]
        return params, cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}],
                           **options)

    params, opt = fresh()  # uninterrupted: 6 steps
    _train(opt, params, grads)

    params2, opt2 = fresh()  # 3 steps, save, reload into a new optimizer, 3 more
    _train(opt2, params2, grads[:3])
    values = [p.detach().numpy().copy() for p in params2]
    saved = opt2.state_dict()
    _train(opt2, params2, grads[3:4])  # training on must not change what was saved
    saved = pickle.loads(pickle.dumps(saved))
    params3 = [md.tensor(v, requires_grad=True) for v in values]
    opt3 = cls([{"params": params3[:1]}, {"params": params3[1:]}], lr=123.0)
    opt3.load_state_dict(saved)
    assert opt3.param_groups[0]["lr"] == options["lr"] and opt3.param_groups[1]["lr"] == 0.01
    _train(opt3, params3, grads[3:])
    for p, p3 in zip(params, params3):
        np.testing.assert_array_equal(p.detach().numpy(), p3.detach().numpy())


def test_state_dict_format_and_numpy_arrays():
    a = md.tensor([1.0, 2.0], requires_grad=True)
    b = md.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = md.tensor([1.0, 1.0]), md.tensor([2.0])
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [dict(lr=0.1, momentum=0.9, dampening=0, weight_decay=0,
                                       nesterov=False, maximize=False, params=[0, 1])]
    np.testing.assert_array_equal(sd["state"][1]["momentum_buffer"].numpy(), [2.0])
    # a state dict whose tensors were saved as plain numpy arrays loads too
    as_arrays = {"state": {i: {k: np.asarray(v) for k, v in s.items()}
                           for i, s in sd["state"].items()},
                 "param_groups": sd["param_groups"]}
    opt.load_state_dict(as_arrays)
    assert isinstance(opt.state[b]["momentum_buffer"], md.Tensor)
    assert opt.state[a]["momentum_buffer"].dtype == np.float32


def test_load_state_dict_errors():
    a = md.tensor([1.0, 2.0], requires_grad=True)
    b = md.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a, b])
    a.grad, b.grad = md.tensor([1.0, 1.0]), md.tensor([1.0])
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="2 parameters in the state dict, but 1"):
        optim.Adam([a]).load_state_dict(sd)
    c = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    fresh = optim.Adam([a, c])
    with pytest.raises(ValueError, match=r"shape \(1,\).*shape \(3,\)"):
        fresh.load_state_dict(sd)
    assert not fresh.state  # nothing was half-loaded
    with pytest.raises(ValueError, match="another optimizer"):
        optim.Adam([a, b]).load_state_dict(optim.SGD([a, b]).state_dict())


def test_invalid_parameters():
    a = md.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="SGD.*twice"):
        optim.SGD([a, a])
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([{"params": [a]}, {"params": [a]}])
    opt = optim.SGD([a])
    with pytest.raises(ValueError, match="twice"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="Adam.*int64"):
        optim.Adam([md.tensor([1, 2])])
    with pytest.raises(TypeError, match="Tensors.*ndarray"):
        optim.SGD([np.zeros(3)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(TypeError, match="set"):
        optim.SGD({a})
    a.grad = md.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(1,\).*gradient of shape \(2,\)"):
        opt.step()


@pytest.mark.parametrize("make,pattern", [
    (lambda p: optim.SGD(p, lr=-0.1), r"SGD: .*lr=-0.1"),
    (lambda p: optim.SGD(p, momentum=-1), r"SGD: .*momentum=-1"),
    (lambda p: optim.SGD(p, weight_decay=-1), r"SGD: .*weight_decay=-1"),
    (lambda p: optim.SGD(p, nesterov=True), "SGD: Nesterov"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "SGD: Nesterov"),
    (lambda p: optim.Adam(p, lr=-1e-3), r"Adam: .*lr=-0.001"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Adam: .*index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"Adam: .*index 1: -0.1"),
    (lambda p: optim.AdamW(p, eps=-1e-8), r"AdamW: .*eps=-1e-08"),
    (lambda p: optim.AdamW(p, weight_decay=-1), r"AdamW: .*weight_decay=-1"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), r"RMSprop: .*alpha=-0.5"),
    (lambda p: optim.RMSprop(p, eps=-1.0), r"RMSprop: .*eps=-1.0"),
    (lambda p: optim.SGD([{"params": p, "lr": -2.0}], lr=0.1), r"SGD: .*lr=-2.0"),
])
def test_invalid_hyperparameters(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make([md.tensor([1.0], requires_grad=True)])


def test_repr_lists_group_options():
    text = repr(optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.5))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.5" in text


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_updates_non_contiguous_parameters_in_place(amsgrad):
    """A transposed (non-contiguous) parameter is updated in place, exactly like a
    contiguous copy of it."""
    base = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    grads = [np.cos(np.arange(12.0) * (k + 1)).reshape(4, 3) for k in range(3)]
    results = []
    for data in (base.T, np.ascontiguousarray(base.T)):
        p = md.nn.Parameter(md.tensor(data))
        assert p.detach().numpy().flags.c_contiguous == data.flags.c_contiguous
        opt = optim.Adam([p], lr=0.1, amsgrad=amsgrad, weight_decay=0.01)
        for g in grads:
            p.grad = md.tensor(g)
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.allclose(results[0], base.T)


# ---------------------------------------------------------------------- fused kernels
FUSED_CASES = [
    (optim.Adam, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1,
                      maximize=True)),
    (optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.05, weight_decay=0.3)),
    (optim.AdamW, dict(lr=0.05, amsgrad=True, maximize=True)),
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    (optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, weight_decay=0.1, maximize=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True, alpha=0.9)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,options", FUSED_CASES)
def test_fused_update_is_the_numpy_formula_bit_for_bit(cls, options, dtype, rng):
    """fused=True runs minidl/kernels/optim.py; fused=False the readable numpy formula
    (the reference). Same arithmetic in the same order and dtype: the same bits."""
    x0 = rng.standard_normal(300).astype(dtype)
    grads = [rng.standard_normal(300).astype(dtype) for _ in range(4)]
    grads[1][:3] = [0.0, -0.0, 1e-30]  # zeros, and a gradient whose square underflows
    results = []
    for fused in (False, True):
        p = md.tensor(x0.copy(), requires_grad=True)
        opt = cls([p], fused=fused, **options)
        for g in grads:
            p.grad = md.tensor(g.copy())
            opt.step()
        results.append((p.detach().numpy().copy(), opt.state_dict()["state"].get(0, {})))
    (p_numpy, s_numpy), (p_fused, s_fused) = results
    np.testing.assert_array_equal(p_fused, p_numpy)
    for key in s_numpy:
        np.testing.assert_array_equal(np.asarray(s_fused[key]), np.asarray(s_numpy[key]))


def test_linear_and_conv_weight_gradients_come_in_the_weights_own_layout():
    """So the fused update applies to them (ops/matmul.py's Linear, ops/conv.py)."""
    from minidl.optim.optimizer import fusable
    model = md.nn.Sequential(md.nn.Conv2d(1, 2, 3), md.nn.Flatten(), md.nn.Linear(8, 3))
    model(md.randn(4, 1, 4, 4)).sum().backward()
    for p in model.parameters():
        assert fusable(True, p.detach().numpy(), p.grad.numpy()), p.shape


def test_fused_default_falls_back_to_numpy_where_the_kernel_does_not_apply(rng):
    """A parameter whose gradient has another dtype, or is not contiguous, takes the
    numpy formula, and fused=None uses the kernel only when it is compiled."""
    from minidl.optim.optimizer import fusable
    a = np.zeros(4, np.float32)
    assert not fusable(False, a, a)
    assert fusable(True, a, a)
    assert fusable(None, a, a) == md.kernels.JIT
    assert not fusable(True, a, a.astype(np.float64))
    assert not fusable(True, a, np.zeros((4, 2), np.float32)[:, 0])
