"""minidl.linalg: the namespace of torch.linalg -- norms and singular values.

The ops themselves, with their derivatives, live in minidl/ops/linalg.py (svdvals,
matrix_norm, norm) and minidl/ops/reduction.py (vector_norm); this file only names them.
"""
from .ops.linalg import svdvals, norm, vector_norm, matrix_norm

__all__ = ["svdvals", "norm", "vector_norm", "matrix_norm"]
