"""Convolution (minidl/ops/conv.py, minidl/kernels/im2col.py): against slow direct-loop
references over random geometries, the adjoint identities that tie conv2d,
conv_transpose2d and conv2d_weight together, PyTorch (optional oracle) for values and
first and second derivatives, dtype preservation and error messages."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from registry import covers
from minidl.kernels.im2col import im2col, col2im


# ---------------------------------------------------------------- slow references
def ref_conv2d(x, w, b, stride, padding, dilation, groups):
    """y[n, o, oh, ow] = sum_{c,i,j} w[o, c, i, j] x_pad[n, c, oh*s + i*d, ow*s + j*d],
    one output pixel at a time."""
    (N, C, H, W), (O, Cg, KH, KW) = x.shape, w.shape
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
    OH = (H + 2 * pH - dH * (KH - 1) - 1) // sH + 1
    OW = (W + 2 * pW - dW * (KW - 1) - 1) // sW + 1
    Og = O // groups
    y = np.zeros((N, O, OH, OW))
    for g in range(groups):
        wg = w[g * Og:(g + 1) * Og]
        for oh in range(OH):
            for ow in range(OW):
                window = xp[:, g * Cg:(g + 1) * Cg,
                            oh * sH:oh * sH + dH * (KH - 1) + 1:dH,
                            ow * sW:ow * sW + dW * (KW - 1) + 1:dW]
                y[:, g * Og:(g + 1) * Og, oh, ow] = np.einsum("ncij,ocij->no", window, wg)
    return y if b is None else y + b[:, None, None]


def ref_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    """Scatter: input pixel (h, w) adds x[n, c, h, w] * w[c, o, i, j] to output pixel
    (h*s + i*d - p, w*s + j*d - p); rows/cols cut by the padding are dropped."""
    (N, C, H, W), (_, Og, KH, KW) = x.shape, w.shape
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    full_h = (H - 1) * sH + dH * (KH - 1) + 1 + output_padding[0]
    full_w = (W - 1) * sW + dW * (KW - 1) + 1 + output_padding[1]
    Cg = C // groups
    full = np.zeros((N, Og * groups, full_h, full_w))
    for g in range(groups):
        xg, wg = x[:, g * Cg:(g + 1) * Cg], w[g * Cg:(g + 1) * Cg]
        for i in range(KH):
            for j in range(KW):
                contrib = np.einsum("nchw,co->nohw", xg, wg[:, :, i, j])
                full[:, g * Og:(g + 1) * Og,
                     i * dH:i * dH + (H - 1) * sH + 1:sH,
                     j * dW:j * dW + (W - 1) * sW + 1:sW] += contrib
    y = full[:, :, pH:full_h - pH, pW:full_w - pW]
    return y if b is None else y + b[:, None, None]


# ---------------------------------------------------------------- random geometry
@st.composite
def geometries(draw, transposed=False):
    """A random conv geometry whose output is non-empty (including size-1 dims)."""
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))  # noqa
    g = dict(N=draw(st.integers(1, 3)), groups=draw(st.integers(1, 3)),
             Cg=draw(st.integers(1, 3)), Og=draw(st.integers(1, 3)),
             kernel=pair(1, 4), stride=pair(1, 3), padding=pair(0, 2),
             dilation=pair(1, 3), bias=draw(st.booleans()))
    size = []
    for k, p, d in zip(g["kernel"], g["padding"], g["dilation"]):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)  # the kernel must fit the padded input
        size.append(smallest + draw(st.integers(0, 4)))
    g["size"] = tuple(size)
    if transposed:
        # output_padding < max(stride, dilation); padding may not eat the whole output
        g["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1))
                                    for s, d in zip(g["stride"], g["dilation"]))
        g["padding"] = tuple(min(p, ((n - 1) * s + d * (k - 1) + o) // 2)
                             for p, n, s, d, k, o in zip(
                                 g["padding"], g["size"], g["stride"], g["dilation"],
                                 g["kernel"], g["output_padding"]))
    return g


def conv_arrays(g, rng, transposed=False):
    C, O = g["Cg"] * g["groups"], g["Og"] * g["groups"]
    x = rng.standard_normal((g["N"], C) + g["size"])
    w_shape = (C, g["Og"]) if transposed else (O, g["Cg"])
    w = rng.standard_normal(w_shape + g["kernel"])
    b = rng.standard_normal(O) if g["bias"] else None
    return x, w, b


def t64(a, requires_grad=False):
    return None if a is None else md.tensor(a, dtype=md.float64,
                                            requires_grad=requires_grad)


def conv_kw(g):
    return dict(stride=g["stride"], padding=g["padding"], dilation=g["dilation"],
                groups=g["groups"])


def convt_kw(g):
    return dict(conv_kw(g), output_padding=g["output_padding"])


def inner(a, b):
    return float(np.sum(np.asarray(a) * np.asarray(b)))


# ---------------------------------------------------------------- values and shapes
@covers("conv2d")
@given(geometries(), st.integers(0, 2**16))
def test_conv2d_matches_direct_loops_and_shape_formula(g, seed):
    x, w, b = conv_arrays(g, np.random.default_rng(seed))
    y = F.conv2d(t64(x), t64(w), t64(b), **conv_kw(g))
    expected_hw = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(
        g["size"], g["kernel"], g["stride"], g["padding"], g["dilation"]))
    assert y.shape == (g["N"], g["Og"] * g["groups"]) + expected_hw
    np.testing.assert_allclose(y.numpy(), ref_conv2d(x, w, b, **conv_kw(g)),
                               rtol=1e-10, atol=1e-10)


@covers("conv_transpose2d")
@given(geometries(transposed=True), st.integers(0, 2**16))
def test_conv_transpose2d_matches_direct_loops_and_shape_formula(g, seed):
    x, w, b = conv_arrays(g, np.random.default_rng(seed), transposed=True)
    y = F.conv_transpose2d(t64(x), t64(w), t64(b), **convt_kw(g))
    expected_hw = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1
                        for n, k, s, p, d, o in zip(g["size"], g["kernel"], g["stride"],
                                                    g["padding"], g["dilation"],
                                                    g["output_padding"]))
    assert y.shape == (g["N"], g["Og"] * g["groups"]) + expected_hw
    np.testing.assert_allclose(y.numpy(), ref_conv_transpose2d(x, w, b, **convt_kw(g)),
                               rtol=1e-10, atol=1e-10)


@covers("conv2d", "conv_transpose2d", "conv2d_weight")
@given(geometries(), st.integers(0, 2**16))
def test_transpose_and_weight_ops_are_the_adjoints_of_conv2d(g, seed):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> = <w, conv2d_weight(x, w.shape, y)>"""
    rng = np.random.default_rng(seed)
    x, w, _ = conv_arrays(g, rng)
    y = F.conv2d(t64(x), t64(w), **conv_kw(g))
    ybar = rng.standard_normal(y.shape)
    # output_padding that restores x's size (strides can drop trailing input rows)
    natural = [(o - 1) * s - 2 * p + d * (k - 1) + 1 for o, s, p, d, k in zip(
        y.shape[2:], g["stride"], g["padding"], g["dilation"], g["kernel"])]
    output_padding = tuple(n - m for n, m in zip(g["size"], natural))
    if any(o >= max(s, d) for o, s, d in zip(output_padding, g["stride"], g["dilation"])):
        return  # PyTorch's rule forbids this output_padding; conv2d's backward does not
    xbar = F.conv_transpose2d(t64(ybar), t64(w), output_padding=output_padding,
                              **conv_kw(g))
    wbar = F.conv2d_weight(t64(x), w.shape, t64(ybar), **conv_kw(g))
    assert xbar.shape == x.shape and wbar.shape == w.shape
    lhs = inner(y, ybar)
    np.testing.assert_allclose(inner(x, xbar), lhs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(inner(w, wbar), lhs, rtol=1e-9, atol=1e-9)


@given(geometries(), st.integers(0, 2**16), st.sampled_from([np.float32, np.float64]))
def test_col2im_is_the_adjoint_of_im2col(g, seed, dtype):
    rng = np.random.default_rng(seed)
    C = g["Cg"] * g["groups"]
    x = rng.standard_normal((g["N"], C) + g["size"]).astype(dtype)
    out_hw = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(
        g["size"], g["kernel"], g["stride"], g["padding"], g["dilation"]))
    cols_shape = (C,) + g["kernel"] + (g["N"],) + out_hw
    cols = np.empty(cols_shape, dtype)
    im2col(x, g["stride"], g["padding"], g["dilation"], cols)
    c = rng.standard_normal(cols_shape).astype(dtype)
    back = np.zeros_like(x)
    col2im(c, g["stride"], g["padding"], g["dilation"], back)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(inner(cols, c), inner(x, back), rtol=tol, atol=tol)
    # and im2col itself is the textbook index map
    (sH, sW), (pH, pW), (dH, dW) = g["stride"], g["padding"], g["dilation"]
    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
    for ci, i, j, n, oh, ow in [tuple(rng.integers(0, s) for s in cols_shape)
                                for _ in range(5)]:
        assert cols[ci, i, j, n, oh, ow] == xp[n, ci, oh * sH + i * dH, ow * sW + j * dW]


