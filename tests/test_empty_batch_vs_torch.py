"""Batch size 0 through every layer and every loss, against PyTorch: the same output
shape and values (a loss's mean over nothing is NaN, its sum 0), the same gradient
shapes, zero parameter gradients, untouched running statistics. A new layer or loss
in minidl.nn without a case here fails test_every_layer_and_loss_has_a_case."""
import inspect
import warnings

import numpy as np
import pytest

import minidl as md
from minidl import nn

torch = pytest.importorskip("torch")

# layer name -> (constructor arguments, input shape with batch 0, modes to run)
LAYERS = {
    "Linear": ((4, 3), (0, 4)), "Conv1d": ((2, 3, 3), (0, 2, 5)),
    "Conv2d": ((2, 3, 3), (0, 2, 5, 5)), "ConvTranspose2d": ((2, 3, 3), (0, 2, 4, 4)),
    "MaxPool2d": ((2,), (0, 2, 4, 4)), "AvgPool2d": ((2,), (0, 2, 4, 4)),
    "AdaptiveAvgPool2d": ((3,), (0, 2, 5, 5)), "AdaptiveMaxPool2d": ((3,), (0, 2, 5, 5)),
    "BatchNorm1d": ((3,), (0, 3)), "BatchNorm2d": ((3,), (0, 3, 2, 2)),
    "SyncBatchNorm": ((3,), (0, 3, 2, 2)),   # (without init: a BatchNorm, in both)
    "InstanceNorm1d": ((3,), (0, 3, 4)), "InstanceNorm2d": ((3,), (0, 3, 2, 2)),
    "InstanceNorm3d": ((3,), (0, 3, 2, 2, 2)), "LayerNorm": ((4,), (0, 4)),
    "GroupNorm": ((2, 4), (0, 4, 3)), "Flatten": ((), (0, 2, 3)),
    "Unflatten": ((1, (2, 3)), (0, 6)), "Identity": ((), (0, 3)),
    "Dropout": ((0.5,), (0, 3)), "Dropout2d": ((0.5,), (0, 2, 3, 3)),
    "Dropout1d": ((0.5,), (0, 2, 3)), "Dropout3d": ((0.5,), (0, 2, 1, 3, 3)),
    "AlphaDropout": ((0.5,), (0, 3)), "FeatureAlphaDropout": ((0.5,), (0, 2, 3)),
    "Upsample": ((None, 2.0, "bilinear"), (0, 2, 3, 3)),
    "Softmax": ((1,), (0, 3)), "LogSoftmax": ((1,), (0, 3)), "Softmin": ((1,), (0, 3)),
    "MaxUnpool2d": ((2,), (0, 2, 2, 2)), "Threshold": ((0.1, 2.0), (0, 3)),
    "MultiheadAttention": ((4, 2), (3, 0, 4)),   # (L, N, E): the batch is dim 1
}
for name in ["ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softplus", "GELU", "SiLU",
             "SELU", "CELU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "LogSigmoid",
             "Mish", "Softsign"]:
    LAYERS[name] = ((), (0, 3))

LOSSES = {  # name -> (constructor kwargs, input shape, target maker)
    "CrossEntropyLoss": ({}, (0, 4), lambda lib: lib.zeros(0, dtype=lib.int64)),
    "NLLLoss": ({}, (0, 4), lambda lib: lib.zeros(0, dtype=lib.int64)),
    "BCELoss": ({}, (0, 3), lambda lib: lib.zeros(0, 3)),
    "BCEWithLogitsLoss": ({}, (0, 3), lambda lib: lib.zeros(0, 3)),
    "MSELoss": ({}, (0, 3), lambda lib: lib.zeros(0, 3)),
    "L1Loss": ({}, (0, 3), lambda lib: lib.zeros(0, 3)),
    "SmoothL1Loss": ({}, (0, 3), lambda lib: lib.zeros(0, 3)),
    "HuberLoss": ({}, (0, 3), lambda lib: lib.zeros(0, 3)),
    "KLDivLoss": ({}, (0, 3), lambda lib: lib.zeros(0, 3)),
}
EXTRA_LOSSES = [  # other arguments that change the reduction path
    ("CrossEntropyLoss", dict(label_smoothing=0.1), (0, 4),
     lambda lib: lib.zeros(0, dtype=lib.int64)),
    ("CrossEntropyLoss", dict(weight=[1.0, 2.0, 3.0, 4.0]), (0, 4, 2),
     lambda lib: lib.zeros(0, 2, dtype=lib.int64)),
    ("CrossEntropyLoss", {}, (0, 4), lambda lib: lib.zeros(0, 4)),   # probabilities
    ("KLDivLoss", dict(reduction="batchmean"), (0, 3), lambda lib: lib.zeros(0, 3)),
    ("BCEWithLogitsLoss", dict(pos_weight=[1.0, 2.0, 3.0]), (0, 3),
     lambda lib: lib.zeros(0, 3)),
]


def test_every_layer_and_loss_has_a_case():
    containers = {"Module", "Sequential", "ModuleList", "ModuleDict"}
    names = {n for n, c in vars(nn).items() if inspect.isclass(c)
             and issubclass(c, nn.Module) and n not in containers}
    assert names - set(LAYERS) - set(LOSSES) == set()


def _copy_parameters(ours, theirs):
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                            ours.state_dict().items()})


def _run(module, lib, shape, name):
    x = lib.zeros(*shape, requires_grad=True)
    if name == "MaxUnpool2d":
        y = module(x, lib.zeros(*shape, dtype=lib.int64))
    elif name == "MultiheadAttention":
        y = module(x, x, x)[0]
    else:
        y = module(x)
    y.sum().backward()
    return x, y


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_with_an_empty_batch_matches_torch(name, training):
    args, shape = LAYERS[name]
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    _copy_parameters(ours, theirs)
    ours.train(training)
    theirs.train(training)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # (numpy: empty means, 0 / 0)
        x, y = _run(ours, md, shape, name)
    tx, ty = _run(theirs, torch, shape, name)
    assert y.shape == tuple(ty.shape) and x.grad.shape == tuple(tx.grad.shape)
    for (key, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy(), err_msg=key)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs.state_dict()[key].numpy())


CASES = [(n, kw, s, t, r) for n, (kw, s, t) in LOSSES.items()
         for r in ("mean", "sum", "none")] + [(n, kw, s, t, kw.get("reduction", "mean"))
                                              for n, kw, s, t in EXTRA_LOSSES]


@pytest.mark.parametrize("name,kw,shape,target,reduction", CASES,
                         ids=[f"{c[0]}-{c[4]}-{i}" for i, c in enumerate(CASES)])
def test_loss_of_an_empty_batch_matches_torch(name, kw, shape, target, reduction):
    kw = dict(kw, reduction=reduction)
    tensors = {k: v for k, v in kw.items() if isinstance(v, list)}
    ours = getattr(nn, name)(**{**kw, **{k: md.tensor(v) for k, v in tensors.items()}})
    theirs = getattr(torch.nn, name)(**{**kw, **{k: torch.tensor(v)
                                                 for k, v in tensors.items()}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # (numpy: empty means, 0 / 0)
        x = md.zeros(*shape, requires_grad=True)
        loss = ours(x, target(md))
        loss.sum().backward()
    tx = torch.zeros(*shape, requires_grad=True)
    tloss = theirs(tx, target(torch))
    tloss.sum().backward()
    assert loss.shape == tuple(tloss.shape) and loss.dtype == md.float32
    np.testing.assert_array_equal(loss.detach().numpy(), tloss.detach().numpy())  # NaN == NaN
    assert x.grad.shape == tuple(tx.grad.shape)
