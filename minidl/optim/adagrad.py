"""Adagrad: divide each gradient by the root of the sum of all its past squares, so
parameters that received large gradients take smaller steps.

The update for each parameter p with gradient g at step t = 1, 2, ..., as
torch.optim.Adagrad does it:

    g <- g + weight_decay * p                    (L2 penalty; -g first if maximize)
    lr_t <- lr / (1 + (t - 1) * lr_decay)
    s <- s + g^2                                 state 'sum' (starts at
                                                 initial_accumulator_value)
    p <- p - lr_t * g / (sqrt(s) + eps)

As in PyTorch the state ('step' and 'sum') of every parameter is created when the
optimizer is, so state_dict() holds it before the first step.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, regularized_grad, new_step_count, count_step


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False)"""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        if differentiable or fused:
            raise NotImplementedError("Adagrad: differentiable and fused are not "
                                      "supported by minidl")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p._data, group)

    def _check_group(self, group):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._require(group[name] >= 0, f"invalid {name}={group[name]}; expected "
                                            f"{name} >= 0")

    @staticmethod
    def _init_state(state, param, group):
        state["step"] = new_step_count()
        state["sum"] = Tensor(np.full_like(param, group["initial_accumulator_value"]))

    def _update(self, param, grad, state, group):
        if not state:  # (a parameter added with add_param_group)
            self._init_state(state, param, group)
        t = count_step(state)
        g = regularized_grad(grad, param, float(group["weight_decay"]), group["maximize"])
        lr_t = float(group["lr"]) / (1 + (t - 1) * float(group["lr_decay"]))
        s = state["sum"]._data
        s += np.square(g)  # s = s + g^2
        std = np.sqrt(s)
        std += float(group["eps"])
        param += (-lr_t * g) / std  # p = p - lr_t * g / (sqrt(s) + eps)