def test_col2im_adds_onto_what_is_there(rng):
    x = rng.standard_normal((1, 1, 3, 3))
    cols = np.ones((1, 2, 2, 1, 2, 2))
    out = x.copy()
    col2im(cols, (1, 1), (0, 0), (1, 1), out)
    counts = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]])  # windows covering each pixel
    np.testing.assert_allclose(out[0, 0], x[0, 0] + counts)


def test_non_contiguous_inputs_give_the_same_result(rng):
    x = rng.standard_normal((3, 6, 2, 7)).transpose(0, 2, 3, 1)[:, :, ::2]  # (3, 2, 4, 6)
    w = rng.standard_normal((3, 2, 2, 3, 4))[..., 1].transpose(0, 1, 3, 2)  # (3, 2, 3, 2)
    y = F.conv2d(t64(x), t64(w), padding=1)
    expected = F.conv2d(t64(np.ascontiguousarray(x)), t64(np.ascontiguousarray(w)),
                        padding=1)
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


def test_outputs_do_not_share_reused_scratch_memory(rng):
    x1, x2 = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2, 5, 5))
    w = t64(rng.standard_normal((3, 2, 3, 3)))
    y1 = F.conv2d(t64(x1), w)
    kept = y1.numpy().copy()
    F.conv2d(t64(x2), w)
    F.conv_transpose2d(y1, w)
    np.testing.assert_array_equal(y1.numpy(), kept)


