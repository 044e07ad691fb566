"""max_pool2d, avg_pool2d, adaptive_avg_pool2d and interpolate: against slow direct-loop
references, pooling invariants, PyTorch (when installed), dtypes and error messages."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minidl as md
import minidl.functional as F
from registry import covers


# ------------------------------------------------------------------ references
def out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size, written from its documentation."""
    span = d * (k - 1) + 1
    n = (size + 2 * p - span) / s
    n = (math.ceil(n) if ceil_mode else math.floor(n)) + 1
    if ceil_mode and (n - 1) * s >= size + p:  # last window may not start in padding
        n -= 1
    return n


def ref_max_pool(x, k, s, p, d, ceil_mode):
    """Loop over every window; return values, flat argmax (first max) and the input
    gradient of sum(out * g) for a given g."""
    N, C, H, W = x.shape
    OH, OW = (out_size(H, k[0], s[0], p[0], d[0], ceil_mode),
              out_size(W, k[1], s[1], p[1], d[1], ceil_mode))
    vals, idx = np.full((N, C, OH, OW), -np.inf), np.zeros((N, C, OH, OW), np.int64)
    for n, c, oh, ow in np.ndindex(N, C, OH, OW):
        first = None
        for i in range(k[0]):
            for j in range(k[1]):
                h, w = oh * s[0] - p[0] + i * d[0], ow * s[1] - p[1] + j * d[1]
                if 0 <= h < H and 0 <= w < W:
                    if first is None or x[n, c, h, w] > vals[n, c, oh, ow]:
                        vals[n, c, oh, ow], idx[n, c, oh, ow] = x[n, c, h, w], h * W + w
                    first = first or (h, w)
    return vals, idx


def ref_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    N, C, H, W = x.shape
    OH, OW = out_size(H, k[0], s[0], p[0], 1, ceil_mode), \
        out_size(W, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((N, C, OH, OW))
    for oh, ow in np.ndindex(OH, OW):
        total, inside, padded = 0.0, 0, 0
        for i in range(k[0]):
            for j in range(k[1]):
                h, w = oh * s[0] - p[0] + i, ow * s[1] - p[1] + j
                if -p[0] <= h < H + p[0] and -p[1] <= w < W + p[1]:
                    padded += 1  # counts zero padding, not what lies past it
                if 0 <= h < H and 0 <= w < W:
                    inside += 1
                    total = total + x[:, :, h, w]
        divisor = divisor_override or (padded if count_include_pad else inside)
        out[:, :, oh, ow] = total / divisor
    return out


@st.composite
def pool_cases(draw, dilation=True):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans())
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
             draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    assume(all(out_size(shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode) > 0
               for i in range(2)))
    seed = draw(st.integers(0, 2**16))
    return shape, k, s, p, d, ceil_mode, seed


def distinct_values(shape, seed):
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(
        shape).astype(np.float64)


# ------------------------------------------------------------------ max_pool2d
@covers("max_pool2d")
@given(pool_cases())
def test_max_pool2d_matches_reference(case):
    shape, k, s, p, d, ceil_mode, seed = case
    x = np.random.default_rng(seed).integers(-3, 3, shape).astype(np.float64)  # ties
    vals, idx = ref_max_pool(x, k, s, p, d, ceil_mode)
    t = md.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(t, k, s, p, d, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), vals)
    inside = np.isfinite(vals)  # (a window that misses the input has no argmax)
    np.testing.assert_array_equal(indices.numpy()[inside], idx[inside])
    assert indices.dtype == np.int64
    # backward: each output's gradient lands on its argmax (the first max on ties)
    g = np.random.default_rng(seed + 1).standard_normal(vals.shape)
    out.backward(md.tensor(g))
    expected = np.zeros(x.shape)
    for n, c, oh, ow in np.ndindex(*vals.shape):
        if np.isfinite(vals[n, c, oh, ow]):
            h, w = divmod(idx[n, c, oh, ow], shape[3])
            expected[n, c, h, w] += g[n, c, oh, ow]
    np.testing.assert_allclose(t.grad.numpy(), expected, atol=1e-12)


