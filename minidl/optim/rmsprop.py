"""RMSprop: divide each gradient by a running root-mean-square of recent gradients.

The update for each parameter p with gradient g, as torch.optim.RMSprop does it:

    g <- g + weight_decay * p                      (L2 penalty; -g first if maximize)
    v <- alpha * v + (1 - alpha) * g^2             state 'square_avg' (starts at 0)
    a <- alpha * a + (1 - alpha) * g               state 'grad_avg', only if centered
    d <- sqrt(v - a^2) + eps   if centered   else   sqrt(v) + eps
    b <- momentum * b + g / d;  p <- p - lr * b    if momentum > 0 ('momentum_buffer')
    p <- p - lr * g / d                            otherwise

Centering subtracts the squared mean, so d estimates the gradient's standard deviation.

`rmsprop_formula` is that update as numpy; with `fused=None` (the default) or True the
same arithmetic runs as one compiled loop (minidl/kernels/optim.py), `fused=False`
keeps the numpy.
"""
from __future__ import annotations

import numpy as np

from ..kernels import optim as kernels, run_kernel
from .optimizer import (Optimizer, regularized_grad, new_step_count, count_step,
                        zeros_state, fusable)


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False, *, fused=None)"""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False, *, fused=None):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults, fused)

    def _check_group(self, group):
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            self._require(group[name] >= 0, f"invalid {name}={group[name]}; expected "
                                            f"{name} >= 0")

    def _update(self, param, grad, state, group):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        if not state:  # first step: averages and momentum start at zero
            state["step"] = new_step_count()
            state["square_avg"] = zeros_state(param)
            if momentum > 0:
                state["momentum_buffer"] = zeros_state(param)
            if group["centered"]:
                state["grad_avg"] = zeros_state(param)
        count_step(state)
        buffers = [state[k]._data if k in state else None
                   for k in ("square_avg", "grad_avg", "momentum_buffer")]
        args = (param, grad, *buffers, lr, alpha, eps, float(group["weight_decay"]),
                momentum, group["centered"], group["maximize"])
        if fusable(self.fused, *(a for a in args[:5] if a is not None)):
            rmsprop_fused(*args)
        else:
            rmsprop_formula(*args)


def rmsprop_formula(param, grad, v, a, b, lr, alpha, eps, weight_decay, momentum,
                    centered, maximize):
    """One step of the formula in the module docstring, as numpy: v is the running
    mean of g^2, a (if centered) of g, b (if momentum > 0) the momentum buffer."""
    g = regularized_grad(grad, param, weight_decay, maximize)
    v *= alpha  # v = alpha * v + (1 - alpha) * g^2
    v += (1 - alpha) * np.square(g)
    if centered:
        a *= alpha  # a = alpha * a + (1 - alpha) * g
        a += (1 - alpha) * g
        denom = np.sqrt(v - np.square(a))
    else:
        denom = np.sqrt(v)
    denom += eps

    if momentum > 0:
        b *= momentum  # b = momentum * b + g / denom
        b += g / denom
        param -= lr * b  # p = p - lr * b
    else:
        update = g / denom
        update *= lr
        param -= update  # p = p - lr * g / denom


def rmsprop_fused(param, grad, v, a, b, lr, alpha, eps, weight_decay, momentum, centered,
                  maximize):
    """rmsprop_formula as one pass of kernels.rmsprop (coefficients in the parameter's
    dtype; an unused buffer is passed as v, which the kernel then does not touch)."""
    c = param.dtype.type
    flat = [x.reshape(-1) for x in (param, grad, v, v if a is None else a,
                                    v if b is None else b)]
    run_kernel(kernels.rmsprop, param.size, *flat, c(lr), c(alpha), c(1 - alpha), c(eps),
               c(weight_decay), c(momentum), centered, maximize)
