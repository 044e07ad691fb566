"""Scaled dot-product attention: each query mixes the values, weighted by how well it
matches each key (torch.nn.functional.scaled_dot_product_attention).

    scores  = q @ k^T * scale          (..., L, S); scale = 1 / sqrt(E) by default
    scores += attn_mask                a float mask is added; a bool mask keeps the
                                       positions where it is True (the rest get -inf);
                                       is_causal keeps key j <= query i only
    weights = softmax(scores, dim=-1)  a row with every score -inf (nothing to attend
                                       to) gets weights 0, as PyTorch's safe softmax
    weights = dropout(weights, dropout_p)   (minidl's generator; training always)
    out     = weights @ v              (..., L, Ev)

q (..., L, E), k (..., S, E), v (..., S, Ev); the leading dims broadcast. With
enable_gqa=True the heads (dim -3) of k and v are repeated to match q's (grouped-query
attention). Everything is made of differentiable ops (matmul, softmax, where,
dropout), so autograd derives the backward, and its backward.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, ShapeError, _FLOATS
from .activation import softmax, DTypeError
from .arithmetic import cast, where
from .dropout import dropout
from .matmul import matmul
from .shape import getitem, transpose

OP = "scaled_dot_product_attention"


def _check(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{OP}: {name} must be a Tensor, got {type(t).__name__}")
    dtypes = {query.dtype, key.dtype, value.dtype}
    if len(dtypes) > 1 or not dtypes <= _FLOATS:
        raise DTypeError(f"{OP}: expected query, key and value of one floating-point "
                         f"dtype, got {query.dtype}, {key.dtype} and {value.dtype}")
    shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ShapeError(f"{OP}: expected query, key and value of at least 2 dims "
                         f"(..., L or S, E), got {shapes}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{OP}: query and key need the same last dim E, and key and "
                         f"value the same sequence length S, got {shapes}")


def _repeat_heads(t, heads, name):
    """Grouped-query attention: repeat each of t's heads (dim -3) heads // H times."""
    if t.ndim < 3 or heads % t.shape[-3]:
        raise ShapeError(f"{OP}: with enable_gqa the query's {heads} heads (dim -3) must "
                         f"be a multiple of the {name}'s, got {name} of shape {t.shape}")
    index = np.arange(heads) // (heads // t.shape[-3])
    return getitem(t, (Ellipsis, index, slice(None), slice(None)))


def _masked(scores, attn_mask, is_causal):
    """scores with the mask applied (see the top of the file)."""
    L, S = scores.shape[-2:]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{OP}: an explicit attn_mask should not be set when "
                               "is_causal=True")
        attn_mask = Tensor(np.tril(np.ones((L, S), dtype=bool)))
    if attn_mask is None:
        return scores
    if not isinstance(attn_mask, Tensor) or not (attn_mask.dtype == np.bool_ or
                                                 attn_mask.dtype in _FLOATS):
        raise DTypeError(f"{OP}: attn_mask must be a bool or floating-point Tensor, got "
                         f"{getattr(attn_mask, 'dtype', type(attn_mask).__name__)}")
    try:
        np.broadcast_shapes(attn_mask.shape, scores.shape)
    except ValueError:
        raise ShapeError(f"{OP}: attn_mask of shape {attn_mask.shape} does not broadcast "
                         f"to the attention scores' shape {scores.shape}") from None
    if attn_mask.dtype == np.bool_:
        return where(Tensor(~attn_mask._data), -math.inf, scores)
    return scores + cast(attn_mask, scores.dtype)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + attn_mask) @ value, as PyTorch (see the top)."""
    _check(query, key, value)
    if enable_gqa:
        heads = query.shape[-3] if query.ndim >= 3 else 1
        key, value = _repeat_heads(key, heads, "key"), _repeat_heads(value, heads, "value")
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = _masked(matmul(query, transpose(key, -2, -1)) * scale, attn_mask, is_causal)
    if scores.shape[-1] == 0:  # no keys: nothing to attend to
        return matmul(scores * 0, value)
    dead = np.isneginf(scores._data).all(axis=-1, keepdims=True)
    if dead.any():  # rows with every score -inf: weights 0 (not softmax's 0/0 = NaN)
        dead = Tensor(dead)
        weights = where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))
    else:
        weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)


__all__ = ["scaled_dot_product_attention"]