@covers("max_pool2d", "avg_pool2d")
@given(pool_cases(dilation=False))
def test_max_pool_dominates_avg_pool_without_padding(case):
    shape, k, s, _, _, ceil_mode, seed = case
    assume(all(out_size(shape[2 + i], k[i], s[i], 0, 1, False) > 0 for i in range(2)))
    x = md.tensor(np.random.default_rng(seed).standard_normal(shape))
    mx, avg = F.max_pool2d(x, k, s), F.avg_pool2d(x, k, s)
    assert mx.shape == avg.shape
    assert (mx.numpy() >= avg.numpy() - 1e-12).all()


@covers("max_pool2d")
@given(pool_cases(dilation=False))
def test_max_pool_of_a_constant_is_the_constant(case):
    shape, k, s, p, d, ceil_mode, _ = case  # (without dilation every window holds input)
    out = F.max_pool2d(md.full(shape, 2.5), k, s, p, d, ceil_mode)
    assert (out.numpy() == 2.5).all()


def test_dilated_window_entirely_in_padding_gives_minus_inf_like_torch():
    out, idx = F.max_pool2d(md.tensor(np.ones((1, 1, 3, 1))), 3, (1, 3), 1, (1, 2),
                            ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(out.numpy().ravel(), [-np.inf] * 3)
    np.testing.assert_array_equal(idx.numpy().ravel(), [1, 1, 2])  # PyTorch's values


@covers("max_pool2d")
@given(pool_cases())
def test_max_pool_gradient_sums_to_number_of_outputs(case):
    shape, k, s, p, d, ceil_mode, seed = case
    t = md.tensor(distinct_values(shape, seed), requires_grad=True)
    out = F.max_pool2d(t, k, s, p, d, ceil_mode)
    out.sum().backward()
    n_real = np.isfinite(out.detach().numpy()).sum()
    assert t.grad.numpy().sum() == n_real
    assert set(np.unique(t.grad.numpy())) <= set(range(0, out.numel() + 1))


def test_max_pool2d_nan_wins_and_ties_go_to_the_first():
    x = md.tensor([[[[1.0, 3.0], [3.0, 0.0]]]], requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.item() == 1
    out.backward(md.ones(out.shape))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 1], [0, 0]]]])
    y = md.tensor([[[[1.0, np.nan], [5.0, 0.0]]]])
    out, idx = F.max_pool2d(y, 2, return_indices=True)
    assert np.isnan(out.item()) and idx.item() == 1


def test_max_pool2d_second_derivative_flows_through_the_scatter():
    x = md.tensor(distinct_values((1, 1, 4, 4), 0), requires_grad=True)
    g = md.tensor(np.arange(4.0).reshape(1, 1, 2, 2), requires_grad=True)
    out = F.max_pool2d(x, 2)
    dx, = md.autograd.grad(out, x, g, create_graph=True)
    v = md.tensor(np.random.default_rng(1).standard_normal((1, 1, 4, 4)))
    dg, = md.autograd.grad((dx * v).sum(), g)
    # d/dg of <scatter(g), v> = v read at the argmax positions
    _, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_allclose(dg.numpy().ravel(), v.numpy().ravel()[idx.numpy().ravel()])


# ------------------------------------------------------------------ avg_pool2d
@covers("avg_pool2d")
@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 1, 3]))
def test_avg_pool2d_matches_reference(case, count_include_pad, divisor_override):
    shape, k, s, p, _, ceil_mode, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    expected = ref_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override)
    t = md.tensor(x, requires_grad=True)
    out = F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad, divisor_override)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    # backward is the transpose: <avg(x), g> = <x, avg^T(g)> for every x
    g = np.random.default_rng(seed + 1).standard_normal(expected.shape)
    (out * md.tensor(g)).sum().backward()
    probe = np.random.default_rng(seed + 2).standard_normal(shape)
    lhs = (ref_avg_pool(probe, k, s, p, ceil_mode, count_include_pad,
                        divisor_override) * g).sum()
    np.testing.assert_allclose((t.grad.numpy() * probe).sum(), lhs, rtol=1e-10,
                               atol=1e-10)


