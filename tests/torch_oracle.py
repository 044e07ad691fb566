"""Compare a minidl function with PyTorch's: output shapes, dtypes and values, and the
first and second derivatives for random upstream gradients. Used by the *_vs_torch
test files; they skip when PyTorch is not installed."""
import numpy as np

import minidl as md


def _leaves(lib, arrays, differentiable):
    out = []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind == "f":
            t = lib.tensor(a.astype(np.float64), dtype=lib.float64)
            out.append(t.requires_grad_(differentiable))
        else:
            out.append(lib.tensor(a))
    return out


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _weighted(lib, outs, weights):
    """sum_i <out_i, w_i> over the outputs that carry a graph."""
    total = 0
    for o, w in zip(outs, weights):
        if o is not None and w is not None and o.requires_grad:
            total = total + (o * lib.tensor(w, dtype=o.dtype)).sum()
    return total


def _random_like(outs_m, outs_t, rng):
    """One random weight array per output pair (None for integer outputs)."""
    weights = []
    for om, ot in zip(outs_m, outs_t):
        ref = om if om is not None else ot
        floating = ref is not None and "float" in str(ref.dtype)
        weights.append(rng.standard_normal(tuple(ref.shape)) if floating else None)
    return weights


def _grads(lib, total, inputs):
    wanted = [t for t in inputs if t.requires_grad]
    if not wanted or not getattr(total, "requires_grad", False):
        return [None] * len(wanted)
    return list(lib.autograd.grad(total, wanted, create_graph=True, allow_unused=True))


def _numpy(t):
    if t is not None and getattr(t, "_is_zerotensor", lambda: False)():
        return np.zeros(tuple(t.shape))  # (PyTorch's symbolic zeros)
    return None if t is None else t.detach().numpy()


def _same(got, expected, what, rtol, atol):
    if expected is None or got is None:
        g = 0 if got is None else got
        e = 0 if expected is None else expected
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=what)
        return
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)


def assert_matches_torch(md_fn, torch_fn, *arrays, order=2, rtol=1e-10, atol=1e-12, seed=0):
    """Run both on float64 copies of `arrays` (integer arrays stay integer constants):
    same outputs, then (order >= 1) the same gradients of a random weighted sum of
    the outputs, then (order >= 2) the same gradients of a random weighted sum of
    those gradients."""
    import torch
    ours, theirs = _leaves(md, arrays, order > 0), _leaves(torch, arrays, order > 0)
    outs_m, outs_t = _as_list(md_fn(*ours)), _as_list(torch_fn(*theirs))
    assert len(outs_m) == len(outs_t)
    for i, (om, ot) in enumerate(zip(outs_m, outs_t)):
        if om is None or ot is None:
            assert om is None and ot is None, f"output {i}: {om} vs {ot}"
            continue
        assert str(om.dtype) == str(ot.dtype).replace("torch.", ""), \
            f"output {i}: dtype {om.dtype} != {ot.dtype}"
        _same(om.detach().numpy(), ot.detach().numpy(), f"output {i}", rtol, atol)
    for level in range(1, order + 1):
        weights = _random_like(outs_m, outs_t, np.random.default_rng(seed + level))
        total_m, total_t = _weighted(md, outs_m, weights), _weighted(torch, outs_t, weights)
        outs_m, outs_t = _grads(md, total_m, ours), _grads(torch, total_t, theirs)
        for i, (gm, gt) in enumerate(zip(outs_m, outs_t)):
            _same(_numpy(gm), _numpy(gt), f"derivative {level}, input {i}", rtol, atol)
