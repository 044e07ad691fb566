"""MultiheadAttention: num_heads scaled dot-product attentions side by side, each on
its own slice of learned projections of the query, key and value (torch.nn's).

    q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v   (E features)
    split E into num_heads heads of head_dim = E / num_heads features each
    head_h  = softmax(q_h k_h^T / sqrt(head_dim) + mask) v_h          (per head)
    out     = concat(head_1, ..., head_H) W_o^T + b_o                  (out_proj)

Parameters, with PyTorch's names and layouts: in_proj_weight (3E, E) = [W_q; W_k;
W_v] (or q_proj_weight, k_proj_weight, v_proj_weight when kdim/vdim differ from E),
in_proj_bias (3E,), out_proj (a Linear), bias_k and bias_v (1, 1, E) with
add_bias_kv. Masks follow PyTorch's MultiheadAttention (not scaled_dot_product_
attention's): a bool attn_mask or key_padding_mask is True where attending is NOT
allowed; a float mask is added to the scores. forward returns (output, weights): the
attention weights averaged over the heads (or per head), or None with
need_weights=False. Inputs are (L, N, E), (N, L, E) with batch_first, or (L, E).
"""
from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..ops import cat, matmul, reshape, transpose
from ..tensor import Tensor, ShapeError, float32
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear: PyTorch's name for MultiheadAttention's out_proj (so reprs match)."""


def _project(x, weight, bias):
    """x @ weight^T + bias (a Linear layer's map)."""
    y = matmul(x, transpose(weight, 0, 1))
    return y if bias is None else y + bias


def _as_additive(mask, dtype, name):
    """A bool mask (True = blocked) becomes 0 / -inf; a float mask is used as it is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor) or not (mask.dtype == np.bool_ or mask.dtype.kind == "f"):
        raise TypeError(f"MultiheadAttention: {name} must be a bool or float Tensor, got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask._data, -np.inf, 0.0).astype(dtype))
    return F.cast(mask, dtype)


class MultiheadAttention(Module):
    """MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False,
                 device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a "
                             f"positive multiple of num_heads ({num_heads})")
        dtype = float32 if dtype is None else dtype
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v (as
        PyTorch; out_proj.weight keeps Linear's own initialisation)."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                  self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        for b in (self.in_proj_bias, self.out_proj.bias):
            if b is not None:
                init.constant_(b, 0.0)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def _weights(self):
        """(W_q, W_k, W_v) and (b_q, b_k, b_v)."""
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            W = self.in_proj_weight
            weights = (W[:E], W[E:2 * E], W[2 * E:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        biases = (None,) * 3 if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        return weights, biases

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """(L, N, E) inputs (N, L, E with batch_first; (L, E) unbatched) ->
        (output of the query's shape, weights (N, L, S) / (N, H, L, S) or None)."""
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"MultiheadAttention: query, key and value must all be 2-D "
                             f"(unbatched) or 3-D, got {query.shape}, {key.shape}, "
                             f"{value.shape}")
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: is_causal is only a hint; pass the "
                               "causal attn_mask too")
        batched = query.ndim == 3
        if not batched:  # a batch of one, in the middle: (L, 1, E)
            query, key, value = (reshape(t, (t.shape[0], 1, t.shape[1]))
                                 for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = reshape(key_padding_mask, (1,) + key_padding_mask.shape)
        elif self.batch_first:
            query, key, value = (transpose(t, 0, 1) for t in (query, key, value))
        out, weights = self._attend(query, key, value, key_padding_mask, need_weights,
                                    attn_mask, average_attn_weights)
        if not batched:
            out = reshape(out, (out.shape[0], out.shape[2]))
            weights = None if weights is None else reshape(weights, weights.shape[1:])
        elif self.batch_first:
            out = transpose(out, 0, 1)
        return out, weights

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask,
                average):
        """The attention on sequence-first (L, N, E) tensors."""
        L, N, E = query.shape
        H, d = self.num_heads, self.head_dim
        (wq, wk, wv), (bq, bk, bv) = self._weights()
        q, k, v = _project(query, wq, bq), _project(key, wk, bk), _project(value, wv, bv)
        mask = _as_additive(attn_mask, q.dtype, "attn_mask")
        padding = _as_additive(key_padding_mask, q.dtype, "key_padding_mask")
        if self.bias_k is not None:  # one more key and value, learned
            k = cat([k, self.bias_k.expand(1, N, E)])
            v = cat([v, self.bias_v.expand(1, N, E)])
            mask, padding = (None if m is None else F.pad(m, (0, 1))
                             for m in (mask, padding))
        # (S, N, E) -> (N * H, S, d): one row of the batch per (sample, head)
        q, k, v = (transpose(reshape(t, (t.shape[0], N * H, d)), 0, 1) for t in (q, k, v))
        if self.add_zero_attn:  # and one more key and value of zeros
            zeros = Tensor(np.zeros((N * H, 1, d), dtype=q.dtype))
            k, v = cat([k, zeros], 1), cat([v, zeros], 1)
            mask, padding = (None if m is None else F.pad(m, (0, 1))
                             for m in (mask, padding))
        S = k.shape[1]
        if padding is not None:  # (N, S) -> (N * H, 1, S)
            padding = reshape(padding.expand(H, N, S).transpose(0, 1), (N * H, 1, S))
            mask = padding if mask is None else mask + padding
        p = self.dropout if self.training else 0.0
        if need_weights:  # the weights explicitly (a row with no key allowed: NaN)
            scores = matmul(q * (1 / math.sqrt(d)), transpose(k, 1, 2))
            weights = F.softmax(scores if mask is None else scores + mask, -1)
            heads = matmul(F.dropout(weights, p) if p > 0 else weights, v)
        else:  # (as PyTorch, through scaled_dot_product_attention: such a row gives 0)
            heads = F.scaled_dot_product_attention(q, k, v, mask, p)
        out = _project(reshape(transpose(heads, 0, 1), (L, N, E)), self.out_proj.weight,
                       self.out_proj.bias)                          # heads: (N * H, L, d)
        if not need_weights:
            return out, None
        weights = reshape(weights, (N, H, L, S))
        return out, (weights.mean(1) if average else weights)
