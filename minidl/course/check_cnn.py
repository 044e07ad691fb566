"""The checks of exercises 8-10: im2col/col2im, conv2d, max-pooling."""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from .. import functional as F
from ..gradcheck import OpSpec
from .check_autograd import PROPERTY, normals, op_steps, tensor
from .grader import CheckFailed, expect_close, run_property, values
from .pieces import minidl_im2col


@st.composite
def geometry(draw):
    """(x_shape, kernel, stride, padding) with at least one output pixel."""
    k = draw(st.integers(1, 3))
    p = draw(st.integers(0, k - 1))
    h, w = draw(st.integers(max(1, k - 2 * p), 5)), draw(st.integers(max(1, k - 2 * p), 5))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return (n, c, h, w), k, draw(st.integers(1, 2)), p


# ------------------------------------------------------------------ 8. im2col
def check_8(ws, run):
    m = ws.module(8)

    @PROPERTY
    @given(geometry())
    def against_kernel(geom):
        shape, k, s, p = geom
        x = np.random.default_rng(0).standard_normal(shape)
        expect_close(f"im2col of x {shape}, kernel {k}, stride {s}, padding {p}",
                     m.im2col(x, k, k, s, p), minidl_im2col(x, k, k, s, p))
    run.step("im2col against minidl's kernel", run_property, against_kernel)

    @PROPERTY
    @given(geometry())
    def adjoint(geom):
        shape, k, s, p = geom
        rng = np.random.default_rng(1)
        x = rng.standard_normal(shape)
        cols = rng.standard_normal(minidl_im2col(x, k, k, s, p).shape)
        back = m.col2im(cols, shape, k, k, s, p)
        if np.shape(back) != shape:
            raise CheckFailed(f"col2im returned shape {np.shape(back)}, expected {shape}")
        left = float((minidl_im2col(x, k, k, s, p) * cols).sum())
        right = float((x * back).sum())
        if not np.isclose(left, right, rtol=1e-9, atol=1e-9):
            raise CheckFailed(
                f"<im2col(x), cols> = {left:.6g} but <x, col2im(cols)> = {right:.6g} for "
                f"x {shape}, kernel {k}, stride {s}, padding {p}: col2im must ADD each "
                "column entry into its pixel (+=), since overlapping windows share "
                "pixels -- assigning keeps only the last one")
    run.step("col2im is im2col's adjoint: <im2col(x), c> == <x, col2im(c)>",
             run_property, adjoint)


# ------------------------------------------------------------------ 9. conv2d
def check_9(ws, run):
    m = ws.module(9)
    specs = []
    for shape, wshape, s, p in [((2, 2, 5, 5), (3, 2, 3, 3), 1, 0),
                                ((1, 2, 6, 5), (2, 2, 3, 2), 2, 1),
                                ((2, 1, 4, 4), (2, 1, 1, 1), 1, 0)]:
        specs.append(OpSpec(
            f"conv2d x {shape}, w {wshape}, stride {s}, padding {p}",
            lambda x, w, s=s, p=p: m.Conv2d.apply(x, w, s, p),
            normals(shape, wshape),
            reference=lambda x, w, s=s, p=p: F.conv2d(tensor(x), tensor(w), None, s,
                                                        p)))
    op_steps(run, specs)

    @PROPERTY
    @given(st.integers(1, 2), st.integers(1, 5), st.integers(1, 5))
    def properties(n, h, w):
        rng = np.random.default_rng(h * 8 + w)
        x, y = rng.standard_normal((n, 1, h, w)), rng.standard_normal((n, 1, h, w))
        one = tensor(np.ones((1, 1, 1, 1)))
        expect_close("conv with a 1x1 kernel of 1 vs x",
                     m.Conv2d.apply(tensor(x), one, 1, 0), x)
        w3 = tensor(rng.standard_normal((2, 1, min(h, 2), min(w, 2))))
        expect_close("conv(x + 2y) vs conv(x) + 2 conv(y)",
                     m.Conv2d.apply(tensor(x + 2 * y), w3, 1, 0),
                     values(m.Conv2d.apply(tensor(x), w3, 1, 0))
                     + 2 * values(m.Conv2d.apply(tensor(y), w3, 1, 0)))
    run.step("properties: identity kernel, linearity", run_property, properties)


# ------------------------------------------------------------------ 10. max-pooling
def _distinct(shape):
    """Inputs without ties (a tie makes the max's derivative undefined)."""
    def sample(rng):
        return (rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0,)
    return sample


def check_10(ws, run):
    m = ws.module(10)
    specs = [OpSpec(f"max_pool2d x {shape}, k {k}", lambda x, k=k: m.MaxPool2d.apply(x, k),
                    _distinct(shape),
                    reference=lambda x, k=k: F.max_pool2d(tensor(x), k))
             for shape, k in [((2, 3, 4, 4), 2), ((1, 2, 5, 7), 2), ((1, 1, 6, 6), 3)]]
    op_steps(run, specs)
    run.step("argmax: the positions of the maxima", _argmax, m)

    @PROPERTY
    @given(st.integers(2, 6), st.integers(2, 6), st.floats(-5, 5))
    def properties(h, w, c):
        x = tensor(np.full((1, 2, h, w), c))
        expect_close("max_pool2d of a constant image", m.MaxPool2d.apply(x, 2),
                     np.full((1, 2, h // 2, w // 2), c))
        x = tensor(_distinct((1, 2, h, w))(np.random.default_rng(h * 7 + w))[0])
        y = m.MaxPool2d.apply(x, 2)
        g = np.random.default_rng(0).standard_normal(y.shape)
        y.backward(tensor(g))
        expect_close("sum of dL/dx vs sum of g (the scatter keeps the total)",
                     values(x.grad).sum(), g.sum())
    run.step("properties: constant images, the scatter keeps the gradient's total",
             run_property, properties)


def _argmax(m):
    x = tensor(_distinct((2, 3, 5, 4))(np.random.default_rng(3))[0])
    got = m.MaxPool2d.apply(x, 2)
    index = values(F.max_pool2d(x, 2, return_indices=True)[1])
    flat = values(x).reshape(2, 3, -1)
    expect_close("the maxima read at your argmax", np.take_along_axis(
        flat, index.reshape(2, 3, -1), 2).reshape(index.shape), values(got))
    # the scatter: one gradient per output lands on the max, nothing elsewhere
    g = np.ones(got.shape)
    got.backward(tensor(g))
    expected = np.zeros(flat.shape)
    np.put_along_axis(expected, index.reshape(2, 3, -1), 1.0, 2)
    expect_close("dL/dx for g = 1: 1 at each window's max, 0 elsewhere", x.grad,
                 expected.reshape(x.shape))

