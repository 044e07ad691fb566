"""The reference solutions: minidl's own code, behind each exercise's names.

Most names are minidl's objects themselves (exercise 2's Mul is minidl's Mul). Where
an exercise asks for a smaller interface than minidl's (a 0-d Value, im2col with
square geometry, one optimizer step on arrays), a few lines here call minidl's code.
`python -m minidl.course solution N` prints where each piece lives (WHERE).
"""
from __future__ import annotations

import types

import numpy as np

import minidl
import minidl.functional as F
from minidl import autograd, nn, optim
from minidl.kernels import im2col as kernels
from minidl.ops import activation, arithmetic, conv, elementwise, pooling, reduction
from minidl.ops.matmul import MatMul
from minidl.optim import adam, sgd
from models import gan, vae

from . import pieces


# ------------------------------------------------------------------ exercise 1
class Value:
    """A scalar Value made of a 0-d float64 minidl Tensor (minidl's autograd does
    what exercise 1 writes by hand)."""

    def __init__(self, data, _tensor=None):
        self._t = _tensor if _tensor is not None else minidl.tensor(
            float(data), dtype=minidl.float64, requires_grad=True)
        self._t.retain_grad()

    data = property(lambda self: self._t.item())
    grad = property(lambda self: 0.0 if self._t.grad is None else self._t.grad.item())

    def _new(self, t):
        return Value(None, t)

    def _lift(self, other):
        return other._t if isinstance(other, Value) else float(other)

    def __add__(self, other):
        return self._new(self._t + self._lift(other))

    def __mul__(self, other):
        return self._new(self._t * self._lift(other))

    def tanh(self):
        return self._new(self._t.tanh())

    def exp(self):
        return self._new(self._t.exp())

    def backward(self):
        self._t.backward()

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)


# ------------------------------------------------------------------ exercise 9
class Conv2d:
    """minidl's conv2d (a Function) behind exercise 9's Conv2d.apply(x, w, s, p)."""

    @staticmethod
    def apply(x, w, stride, padding):
        return F.conv2d(x, w, None, stride, padding)


# ------------------------------------------------------------------ exercise 10
class MaxPool2d:
    @staticmethod
    def apply(x, k):
        return F.max_pool2d(x, k)


# ------------------------------------------------------------------ exercise 12
def sgd_step(param, grad, buf, lr, momentum):
    first = momentum != 0 and buf is None  # the buffer starts as g (sgd.py)
    if first:
        buf = np.zeros_like(param)
    sgd.sgd_formula(param, grad, buf, lr, 0.0, momentum, 0.0, first, False, False)
    return buf if momentum != 0 else None  # (none when momentum is 0)


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    adam.adam_formula(param, grad, m, v, None, t, lr, *betas, eps, 0.0, False, False)


# ------------------------------------------------------------------ exercise 13
def train_epoch(model, loader, optimizer, loss_fn):
    """examples/mnist_minimal.py's train(), returning the mean loss."""
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def evaluate(model, loader):
    """examples/mnist_minimal.py's test(), returning the accuracy."""
    model.eval()
    correct = 0
    with minidl.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
    return correct / len(loader.dataset)


# ------------------------------------------------------------------ every exercise
SOLUTIONS = {
    1: dict(Value=Value),
    2: dict(Mul=arithmetic.Mul, Div=arithmetic.Div, Exp=arithmetic.Exp,
            Log=arithmetic.Log, Tanh=activation.Tanh),
    3: dict(sum_to=reduction.sum_to),
    4: dict(MatMul=MatMul),
    5: dict(softmax=F.softmax, log_softmax=F.log_softmax,
            cross_entropy=lambda logits, target: F.cross_entropy(logits, target)),
    6: dict(topological_order=autograd._topological_order, accumulate=autograd._add),
    7: dict(Sin=elementwise.Sin, Cos=elementwise.Cos),
    8: dict(im2col=pieces.minidl_im2col, col2im=pieces.minidl_col2im),
    9: dict(Conv2d=Conv2d, conv2d=lambda x, w, b=None, stride=1, padding=0:
            F.conv2d(x, w, b, stride, padding), im2col=pieces.minidl_im2col),
    10: dict(MaxPool2d=MaxPool2d, Scatter=pooling.MaxPool2dScatter,
             max_pool2d=lambda x, k: F.max_pool2d(x, k)),
    11: dict(named_parameters=lambda module, prefix="", seen=None:
             module.named_parameters(prefix), Linear=nn.Linear),
    12: dict(sgd_step=sgd_step, adam_step=adam_step, Adam=optim.Adam),
    13: dict(train_epoch=train_epoch, evaluate=evaluate),
    14: dict(reparameterize=lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * eps,
             gaussian_kl=vae.gaussian_kl,
             negative_elbo=lambda logits, x, mu, logvar:
             vae.negative_elbo(logits, x, mu, logvar).loss),
    15: dict(discriminator_loss=gan.discriminator_loss,
             generator_loss=lambda fake_logits: gan.generator_loss(fake_logits),
             gradient_penalty=lambda critic, real, fake, alpha, lambda_=10.0:
             gan.gradient_penalty(critic, real, fake, lambda_, alpha=alpha)),
}

# where each exercise's reference lives in minidl (for `solution N`)
WHERE = {
    1: [minidl.Tensor.backward, autograd.backward, arithmetic.Mul],
    2: [arithmetic.Mul, arithmetic.Div, arithmetic.Exp, arithmetic.Log, activation.Tanh],
    3: [reduction.sum_to, autograd._fit_gradient],
    4: [MatMul],
    5: [activation.softmax, activation.log_softmax, F.cross_entropy],
    6: [autograd._topological_order, autograd._add, autograd._run_backward],
    7: [elementwise.Sin, elementwise.Cos],
    8: [kernels.im2col, kernels.col2im],
    9: [conv.Conv2d, conv.ConvTranspose2d, conv.Conv2dWeight],
    10: [pooling.MaxPool2d, pooling.MaxPool2dScatter, pooling.max_pool2d],
    11: [nn.Module.named_parameters, nn.Module.__setattr__, nn.Linear],
    12: [sgd.sgd_formula, adam.adam_formula],
    13: [train_epoch, evaluate],
    14: [vae.reparameterize, vae.gaussian_kl, vae.negative_elbo],
    15: [gan.discriminator_loss, gan.generator_loss, gan.gradient_penalty],
}


def module(n) -> types.SimpleNamespace:
    return types.SimpleNamespace(**SOLUTIONS[n])