@covers("avg_pool2d")
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 100))
def test_avg_pool_gradient_total_is_grad_total_when_windows_tile(kh, kw, nh, nw, seed):
    rng = np.random.default_rng(seed)
    t = md.tensor(rng.standard_normal((2, 2, kh * nh, kw * nw)), requires_grad=True)
    out = F.avg_pool2d(t, (kh, kw))
    g = rng.standard_normal(out.shape)
    out.backward(md.tensor(g))
    np.testing.assert_allclose(t.grad.numpy().sum(), g.sum(), atol=1e-10)
    # and each input gets exactly its window's g / (kh * kw)
    spread = np.repeat(np.repeat(g, kh, axis=2), kw, axis=3) / (kh * kw)
    np.testing.assert_allclose(t.grad.numpy(), spread, atol=1e-12)


@covers("adaptive_avg_pool2d")
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.integers(1, 5))
def test_adaptive_avg_pool2d_matches_reference(h, w, oh, ow):
    x = np.random.default_rng(h * 100 + w).standard_normal((1, 2, h, w))
    out = F.adaptive_avg_pool2d(md.tensor(x), (oh, ow)).numpy()
    for i, j in np.ndindex(oh, ow):
        rows = slice(i * h // oh, math.ceil((i + 1) * h / oh))
        cols = slice(j * w // ow, math.ceil((j + 1) * w / ow))
        np.testing.assert_allclose(out[:, :, i, j], x[:, :, rows, cols].mean((2, 3)))


# ------------------------------------------------------------------ dtypes, layouts
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["max", "avg", "adaptive", "interpolate"])
def test_dtype_is_preserved_forward_and_backward(dtype, op):
    fn = {"max": lambda t: F.max_pool2d(t, 2, padding=1),
          "avg": lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False),
          "adaptive": lambda t: F.adaptive_avg_pool2d(t, 3),
          "interpolate": lambda t: F.interpolate(t, scale_factor=2)}[op]
    t = md.tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(dtype),
                  requires_grad=True)
    out = fn(t)
    out.sum().backward()
    assert out.dtype == dtype and t.grad.dtype == dtype


def test_non_contiguous_and_unbatched_inputs():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5))
    view = md.tensor(x).permute(0, 1, 3, 2)  # a transposed (non-contiguous) view
    np.testing.assert_array_equal(F.max_pool2d(view, 2).numpy(),
                                  F.max_pool2d(md.tensor(x.transpose(0, 1, 3, 2).copy()),
                                               2).numpy())
    unbatched, idx = F.max_pool2d(md.tensor(x[0]), 2, return_indices=True)
    batched, idx4 = F.max_pool2d(md.tensor(x[:1]), 2, return_indices=True)
    assert unbatched.shape == (3, 3, 2) and idx.shape == (3, 3, 2)
    np.testing.assert_array_equal(unbatched.numpy(), batched.numpy()[0])
    np.testing.assert_array_equal(idx.numpy(), idx4.numpy()[0])
    assert F.avg_pool2d(md.tensor(x[0]), 2).shape == (3, 3, 2)


