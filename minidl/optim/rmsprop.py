"""RMSprop: divide each gradient by a running root-mean-square of recent gradients.

The update for each parameter p with gradient g, as torch.optim.RMSprop does it:

    g <- g + weight_decay * p                      (L2 penalty; -g first if maximize)
    v <- alpha * v + (1 - alpha) * g^2             state 'square_avg' (starts at 0)
    a <- alpha * a + (1 - alpha) * g               state 'grad_avg', only if centered
    d <- sqrt(v - a^2) + eps   if centered   else   sqrt(v) + eps
    b <- momentum * b + g / d;  p <- p - lr * b    if momentum > 0 ('momentum_buffer')
    p <- p - lr * g / d                            otherwise

Centering subtracts the squared mean, so d estimates the gradient's standard deviation.
"""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, regularized_grad, new_step_count, count_step, zeros_state


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False)"""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

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
        g = regularized_grad(grad, param, float(group["weight_decay"]), group["maximize"])

        v = state["square_avg"]._data
        v *= alpha  # v = alpha * v + (1 - alpha) * g^2
        v += (1 - alpha) * np.square(g)
        if group["centered"]:
            a = state["grad_avg"]._data
            a *= alpha  # a = alpha * a + (1 - alpha) * g
            a += (1 - alpha) * g
            denom = np.sqrt(v - np.square(a))
        else:
            denom = np.sqrt(v)
        denom += eps

        if momentum > 0:
            b = state["momentum_buffer"]._data
            b *= momentum  # b = momentum * b + g / denom
            b += g / denom
            param -= lr * b  # p = p - lr * b
        else:
            update = g / denom
            update *= lr
            param -= update  # p = p - lr * g / denom
