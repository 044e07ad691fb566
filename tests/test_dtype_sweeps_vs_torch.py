"""Every activation at every dtype, and every loss at every pair of dtypes, against
PyTorch: the result's dtype and values where PyTorch computes one, and an error of
the class PyTorch raises where it refuses (table-driven: one row per function)."""
import warnings

import numpy as np
import pytest

import minidl as md
import minidl.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def sample(dtype, shape=(2, 3), seed=0):
    """Values of dtype that exercise the activations: both signs (where the dtype
    has them), zero, and values past the clamps of relu6/hardtanh/hardswish."""
    if dtype == "bool":
        return np.array([True, False, True, True, False, False]).reshape(shape)
    base = np.array([-7, -2, 0, 1, 3, 8])
    if dtype == "uint8":
        base = np.array([0, 1, 2, 3, 8, 200])
    x = base.reshape(shape).astype(dtype)
    if dtype.startswith("float"):
        x = x + np.random.default_rng(seed).uniform(-0.4, 0.4, shape).astype(dtype)
    return x


def outcome(fn, *args):
    """('ok', result) or ('error', exception)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", fn(*args)
    except Exception as e:  # noqa: BLE001  (any class: it is compared with PyTorch's)
        return "error", e


def check_same_outcome(ours, theirs, name, rtol=1e-6):
    """minidl's outcome against PyTorch's: the same dtype and values, or an error of
    (a subclass of) PyTorch's exception class whose message names the op."""
    (kind_m, got), (kind_t, expected) = ours, theirs
    if kind_t == "error":
        assert kind_m == "error", (f"{name}: PyTorch raises {type(expected).__name__} "
                                   f"({expected}), minidl returned {got!r}")
        assert isinstance(got, type(expected)), (
            f"{name}: PyTorch raises {type(expected).__name__}, minidl "
            f"{type(got).__name__}: {got}")
        return
    assert kind_m == "ok", f"{name}: PyTorch computes it, minidl raises {got!r}"
    assert str(got.dtype) == str(expected.dtype).replace("torch.", ""), (
        f"{name}: dtype {got.dtype}, PyTorch {expected.dtype}")
    np.testing.assert_allclose(got.detach().numpy().astype(np.float64),
                               expected.detach().numpy().astype(np.float64),
                               rtol=rtol, atol=1e-6, err_msg=name)


# ------------------------------------------------------------------ activations
def both(name, *args, **kw):
    """The function `name` of minidl.functional and of torch.nn.functional, with args."""
    return (lambda x: getattr(F, name)(x, *args, **kw),
            lambda x: getattr(TF, name)(x, *args, **kw))


