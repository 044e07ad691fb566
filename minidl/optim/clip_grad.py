"""Gradient clipping: tame exploding gradients before optimizer.step().

clip_grad_norm_ rescales all gradients together so that their total norm -- the norm of
every gradient entry of every parameter, viewed as one long vector -- is at most
max_norm; clip_grad_value_ clamps each gradient entry to [-clip_value, clip_value].
Both change p.grad in place, as torch.nn.utils does.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def _grads(parameters) -> list[Tensor]:
    """The existing gradients of a tensor or an iterable of tensors."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)); return total_norm.

    total_norm = || (||g_1||, ||g_2||, ...) ||  with the p-norm of norm_type (2.0 is the
    Euclidean norm, float('inf') the largest |entry|), which equals the norm of all
    entries together.
    """
    grads = _grads(parameters)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32))
    norm_type = float(norm_type)
    norms = [np.linalg.norm(g._data.ravel(), ord=norm_type) for g in grads]
    total_norm = np.linalg.norm(np.array(norms), ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total_norm}, so it cannot be clipped; set error_if_nonfinite=False to "
            "scale the gradients by the non-finite norm anyway")
    clip_coef = min(float(max_norm) / (total_norm + 1e-6), 1.0)
    for g in grads:
        g._data *= clip_coef  # in place: each gradient keeps its dtype
        g._bump_version()
    return Tensor(np.asarray(total_norm))  # (a numpy scalar alone would become float32)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        g._bump_version()