def test_unbatched_input_is_a_batch_of_one(rng):
    x, w, b = rng.standard_normal((2, 5, 6)), rng.standard_normal((3, 2, 3, 3)), None
    y = F.conv2d(t64(x), t64(w), padding=1)
    assert y.shape == (3, 5, 6)
    np.testing.assert_allclose(y.numpy(), ref_conv2d(x[None], w, b, (1, 1), (1, 1),
                                                     (1, 1), 1)[0])
    yt = F.conv_transpose2d(t64(x), t64(rng.standard_normal((2, 3, 2, 2))), stride=2)
    assert yt.shape == (3, 10, 12)


@pytest.mark.parametrize("kernel,dilation", [((3, 3), (1, 1)), ((2, 4), (1, 1)),
                                             ((2, 3), (2, 1)), ((4, 1), (3, 2))])
def test_same_padding_keeps_the_size_and_pads_the_odd_unit_last(rng, kernel, dilation):
    x, w = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2) + kernel)
    y = F.conv2d(t64(x), t64(w), padding="same", dilation=dilation)
    assert y.shape == (2, 3, 6, 5)
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    xp = np.pad(x, ((0, 0), (0, 0), (total[0] // 2, total[0] - total[0] // 2),
                    (total[1] // 2, total[1] - total[1] // 2)))
    np.testing.assert_allclose(y.numpy(), ref_conv2d(xp, w, None, (1, 1), (0, 0),
                                                     dilation, 1), atol=1e-12)
    assert F.conv2d(t64(x), t64(w), padding="valid").shape == (
        2, 3, 6 - kernel[0] + 1, 5 - kernel[1] + 1)


# ---------------------------------------------------------------- float32 stays float32
@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_float32_in_float32_out_and_float32_gradients_of_all_orders(rng, op):
    x = md.tensor(rng.standard_normal((2, 4, 6, 5)).astype(np.float32),
                  requires_grad=True)
    w = md.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32),
                  requires_grad=True)
    b = md.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    y = getattr(F, op)(x, w, b, stride=2, padding=1, groups=2)
    assert y.dtype == np.float32
    gx, gw, gb = md.autograd.grad((y * y).sum(), (x, w, b), create_graph=True)
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    ggx, ggw = md.autograd.grad((gx * gx).sum() + (gw * gw).sum(), (x, w))
    assert ggx.dtype == ggw.dtype == np.float32
    assert np.isfinite(ggx.numpy()).all() and np.abs(ggw.numpy()).sum() > 0


# ---------------------------------------------------------------- errors
def _f32(*shape):
    return md.zeros(shape, dtype=md.float32)


@pytest.mark.parametrize("call,error,words", [
    (lambda: F.conv2d(_f32(2, 3, 4), _f32(2, 3, 3, 3)), md.ShapeError,   # unbatched
     ["conv2d", "2 channels", "(2, 3, 3, 3)", "expects 3"]),
    (lambda: F.conv2d(_f32(5, 5), _f32(1, 1, 3, 3)), md.ShapeError,
     ["conv2d", "4-D input", "(5, 5)"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(1, 3, 3)), md.ShapeError,
     ["conv2d", "4-D weight", "(1, 3, 3)"]),
    (lambda: F.conv2d(_f32(1, 2, 5, 5), _f32(4, 3, 3, 3)), md.ShapeError,
     ["conv2d", "2 channels", "expects 3"]),
    (lambda: F.conv2d(_f32(1, 4, 5, 5), _f32(3, 2, 3, 3), groups=2), md.ShapeError,
     ["conv2d", "groups=2", "divide", "(3, 2, 3, 3)"]),
    (lambda: F.conv2d(_f32(1, 1, 2, 5), _f32(1, 1, 3, 3)), md.ShapeError,
     ["conv2d", "kernel", "(2, 5)", "(3, 3)"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(1, 1, 3, 3), dilation=3), md.ShapeError,
     ["conv2d", "dilated kernel size (7, 7)"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(2, 1, 3, 3), _f32(3)), md.ShapeError,
     ["conv2d", "bias of shape (2,)", "(3,)"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(1, 1, 3, 3), stride=0), ValueError,
     ["conv2d", "stride", "positive"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(1, 1, 3, 3), padding=-1), ValueError,
     ["conv2d", "padding", "non-negative"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(1, 1, 3, 3), padding="full"), ValueError,
     ["conv2d", "'valid', 'same'", "'full'"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(1, 1, 3, 3), stride=2, padding="same"),
     ValueError, ["conv2d", "same", "strided"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), _f32(1, 1, 3, 3), groups=0), ValueError,
     ["conv2d", "groups", "positive"]),
    (lambda: F.conv2d(_f32(1, 1, 5, 5), md.zeros((1, 1, 3, 3), dtype=md.float64)),
     TypeError, ["conv2d", "input float32", "weight float64", "one dtype"]),
    (lambda: F.conv2d(md.zeros((1, 1, 5, 5), dtype=md.int64), _f32(1, 1, 3, 3)),
     TypeError, ["conv2d", "floating-point", "int64"]),
    (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), _f32(1, 1, 3, 3)), TypeError,
     ["conv2d", "input must be a Tensor", "ndarray"]),
    (lambda: F.conv_transpose2d(_f32(1, 2, 3, 3), _f32(3, 2, 3, 3)), md.ShapeError,
     ["conv_transpose2d", "2 channels", "expects 3"]),
    (lambda: F.conv_transpose2d(_f32(1, 2, 3, 3), _f32(2, 2, 3, 3), stride=2,
                                output_padding=2), ValueError,
     ["conv_transpose2d", "output_padding", "smaller than either stride or dilation"]),
    (lambda: F.conv_transpose2d(_f32(1, 2, 1, 1), _f32(2, 2, 1, 1), padding=1),
     md.ShapeError, ["conv_transpose2d", "output size", "not positive"]),
    (lambda: F.conv_transpose2d(_f32(1, 2, 3, 3), _f32(2, 2, 3, 3), _f32(2), groups=2),
     md.ShapeError, ["conv_transpose2d", "bias of shape (4,)", "(2,)"]),
    (lambda: F.conv2d_weight(_f32(1, 2, 5, 5), (3, 2, 3, 3), _f32(1, 3, 4, 4)),
     md.ShapeError, ["conv2d_weight", "(1, 3, 4, 4)", "(1, 3, 3, 3)"]),
])
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ---------------------------------------------------------------- PyTorch as the oracle
@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny float64 problems: on busy cores threads only stall
    yield torch
    torch.set_num_threads(threads)


