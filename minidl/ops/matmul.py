"""Matrix multiplication, numpy/PyTorch semantics: 1-D vectors, 2-D matrices, and
batched (N-D) stacks whose leading dimensions broadcast; and `linear`, the fully
connected layer's y = x @ W^T + b as one op.

For C = A @ B:   dL/dA = dL/dC @ B^T,   dL/dB = A^T @ dL/dC.
A 1-D operand acts as a row (left) or column (right) vector and is squeezed back.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..errors import DTypeError
from ..kernels import matmul as _matmul_on_threads
from ..tensor import Tensor, ShapeError, _as_array
from .reduction import sum
from .shape import transpose, unsqueeze, reshape


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _matmul_on_threads(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a  # (k,) -> (1, k)
        b2 = unsqueeze(b, 1) if b.ndim == 1 else b  # (k,) -> (k, 1)
        if a.ndim == 1 and b.ndim == 1:  # a dot product: g is a scalar
            g2 = reshape(g, (1, 1))
        elif a.ndim == 1 or b.ndim == 1:  # restore the squeezed row / column
            g2 = unsqueeze(g, -2 if a.ndim == 1 else -1)
        else:
            g2 = g
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = matmul(g2, transpose(b2, -1, -2))          # (..., m, k)
            if a.ndim == 1:
                ga = reshape(ga, ga.shape[:-2] + ga.shape[-1:])
        if ctx.needs_input_grad[1]:
            gb = matmul(transpose(a2, -1, -2), g2)          # (..., k, n)
            if b.ndim == 1:
                gb = reshape(gb, gb.shape[:-1])
        return ga, gb  # leading (batch) dimensions are summed away by the engine


def _matmul_operands(a, b):
    """Tensors only (a bare number is an error for matmul, as in PyTorch)."""
    a = a if isinstance(a, Tensor) else Tensor(_as_array(a))
    b = b if isinstance(b, Tensor) else Tensor(_as_array(b))
    return a, b


def matmul(a, b):
    a, b = _matmul_operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.dtype != b.dtype:  # (no promotion here, as in PyTorch)
        raise DTypeError(f"matmul: both operands need the same dtype, got {a.dtype} and "
                         f"{b.dtype}; convert one, e.g. b.to(a.dtype)")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                         f"{k_a} (last dim of the first) != {k_b} (the second's "
                         f"{'first' if b.ndim == 1 else 'second-to-last'} dim)")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not "
                         "broadcast") from None
    return MatMul.apply(a, b)


class Linear(Function):
    # y = b + x @ W^T, for x (*, in), W (out, in), b (out,) or None; the rows of all
    # leading dims of x form one matrix X (m, in), so Y = X @ W^T is one product and
    #   dL/dx = g @ W,   dL/dW = G^T @ X,   dL/db = the column sums of G   (G = g as rows)
    # (one op instead of a transpose, a matmul and an add, and dL/dW comes out in W's
    # own layout: the fused optimizer updates it in one pass). The inputs come in
    # PyTorch's addmm order, bias first: backward completes b's gradient before W's.
    @staticmethod
    def forward(ctx, b, x, w):
        ctx.save_for_backward(x, w)
        y = _matmul_on_threads(_rows(x), w.T)
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + w.shape[:1])

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gb = gx = gw = None
        rows = reshape(g, _rows(g).shape)
        if ctx.needs_input_grad[0]:
            gb = sum(rows, 0)
        if ctx.needs_input_grad[1]:
            gx = reshape(matmul(rows, w), x.shape)
        if ctx.needs_input_grad[2]:
            gw = matmul(transpose(rows, 0, 1), reshape(x, _rows(x).shape))
        return gb, gx, gw


def _rows(a):
    """(*, k) -> (m, k): every leading index a row (spelled out for empty arrays)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def linear(input, weight, bias=None):  # noqa: A002  (PyTorch's argument name)
    """y = input @ weight^T + bias, as torch.nn.functional.linear: input (*, in),
    weight (out, in) (or (in,) for a single output), bias (out,) or None."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim not in (1, 2) or input.ndim == 0 or \
            input.shape[-1] != weight.shape[-1]:
        raise ShapeError(f"linear: input of shape {input.shape} does not fit weight of "
                         f"shape {weight.shape}; expected input (*, in_features) and "
                         "weight (out_features, in_features)")
    if _one_op(input, weight, bias):
        return Linear.apply(bias, input, weight)
    y = matmul(input, transpose(weight, 0, 1) if weight.ndim == 2 else weight)
    return y if bias is None else y + bias


def _one_op(x, w, b):
    """Whether Linear (one op) computes linear(x, w, b): the common case of a 2-D
    weight, a bias of shape (out,) or none, one floating dtype. The rest (a 1-D
    weight, a broadcast bias, mixed dtypes) is matmul and +, with their rules."""
    if w.ndim != 2 or x.dtype != w.dtype or x.dtype.kind != "f":
        return False
    return b is None or (isinstance(b, Tensor) and b.shape == w.shape[:1]
                         and b.dtype == x.dtype)
