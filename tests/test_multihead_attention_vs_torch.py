"""nn.MultiheadAttention against PyTorch's: parameter names, shapes and initialisation,
outputs and attention weights (averaged and per head), gradients of inputs and
parameters, for batch_first, unbatched input, kdim/vdim, add_bias_kv, add_zero_attn,
bool and float attn_mask and key_padding_mask, need_weights=False."""
import numpy as np
import pytest

import minidl as md
from minidl import nn
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
R = np.random.default_rng(4)
E, H, L, S, N = 8, 2, 3, 5, 2

CONFIGS = [dict(), dict(batch_first=True), dict(bias=False), dict(kdim=6, vdim=3),
           dict(add_bias_kv=True), dict(add_zero_attn=True),
           dict(add_bias_kv=True, add_zero_attn=True, batch_first=True, kdim=4)]


def pair(**kw):
    ours, theirs = nn.MultiheadAttention(E, H, **kw), torch.nn.MultiheadAttention(E, H, **kw)
    ours.double()
    theirs.double().load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                                     ours.state_dict().items()})
    return ours, theirs


def inputs(kw, batched=True):
    kdim, vdim = kw.get("kdim") or E, kw.get("vdim") or E
    shape = (lambda n, e: (N, n, e) if kw.get("batch_first") else (n, N, e)) if batched \
        else (lambda n, e: (n, e))
    return R.standard_normal(shape(L, E)), R.standard_normal(shape(S, kdim)), \
        R.standard_normal(shape(S, vdim))


@pytest.mark.parametrize("kw", CONFIGS, ids=str)
def test_layout_and_init_match_torch(kw):
    ours, theirs = nn.MultiheadAttention(E, H, **kw), torch.nn.MultiheadAttention(E, H, **kw)
    assert repr(ours) == repr(theirs)
    state, tstate = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(tstate)
    for key, value in state.items():
        assert value.shape == tuple(tstate[key].shape) and value.dtype == np.float32
        if "bias" in key and "bias_" not in key:
            np.testing.assert_array_equal(value.numpy(), 0)
    w = state["in_proj_weight" if "in_proj_weight" in state else "q_proj_weight"].numpy()
    fan = w.shape[0] + w.shape[1]
    assert np.abs(w).max() <= np.sqrt(6 / fan)


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("kw", CONFIGS, ids=str)
def test_outputs_weights_and_gradients_match_torch(kw, average):
    ours, theirs = pair(**kw)
    call = lambda m: lambda q, k, v: m(q, k, v, average_attn_weights=average)  # noqa
    arrays = inputs(kw)
    assert_matches_torch(call(ours), call(theirs), *arrays, order=1)
    out, weights = call(ours)(*(md.tensor(a) for a in arrays))
    tout, tweights = call(theirs)(*(torch.tensor(a) for a in arrays))
    w1, w2 = R.standard_normal(out.shape), R.standard_normal(weights.shape)
    ((out * md.tensor(w1)).sum() + (weights * md.tensor(w2)).sum()).backward()
    ((tout * torch.tensor(w1)).sum() + (tweights * torch.tensor(w2)).sum()).backward()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_unbatched_input_matches_torch():
    ours, theirs = pair()
    assert_matches_torch(ours, theirs, *inputs({}, batched=False), order=1)


ATTN = R.random((L, S)) > 0.4
ATTN[:, 0] = False  # every query may look at key 0
PADDING = np.zeros((N, S), bool)
PADDING[0, 3:] = True


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", ["attn_bool", "attn_float", "padding_bool",
                                   "padding_float", "both", "per_head", "causal"])
def test_masks_match_torch(masks, need_weights):
    kw = dict(need_weights=need_weights)
    if masks == "attn_bool":
        kw["attn_mask"] = ATTN
    elif masks == "attn_float":
        kw["attn_mask"] = R.standard_normal((L, S))
    elif masks == "padding_bool":
        kw["key_padding_mask"] = PADDING
    elif masks == "padding_float":
        kw["key_padding_mask"] = np.where(PADDING, -1e9, 0.5)
    elif masks == "both":
        kw["attn_mask"], kw["key_padding_mask"] = ATTN, PADDING
    elif masks == "per_head":
        kw["attn_mask"] = R.random((N * H, L, S)) > 0.6
        kw["attn_mask"][..., 1] = False
    else:
        kw["attn_mask"], kw["is_causal"] = ~np.tril(np.ones((L, S), bool)), True
    ours, theirs = pair(dropout=0.3)
    ours.eval(), theirs.eval()
    lib_kw = lambda lib: {k: lib.tensor(v) if isinstance(v, np.ndarray) else v  # noqa
                          for k, v in kw.items()}
    assert_matches_torch(lambda *t: ours(*t, **lib_kw(md)), lambda *t: theirs(*t, **lib_kw(torch)),
            *inputs({}), order=1)


def test_dropout_applies_in_training_only():
    ours, _ = pair(dropout=0.5)
    q, k, v = (md.tensor(a) for a in inputs({}))
    md.manual_seed(0)
    a = ours(q, k, v)[0].detach().numpy()
    md.manual_seed(1)
    b = ours(q, k, v)[0].detach().numpy()
    assert not np.allclose(a, b)
    ours.eval()
    np.testing.assert_array_equal(ours(q, k, v)[0].detach().numpy(), ours(q, k, v)[0].detach().numpy())


def test_errors():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(6, 4)
    m = nn.MultiheadAttention(E, H)
    with pytest.raises(RuntimeError, match="is_causal"):
        m(*(md.zeros(L, N, E) for _ in range(3)), is_causal=True)
    with pytest.raises(RuntimeError, match="2-D"):
        m(md.zeros(L, N, E), md.zeros(S, E), md.zeros(S, E))