def test_large_inputs_use_the_same_kernels_in_parallel():
    x = np.random.default_rng(0).standard_normal((8, 32, 20, 20))  # above the threshold
    vals, idx = ref_max_pool(x[:1, :2], (2, 2), (2, 2), (0, 0), (1, 1), False)
    out, ind = F.max_pool2d(md.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy()[:1, :2], vals)
    np.testing.assert_array_equal(ind.numpy()[:1, :2], idx)
    np.testing.assert_allclose(F.avg_pool2d(md.tensor(x), 2).numpy(),
                               x.reshape(8, 32, 10, 2, 10, 2).mean((3, 5)))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, words", [
    (lambda x: F.max_pool2d(x.reshape(4, 4), 2), ["max_pool2d", "(4, 4)", "4-D"]),
    (lambda x: F.max_pool2d(x, 3, padding=2), ["max_pool2d", "padding", "half"]),
    (lambda x: F.avg_pool2d(x, 2, padding=(0, 2)), ["avg_pool2d", "padding", "half"]),
    (lambda x: F.max_pool2d(x, 5), ["max_pool2d", "(1, 1, 4, 4)", "too small"]),
    (lambda x: F.avg_pool2d(x, (1, 5)), ["avg_pool2d", "(1, 5)", "too small"]),
    (lambda x: F.max_pool2d(x, 2, stride=0), ["max_pool2d", "stride"]),
    (lambda x: F.max_pool2d(x, 2, dilation=0), ["max_pool2d", "dilation"]),
    (lambda x: F.max_pool2d(x, 0), ["max_pool2d", "kernel_size"]),
    (lambda x: F.adaptive_avg_pool2d(x, 0), ["adaptive_avg_pool2d", "positive"]),
    (lambda x: F.interpolate(x, size=0), ["interpolate", "positive"]),
    (lambda x: F.interpolate(x), ["interpolate", "exactly one"]),
    (lambda x: F.interpolate(x, size=2, scale_factor=2), ["interpolate", "exactly one"]),
    (lambda x: F.interpolate(x.reshape(16), size=2), ["interpolate", "(16,)"]),
    (lambda x: F.interpolate(x, size=(2, 3, 4)), ["interpolate", "size"]),
])
def test_errors_name_the_op_and_the_rule(call, words):
    x = md.tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises((ValueError, RuntimeError, TypeError)) as info:
        call(x)
    for word in words:
        assert word in str(info.value)


def test_interpolate_rejects_other_modes():
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(md.zeros((1, 1, 2, 2)), scale_factor=2, mode="bicubic")


# ------------------------------------------------------------------ interpolate
def ref_nearest(x, out_hw):
    """PyTorch's nearest rule, in plain Python floats: src = floor(i * in / out)."""
    H, W = x.shape[2:]
    OH, OW = out_hw
    out = np.zeros(x.shape[:2] + out_hw)
    for i, j in np.ndindex(OH, OW):
        out[:, :, i, j] = x[:, :, min(i * H // OH, H - 1), min(j * W // OW, W - 1)]
    return out


@covers("interpolate")
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 13), st.integers(1, 13))
def test_interpolate_size_matches_reference_and_backward_sums(h, w, oh, ow):
    x = np.random.default_rng(h * 7 + w).standard_normal((1, 2, h, w))
    t = md.tensor(x, requires_grad=True)
    out = F.interpolate(t, size=(oh, ow))
    np.testing.assert_array_equal(out.detach().numpy(), ref_nearest(x, (oh, ow)))
    out.sum().backward()
    # each input pixel's gradient = how many output pixels copied it
    rows = np.bincount([min(i * h // oh, h - 1) for i in range(oh)], minlength=h)
    cols = np.bincount([min(j * w // ow, w - 1) for j in range(ow)], minlength=w)
    np.testing.assert_array_equal(t.grad.numpy()[0, 0], np.outer(rows, cols))


def test_interpolate_integer_scale_repeats_pixels():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    out = F.interpolate(md.tensor(x), scale_factor=(2, 3))
    np.testing.assert_array_equal(out.numpy(),
                                  np.repeat(np.repeat(x, 2, axis=2), 3, axis=3))


# ------------------------------------------------------------------ against PyTorch
@given(pool_cases())
def test_max_pool2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    shape, k, s, p, d, ceil_mode, seed = case
    x = np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float32)
    t = md.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(t, k, s, p, d, ceil_mode, return_indices=True)
    xt = torch.tensor(x, requires_grad=True)
    ref, ref_idx = torch.nn.functional.max_pool2d(xt, k, s, p, d, ceil_mode, True)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    if np.isinf(ref.detach().numpy()).any():
        return  # a window missed the input: PyTorch's backward writes out of bounds
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    out.backward(md.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), atol=1e-6)


@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 2]))
def test_avg_pool2d_matches_torch(case, count_include_pad, divisor_override):
    torch = pytest.importorskip("torch")
    shape, k, s, p, _, ceil_mode, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    t = md.tensor(x, requires_grad=True)
    out = F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad, divisor_override)
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.avg_pool2d(xt, k, s, p, ceil_mode, count_include_pad,
                                         divisor_override)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(md.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 6), st.integers(1, 6))
