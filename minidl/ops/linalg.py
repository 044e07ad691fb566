"""Singular values and matrix norms, with their derivatives (torch.linalg's ops; the
namespace minidl.linalg, minidl/linalg.py, names them):

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

from ..autograd import Function
from ..errors import ArgumentError, ShapeError, DTypeError
from .arithmetic import abs, cast, unary_input, floats_only, where
from .reduction import vector_norm, normalize_dims, sum, amax, amin
from .shape import permute
from ..tensor import Tensor, dim_aliases

__all__ = ["svdvals", "norm", "vector_norm", "matrix_norm"]


def _svd(a):
    """The thin SVD (U, S, V^T) of a (batch of) matrices; a matrix holding inf gets NaN
    results, one holding NaN raises (its singular values are undefined)."""
    if np.isnan(a).any():
        raise ArgumentError("svdvals: the matrix holds NaN, so its singular values "
                            "are undefined")
    finite = np.isfinite(a).all(axis=(-2, -1), keepdims=True)
    u, s, vh = np.linalg.svd(np.where(finite, a, 0), full_matrices=False)
    return (np.where(finite, u, np.nan), np.where(finite[..., 0], s, np.nan),
            np.where(finite, vh, np.nan))


class SingularValues(Function):
    # A = U diag(S) V^T;  dS_i / dA = u_i v_i^T, so dL/dA = U diag(dL/dS) V^T.
    # U and V come from SingularVectors, differentiable functions of A: so the
    # second derivative (how U and V turn as A changes) is right too.
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _svd(a)[1]

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        U, V = SingularVectors.apply(a, "U"), SingularVectors.apply(a, "V")
        return (U * g.unsqueeze(-2)) @ V.transpose(-1, -2)


class SingularVectors(Function):
    # U (which="U", m x k) or V (which="V", n x k) of the thin SVD A = U diag(S) V^T.
    # Backward: PyTorch's svd_backward with only gU or only gV,
    #   gA = U [(skew(U^T gU) / E) S] V^T + (I - U U^T) gU S^-1 V^T        (U)
    #   gA = U [S (skew(V^T gV) / E)] V^T + U S^-1 ((I - V V^T) gV)^T      (V)
    # with skew(X) = X - X^T and E_jk = S_k^2 - S_j^2 (1 on the diagonal): infinite
    # where singular values repeat, where the singular vectors are not unique.
    @staticmethod
    def forward(ctx, a, which):
        ctx.which = which
        ctx.save_for_backward(a)
        u, _, vh = _svd(a)
        return u if which == "U" else np.swapaxes(vh, -1, -2)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        U, S, V = (SingularVectors.apply(a, "U"), SingularValues.apply(a),
                   SingularVectors.apply(a, "V"))
        W, own = (U, V) if ctx.which == "U" else (V, U)  # W: the vectors g belongs to
        Wt_g = W.transpose(-1, -2) @ g
        with np.errstate(divide="ignore", invalid="ignore"):  # (repeated or zero S)
            middle = (Wt_g - Wt_g.transpose(-1, -2)) / _gaps(S)
            rest = (g - W @ Wt_g) / S.unsqueeze(-2)  # (I - W W^T) g S^-1
        if ctx.which == "U":
            return (U @ (middle * S.unsqueeze(-2)) + rest) @ V.transpose(-1, -2), None
        return U @ (S.unsqueeze(-1) * middle @ V.transpose(-1, -2)
                    + rest.transpose(-1, -2)), None


def _gaps(S):
    """E_jk = S_k^2 - S_j^2, with 1 on the diagonal (svd_backward's denominators)."""
    s2 = S * S
    diagonal = Tensor(np.eye(S.shape[-1], dtype=bool))
    return where(diagonal, 1.0, s2.unsqueeze(-2) - s2.unsqueeze(-1))


def svdvals(A):
    """The singular values of A (..., m, n), largest first: shape (..., min(m, n))."""
    A = floats_only(A, "svdvals", DTypeError)
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
    A = floats_only(A if dtype is None else cast(A, dtype), "matrix_norm", DTypeError)
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
