"""Registry entries for scaled_dot_product_attention (minidl/ops/attention.py): plain,
causal, bool and float masks (the float mask is differentiable too), rows with
nothing to attend to, a custom scale, grouped-query heads, broadcast batch dims, and
dropout with a fixed seed (registry.py has the format)."""
import numpy as np

import minidl as md
import minidl.functional as F
from registry import register

sdpa = F.scaled_dot_product_attention


def _qkv(q_shape, k_shape, v_shape, *extra):
    return lambda rng: tuple(rng.standard_normal(s) for s in (q_shape, k_shape, v_shape)
                             + extra)


KEEP = md.tensor(np.random.default_rng(2).random((4, 6)) > 0.4)
KEEP_NONE_IN_ROW_1 = md.tensor((np.arange(24).reshape(4, 6) % 5 != 0)
                               & np.array([[True], [False], [True], [True]]))


def _dropout(q, k, v):
    md.manual_seed(3)  # the same mask on every call, so finite differences see one map
    return sdpa(q, k, v, dropout_p=0.3)


register("scaled_dot_product_attention", sdpa, _qkv((2, 4, 3), (2, 5, 3), (2, 5, 2)))
register("scaled_dot_product_attention", lambda q, k, v: sdpa(q, k, v, is_causal=True),
         _qkv((1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 2)))
register("scaled_dot_product_attention", lambda q, k, v: sdpa(q, k, v, attn_mask=KEEP),
         _qkv((2, 4, 3), (2, 6, 3), (2, 6, 2)))
register("scaled_dot_product_attention",
         lambda q, k, v: sdpa(q, k, v, attn_mask=KEEP_NONE_IN_ROW_1),
         _qkv((4, 3), (6, 3), (6, 2)), note="a row with nothing to attend to")
register("scaled_dot_product_attention", lambda q, k, v, m: sdpa(q, k, v, attn_mask=m),
         _qkv((2, 3, 3), (2, 4, 3), (2, 4, 2), (3, 4)), note="float mask, an input")
register("scaled_dot_product_attention", lambda q, k, v: sdpa(q, k, v, scale=0.7),
         _qkv((1, 3, 2), (2, 4, 2), (2, 4, 3)), note="broadcast batch")
register("scaled_dot_product_attention",
         lambda q, k, v: sdpa(q, k, v, enable_gqa=True),
         _qkv((1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 3)), note="grouped-query heads")
register("scaled_dot_product_attention", _dropout, _qkv((2, 4, 3), (2, 5, 3), (2, 5, 2)),
         note="dropout, fixed seed")
