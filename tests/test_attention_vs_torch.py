"""scaled_dot_product_attention against PyTorch: values and two derivatives with bool
and float masks, causal masks (square and not), rows that attend to nothing, no keys
at all, custom scale, broadcast batch dims, grouped-query heads, float32; dropout's
statistics; and PyTorch's exception classes for bad inputs."""
import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional
R = np.random.default_rng(9)


def qkv(L=4, S=6, E=5, Ev=3, batch=(2, 3)):
    return (R.standard_normal(batch + (L, E)), R.standard_normal(batch + (S, E)),
            R.standard_normal(batch + (S, Ev)))


def both(**kw):
    def make(lib, f):
        def call(q, k, v, *mask):
            extra = {}
            if mask:
                extra["attn_mask"] = mask[0]
            elif "bool_mask" in kw:
                extra["attn_mask"] = lib.tensor(kw["bool_mask"])
            rest = {k: v for k, v in kw.items() if k != "bool_mask"}
            return f.scaled_dot_product_attention(q, k, v, **extra, **rest)
        return call
    return make(md, F), make(torch, TF)


ROW_1_BLOCKED = np.ones((4, 6), bool)
ROW_1_BLOCKED[1] = False
CASES = {
    "plain": (both(), qkv()),
    "causal": (both(is_causal=True), qkv(L=5, S=5)),
    "causal_rectangular": (both(is_causal=True), qkv(L=3, S=6)),
    "causal_more_queries": (both(is_causal=True), qkv(L=6, S=3)),
    "scale": (both(scale=0.25), qkv()),
    "bool_mask": (both(bool_mask=R.random((4, 6)) > 0.3), qkv()),
    "bool_mask_row_blocked": (both(bool_mask=ROW_1_BLOCKED), qkv()),
    "bool_mask_batched": (both(bool_mask=R.random((2, 1, 4, 6)) > 0.3), qkv()),
    "float_mask": (both(), qkv() + (R.standard_normal((4, 6)),)),
    "float_mask_minus_inf_row": (both(), qkv() + (np.where(ROW_1_BLOCKED, 0.5, -np.inf),)),
    "unbatched": (both(), qkv(batch=())),
    "broadcast_batch": (both(), (R.standard_normal((1, 3, 4, 5)),) + qkv(batch=(2, 3))[1:]),
    "gqa": (both(enable_gqa=True), (R.standard_normal((2, 6, 4, 5)),)
            + qkv(batch=(2, 2))[1:]),
    "empty_batch": (both(), qkv(batch=(0, 3))),
    "no_keys": (both(), qkv(S=0)),
}


@pytest.mark.parametrize("name", CASES)
def test_attention_matches_torch(name):
    (ours, theirs), arrays = CASES[name]
    assert_matches_torch(ours, theirs, *arrays)


def test_float32_matches_torch():
    q, k, v = (a.astype(np.float32) for a in qkv())
    y = F.scaled_dot_product_attention(md.tensor(q), md.tensor(k), md.tensor(v),
                                       is_causal=True)
    assert y.dtype == md.float32
    expected = TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k),
                                               torch.tensor(v), is_causal=True)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_keeps_the_expectation_and_follows_the_seed():
    q, k, v = (md.tensor(a) for a in qkv(L=64, S=64, batch=(4,)))
    md.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    md.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)
    plain = F.scaled_dot_product_attention(q, k, v).numpy()
    assert not np.allclose(a, plain)
    runs = [F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
            for _ in range(200)]
    np.testing.assert_allclose(np.mean(runs, axis=0).mean(), plain.mean(), atol=0.02)
    assert np.abs(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy()).max() == 0


@pytest.mark.parametrize("call", [
    lambda f, t, q, k, v: f.scaled_dot_product_attention(q, k, v, attn_mask=t.ones(4, 6) > 0,
                                                         is_causal=True),
    lambda f, t, q, k, v: f.scaled_dot_product_attention(q[0, 0, 0], k, v),
    lambda f, t, q, k, v: f.scaled_dot_product_attention(q, k.float(), v),
    lambda f, t, q, k, v: f.scaled_dot_product_attention(q, k[..., :4], v),
    lambda f, t, q, k, v: f.scaled_dot_product_attention(q, k, v,
                                                         attn_mask=t.ones(4, 6, dtype=t.int64)),
    lambda f, t, q, k, v: f.scaled_dot_product_attention(q, k, v, attn_mask=t.ones(3, 6) > 0),
])
def test_errors_have_torch_classes(call):
    arrays = qkv()
    with pytest.raises(Exception) as theirs:
        call(TF, torch, *(torch.tensor(a) for a in arrays))
    with pytest.raises(type(theirs.value), match="scaled_dot_product_attention"):
        call(F, md, *(md.tensor(a) for a in arrays))