def _torch_pair(torch, arrays):
    ours = [None if a is None else t64(a, requires_grad=True) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _check_against_torch(torch, ours_fn, torch_fn, arrays, seed):
    """Same values; same first derivatives for a random output gradient; and the same
    second derivatives of a gradient penalty (what WGAN-GP differentiates)."""
    ours, theirs = _torch_pair(torch, arrays)
    y, ty = ours_fn(*ours), torch_fn(*theirs)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    inputs = [t for t in ours if t is not None]
    tinputs = [t for t in theirs if t is not None]
    grads = md.autograd.grad(y, inputs, t64(gy), create_graph=True)
    tgrads = torch.autograd.grad(ty, tinputs, torch.tensor(gy), create_graph=True)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-10)
    penalty = sum((g * g).sum() for g in grads[:2])
    tpenalty = sum((g * g).sum() for g in tgrads[:2])
    second = md.autograd.grad(penalty, inputs, allow_unused=True)
    tsecond = torch.autograd.grad(tpenalty, tinputs, allow_unused=True)
    for g, tg in zip(second, tsecond):
        if tg is None:
            assert g is None or not np.any(g.numpy())
        else:
            np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-9, atol=1e-9)


@given(geometries(), st.integers(0, 2**16))
def test_conv2d_values_and_gradients_match_torch(torch, g, seed):
    arrays = conv_arrays(g, np.random.default_rng(seed))
    _check_against_torch(torch, lambda x, w, b: F.conv2d(x, w, b, **conv_kw(g)),
                         lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **conv_kw(g)),
                         arrays, seed)


