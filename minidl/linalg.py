"""minidl.linalg: norms, as in torch.linalg (the computations live in ops/reduction.py).

  vector_norm(x, ord=2, dim=None)     (sum |x|^ord)^(1/ord) over dim (all elements)
  matrix_norm(A, ord='fro', dim=(-2, -1))   'fro', 1, -1, inf, -inf
  norm(A, ord=None, dim=None)         picks one of the two, by PyTorch's rules
"""
from __future__ import annotations

from .ops.reduction import vector_norm, matrix_norm
from .ops.arithmetic import unary_input
from .tensor import ShapeError, dim_aliases

__all__ = ["norm", "vector_norm", "matrix_norm"]


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
