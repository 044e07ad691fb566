"""minidl.linalg: singular values and norms, as in torch.linalg.

  svdvals(A)                          the singular values of (a batch of) matrices
  vector_norm(x, ord=2, dim=None)     (sum |x|^ord)^(1/ord) over dim (all elements);
                                      it lives with the other reductions, in
                                      ops/reduction.py
  matrix_norm(A, ord='fro', dim=(-2, -1))   'fro', 'nuc', 1, -1, 2, -2, inf, -inf
  norm(A, ord=None, dim=None)         one of the two, by PyTorch's rules
"""
from __future__ import annotations

import math

import numpy as np

from .autograd import Function
from .errors import ArgumentError, ShapeError
from .ops.arithmetic import abs, cast, unary_input
from .ops.reduction import vector_norm, floats_only, normalize_dims, sum, amax, amin
from .ops.shape import permute
from .tensor import Tensor, dim_aliases

__all__ = ["svdvals", "norm", "vector_norm", "matrix_norm"]


class SingularValues(Function):
    # A = U diag(S) V^T;  dS_i / dA = u_i v_i^T, so dL/dA = U diag(dL/dS) V^T
    @staticmethod
    def forward(ctx, a):
        if np.isnan(a).any():
            raise ArgumentError("svdvals: the matrix holds NaN, so its singular values "
                                "are undefined")
        finite = np.isfinite(a).all(axis=(-2, -1), keepdims=True)  # inf: NaN results
        u, s, vh = np.linalg.svd(np.where(finite, a, 0), full_matrices=False)
        ctx.u, ctx.vh = np.where(finite, u, np.nan), np.where(finite, vh, np.nan)
        ctx.save_for_backward(a)
        return np.where(finite[..., 0], s, np.nan)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return SingularValuesGrad.apply(g, a, ctx.u, ctx.vh)


class SingularValuesGrad(Function):
    # U diag(g) V^T, as an op of its own (taking A, which U and V depend on): the
    # formula leaves out how U and V change with A, so differentiating it again
    # raises instead of giving a wrong second derivative
    @staticmethod
    def forward(ctx, g, a, u, vh):
        return (u * g[..., None, :]) @ vh

    @staticmethod
    def backward(ctx, gg):
        raise NotImplementedError(
            "svdvals (and the matrix norms 'nuc', 2, -2): second derivatives are not "
            "implemented; use ord='fro', 1, -1, inf or -inf")


def svdvals(A):
    """The singular values of A (..., m, n), largest first: shape (..., min(m, n))."""
    A = floats_only(unary_input(A, "svdvals"), "svdvals")
    if A.ndim < 2:
        raise ShapeError(f"svdvals: needs a matrix (at least 2 dims), got shape "
                         f"{A.shape}")
    return SingularValues.apply(A)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """A matrix norm over the two dims, as torch.linalg.matrix_norm: 'fro' (the 2-norm
    of all entries), 'nuc' (the sum of the singular values), 2 / -2 (the largest /
    smallest singular value), 1 / -1 (largest / smallest column sum of |A|), inf / -inf
    (largest / smallest row sum)."""
    A = unary_input(A, "matrix_norm")
    A = floats_only(A if dtype is None else cast(A, dtype), "matrix_norm")
    if A.ndim < 2 or not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ShapeError(f"matrix_norm: needs a tensor with at least 2 dims and dim a "
                         f"pair of dims, got shape {A.shape} and dim {dim!r}")
    rows, cols = (normalize_dims(d, A.ndim, "matrix_norm")[0] for d in dim)
    if rows == cols:
        raise ShapeError(f"matrix_norm: dim {dim!r} names the same dimension twice")
    if ord == "fro":
        out = vector_norm(A, 2, (rows, cols), keepdim=True)
    elif ord in ("nuc", 2, -2):
        out = _singular_value_norm(A, ord, rows, cols)
    elif ord in (1, -1, math.inf, -math.inf):
        summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = sum(abs(A), summed, keepdim=True)
        out = (amax if ord > 0 else amin)(sums, picked, keepdim=True)
    else:
        raise ArgumentError(f"matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf "
                            f"or -inf, got {ord!r}")
    return out if keepdim else out.reshape(
        [s for i, s in enumerate(out.shape) if i not in (rows, cols)])


def _singular_value_norm(A, ord, rows, cols):
    """'nuc', 2, -2 from the singular values, with rows and cols kept as size 1."""
    others = [i for i in range(A.ndim) if i not in (rows, cols)]
    s = svdvals(permute(A, *others, rows, cols))  # (..., k)
    if ord == "nuc":
        s = sum(s, -1, keepdim=True)
    else:
        s = (amax if ord == 2 else amin)(s, -1, keepdim=True)
    shape = [1 if i in (rows, cols) else n for i, n in enumerate(A.shape)]
    return s.reshape(shape)


@dim_aliases
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """torch.linalg.norm: a vector norm when dim is an int (or ord and dim are None:
    the 2-norm of all elements), a matrix norm when dim is a pair or A is a matrix."""
    A = unary_input(A, "linalg.norm")
    if isinstance(dim, int) or (isinstance(dim, (tuple, list)) and len(dim) == 1):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ShapeError(f"linalg.norm: when ord is given without dim, the input must be "
                     f"1-D (vector norm) or 2-D (matrix norm), got shape {A.shape}")