@given(geometries(transposed=True), st.integers(0, 2**16))
def test_conv_transpose2d_values_and_gradients_match_torch(torch, g, seed):
    arrays = conv_arrays(g, np.random.default_rng(seed), transposed=True)
    _check_against_torch(
        torch, lambda x, w, b: F.conv_transpose2d(x, w, b, **convt_kw(g)),
        lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **convt_kw(g)),
        arrays, seed)


@pytest.mark.parametrize("kernel,dilation", [((2, 3), (1, 1)), ((3, 2), (2, 3))])
def test_same_padding_values_and_gradients_match_torch(torch, rng, kernel, dilation):
    arrays = (rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((2, 2) + kernel),
              rng.standard_normal(2))
    kw = dict(padding="same", dilation=dilation, groups=2)
    _check_against_torch(torch, lambda x, w, b: F.conv2d(x, w, b, **kw),
                         lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw),
                         arrays, 0)


@given(geometries(), st.integers(0, 2**16))
def test_conv2d_weight_matches_torch_nn_grad(torch, g, seed):
    rng = np.random.default_rng(seed)
    x, w, _ = conv_arrays(g, rng)
    y_shape = ref_conv2d(x, w, None, **conv_kw(g)).shape
    gy = rng.standard_normal(y_shape)
    ours = F.conv2d_weight(t64(x), w.shape, t64(gy), **conv_kw(g))
    theirs = torch.nn.grad.conv2d_weight(torch.tensor(x), w.shape, torch.tensor(gy),
                                         **conv_kw(g))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- nn.Conv2d / nn.ConvTranspose2d
