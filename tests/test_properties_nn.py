"""Property tests (hypothesis) for the nn-level ops added for PyTorch parity:
activations against numpy formulas and their derivatives (float32 and float64,
non-contiguous inputs); see the sections below for the others."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from registry import covers

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)
dtypes = st.sampled_from([np.float32, np.float64])


def weighted_backward(y, rng):
    """Backward of sum(y * w) for a random w; returns w (= dL/dy)."""
    w = rng.standard_normal(y.shape)
    (y * md.tensor(w, dtype=y.dtype)).sum().backward()
    return w


def tolerances(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10,
                                                                       atol=1e-12)


# ---------------------------------------------------------------- activations
def sig(x):
    return 1 / (1 + np.exp(-x))


SA, SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
step = lambda x, lo, hi: ((x > lo) & (x < hi)) * 1.0  # noqa: E731
sp = lambda x: np.log1p(np.exp(x))  # noqa: E731

# name -> (minidl op, numpy f, numpy f')
ACTIVATIONS = {
    "selu": (F.selu, lambda x: SS * np.where(x > 0, x, SA * np.expm1(x)),
             lambda x: SS * np.where(x > 0, 1, SA * np.exp(x))),
    "celu": (lambda t: F.celu(t, 2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)),
             lambda x: np.where(x > 0, 1, np.exp(x / 2))),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5),
                 lambda x: step(x, -0.5, 1.5)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), lambda x: step(x, 0, 6)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1),
                    lambda x: step(x, -3, 3) / 6),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                  lambda x: np.where(x >= 3, 1.0, step(x, -3, 3) * (x / 3 + 0.5))),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(sig(x)), lambda x: 1 - sig(x)),
    "mish": (F.mish, lambda x: x * np.tanh(sp(x)),
             lambda x: np.tanh(sp(x)) + x * sig(x) * (1 - np.tanh(sp(x)) ** 2)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x)),
                 lambda x: 1 / (1 + np.abs(x)) ** 2),
    "threshold": (lambda t: F.threshold(t, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0),
                  lambda x: (x > 0.5) * 1.0),
}


@covers(*ACTIVATIONS)
@pytest.mark.parametrize("name", ACTIVATIONS)
@given(shape=shapes, seed=seeds, dtype=dtypes, transposed=st.booleans())
def test_activation_and_its_derivative_match_numpy(name, shape, seed, dtype, transposed):
    op, f, df = ACTIVATIONS[name]
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-8, 8, shape).astype(dtype)
    x0 = x0.T if transposed else x0  # (a non-contiguous view)
    x = md.from_numpy(x0).requires_grad_()
    y = op(x)
    assert y.dtype == dtype and y.shape == x0.shape
    np.testing.assert_allclose(y.detach().numpy(), f(x0.astype(np.float64)), **tolerances(dtype))
    w = weighted_backward(y, rng)
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.numpy(), w * df(x0.astype(np.float64)),
                               **tolerances(dtype))


@covers("relu", "threshold", "hardtanh", "relu6")
@given(shape=shapes, seed=seeds, inplace=st.booleans(),
       dtype=st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8]))
def test_clamping_activations_keep_integer_dtypes(shape, seed, inplace, dtype):
    """relu, threshold and the hard clamps compute integers exactly, in their dtype
    (inplace=True: in the input itself)."""
    x0 = np.random.default_rng(seed).integers(0 if dtype == np.uint8 else -50, 50, shape)
    x0 = x0.astype(dtype)
    cases = [(F.relu, (), np.maximum(x0, 0)),
             (F.threshold, (3, -7 if dtype != np.uint8 else 7),
              np.where(x0 > 3, x0, -7 if dtype != np.uint8 else 7)),
             (F.hardtanh, (0, 20), np.clip(x0, 0, 20)), (F.relu6, (), np.clip(x0, 0, 6))]
    for fn, args, expected in cases:
        x = md.tensor(x0.copy())
        y = fn(x, *args, inplace=inplace)
        assert y.dtype == dtype and (y is x) == inplace
        np.testing.assert_array_equal(y.numpy(), expected.astype(dtype))


@covers("softmin")
@given(shape=shapes.filter(len), seed=seeds, data=st.data())
def test_softmin_is_softmax_of_the_negation_and_sums_to_one(shape, seed, data):
    x0 = np.random.default_rng(seed).standard_normal(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    y = F.softmin(md.tensor(x0), dim).numpy()
    e = np.exp(x0.min(axis=dim, keepdims=True) - x0)
    np.testing.assert_allclose(y, e / e.sum(axis=dim, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(y.sum(axis=dim), 1.0, rtol=1e-12)


@covers("normalize")
@given(shape=shapes.filter(len), seed=seeds, data=st.data(),
       p=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_normalize_gives_unit_vectors_and_is_scale_invariant(shape, seed, data, p):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    y = F.normalize(md.tensor(x0), p=p, dim=dim).numpy()
    norms = np.linalg.norm(np.moveaxis(y, dim, -1), ord=p, axis=-1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-10)
    scaled = F.normalize(md.tensor(x0 * 3.5), p=p, dim=dim).numpy()
    np.testing.assert_allclose(scaled, y, rtol=1e-10, atol=1e-15)
    # the gradient is orthogonal to x for p = 2 (a unit vector cannot grow along x)
    x = md.tensor(x0, requires_grad=True)
    weighted_backward(F.normalize(x, dim=dim), rng)
    np.testing.assert_allclose((x.grad.numpy() * x0).sum(axis=dim), 0, atol=1e-10)


# ---------------------------------------------------------------- pad
NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}


def pad_reference(a, widths, mode):
    """numpy's np.pad for the growing part; PyTorch crops negative widths off the
    input first for 'circular' (it wraps what is left) and off the result otherwise."""
    k = len(widths)
    crops = [(max(-b, 0), max(-e, 0)) for b, e in widths]
    grow = [(0, 0)] * (a.ndim - k) + [(max(b, 0), max(e, 0)) for b, e in widths]
    cut = lambda t, off: t[(Ellipsis,) + tuple(  # noqa: E731
        slice(lo + o1, t.shape[a.ndim - k + i] - hi - o2)
        for i, ((lo, hi), (o1, o2)) in enumerate(zip(crops, off)))]
    if mode == "circular":
        return np.pad(cut(a, [(0, 0)] * k), grow, mode="wrap")
    padded = np.pad(a, grow, mode=NUMPY_MODES[mode])
    return cut(padded, [(0, 0)] * k)


@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(list(NUMPY_MODES)))
    k = draw(st.integers(1, 3))
    lead = draw(st.integers(1, 2)) if mode != "constant" else draw(st.integers(0, 2))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(lead)) + tuple(
        draw(st.integers(2, 5)) for _ in range(k))
    widths = []
    for n in shape[-k:]:
        limit = n - 1 if mode == "reflect" else n
        b = draw(st.integers(-(n // 2), limit))
        e = draw(st.integers(-(n // 2), limit if mode != "circular" else n + min(b, 0)))
        if mode == "circular":
            b = min(b, n + min(e, 0))
        widths.append((b, e))
    return mode, shape, widths


@covers("pad")
@given(case=pad_cases(), seed=seeds)
def test_pad_matches_numpy_and_its_gradient_is_the_transposed_gather(case, seed):
    mode, shape, widths = case
    flat = tuple(w for pair in reversed(widths) for w in pair)
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    x = md.tensor(x0, requires_grad=True)
    y = F.pad(x, flat, mode=mode)
    np.testing.assert_array_equal(y.detach().numpy(), pad_reference(x0, widths, mode))
    w = weighted_backward(y, rng)
    # every output position adds its upstream gradient to the input it copies
    source = pad_reference(np.arange(x0.size).reshape(shape), widths,
                           "constant" if mode == "constant" else mode)
    inside = pad_reference(np.ones(shape, bool), widths, mode) if mode == "constant" \
        else np.ones(y.shape, bool)
    expected = np.zeros(x0.size)
    np.add.at(expected, source[inside], w[inside])
    np.testing.assert_allclose(x.grad.numpy(), expected.reshape(shape), rtol=1e-12,
                               atol=1e-12)


# ---------------------------------------------------------------- conv1d
def conv1d_reference(x, w, b, stride, padding, dilation, groups):
    """The textbook loops: y[n, o, l] = b[o] + sum_{c, k} w[o, c, k] *
    x[n, g * C_g + c, l * stride - padding + k * dilation]  (zero outside x)."""
    N, C, L = x.shape
    O, Cg, K = w.shape
    OL = (L + 2 * padding - dilation * (K - 1) - 1) // stride + 1
    y = np.zeros((N, O, OL)) + (0 if b is None else b[:, None])
    for o in range(O):
        g = o // (O // groups)
        for c in range(Cg):
            for k in range(K):
                for out in range(OL):
                    i = out * stride - padding + k * dilation
                    if 0 <= i < L:
                        y[:, o, out] += w[o, c, k] * x[:, g * Cg + c, i]
    return y


@covers("conv1d")
@given(N=st.integers(1, 2), groups=st.integers(1, 2), Cg=st.integers(1, 2),
       Og=st.integers(1, 2), K=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 2), dilation=st.integers(1, 2), extra=st.integers(0, 4),
       bias=st.booleans(), seed=seeds)
def test_conv1d_matches_the_textbook_loops(N, groups, Cg, Og, K, stride, padding,
                                           dilation, extra, bias, seed):
    rng = np.random.default_rng(seed)
    L = max(1, dilation * (K - 1) + 1 - 2 * padding) + extra
    x0 = rng.standard_normal((N, Cg * groups, L))
    w0 = rng.standard_normal((Og * groups, Cg, K))
    b0 = rng.standard_normal(Og * groups) if bias else None
    x, w = md.tensor(x0, requires_grad=True), md.tensor(w0, requires_grad=True)
    y = F.conv1d(x, w, None if b0 is None else md.tensor(b0), stride, padding, dilation,
                 groups)
    np.testing.assert_allclose(y.detach().numpy(), conv1d_reference(
        x0, w0, b0, stride, padding, dilation, groups), rtol=1e-10, atol=1e-12)
    # the gradient is the adjoint: <x.grad, dx> = <w_up, conv1d(dx)> for any dx
    w_up = weighted_backward(y, rng)
    dx = rng.standard_normal(x0.shape)
    lhs = np.sum(x.grad.numpy() * dx)
    rhs = np.sum(w_up * conv1d_reference(dx, w0, None, stride, padding, dilation, groups))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- group and instance norm
@st.composite
def norm_inputs(draw):
    groups, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    spatial = spatial if np.prod(spatial) > 1 else spatial + (2,)
    shape = (draw(st.integers(1, 3)), groups * per_group) + spatial
    return groups, shape


@covers("group_norm", "instance_norm")
@given(case=norm_inputs(), seed=seeds)
def test_group_and_instance_norm_standardize_and_agree_at_the_extremes(case, seed):
    groups, shape = case
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape) * 3 + 1
    N, C = shape[:2]
    y = F.group_norm(md.tensor(x0), groups, eps=0.0).numpy()
    grouped = y.reshape(N, groups, -1)
    spread = x0.reshape(N, groups, -1).std(axis=2) > 1e-6
    np.testing.assert_allclose(grouped.mean(axis=2), 0, atol=1e-9)
    np.testing.assert_allclose(grouped.std(axis=2)[spread], 1, rtol=1e-9)
    # one group per channel is instance norm; one group for all is layer norm
    np.testing.assert_allclose(F.group_norm(md.tensor(x0), C).numpy(),
                               F.instance_norm(md.tensor(x0)).numpy(), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(F.group_norm(md.tensor(x0), 1).numpy(),
                               F.layer_norm(md.tensor(x0), shape[1:]).numpy(),
                               rtol=1e-10, atol=1e-10)
    # weight and bias scale and shift per channel
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    affine = F.group_norm(md.tensor(x0), groups, md.tensor(w), md.tensor(b), eps=0.0)
    per_channel = (1, C) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(affine.numpy(), y * w.reshape(per_channel)
                               + b.reshape(per_channel), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- adaptive max pool, unpool
def adaptive_max_reference(x, oh, ow):
    """Slow loops: window i covers [floor(i L / O), ceil((i + 1) L / O)) per axis."""
    N, C, H, W = x.shape
    out = np.empty((N, C, oh, ow))
    where = np.empty((N, C, oh, ow), dtype=np.int64)
    for i in range(oh):
        h0, h1 = (i * H) // oh, -((-(i + 1) * H) // oh)
        for j in range(ow):
            w0, w1 = (j * W) // ow, -((-(j + 1) * W) // ow)
            window = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)
            k = window.argmax(axis=2)
            out[:, :, i, j] = window.max(axis=2)
            where[:, :, i, j] = (h0 + k // (w1 - w0)) * W + w0 + k % (w1 - w0)
    return out, where


@covers("adaptive_max_pool2d")
@given(N=st.integers(1, 2), C=st.integers(1, 2), H=st.integers(1, 7), W=st.integers(1, 7),
       oh=st.integers(1, 8), ow=st.integers(1, 8), seed=seeds)
def test_adaptive_max_pool2d_matches_slow_loops(N, C, H, W, oh, ow, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.permutation(N * C * H * W).reshape(N, C, H, W) * 0.5  # no ties
    x = md.tensor(x0, requires_grad=True)
    y, idx = F.adaptive_max_pool2d(x, (oh, ow), return_indices=True)
    expected, where = adaptive_max_reference(x0, oh, ow)
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), where)
    w = weighted_backward(y, rng)
    grad = np.zeros((N * C, H * W))
    np.add.at(grad, (np.arange(N * C)[:, None], where.reshape(N * C, -1)),
              w.reshape(N * C, -1))
    np.testing.assert_allclose(x.grad.numpy(), grad.reshape(x0.shape), rtol=1e-12)


@covers("max_unpool2d")
@given(N=st.integers(1, 2), C=st.integers(1, 2), H=st.integers(2, 8), W=st.integers(2, 8),
       k=st.integers(1, 3), seed=seeds)
def test_max_unpool2d_puts_back_the_maxima_and_reads_gradients_there(N, C, H, W, k, seed):
    rng = np.random.default_rng(seed)
    k = min(k, H, W)
    x0 = rng.permutation(N * C * H * W).reshape(N, C, H, W) + 1.0  # positive, no ties
    pooled, idx = F.max_pool2d(md.tensor(x0), k, return_indices=True)
    y = md.tensor(pooled.numpy(), requires_grad=True)
    out = F.max_unpool2d(y, idx, k, output_size=(H, W))
    # every maximum is back where it came from, everything else is zero
    kept = np.zeros_like(x0, dtype=bool).reshape(N * C, -1)
    np.put_along_axis(kept, idx.numpy().reshape(N * C, -1), True, axis=1)
    kept = kept.reshape(x0.shape)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(kept, x0, 0))
    np.testing.assert_array_equal(F.max_pool2d(out, k).detach().numpy(), pooled.detach().numpy())
    w = weighted_backward(out, rng)
    expected = np.take_along_axis(w.reshape(N * C, -1), idx.numpy().reshape(N * C, -1),
                                  axis=1)
    np.testing.assert_array_equal(y.grad.numpy(), expected.reshape(pooled.shape))


# ---------------------------------------------------------------- bilinear interpolation
def bilinear_reference(x, out_hw, align_corners):
    """Per output pixel, in Python floats: the source position on each axis, then the
    textbook blend of the four pixels around it."""
    H, W = x.shape[2:]
    out = np.zeros(x.shape[:2] + out_hw)

    def source(i, n_in, n_out):
        if align_corners:
            s = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            s = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = min(math.floor(s), n_in - 1)
        return i0, min(i0 + 1, n_in - 1), min(s - i0, 1.0)

    for oh in range(out_hw[0]):
        h0, h1, th = source(oh, H, out_hw[0])
        for ow in range(out_hw[1]):
            w0, w1, tw = source(ow, W, out_hw[1])
            out[:, :, oh, ow] = ((1 - th) * ((1 - tw) * x[:, :, h0, w0] + tw * x[:, :, h0, w1])
                                 + th * ((1 - tw) * x[:, :, h1, w0] + tw * x[:, :, h1, w1]))
    return out


@covers("interpolate")
@given(H=st.integers(1, 6), W=st.integers(1, 6), OH=st.integers(1, 9), OW=st.integers(1, 9),
       align_corners=st.booleans(), seed=seeds)
def test_bilinear_matches_the_textbook_blend_and_its_gradient_is_the_transpose(
        H, W, OH, OW, align_corners, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((2, 1, H, W))
    x = md.tensor(x0, requires_grad=True)
    y = F.interpolate(x, size=(OH, OW), mode="bilinear", align_corners=align_corners)
    np.testing.assert_allclose(y.detach().numpy(), bilinear_reference(x0, (OH, OW), align_corners),
                               rtol=1e-10, atol=1e-12)
    # the same size is the identity; a constant image stays constant
    same = F.interpolate(md.tensor(x0), size=(H, W), mode="bilinear",
                         align_corners=align_corners)
    np.testing.assert_allclose(same.numpy(), x0, rtol=1e-12, atol=1e-12)
    flat = F.interpolate(md.full((1, 1, H, W), 2.5, dtype=md.float64), size=(OH, OW),
                         mode="bilinear", align_corners=align_corners)
    np.testing.assert_allclose(flat.numpy(), 2.5, rtol=1e-12)
    # <B x, w> = <x, B^T w>: the gradient is the transposed blend
    w = weighted_backward(y, rng)
    dx = rng.standard_normal(x0.shape)
    lhs = np.sum(x.grad.numpy() * dx)
    rhs = np.sum(w * bilinear_reference(dx, (OH, OW), align_corners))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- attention
def attention_reference(q, k, v, keep, scale):
    """Row by row: softmax over the kept keys of q . k * scale, then the mix of v."""
    out = np.zeros(q.shape[:-1] + v.shape[-1:])
    for index in np.ndindex(q.shape[:-2]):
        for i in range(q.shape[-2]):
            s = k[index] @ q[index][i] * scale
            if keep[i].any():
                e = np.exp(s[keep[i]] - s[keep[i]].max())
                out[index][i] = (e / e.sum()) @ v[index][keep[i]]
    return out


@covers("scaled_dot_product_attention")
@given(L=st.integers(1, 5), S=st.integers(1, 5), E=st.integers(1, 4), causal=st.booleans(),
       masked=st.booleans(), seed=seeds)
def test_attention_matches_row_by_row_softmax_and_ignores_key_order(L, S, E, causal,
                                                                    masked, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((2, n, d)) for n, d in ((L, E), (S, E), (S, 3)))
    keep = np.tril(np.ones((L, S), bool)) if causal else \
        (rng.random((L, S)) > 0.3 if masked else np.ones((L, S), bool))
    mask = None if causal or not masked else md.tensor(keep)
    y = F.scaled_dot_product_attention(md.tensor(q), md.tensor(k), md.tensor(v),
                                       attn_mask=mask, is_causal=causal)
    np.testing.assert_allclose(y.numpy(), attention_reference(q, k, v, keep, E ** -0.5),
                               rtol=1e-10, atol=1e-12)
    if not causal:  # keys (with their values and mask columns) form a set
        order = rng.permutation(S)
        mask = None if mask is None else md.tensor(keep[:, order])
        shuffled = F.scaled_dot_product_attention(
            md.tensor(q), md.tensor(k[:, order]), md.tensor(v[:, order]), attn_mask=mask)
        np.testing.assert_allclose(shuffled.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)