def test_adaptive_avg_pool2d_matches_torch(h, w, oh, ow):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(h + 10 * w).standard_normal((2, 2, h, w))
    t = md.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out = F.adaptive_avg_pool2d(t, (oh, ow))
    ref = torch.nn.functional.adaptive_avg_pool2d(xt, (oh, ow))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@given(st.integers(1, 7), st.integers(1, 7),
       st.one_of(st.tuples(st.integers(1, 15), st.integers(1, 15)),
                 st.tuples(st.floats(0.3, 4.0), st.floats(0.3, 4.0))),
       st.sampled_from(["nearest", "nearest-exact"]))
def test_interpolate_matches_torch(h, w, target, mode):
    torch = pytest.importorskip("torch")
    kw = dict(size=target) if isinstance(target[0], int) else dict(scale_factor=target)
    assume(isinstance(target[0], int) or min(math.floor(h * target[0]),
                                             math.floor(w * target[1])) > 0)
    x = np.random.default_rng(h + 10 * w).standard_normal((1, 2, h, w)).astype(np.float32)
    t = md.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out = F.interpolate(t, mode=mode, **kw)
    ref = torch.nn.functional.interpolate(xt, mode=mode, **kw)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    g = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    out.backward(md.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), atol=1e-5)


# ------------------------------------------------------------------ nn layers
LAYERS = [("MaxPool2d", (2,), {}), ("MaxPool2d", (3, 2, 1), dict(ceil_mode=True)),
          ("MaxPool2d", ((2, 3),), dict(dilation=(1, 2))),
          ("AvgPool2d", (2,), {}),
          ("AvgPool2d", (3, 1, 1), dict(count_include_pad=False)),
          ("AdaptiveAvgPool2d", ((2, 3),), {}), ("AdaptiveAvgPool2d", (1,), {}),
          ("Upsample", (), dict(scale_factor=2)), ("Upsample", ((3, 7),), {}),
          ("Upsample", (), dict(scale_factor=(1.5, 2), mode="nearest-exact"))]


@pytest.mark.parametrize("name, args, kw", LAYERS)
def test_layers_call_their_function(name, args, kw):
    x = md.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 7)))
    layer = getattr(md.nn, name)(*args, **kw)
    fn = {"MaxPool2d": F.max_pool2d, "AvgPool2d": F.avg_pool2d,
          "AdaptiveAvgPool2d": F.adaptive_avg_pool2d, "Upsample": F.interpolate}[name]
    expected = fn(x, *args, **kw)
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
    assert list(layer.state_dict()) == [] and list(layer.parameters()) == []


def test_max_pool_layer_return_indices():
    out, idx = md.nn.MaxPool2d(2, return_indices=True)(md.tensor(np.eye(4)[None, None]))
    np.testing.assert_array_equal(idx.numpy().ravel(), [0, 2, 8, 10])


@pytest.mark.parametrize("name, args, kw", LAYERS)
def test_layers_match_torch_repr_and_output(name, args, kw):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7)).astype(np.float32)
    mine, theirs = getattr(md.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(mine) == repr(theirs)
    np.testing.assert_allclose(mine(md.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).numpy(), atol=1e-6)
