"""Adam and AdamW: gradient steps scaled by running averages of g and g^2.

The update for each parameter p with gradient g at step t = 1, 2, ..., as
torch.optim.Adam does it:

    p <- p * (1 - lr * weight_decay)     if decoupled (AdamW)
    g <- g + weight_decay * p            otherwise (Adam's L2 penalty; -g first if maximize)
    m <- beta1 * m + (1 - beta1) * g         first moment  (state 'exp_avg', starts at 0)
    v <- beta2 * v + (1 - beta2) * g^2       second moment (state 'exp_avg_sq', starts at 0)
    v_max <- max(v_max, v)                   only with amsgrad ('max_exp_avg_sq'); use v_max
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

The divisions by 1 - beta^t undo the bias of m and v towards their zero start.

`param`, `grad`, `m` and `v` below are the numpy arrays inside the Tensors: an
optimizer changes parameters in place, outside autograd (`param -= update` on a Tensor
that requires grad would be an error, as in PyTorch). `adam_formula` is the update as
numpy, step by step; with `fused=None` (the default) or True, the same arithmetic runs
as one compiled loop instead (minidl/kernels/optim.py), which for big layers is several
times faster; `fused=False` keeps the numpy.
"""
from __future__ import annotations

import math

import numpy as np

from ..kernels import optim as kernels, run_kernel
from .optimizer import (Optimizer, regularized_grad, new_step_count, count_step,
                        zeros_state, fusable)


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
    *, maximize=False, fused=None, decoupled_weight_decay=False)"""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, fused=None,
                 decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, fused)

    def _check_group(self, group):
        lr, betas, eps = group["lr"], group["betas"], group["eps"]
        self._require(lr >= 0, f"invalid learning rate lr={lr}; expected lr >= 0")
        self._require(eps >= 0, f"invalid epsilon eps={eps}; expected eps >= 0")
        self._require(len(betas) == 2, f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            self._require(0 <= beta < 1, f"invalid beta parameter at index {i}: "
                                         f"{beta}; expected 0 <= beta < 1")
        self._require(group["weight_decay"] >= 0,
                      f"invalid weight_decay={group['weight_decay']}; expected >= 0")

    def _update(self, param, grad, state, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:  # first step: moving averages start at zero
            state["step"] = new_step_count()
            state["exp_avg"] = zeros_state(param)
            state["exp_avg_sq"] = zeros_state(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_state(param)
        t = count_step(state)
        v_max = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
        args = (param, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data, v_max, t,
                lr, beta1, beta2, eps, weight_decay, group["decoupled_weight_decay"],
                group["maximize"])
        if fusable(self.fused, *(a for a in args[:5] if a is not None)):
            adam_fused(*args)
        else:
            adam_formula(*args)


def adam_formula(param, grad, m, v, v_max, t, lr, beta1, beta2, eps, weight_decay,
                 decoupled, maximize):
    """One step of the formula in the module docstring, as numpy; v_max is None
    unless amsgrad."""
    if decoupled and weight_decay != 0:  # AdamW: shrink p directly
        param *= 1 - lr * weight_decay
    g = regularized_grad(grad, param, 0.0 if decoupled else weight_decay, maximize)

    m *= beta1  # m = beta1 * m + (1 - beta1) * g
    m += (1 - beta1) * g
    v *= beta2  # v = beta2 * v + (1 - beta2) * g^2
    v += (1 - beta2) * np.square(g)
    if v_max is not None:  # v_max = max(v_max, v); normalise by v_max instead of v
        v = np.maximum(v_max, v, out=v_max)

    step_size = lr / (1 - beta1 ** t)
    # denom = sqrt(v) / sqrt(1 - beta2^t) + eps
    denom = np.sqrt(v)
    denom /= math.sqrt(1 - beta2 ** t)
    denom += eps
    update = m / denom
    update *= step_size
    param -= update  # p = p - lr / (1 - beta1^t) * m / denom


def adam_fused(param, grad, m, v, v_max, t, lr, beta1, beta2, eps, weight_decay,
               decoupled, maximize):
    """adam_formula as one pass of kernels.adam: the same arithmetic, each coefficient
    rounded to the parameter's dtype as numpy rounds it."""
    c = param.dtype.type
    decay = c(1 - lr * weight_decay) if decoupled and weight_decay != 0 else c(1)
    flat = [a.reshape(-1) for a in (param, grad, m, v, v if v_max is None else v_max)]
    run_kernel(kernels.adam, param.size, *flat, c(beta1), c(1 - beta1), c(beta2),
               c(1 - beta2), c(lr / (1 - beta1 ** t)), c(math.sqrt(1 - beta2 ** t)),
               c(eps), c(0.0 if decoupled else weight_decay), decay, maximize,
               v_max is not None)


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, fused=None)

    Adam with decoupled weight decay: p <- p * (1 - lr * weight_decay) before the Adam
    step, instead of adding weight_decay * p to the gradient.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         fused=fused, decoupled_weight_decay=True)