ACTIVATIONS = {
    "relu": both("relu"), "relu6": both("relu6"), "hardtanh": both("hardtanh"),
    "hardtanh(0, 5)": both("hardtanh", 0.0, 5.0),
    "threshold": both("threshold", 1.5, -4.0),
    "threshold(-0.5)": both("threshold", -0.5, 9),
    "leaky_relu": both("leaky_relu"), "elu": both("elu"), "selu": both("selu"),
    "celu": both("celu"), "softplus": both("softplus"), "silu": both("silu"),
    "gelu": both("gelu"), "gelu tanh": both("gelu", approximate="tanh"),
    "sigmoid": both("sigmoid"), "tanh": both("tanh"), "logsigmoid": both("logsigmoid"),
    "hardsigmoid": both("hardsigmoid"), "hardswish": both("hardswish"),
    "mish": both("mish"), "softsign": both("softsign"),
    "softmax": both("softmax", 1), "log_softmax": both("log_softmax", 1),
    "softmin": both("softmin", 1), "normalize": both("normalize"),
    "erf": (md.erf, torch.erf),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_at_every_dtype_as_torch(name, dtype):
    ours, theirs = ACTIVATIONS[name]
    x = sample(dtype)
    check_same_outcome(outcome(ours, md.tensor(x)), outcome(theirs, torch.tensor(x)),
                       f"{name}({dtype})")


INPLACE = ["relu", "relu6", "hardtanh", "threshold", "leaky_relu", "elu", "selu",
           "celu", "silu", "hardsigmoid", "hardswish", "mish"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_activations_at_every_dtype_as_torch(name, dtype):
    """inplace=True outside autograd: the same object comes back, holding the result
    (or the error PyTorch raises)."""
    args = (1.5, -4.0) if name == "threshold" else ()
    x = sample(dtype)
    ours, theirs = md.tensor(x.copy()), torch.tensor(x.copy())
    got = outcome(lambda t: getattr(F, name)(t, *args, inplace=True), ours)
    expected = outcome(lambda t: getattr(TF, name)(t, *args, inplace=True), theirs)
    check_same_outcome(got, expected, f"{name}_({dtype})")
    if expected[0] == "ok":
        assert got[1] is ours
        np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float),
                                   rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ in place, in a graph
INPLACE_ARGS = {"threshold": (0.5, -4.0), "leaky_relu": (0.2,), "elu": (0.7,),
                "celu": (0.5,), "hardtanh": (-0.5, 2.0)}
# values clear of every kink (0, +-0.5, +-1, 2, +-3, 6)
X = np.array([[-7.3, -2.2, -0.7, 0.3], [0.8, 1.7, 2.6, 6.4]])


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_activation_on_a_non_leaf_is_recorded_as_in_torch(name):
    """f(x, inplace=True) on a tensor inside a graph: x itself comes back, holding the
    result, and the first and second derivatives through it are PyTorch's."""
    from torch_oracle import assert_matches_torch
    args = INPLACE_ARGS.get(name, ())
    # (PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32 and has no
    # second derivative)
    tolerance = dict(order=1, rtol=1e-7) if name == "hardsigmoid" else {}
    assert_matches_torch(lambda a: getattr(F, name)(a * 1, *args, inplace=True),
            lambda a: getattr(TF, name)(a * 1, *args, inplace=True), X, **tolerance)
    a = md.tensor(X, requires_grad=True)
    x = a * 1
    before = x.grad_fn
    y = getattr(F, name)(x, *args, inplace=True)
    assert y is x and x._version == 1 and x.grad_fn is not before


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_activation_through_a_view_updates_the_base_as_in_torch(name):
    from torch_oracle import assert_matches_torch
    args = INPLACE_ARGS.get(name, ())

    def run(lib, f):
        def fn(a):
            x = a * 1
            f(x[:, 1:3], *args, inplace=True)
            return x
        return fn
    assert_matches_torch(run(md, getattr(F, name)), run(torch, getattr(TF, name)), X, order=1,
            rtol=1e-7)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_activation_on_a_leaf_that_requires_grad_raises_as_in_torch(name):
    args = INPLACE_ARGS.get(name, ())
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(TF, name)(torch.tensor(X, requires_grad=True), *args, inplace=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(F, name)(md.tensor(X, requires_grad=True), *args, inplace=True)
    leaf = md.tensor(X, requires_grad=True)
    with md.no_grad():  # (allowed there, as in PyTorch)
        assert getattr(F, name)(leaf, *args, inplace=True) is leaf
    assert leaf._version == 1


@pytest.mark.parametrize("name", ["relu", "silu", "hardtanh"])
def test_inplace_activation_of_a_saved_tensor_fails_at_backward_as_in_torch(name):
    """exp saves its output; editing it in place makes backward refuse, in both."""
    for lib, f in ((md, F), (torch, TF)):
        e = lib.tensor(X, requires_grad=True).exp()
        getattr(f, name)(e, inplace=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            e.sum().backward()


@pytest.mark.parametrize("layer", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU",
                                   "SiLU", "Hardtanh", "Hardsigmoid", "Hardswish",
                                   "Mish"])
def test_inplace_layers_write_into_their_input_as_in_torch(layer):
    from minidl import nn
    ours, theirs = getattr(nn, layer)(inplace=True), getattr(torch.nn, layer)(inplace=True)
    assert repr(ours) == repr(theirs)
    a, ta = md.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    x, tx = a * 2, ta * 2
    assert ours(x) is x and theirs(tx) is tx
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-7)  # (hardsigmoid)


# ------------------------------------------------------------------ losses
def probabilities(dtype, shape=(2, 3), seed=1):
    """Values in [0, 1] of dtype (0/1 for the integer dtypes): valid BCE inputs."""
    if dtype == "bool":
        return sample("bool", shape)
    if dtype.startswith("float"):
        return np.random.default_rng(seed).uniform(0.05, 0.95, shape).astype(dtype)
    return (sample("int64", shape) > 0).astype(dtype)


def loss(name, *args, **kw):
    return (lambda a, b: getattr(F, name)(a, b, *args, **kw),
            lambda a, b: getattr(TF, name)(a, b, *args, **kw))


LOSSES = {  # name -> (minidl, torch, how to make the two inputs)
    "mse_loss": (*loss("mse_loss"), sample),
    "mse_loss sum": (*loss("mse_loss", reduction="sum"), sample),
    "l1_loss": (*loss("l1_loss"), sample),
    "l1_loss none": (*loss("l1_loss", reduction="none"), sample),
    "l1_loss sum": (*loss("l1_loss", reduction="sum"), sample),
    "smooth_l1_loss": (*loss("smooth_l1_loss"), sample),
    "smooth_l1_loss beta=0": (*loss("smooth_l1_loss", reduction="sum", beta=0.0), sample),
    "huber_loss": (*loss("huber_loss"), sample),
    "huber_loss none": (*loss("huber_loss", reduction="none", delta=2.0), sample),
    "binary_cross_entropy": (*loss("binary_cross_entropy"), probabilities),
    "binary_cross_entropy_with_logits": (*loss("binary_cross_entropy_with_logits"),
                                         probabilities),
    "kl_div": (*loss("kl_div", reduction="batchmean"), probabilities),
    "kl_div log_target": (*loss("kl_div", reduction="sum", log_target=True), sample),
    "cross_entropy probabilities": (*loss("cross_entropy"), probabilities),
    "cross_entropy smoothed": (*loss("cross_entropy", label_smoothing=0.2),
                               probabilities),
}


def run_loss(fn, lib, a, b):
    """fn on two leaves (float ones require grad): (outcome, gradient dtypes)."""
    ta = lib.tensor(a, requires_grad=a.dtype.kind == "f")
    tb = lib.tensor(b, requires_grad=b.dtype.kind == "f")
    result = outcome(fn, ta, tb)
    grads = None
    if result[0] == "ok" and result[1].requires_grad:
        if outcome(lambda: result[1].sum().backward())[0] == "error":
            return result, "backward raises"
        grads = [str(t.grad.dtype).replace("torch.", "") if t.requires_grad else None
                 for t in (ta, tb)]
    return result, grads


@pytest.mark.parametrize("target_dtype", DTYPES)
@pytest.mark.parametrize("input_dtype", DTYPES)
@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_at_every_pair_of_dtypes_as_torch(name, input_dtype, target_dtype):
    ours, theirs, make = LOSSES[name]
    a, b = make(input_dtype), make(target_dtype, seed=2)
    (got, grads), (expected, their_grads) = (run_loss(ours, md, a, b),
                                             run_loss(theirs, torch, a, b))
    check_same_outcome(got, expected, f"{name}({input_dtype}, {target_dtype})")
    if their_grads == "backward raises" and name.startswith("huber_loss"):
        # PyTorch's huber_loss backward wants one dtype for input and target (its
        # forward does not); minidl differentiates what its forward computed
        their_grads = [input_dtype if input_dtype.startswith("float") else None,
                       target_dtype if target_dtype.startswith("float") else None]
    assert grads == their_grads, f"gradient dtypes {grads}, PyTorch {their_grads}"


CLASS_LOSSES = {
    "cross_entropy": loss("cross_entropy"),
    "cross_entropy smoothed": loss("cross_entropy", label_smoothing=0.1),
    "nll_loss": loss("nll_loss"),
    "nll_loss sum": loss("nll_loss", reduction="sum"),
}


@pytest.mark.parametrize("input_dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("target_dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("name", CLASS_LOSSES)
def test_class_index_targets_of_every_dtype_as_torch(name, shape, target_dtype,
                                                     input_dtype):
    """int64 and uint8 class indices work; other integer dtypes (int32 included),
    bool and float targets of another shape are refused -- as in PyTorch."""
    ours, theirs = CLASS_LOSSES[name]
    x = np.random.default_rng(3).standard_normal(shape) * 3
    x = x.astype(input_dtype)
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    t = (np.arange(int(np.prod(target_shape))) % 3).reshape(target_shape)
    t = t.astype(target_dtype)
    (got, grads), (expected, their_grads) = (run_loss(ours, md, x, t),
                                             run_loss(theirs, torch, x, t))
    check_same_outcome(got, expected, f"{name}({input_dtype}, {target_dtype} target)")
    assert grads == their_grads


def test_int32_class_targets_get_a_clear_message():
    with pytest.raises(RuntimeError, match=r"int64 \(or uint8\).*int32.*\.long\(\)"):
        F.cross_entropy(md.zeros(2, 3), md.tensor([0, 1], dtype=md.int32))
    with pytest.raises(RuntimeError, match="class-probability targets must have the "
                                           r"input's shape \(2, 3\)"):
        F.nll_loss(md.zeros(2, 3), md.tensor([0.0, 1.0]))


WEIGHTED = {  # name -> (minidl, torch, make input/target, weight shape)
    "mse_loss": (lambda a, b, w: F.mse_loss(a, b, weight=w),
                 lambda a, b, w: TF.mse_loss(a, b, weight=w), sample, (2, 3)),
    "l1_loss sum": (lambda a, b, w: F.l1_loss(a, b, reduction="sum", weight=w),
                    lambda a, b, w: TF.l1_loss(a, b, reduction="sum", weight=w),
                    sample, (2, 3)),
    "huber_loss": (lambda a, b, w: F.huber_loss(a, b, weight=w),
                   lambda a, b, w: TF.huber_loss(a, b, weight=w), sample, (2, 3)),
    "binary_cross_entropy": (lambda a, b, w: F.binary_cross_entropy(a, b, w),
                             lambda a, b, w: TF.binary_cross_entropy(a, b, w),
                             probabilities, (3,)),
    "bce_with_logits weight": (
        lambda a, b, w: F.binary_cross_entropy_with_logits(a, b, w),
        lambda a, b, w: TF.binary_cross_entropy_with_logits(a, b, w), probabilities, (3,)),
    "bce_with_logits pos_weight": (
        lambda a, b, w: F.binary_cross_entropy_with_logits(a, b, pos_weight=w),
        lambda a, b, w: TF.binary_cross_entropy_with_logits(a, b, pos_weight=w),
        probabilities, (3,)),
    "cross_entropy probabilities": (
        lambda a, b, w: F.cross_entropy(a, b, weight=w),
        lambda a, b, w: TF.cross_entropy(a, b, weight=w), probabilities, (3,)),
    "cross_entropy indices": (
        lambda a, b, w: F.cross_entropy(a, md.tensor([0, 2]), weight=w),
        lambda a, b, w: TF.cross_entropy(a, torch.tensor([0, 2]), weight=w), sample, (3,)),
    "nll_loss": (lambda a, b, w: F.nll_loss(a, md.tensor([1, 2]), weight=w),
                 lambda a, b, w: TF.nll_loss(a, torch.tensor([1, 2]), weight=w),
                 sample, (3,)),
}


@pytest.mark.parametrize("data_dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("weight_dtype", DTYPES)
@pytest.mark.parametrize("name", WEIGHTED)
def test_loss_weights_of_every_dtype_as_torch(name, weight_dtype, data_dtype):
    ours, theirs, make, weight_shape = WEIGHTED[name]
    a, b = make(data_dtype), make("float32", seed=2)
    w = np.abs(sample(weight_dtype, (2, 3))).reshape(-1)[:int(np.prod(weight_shape))]
    w = w.reshape(weight_shape)
    got = outcome(ours, md.tensor(a), md.tensor(b), md.tensor(w))
    expected = outcome(theirs, torch.tensor(a), torch.tensor(b), torch.tensor(w))
    check_same_outcome(got, expected, f"{name}({data_dtype} data, {weight_dtype} weight)",
                       rtol=1e-5)