LAYERS = [
    ("Conv2d", (1, 32, 3), {}),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                    groups=2, bias=False)),
    ("Conv2d", (4, 4, 2), dict(padding="same", dilation=2, groups=4)),
    ("Conv2d", (4, 2, 3), dict(padding="valid")),
    ("Conv2d", (4, 3, 3), dict(padding=(1, 2), padding_mode="reflect")),
    ("Conv2d", (4, 3, (2, 3)), dict(padding=2, padding_mode="circular", stride=2)),
    ("Conv2d", (4, 3, (4, 3)), dict(padding="same", padding_mode="replicate")),
    ("ConvTranspose2d", (4, 6, 3), {}),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=2, padding=1, output_padding=1,
                                             groups=2, dilation=(1, 2), bias=False)),
]


@pytest.mark.parametrize("cls,args,kw", LAYERS)
def test_conv_layers_match_torch_parameters_repr_and_outputs(torch, rng, cls, args, kw):
    ours, theirs = getattr(md.nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(ours) == repr(theirs)
    ours_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(their_state)
    for name, value in ours_state.items():
        assert tuple(value.shape) == tuple(their_state[name].shape)
        assert value.dtype == np.float32
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours_state.items()})
    x = rng.standard_normal((2, args[0], 7, 6)).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    mx = md.tensor(x, requires_grad=True)
    y, ty = ours(mx), theirs(tx)
    assert y.dtype == np.float32 and tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(md.tensor(gy))
    ty.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("layer,fan_in", [(md.nn.Conv2d(16, 32, (3, 5)), 16 * 15),
                                          (md.nn.Conv2d(16, 32, 3, groups=4), 4 * 9),
                                          (md.nn.ConvTranspose2d(16, 32, 3), 32 * 9),
                                          (md.nn.ConvTranspose2d(16, 32, 3, groups=2),
                                           16 * 9)])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(layer, fan_in):
    """kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)); fan_in is
    weight.shape[1] * kH * kW for both layers (as PyTorch computes it)."""
    bound = 1 / np.sqrt(fan_in)
    for p in (layer.weight.detach().numpy(), layer.bias.detach().numpy()):
        assert np.abs(p).max() <= bound
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() > 0.9 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.1)


def test_conv_transpose2d_output_size_picks_the_output_padding(torch, rng):
    ours = md.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1)
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    x = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
    for size in [(10, 10), (11, 12), (1, 3, 12, 10)]:
        y = ours(md.tensor(x), output_size=size)
        ty = theirs(torch.from_numpy(x), output_size=size)
        assert tuple(y.shape[-2:]) == tuple(size[-2:]) == tuple(ty.shape[-2:])
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="ConvTranspose2d.*output size of .13, 10.*"
                                         "from .10, 10. to .12, 12."):
        ours(md.tensor(x), output_size=(13, 10))


@pytest.mark.parametrize("make,call,error,words", [
    (lambda: md.nn.Conv2d(3, 4, 3, groups=2), None, ValueError,
     ["Conv2d", "in_channels (3)", "divisible by groups (2)"]),
    (lambda: md.nn.Conv2d(4, 3, 3, groups=2), None, ValueError,
     ["Conv2d", "out_channels (3)", "groups (2)"]),
    (lambda: md.nn.Conv2d(4, 4, 3, stride=2, padding="same"), None, ValueError,
     ["Conv2d", "'same'", "strided"]),
    (lambda: md.nn.Conv2d(4, 4, 3, padding_mode="mirror"), None, ValueError,
     ["Conv2d", "padding_mode", "'mirror'"]),
    (lambda: md.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"), None, ValueError,
     ["ConvTranspose2d", "zeros"]),
    (lambda: md.nn.Conv2d(3, 8, 3), lambda m: m(md.zeros((2, 1, 28, 28))), md.ShapeError,
     ["Conv2d(3, 8, kernel_size=(3, 3)", "(N, 3, H, W)", "(2, 1, 28, 28)"]),
    (lambda: md.nn.ConvTranspose2d(3, 8, 3), lambda m: m(md.zeros((28, 28))),
     md.ShapeError, ["ConvTranspose2d(3, 8", "(28, 28)"]),
    (lambda: md.nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect"),
     lambda m: m(md.zeros((1, 1, 3, 3))), md.ShapeError,
     ["Conv2d", "reflect padding (3, 3)", "size 3"]),
])
def test_conv_layer_errors_name_the_layer(make, call, error, words):
    with pytest.raises(error) as info:
        call(make()) if call else make()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
