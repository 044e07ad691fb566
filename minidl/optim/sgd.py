"""SGD: stochastic gradient descent, with optional momentum and Nesterov momentum.

The update for each parameter p with gradient g, as torch.optim.SGD does it:

    g <- g + weight_decay * p                       (L2 penalty; -g first if maximize)
    b <- g                                          on the first step (no dampening)
    b <- momentum * b + (1 - dampening) * g         on later steps
    g <- g + momentum * b   if nesterov   else   b  (only when momentum != 0)
    p <- p - lr * g
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, regularized_grad


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False)"""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

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
        lr, momentum = float(group["lr"]), float(group["momentum"])
        g = regularized_grad(grad, param, float(group["weight_decay"]), group["maximize"])
        if momentum != 0:
            if "momentum_buffer" not in state:  # b = g (a copy: g may be param.grad)
                state["momentum_buffer"] = Tensor(np.array(g, copy=True))
                b = state["momentum_buffer"]._data
            else:  # b = momentum * b + (1 - dampening) * g
                b = state["momentum_buffer"]._data
                b *= momentum
                b += (1 - float(group["dampening"])) * g
            g = g + momentum * b if group["nesterov"] else b
        param -= lr * g  # p = p - lr * g
