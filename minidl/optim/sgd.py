"""SGD: stochastic gradient descent, with optional momentum and Nesterov momentum.

The update for each parameter p with gradient g, as torch.optim.SGD does it:

    g <- g + weight_decay * p                       (L2 penalty; -g first if maximize)
    b <- g                                          on the first step (no dampening)
    b <- momentum * b + (1 - dampening) * g         on later steps
    g <- g + momentum * b   if nesterov   else   b  (only when momentum != 0)
    p <- p - lr * g

`sgd_formula` is that update as numpy; with `fused=None` (the default) or True the same
arithmetic runs as one compiled loop (minidl/kernels/optim.py), `fused=False` keeps
the numpy.
"""
from __future__ import annotations

import numpy as np

from ..kernels import optim as kernels, run_kernel
from ..tensor import Tensor
from .optimizer import Optimizer, regularized_grad, fusable, zeros_state


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, fused=None)"""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults, fused)

    def _check_group(self, group):
        self._require(group["lr"] >= 0, f"invalid learning rate lr={group['lr']}; "
                                        "expected lr >= 0")
        self._require(group["momentum"] >= 0, f"invalid momentum={group['momentum']}; "
                                              "expected momentum >= 0")
        self._require(group["weight_decay"] >= 0,
                      f"invalid weight_decay={group['weight_decay']}; expected >= 0")
        self._require(not group["nesterov"] or (group["momentum"] > 0
                                                and group["dampening"] == 0),
                      "Nesterov momentum requires a momentum > 0 and zero dampening, got "
                      f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, param, grad, state, group):
        momentum = float(group["momentum"])
        first = momentum != 0 and "momentum_buffer" not in state
        if first:  # b = g on the first step (the update below fills it)
            state["momentum_buffer"] = zeros_state(param)
        buf = state["momentum_buffer"]._data if momentum != 0 else None
        args = (param, grad, buf, float(group["lr"]), float(group["weight_decay"]),
                momentum, float(group["dampening"]), first, group["nesterov"],
                group["maximize"])
        if fusable(self.fused, *(a for a in args[:3] if a is not None)):
            sgd_fused(*args)
        else:
            sgd_formula(*args)


def sgd_formula(param, grad, buf, lr, weight_decay, momentum, dampening, first, nesterov,
                maximize):
    """One step of the formula in the module docstring, as numpy."""
    g = regularized_grad(grad, param, weight_decay, maximize)
    if momentum != 0:
        if first:  # b = g
            buf[...] = g
        else:  # b = momentum * b + (1 - dampening) * g
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    param -= lr * g  # p = p - lr * g


def sgd_fused(param, grad, buf, lr, weight_decay, momentum, dampening, first, nesterov,
              maximize):
    """sgd_formula as one pass of kernels.sgd (coefficients in the parameter's dtype)."""
    c = param.dtype.type
    flat = [a.reshape(-1) for a in (param, grad, param if buf is None else buf)]
    run_kernel(kernels.sgd, param.size, *flat, c(lr), c(weight_decay), c(momentum),
               c(1 - dampening), first, nesterov, maximize)
